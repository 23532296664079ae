# -*- coding: utf-8 -*-
"""Documentation shared by the compose-doctor modules in library/."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # What each attribute means (the community.docker wording); every module declares its support.
    ATTRIBUTES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
  idempotent:
    description:
      - When run twice in a row outside check mode, with the same arguments, the second invocation indicates no change.
      - This assumes that the system controlled/queried by the module has not changed in a relevant way.
  platform:
    description: Target OS/families that can be operated against.
    platforms: posix
    support: full
"""

    # With ATTRIBUTES, for the modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  idempotent:
    support: full
    details:
      - This action does not modify state.
"""

    # The journal options of every module that edits a file (see remediation_journal).
    JOURNAL = r"""
options:
  journal_run_id:
    description:
      - Remediation journal run to record the backup and the edit in (from
        M(remediation_journal) C(action=start)).
      - When omitted and the file changes, a new run is started and returned as C(journal_run_id).
    type: str
  journal_dir:
    description: Directory of the remediation journal on the managed host.
    type: path
    default: /var/lib/compose-doctor/journal
"""
