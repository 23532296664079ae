#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: write compose-doctor report files (host reports or the fleet summary)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: audit_report
short_description: Write compose-doctor audit reports (JSON, Markdown, HTML, SARIF, JUnit, Prometheus)
description:
  - Writes the report of M(compose_audit) into O(dest) as C(audit.json), C(audit.md), C(audit.html),
    C(audit.sarif), C(junit.xml) and C(compose_doctor.prom).
  - With O(fleet=true) it aggregates O(reports) and O(hosts) (one report per host) and O(unreachable) into
    C(fleet.json), C(fleet.md) and C(fleet.html) instead. C(fleet.html) is a table of hosts x severity,
    worst host first, each count linking to the host's C(<host>/audit.html), the hosts without a
    report named with their state, and with O(outcomes) each host's remediation outcome.
  - With O(before) it compares that earlier report with O(report) and writes the remediation
    summary C(remediation.json) and C(remediation.md) instead (findings resolved, remaining, new).
  - C(audit.md), C(audit.html), C(fleet.md), C(fleet.html) and C(remediation.md) are rendered with Jinja2 from the
    templates in O(templates) (the audit role's C(templates/report)).
  - An action plugin of the same name runs it on the controller, in the task's worker process (no module
    payload per host); the controller's Python has Jinja2 as ansible-core does.
  - Every file is written atomically (temporary file in the same directory, then rename) with mode
    C(0600), because reports describe weaknesses; O(dest) is created with mode C(0700) when missing.
  - This is an B(output writer), not a change to the managed system. It writes its files in check
    mode too, and always returns C(changed=false), so an audit stays read-only and C(changed=0) in
    normal and check mode. Put it on the controller (C(delegate_to=localhost)) or wherever reports
    belong.
version_added: "0.1.0"
author:
  - compose-doctor contributors
options:
  dest:
    description: Directory to write the files into; created (mode 0700) if missing.
    type: path
    required: true
  report:
    description: The C(report) return value of M(compose_audit). Required unless O(fleet=true).
    type: dict
  templates:
    description:
      - Directory holding C(audit.md.j2), C(audit.html.j2), C(fleet.md.j2), C(fleet.html.j2),
        C(remediation.md.j2) and the pages' C(audit.css) and C(audit.js), on the controller.
      - Defaults to the audit role's C(templates/report) beside this checkout's C(module_utils), which a
        module's payload does not have; roles pass C({{ role_path }}/templates/report).
    type: path
  formats:
    description: Which host report files to write.
    type: list
    elements: str
    choices: [json, md, html, sarif, junit, prom]
    default: [json, md, html, sarif, junit, prom]
  fleet:
    description: Write the fleet summary (C(fleet.json), C(fleet.md), C(fleet.html)) from O(reports) and O(unreachable).
    type: bool
    default: false
  reports:
    description: Host reports to aggregate when O(fleet=true).
    type: list
    elements: dict
    default: []
  hosts:
    description:
      - With O(fleet=true), hosts whose report to read from O(dest)/<host>/C(audit.json) (what the audit role
        wrote there this run) and aggregate with O(reports). Cheaper than O(reports) for a fleet - the reports do
        not pass through Ansible's variables - and what the audit and remediate playbooks use.
      - A host without that file fails the task, naming it.
    type: list
    elements: str
    default: []
  outcomes:
    description:
      - With O(fleet=true), what remediation did on each host (C(host), C(state) -
        C(remediated), C(previewed) (check mode), C(failed), C(not run) or C(unreachable) - and
        C(detail)), shown in the fleet
        summary. M(remediate.yml) passes it; an audit leaves it empty.
    type: list
    elements: dict
    default: []
  unreachable:
    description:
      - Hosts that could not be audited, when O(fleet=true); names or dicts with C(host), C(error) and
        C(state) (C(unreachable), the default, or C(failed) for a host reached whose audit stopped).
    type: list
    elements: raw
    default: []
  before:
    description: The report of the audit taken before remediation; O(report) is the one after.
    type: dict
  fixes:
    description: What each selected fix did (C(tag), C(role), C(result)), shown in the remediation summary.
    type: list
    elements: dict
    default: []
  check_mode_run:
    description: Mark the remediation summary as a check-mode preview.
    type: bool
    default: false
  keep:
    description:
      - Runs kept per host. When above 0, each host report is written into its own folder
        O(dest)/<UTC timestamp>/ (for example C(20261205T140102Z)), O(dest)/latest points at the
        newest, the file names in O(dest) (C(audit.json), ...) point into C(latest), and the oldest
        runs past O(keep) are removed (never the one C(latest) points at).
      - A remediation summary (O(before)) goes into the run C(latest) points at (the audit after
        the fixes) and links the run of the audit before, O(before_run).
      - C(0) writes the files straight into O(dest), replacing the previous ones.
    type: int
    default: 0
  before_run:
    description: With O(before) and O(keep), the run folder name of the audit taken before the fixes.
    type: str
