#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: set or rotate KEY=VALUE lines in an env file (backup, atomic, journaled)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: env_file_set
short_description: Set or rotate values in a Compose env file, never revealing them
version_added: "0.1.0"
description:
  - Sets C(KEY=VALUE) lines in an env file (Compose C(.env) or an C(env_file)), changing only the
    value part of the lines concerned; comments, blank lines, order, C(export) prefixes, quoting
    style, inline comments and the newline convention are kept.
  - Keys in I(generate) get a strong random value generated on the managed host
    (C(secrets.token_urlsafe)), so the new secret never travels through Ansible variables.
  - With I(only_if_current_in), a key is only replaced while its current value is one of those
    (case-insensitive), for example the well-known default credentials; a key already rotated is
    left alone, so a second run changes nothing.
  - Before writing, the file is backed up (mode 0600) into the remediation journal run
    I(journal_run_id) under I(journal_dir), then replaced atomically keeping its mode, owner
    and group, and the edit is journaled so C(playbooks/rollback.yml) restores it byte-for-byte.
  - No value (old, new or given) is ever returned; the diff masks the values of the keys set and
    of every secret-looking key.
author:
  - compose-doctor contributors
options:
  path:
    description:
      - The env file to edit. Symlinks are followed. It must exist.
    type: path
    required: true
  values:
    description:
      - Keys to set to the given values.
    type: dict
    default: {}
  generate:
    description:
      - Keys to set to a newly generated random value.
    type: list
    elements: str
    default: []
  generate_bytes:
    description:
      - Random bytes per generated value (URL-safe base64, 24 bytes give 32 characters).
    type: int
    default: 24
  only_if_current_in:
    description:
      - Only replace a key whose current value is one of these (compared case-insensitively,
        surrounding blanks ignored). Omitted means always replace a different value.
    type: list
    elements: str
  missing:
    description:
      - What to do with a key the file does not define.
      - C(skip) reports it in RV(skipped); C(fail) fails; C(append) adds C(KEY=value) at the end.
    type: str
    choices: [skip, fail, append]
    default: skip
  secret_key_patterns:
    description:
      - Key name substrings (case-insensitive) whose values are masked in the diff besides the
        keys set.
    type: list
    elements: str
    default: [PASSWORD, PASSWD, PASS, SECRET, TOKEN, API_KEY, APIKEY, PRIVATE_KEY, CREDENTIAL, ACCESS_KEY, AUTH]
extends_documentation_fragment:
  - compose_doctor.journal
  - compose_doctor.attributes
attributes:
  check_mode:
    support: full
    details:
      - Predicts C(changed) and the keys that would change; writes no file, backup or journal.
  diff_mode:
    support: full
    details:
      - Returns the before and after text with every value of a set or secret-looking key masked.
  idempotent:
    support: partial
    details:
      - Keys in O(generate) get a new random value on every run unless O(only_if_current_in) limits
        the rotation to values not rotated yet.
  platform:
    details:
      - Needs a POSIX filesystem (atomic rename, modes and owners).
notes:
  - Use C(no_log) on the task anyway when I(values) comes from variables.
seealso:
  - module: remediation_journal
requirements:
  - python >= 3.8
"""

EXAMPLES = r"""
- name: Rotate Grafana's admin password while it is still a default
  env_file_set:
    path: /opt/lab/.env
    generate: [GRAFANA_ADMIN_PASSWORD]
    only_if_current_in: [admin, password, changeme]
    journal_run_id: "{{ remediation_run.run_id }}"
  register: rotated
  no_log: true
"""

RETURN = r"""
path:
  description: Real path of the env file.
  returned: always
  type: str
changed_keys:
  description: Keys whose value changed (would change, in check mode).
  returned: always
  type: list
  elements: str
  sample: [GRAFANA_ADMIN_PASSWORD]
skipped:
  description: Keys left alone, with the reason (never a value).
  returned: always
  type: dict
  sample: {POSTGRES_PASSWORD: current value is not one of the values to replace}
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
  description: Checksum of the file after (in check mode, of the predicted content).
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.compose_doctor.change.env_file import EnvFileError, generate_secret, mask_env_text, set_values
from ansible.module_utils.compose_doctor.change.edit_module import JOURNAL_ARGUMENT_SPEC, finish_edit
from ansible.module_utils.compose_doctor.change.journal import JournalError, validate_run_id
from ansible.module_utils.compose_doctor.redact import DEFAULT_SECRET_KEY_PATTERNS
from ansible.module_utils.compose_doctor.change.safe_write import SafeWriteError, read_text, real_path, sha256_file


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            values=dict(type='dict', default={}, no_log=True),
            generate=dict(type='list', elements='str', default=[], no_log=False),
            generate_bytes=dict(type='int', default=24),
            only_if_current_in=dict(type='list', elements='str', no_log=False),
            missing=dict(type='str', default='skip', choices=['skip', 'fail', 'append']),
            secret_key_patterns=dict(type='list', elements='str', default=list(DEFAULT_SECRET_KEY_PATTERNS), no_log=False),
            **JOURNAL_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = real_path(params['path'])
    result = dict(changed=False, path=path, changed_keys=[], skipped={}, backup=None, journal_run_id=None,
                  sha256_before=None, sha256_after=None)
    if params['generate_bytes'] < 16:
        module.fail_json(msg='generate_bytes must be at least 16', **result)
    values = dict((str(k), '' if v is None else str(v)) for k, v in (params['values'] or {}).items())
    for key in params['generate']:
        values[key] = generate_secret(params['generate_bytes'])
    if not values:
        module.exit_json(**result)
    try:
        if params['journal_run_id']:
            validate_run_id(params['journal_run_id'])
        if not os.path.isfile(path):
            module.fail_json(msg='%s: env file not found' % path, **result)
        before = read_text(path)
        result['sha256_before'] = sha256_file(path)
        outcome = set_values(before, values, params['only_if_current_in'], params['missing'])
    except (EnvFileError, SafeWriteError, JournalError) as exc:
        module.fail_json(msg='%s: %s' % (path, exc), **result)

    result.update(changed_keys=outcome['changed_keys'], skipped=outcome['skipped'])
    keys, patterns = list(values), params['secret_key_patterns']
    finish_edit(module, result, path, before, outcome['text'], outcome['changed'], tool='env_file_set',
                masker=lambda text: mask_env_text(text, keys, patterns), note=', values masked')

def main():
    run_module()


if __name__ == '__main__':
    main()
