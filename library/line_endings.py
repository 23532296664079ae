#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: give a text file Unix line endings (backup, atomic, journaled)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: line_endings
short_description: Rewrite a text file's CRLF line endings as LF
version_added: "0.1.0"
description:
  - Replaces every carriage return that ends a line (C(\r\n), and a C(\r) at the very end) with a
    plain line feed, so that a script checked out on Windows runs in a Linux container.
  - 'Symptoms it fixes: C(/bin/sh^M: not found), C(exec /entrypoint.sh: no such file or directory).'
  - Nothing else in the file changes; a file without CRLF endings is left as it is.
  - Before writing, the file is backed up (mode 0600) into the remediation journal run, then
    replaced atomically keeping its mode, owner and group, and the edit is journaled so
    C(playbooks/rollback.yml) can restore it byte-for-byte.
author:
  - compose-doctor contributors
options:
  path:
    description: The text file to rewrite (UTF-8). Symlinks are followed.
    type: path
    required: true
extends_documentation_fragment:
  - compose_doctor.journal
  - compose_doctor.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts C(changed) and the new content; writes no file, backup or journal.
  diff_mode:
    support: full
    details:
      - Returns the before and after text with secret-looking values and URL credentials masked.
  idempotent:
    support: full
  platform:
    details:
      - Needs a POSIX filesystem (atomic rename, modes and owners).
seealso:
  - module: remediation_journal
requirements:
  - python >= 3.8
"""

EXAMPLES = r"""
- name: Strip the carriage returns of the entrypoint script in the build context
  line_endings:
    path: /srv/app/docker/entrypoint.sh
    journal_run_id: "{{ remediation_run.run_id }}"
"""

RETURN = r"""
path:
  description: Real path of the file (symlinks resolved).
  returned: always
  type: str
crlf_lines:
  description: Number of lines that ended in CR before the edit (0 when nothing changed).
  returned: always
  type: int
  sample: 3
backup:
  description: Path of the 0600 backup in the journal; null when nothing was written.
  returned: always
  type: str
journal_run_id:
  description: Journal run the edit was recorded in; null when nothing was written.
  returned: always
  type: str
sha256_before:
  description: Checksum of the file before.
  returned: always
  type: str
sha256_after:
  description: Checksum of the file after (predicted in check mode).
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.compose_doctor.change.edit_module import JOURNAL_ARGUMENT_SPEC, finish_edit
from ansible.module_utils.compose_doctor.change.journal import JournalError, validate_run_id
from ansible.module_utils.compose_doctor.change.safe_write import SafeWriteError, read_text, real_path, sha256_file


def run_module():
    module = AnsibleModule(
        argument_spec=dict(path=dict(type='path', required=True), **JOURNAL_ARGUMENT_SPEC),
        supports_check_mode=True,
    )
    path = real_path(module.params['path'])
    result = dict(changed=False, path=path, crlf_lines=0, backup=None, journal_run_id=None,
                  sha256_before=None, sha256_after=None)
    try:
        if module.params['journal_run_id']:
            validate_run_id(module.params['journal_run_id'])
        if not os.path.isfile(path):
            module.fail_json(msg='%s: not a regular file' % path, **result)
        before = read_text(path)
        result['sha256_before'] = sha256_file(path)
    except (SafeWriteError, JournalError) as exc:
        module.fail_json(msg='%s: %s' % (path, exc), **result)
    # CRLF, and a lone CR at the very end (a last line without LF); a CR inside a line is data.
    after = before.replace('\r\n', '\n')
    after = after[:-1] + '\n' if after.endswith('\r') else after
    result['crlf_lines'] = before.count('\r\n') + (1 if before.endswith('\r') else 0)
    finish_edit(module, result, path, before, after, after != before, tool='line_endings')


def main():
    run_module()


if __name__ == '__main__':
    main()
