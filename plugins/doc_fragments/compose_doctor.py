# -*- coding: utf-8 -*-
"""Documentation shared by the compose-doctor modules in library/."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

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
