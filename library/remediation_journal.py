#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: the remediation journal on a host -- start a run, record, show, restore."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: remediation_journal
short_description: Start, record, show and restore compose-doctor remediation runs on a host
version_added: "0.1.0"
description:
  - Keeps the journal of what remediation changed on a host, in
    C(<journal_dir>/<run_id>/journal.json) with 0600 backups in C(<journal_dir>/<run_id>/backups/)
    and a C(latest) symlink to the newest run.
  - C(action=start) names a new run (sortable, UTC timestamp based) or takes I(run_id). It writes
    nothing; the run directory appears with its first entry, so a remediation that changed
    nothing leaves no empty run and does not move C(latest). Always C(changed=false).
  - C(action=record) appends I(entries) to the run, idempotently (an entry already there is not
    added again). File edits made with M(requirement_line) and M(compose_service_edit) are
    journaled by those modules; use C(record) for the rest, B(before) making the change -
    a C(file) entry with only a C(path) backs the file up now; a C(mode) entry with only a
    C(path) records its current mode/owner/group; a C(service) entry names a compose service that
    was recreated or rebuilt.
  - C(action=restore) restores every file of the run (default the latest) and of every newer run,
    newest first, to the exact bytes, mode, owner and group they had before; it refuses, without
    writing anything, when a file changed since the remediation (unless I(force)) or a backup does
    not match its checksum. Files that already match are left alone, so a second restore reports
    C(changed=false). It returns the compose projects and services to recreate.
  - C(action=show) lists the runs and returns the journal of one run (checksums, never content).
  - C(action=prune) removes the oldest runs beyond the newest I(keep) (never the latest) and
    returns the rollback image tags of the runs it removed, for the caller to remove.
author:
  - compose-doctor contributors
options:
  action:
    description: What to do.
    type: str
    choices: [start, record, restore, show, prune]
    required: true
  run_id:
    description:
      - Run to start, record into, restore or show.
      - For C(restore) and C(show), omitted or C(latest) means the newest run.
      - Required for C(record).
    type: str
  journal_dir:
    description: Directory of the remediation journal on the managed host.
    type: path
    default: /var/lib/compose-doctor/journal
  entries:
    description:
      - For C(record), the entries to append. Each is a dict with C(type).
      - C(type=file) with C(path) (backs the file up now; the edit is expected to be done by another
        task afterwards), or a full entry with C(path), C(backup), C(sha256_before), C(sha256_after),
        C(mode_before), C(owner_before), C(group_before).
      - C(type=mode) with C(path) (current mode/owner/group become the "before" state) and
        optionally C(mode_after), C(owner_after), C(group_after); or C(mode_before),
        C(owner_before), C(group_before) given explicitly.
      - C(type=service) with C(project_dir), C(service), C(action) (C(recreated), C(rebuilt) or
        C(started); a rebuilt service is rebuilt again on rollback unless its image was journaled,
        a started one (not running before the run) is removed again), optional C(project_name)
        and C(files) (compose files, as given to C(docker compose -f)).
      - C(type=image) with C(project_dir), C(service), C(image) (the name Compose runs),
        C(previous_id) (the image ID the service ran) and C(rollback_tag) (a tag already put on
        that ID, so the image survives the rebuild); rollback tags it back as C(image) and
        recreates the service from it.
      - C(type=live) with C(project_dir), C(service), C(container), C(memory_before) and
        C(memory_swap_before) (bytes, 0 = no limit) is a limit changed with C(docker update);
        rollback puts it back live unless the service is recreated anyway.
    type: list
    elements: dict
    default: []
  cascade:
    description:
      - For C(restore), also restore every run newer than I(run_id) (newest first), so the host goes
        back to the state before I(run_id). With C(false) only I(run_id) is restored.
    type: bool
    default: true
  force:
    description: For C(restore), overwrite files that changed since the remediation.
    type: bool
    default: false
  keep:
    description: For C(prune), how many of the newest runs to keep.
    type: int
    default: 20
  from_entry:
    description:
      - For C(restore), undo only what I(run_id) recorded from this entry index on (no cascade),
        e.g. the entry count C(action=show) returned before a fix started; that is how a fix that failed
        undoes its own changes and leaves the earlier fixes of the run in place.
      - A run that recorded nothing yet restores nothing.
    type: int
extends_documentation_fragment:
  - compose_doctor.attributes
attributes:
  check_mode:
    support: full
    details:
      - C(record) and C(restore) predict C(changed) and what they would do, and write nothing.
  diff_mode:
    support: none
    details:
      - Restores are reported as lists of paths and actions; file contents are never shown.
  idempotent:
    support: full
    details:
      - C(start) writes nothing, C(record) does not add an entry twice, a second C(restore) or
        C(prune) finds nothing left to do.
  platform:
    details:
      - Needs a POSIX filesystem (atomic rename, modes and owners, symlinks).
seealso:
  - module: requirement_line
  - module: compose_service_edit
requirements:
  - python >= 3.8
"""

EXAMPLES = r"""
- name: Start a remediation run
  remediation_journal:
    action: start
  register: remediation_run

- name: Journal the .env mode before tightening it
  remediation_journal:
    action: record
    run_id: "{{ remediation_run.run_id }}"
    entries:
      - type: mode
        path: /opt/lab/.env
        mode_after: "0600"
        owner_after: root
        group_after: opt-admins

- name: Journal the rebuilt service
  remediation_journal:
    action: record
    run_id: "{{ remediation_run.run_id }}"
    entries:
      - type: service
        project_dir: /opt/lab
        service: metrics-agent
        action: rebuilt

- name: Undo the last remediation (files only)
  remediation_journal:
    action: restore
  register: rollback_restore
