"""Before/after comparison of two audit reports, for remediate.yml's summary."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

SCHEMA_VERSION = "1.0"
_ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3, "P4": 4}
# Why a finding can remain although its fix ran: the part of that fix that is opt-in.
REMAINS_AFTER_FIX = {
    "default-credential": "rotation is opt-in: -e env_secrets_rotate=true",
}


def _brief(f):
    return {k: f.get(k) for k in ("id", "rule", "severity", "priority", "title", "target", "service", "container",
                                  "file")}


def why_remains(f, fixes):
    """One line: why finding ``f`` (of the after-audit) is still there, from its fix and that fix's
    outcome in this run (``fixes``: [{tag, role, result}] as remediate.yml records them)."""
    tag = (f.get("fix") or {}).get("tag")
    if not tag:
        return "no automated fix: %s" % (f.get("advice") or "see audit.md")
    result = next((str(x.get("result") or "") for x in fixes or [] if x.get("tag") == tag), None)
    if result is None:
        return "its fix (%s) was not part of this run" % tag
    if result.startswith("applied"):
        return REMAINS_AFTER_FIX.get(f.get("rule"), "its fix (%s) ran and it is still there: see audit.md" % tag)
    return "fix %s: %s" % (tag, result)


def _sorted(findings):
    return sorted(findings, key=lambda f: (_ORDER.get(f.get("priority"), 9), f.get("id") or ""))


def compare(before, after, fixes=None, check_mode=False, generated_at=None, runs=None):
    """Findings resolved (gone), remaining (in both) and new (only after), matched by stable id.
    ``runs``: {before, after} run folder names of the two audits when reports keep every run
    (output/report_runs.py); the summary sits in the after-run and links both."""
    was = {f["id"]: f for f in before.get("findings") or []}
    now = {f["id"]: f for f in after.get("findings") or []}
    links = None
    if runs and runs.get("after"):
        links = {"after": "audit.md",
                 "before": "../%s/audit.md" % runs["before"] if runs.get("before") else None}
    return {
        "reports": links,
        "schema_version": SCHEMA_VERSION,
        "host": after.get("host") or before.get("host"),
        "project": after.get("project") or before.get("project"),
        "generated_at": generated_at or after.get("generated_at"),
        "check_mode": bool(check_mode),
        "score": {"before": before["summary"].get("score"), "after": after["summary"].get("score")},
        "findings": {"before": before["summary"].get("findings"), "after": after["summary"].get("findings")},
        "fixes": fixes or [],
        "resolved": [_brief(f) for f in _sorted(was[i] for i in was if i not in now)],
        "remaining": [dict(_brief(f), why=why_remains(f, fixes)) for f in _sorted(now[i] for i in now if i in was)],
        "new": [_brief(f) for f in _sorted(now[i] for i in now if i not in was)],
    }


def to_markdown(summary, templates_dir=None):
    """remediation.md (template remediation.md.j2)."""
    from ansible.module_utils.compose_doctor.output import pages    # the md/html layer, only when writing
    return pages.render(None, "remediation", templates_dir, context={"s": summary})
