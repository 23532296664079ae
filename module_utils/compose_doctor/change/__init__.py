"""Change: the safe edits fixes make -- compose, env and requirements files edited in place, atomic
writes with private backups, and the journal that records and undoes them."""
