"""Analysis: facts + policy -> findings: the rule catalog, crash-loop diagnosis, memory right-sizing."""
