#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: set keys on one service of a compose file (layout kept, backup, atomic, journaled)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compose_service_edit
short_description: Set keys on one service in a Docker Compose file, keeping comments and layout
version_added: "0.1.0"
description:
  - Merges keys into C(services.<service>) of one compose file with a ruamel.yaml round trip
    and writes the result back so that every line outside the edited keys stays byte-for-byte
    as it was (comments, key order, quoting, indentation).
  - Nested mappings are merged (C(deploy.resources.limits.memory) can be set without touching
    C(deploy.resources.reservations)); lists are merged without duplicates
    (I(list_merge=append_unique), items compared as text so C(105) equals C("105")) or replaced.
  - New string values that YAML would read as another type (C("105"), C("true")) are quoted,
    in the quote style the file mostly uses; new list items copy the quoting of the list's
    last item.
  - A key that came from a shared YAML anchor or merge key gets its own copy on this service
    (the anchor and the other services are left alone) and a warning says so.
  - Only the given file is edited; it does not merge override files. Pass the file that
    defines the service (C(compose_facts) returns it as C(services.<name>.file)).
  - Before writing, the file is backed up (mode 0600) into the remediation journal run, then
    replaced atomically keeping its mode, owner and group, and the edit is journaled so
    C(playbooks/rollback.yml) can restore it byte-for-byte.
author:
  - compose-doctor contributors
options:
  path:
    description: The compose file to edit. Symlinks are followed.
    type: path
    required: true
  service:
    description: Name of the service under C(services:). A service not defined in the file is an error.
    type: str
    required: true
  set:
    description:
      - Keys to set on the service; values may be nested mappings and lists.
      - 'For example C({group_add: ["105"]}), C({mem_limit: 512m}),
        C({deploy: {resources: {limits: {memory: 512M}}}}), C({profiles: [sprawl]}),
        C({logging: {driver: json-file, options: {max-size: 10m, max-file: "3"}}}).'
    type: dict
    default: {}
  remove:
    description:
      - Keys to delete from the service, as dotted paths (C(mem_limit), C(deploy.resources.limits.memory)).
      - Applied after I(set). A key that is not there is ignored.
    type: list
    elements: str
    default: []
  list_merge:
    description:
      - C(append_unique) adds list items that are missing and keeps the existing ones and their order.
      - C(replace) replaces the list with the given one.
    type: str
    choices: [append_unique, replace]
    default: append_unique
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
notes:
  - The file content is never returned, only the masked diff in diff mode.
  - Validate the project afterwards (C(docker compose config -q)) before recreating services.
seealso:
  - module: requirement_line
  - module: remediation_journal
requirements:
  - python >= 3.8
  - ruamel.yaml >= 0.17 on the managed host
"""

EXAMPLES = r"""
- name: Let the agent reach the Docker socket through its group, not root
  compose_service_edit:
    path: /opt/lab/docker-compose.yml
    service: socket-agent
    set:
      group_add: ["{{ docker_socket_gid | string }}"]
    journal_run_id: "{{ remediation_run.run_id }}"

- name: Cap memory (Compose deploy syntax) and drop the legacy key
  compose_service_edit:
    path: /opt/lab/docker-compose.yml
    service: backend
    set:
      deploy:
        resources:
          limits:
            memory: 768M
    remove: [mem_limit]
    journal_run_id: "{{ remediation_run.run_id }}"

- name: Park a never-started service under a profile
  compose_service_edit:
    path: /opt/lab/docker-compose.yml
    service: legacy-worker
    set:
      profiles: [sprawl]
"""

RETURN = r"""
path:
  description: Real path of the compose file (symlinks resolved).
  returned: always
  type: str
service:
  description: The service edited.
  returned: always
  type: str
changed_keys:
  description: Dotted paths of the keys that were (or in check mode would be) changed.
  returned: always
  type: list
  elements: str
  sample: [group_add]
layout:
  description:
    - C(stitched) every line outside the edited keys is byte-for-byte the original;
      C(reformatted) ruamel.yaml had to re-emit the file (a warning says so);
      C(unchanged) nothing to do.
  returned: always
  type: str
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
from ansible.module_utils.compose_doctor.change.compose_edit import (
    HAS_RUAMEL, RUAMEL_IMPORT_ERROR, ComposeEditError, set_service_keys)
from ansible.module_utils.compose_doctor.change.edit_module import JOURNAL_ARGUMENT_SPEC, finish_edit
from ansible.module_utils.compose_doctor.change.journal import JournalError, validate_run_id
from ansible.module_utils.compose_doctor.change.safe_write import (
    SafeWriteError, read_text, real_path, sha256_file)


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            service=dict(type='str', required=True),
            set=dict(type='dict', default={}),
            remove=dict(type='list', elements='str', default=[]),
            list_merge=dict(type='str', default='append_unique', choices=['append_unique', 'replace']),
            **JOURNAL_ARGUMENT_SPEC
        ),
        supports_check_mode=True,
    )
    params = module.params
    path = real_path(params['path'])
    result = dict(changed=False, path=path, service=params['service'], changed_keys=[], layout='unchanged',
                  backup=None, journal_run_id=None, sha256_before=None, sha256_after=None)
    if not HAS_RUAMEL:
        module.fail_json(msg='%s: ruamel.yaml is required on the managed host: %s' % (path, RUAMEL_IMPORT_ERROR),
                         **result)
    if not params['set'] and not params['remove']:
        module.fail_json(msg='%s: nothing to do: give keys in set and/or remove' % path, **result)
    try:
        if params['journal_run_id']:
            validate_run_id(params['journal_run_id'])
        if not os.path.isfile(path):
            module.fail_json(msg='%s: compose file not found' % path, **result)
        before = read_text(path)
        result['sha256_before'] = sha256_file(path)
        outcome = set_service_keys(before, params['service'], params['set'], params['list_merge'], params['remove'])
    except (ComposeEditError, SafeWriteError, JournalError) as exc:
        module.fail_json(msg='%s: %s' % (path, exc), **result)

    for warning in outcome['warnings']:
        module.warn('%s: %s' % (path, warning))
    result.update(changed_keys=outcome['changed_keys'], layout=outcome['layout'])
    finish_edit(module, result, path, before, outcome['text'], outcome['changed'], tool='compose_service_edit')

def main():
    run_module()


if __name__ == '__main__':
    main()