extends_documentation_fragment:
  - compose_doctor.attributes
attributes:
  check_mode:
    support: full
    details:
      - Writes the report files in check mode as well (they are the audit's output) and reports
        C(changed=false).
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - Always reports C(changed=false); the files are rewritten with the report given.
seealso:
  - module: compose_audit
"""

EXAMPLES = r"""
- name: Write the host's reports on the controller
  audit_report:
    dest: "{{ playbook_dir }}/../reports/{{ inventory_hostname }}"
    report: "{{ audit.report }}"
  delegate_to: localhost

- name: The same, with the templates of a copy of the role
  audit_report:
    dest: "{{ playbook_dir }}/../reports/{{ inventory_hostname }}"
    report: "{{ audit.report }}"
    templates: "{{ playbook_dir }}/../roles/audit/templates/report"
  delegate_to: localhost

- name: Keep the last 20 runs, reports/web1/latest pointing at the newest
  audit_report:
    dest: "{{ playbook_dir }}/../reports/{{ inventory_hostname }}"
    report: "{{ audit.report }}"
    keep: 20
  delegate_to: localhost

- name: Only JSON and SARIF for CI
  audit_report:
    dest: reports/ci
    report: "{{ audit.report }}"
    formats: [json, sarif, junit]

- name: Fleet summary
  audit_report:
    dest: reports
    fleet: true
    reports: "{{ groups['all'] | map('extract', hostvars) | selectattr('audit', 'defined')
                 | map(attribute='audit.report') | list }}"
    unreachable: [docker-prod-03]
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
files:
  description: Absolute paths of the files written.
  returned: always
  type: list
  elements: str
  sample: [/srv/reports/web1/audit.json, /srv/reports/web1/audit.md]
dest:
  description: The directory written to.
  returned: always
  type: str
run:
  description: The run folder name the files went into, with O(keep) above 0 (host reports and remediation summaries).
  returned: when keep > 0 and fleet is false
  type: str
  sample: 20261205T140102Z
pruned:
  description: Run folders removed because more than O(keep) were kept.
  returned: always
  type: list
  elements: str
remediation:
  description: The before/after comparison, when O(before) is given.
  returned: when before is given
  type: dict
  sample: {score: {before: 12, after: 48}, resolved: [], remaining: [], new: []}
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible.module_utils.compose_doctor.invocation import brief_invocation
from ansible.module_utils.compose_doctor.output import report_files


def main():
    module = AnsibleModule(argument_spec=report_files.ARGUMENT_SPEC, required_if=report_files.REQUIRED_IF,
                           supports_check_mode=True)
    try:
        result = report_files.write(module.params, atomic_move=module)
    except report_files.ReportFilesError as err:
        msg = missing_required_lib(err.missing_lib) if err.missing_lib else err.msg
        extra = dict(files=err.files) if err.files is not None else {}
        module.fail_json(msg=msg, exception=err.exception, **extra)
    module.exit_json(invocation=brief_invocation(module.params, report_files.BULKY), **result)


if __name__ == "__main__":
    main()
