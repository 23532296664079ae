#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: ensure a requirement in a pip requirements file (backup, atomic, journaled)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: requirement_line
short_description: Ensure a Python requirement in a pip requirements file
version_added: "0.1.0"
description:
  - Makes sure a pip requirements file asks for a distribution with a version specifier,
    for example C(psutil>=5.9.0), without touching anything else in the file.
  - Distribution names are compared after PEP 503 normalisation (C(PyYAML), C(pyyaml) and
    C(py_yaml) are the same distribution).
  - When a line for the distribution already guarantees the wanted specifier (for example
    C(psutil==5.9.8) for C(>=5.9.0)), or only presence is wanted (empty I(spec)) and a line
    exists, nothing changes.
  - When a line exists but does not guarantee it (C(psutil), C(psutil==5.8.0)), that line's
    specifier is rewritten in place, keeping its name spelling, extras, environment marker and
    comment; a second, conflicting line would make pip fail.
  - When no line exists, C(<name><spec>) is appended at the end, following the file's newline
    convention.
  - Lines installing the distribution from a URL, VCS or editable reference are left alone and
    reported with C(action=unverifiable).
  - Comments, blank lines, options (C(-r), C(--index-url)) and order are kept byte-for-byte.
  - Before writing, the file is backed up (mode 0600) into the remediation journal run
    I(journal_run_id) under I(journal_dir), then replaced atomically (temp file in the same
    directory, fsync, rename), keeping its mode, owner and group. The edit is recorded in the
    journal so C(playbooks/rollback.yml) can restore the file byte-for-byte.
author:
  - compose-doctor contributors
options:
  path:
    description:
      - The requirements file to edit. Symlinks are followed.
    type: path
    required: true
  name:
    description:
      - Distribution name as on PyPI, for example C(psutil) or C(PyYAML).
    type: str
    required: true
  spec:
    description:
      - PEP 440 version specifier, for example C(>=5.9.0) or C(>=1.2,<2).
      - Empty means any version (presence only).
    type: str
    default: ''
  create:
    description:
      - Create the file (mode 0644) when it does not exist. Otherwise a missing file is an error.
      - Rolling back a run that created the file removes it again.
    type: bool
    default: false
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
      - Returns the before and after text; secret-looking values and URL credentials are masked.
  idempotent:
    support: full
  platform:
    details:
      - Needs a POSIX filesystem (atomic rename, modes and owners).
notes:
  - The file content is never returned, only the masked diff in diff mode.
  - C(-r)/C(-c) includes are not followed; only the given file is examined.
seealso:
  - module: compose_service_edit
  - module: remediation_journal
requirements:
  - python >= 3.8
"""

EXAMPLES = r"""
- name: Make the agent image install psutil
  requirement_line:
    path: /opt/lab/agent/requirements.txt
    name: psutil
    spec: ">=5.9.0"
    journal_run_id: "{{ remediation_run.run_id }}"
  register: agent_requirements

- name: Only make sure PyYAML is listed (any version)
  requirement_line:
    path: /opt/app/requirements.txt
    name: PyYAML
"""

RETURN = r"""
path:
  description: Real path of the requirements file (symlinks resolved).
  returned: always
  type: str
action:
  description:
    - C(none) the file already satisfies the requirement; C(appended) a line was added;
      C(updated) an existing line's specifier was rewritten; C(unverifiable) the distribution
      comes from a URL/VCS reference and was left alone.
  returned: always
  type: str
  sample: appended
reason:
  description: Human explanation of the decision (line number and the requirement line).
  returned: always
  type: str
  sample: "psutil not listed; appended 'psutil>=5.9.0'"
line:
  description: The requirement line that now covers the distribution (URL credentials masked).
  returned: always
  type: str
  sample: psutil>=5.9.0
backup:
  description: Path of the 0600 backup in the journal; null when nothing was written or the file was created.
  returned: always
  type: str
journal_run_id:
  description: Journal run the edit was recorded in; null when nothing was written.
  returned: always
  type: str
  sample: 20250101T120000123456Z-1a2b
sha256_before:
  description: Checksum of the file before (null when it did not exist).
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
from ansible.module_utils.compose_doctor.redact import redact_text
from ansible.module_utils.compose_doctor.change.requirements_file import RequirementError, ensure_requirement
from ansible.module_utils.compose_doctor.change.safe_write import (
    SafeWriteError, read_text, real_path, sha256_file)


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            name=dict(type='str', required=True),
            spec=dict(type='str', default=''),
            create=dict(type='bool', default=False),
            **JOURNAL_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = real_path(params['path'])
    result = dict(changed=False, path=path, action='none', reason='', line='', backup=None,
                  journal_run_id=None, sha256_before=None, sha256_after=None)
    try:
        if params['journal_run_id']:
            validate_run_id(params['journal_run_id'])
        if os.path.isdir(path):
            module.fail_json(msg='%s: is a directory, not a requirements file' % path, **result)
        if os.path.exists(path):
            before = read_text(path)
            result['sha256_before'] = sha256_file(path)
        elif params['create']:
            if not os.path.isdir(os.path.dirname(path)):
                module.fail_json(msg='%s: directory %s does not exist' % (path, os.path.dirname(path)), **result)
            before = ''
        else:
            module.fail_json(msg='%s: requirements file not found (set create=true to create it)' % path, **result)
        outcome = ensure_requirement(before, params['name'], params['spec'])
    except (RequirementError, SafeWriteError, JournalError) as exc:
        module.fail_json(msg='%s: %s' % (path, exc), **result)

    result.update(action=outcome['action'], reason=redact_text(outcome['reason']),
                  line=redact_text(outcome['line']))
    finish_edit(module, result, path, before, outcome['text'],
                outcome['changed'] or not os.path.exists(path), tool='requirement_line')

def main():
    run_module()


if __name__ == '__main__':
    main()