"""

RETURN = r"""
run_id:
  description: The run started, recorded into, restored (the oldest of a cascade) or shown.
  returned: always
  type: str
  sample: 20250101T120000123456Z-1a2b
journal_dir:
  description: The journal directory.
  returned: always
  type: str
run_dir:
  description: Directory of the run.
  returned: always
  type: str
recorded:
  description: Entries added by C(record) (would be added, in check mode).
  returned: when action is record
  type: list
  elements: dict
run_ids:
  description: Runs restored, newest first.
  returned: when action is restore
  type: list
  elements: str
restored:
  description: Files restored (C(action) is C(content), C(mode) or C(remove)), with the mode/owner/group put back.
  returned: when action is restore
  type: list
  elements: dict
  sample: [{path: /opt/lab/.env, action: mode, mode: "0644", owner: root, group: root}]
unchanged:
  description: Files that already matched their pre-remediation state.
  returned: when action is restore
  type: list
  elements: str
projects:
  description:
    - Compose projects whose services the restored runs recreated or rebuilt, to bring back to the
      restored files. C(build) is C(always) when a service was rebuilt and its previous image was
      not journaled, else C(never). C(images) lists the images to tag back first
      (C(service), C(image), C(previous_id), C(rollback_tag)); C(live) the limits to put back
      with C(docker update) on containers that are not recreated (C(container),
      C(memory_before), C(memory_swap_before), bytes). C(stop) lists the services the runs
      started, which were not running before and are removed again.
  returned: when action is restore
  type: list
  elements: dict
  sample: [{project_dir: /opt/lab, project_name: null, files: [], services: [metrics-agent], build: never,
            images: [{service: metrics-agent, image: lab-metrics-agent, previous_id: 'sha256:...',
                      rollback_tag: 'compose-doctor/rollback:20250101T120000123456Z-1a2b.metrics-agent'}],
            live: [], stop: []}]
conflicts:
  description: Files changed since the remediation (restored anyway only with I(force)).
  returned: when action is restore
  type: list
  elements: dict
latest:
  description: Newest run id, or null.
  returned: when action is show
  type: str
runs:
  description: Runs in the journal, oldest first, with entry counts and restore times.
  returned: when action is show
  type: list
  elements: dict
pruned:
  description: Runs removed by C(prune), oldest first, with the rollback image tags they kept.
  returned: when action is prune
  type: list
  elements: dict
  sample: [{run_id: 20250101T120000123456Z-1a2b, rollback_tags: ['compose-doctor/rollback:20250101T120000123456Z-1a2b.agent']}]
journal:
  description: The journal of the requested run (checksums, modes, paths; never content), or null.
  returned: when action is show
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.compose_doctor.change.journal import (
    JournalError, DEFAULT_JOURNAL_DIR, LATEST, new_run_id, prune, record, restore, run_dir, show, validate_run_id)
from ansible.module_utils.compose_doctor.change.safe_write import SafeWriteError


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            action=dict(type='str', required=True, choices=['start', 'record', 'restore', 'show', 'prune']),
            run_id=dict(type='str'),
            journal_dir=dict(type='path', default=DEFAULT_JOURNAL_DIR),
            entries=dict(type='list', elements='dict', default=[]),
            cascade=dict(type='bool', default=True),
            force=dict(type='bool', default=False),
            from_entry=dict(type='int'),
            keep=dict(type='int', default=20),
        ),
        required_if=[('action', 'record', ['run_id'])],
        supports_check_mode=True,
    )
    params = module.params
    action = params['action']
    journal_dir = os.path.abspath(params['journal_dir'])
    result = dict(changed=False, journal_dir=journal_dir, run_id=params['run_id'])
    try:
        if action == 'start':
            run_id = validate_run_id(params['run_id']) if params['run_id'] else new_run_id()
            result.update(run_id=run_id, run_dir=run_dir(journal_dir, run_id))
        elif action == 'record':
            run_id = validate_run_id(params['run_id'])
            added = record(journal_dir, run_id, params['entries'], dry_run=module.check_mode)
            result.update(run_id=run_id, run_dir=run_dir(journal_dir, run_id), recorded=added, changed=bool(added))
        elif action == 'restore':
            wanted = params['run_id'] or LATEST
            if params['from_entry'] is not None and wanted == LATEST:
                module.fail_json(msg='from_entry needs the run_id of the run the fix recorded into', **result)
            outcome = restore(journal_dir, wanted, cascade=params['cascade'], force=params['force'],
                              dry_run=module.check_mode, from_entry=params['from_entry'], module=module)
            result.update(run_id=outcome['run_ids'][-1], run_dir=run_dir(journal_dir, outcome['run_ids'][-1]),
                          run_ids=outcome['run_ids'], restored=outcome['restored'], unchanged=outcome['unchanged'],
                          projects=outcome['projects'], conflicts=outcome['conflicts'], changed=outcome['changed'])
        elif action == 'prune':
            pruned = prune(journal_dir, params['keep'], dry_run=module.check_mode)
            result.update(pruned=pruned, changed=bool(pruned))
        else:
            outcome = show(journal_dir, params['run_id'])
            shown = (outcome['journal'] or {}).get('run_id')
            result.update(run_id=shown, run_dir=run_dir(journal_dir, shown) if shown else None,
                          latest=outcome['latest'], runs=outcome['runs'], journal=outcome['journal'])
    except (JournalError, SafeWriteError) as exc:
        module.fail_json(msg='remediation journal %s (%s): %s' % (action, journal_dir, exc), **result)
    module.exit_json(**result)


def main():
    run_module()


if __name__ == '__main__':
    main()
