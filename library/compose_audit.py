#!/usr/bin/python
# -*- coding: utf-8 -*-
"""Ansible module: evaluate the compose-doctor rule catalog over gathered facts."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compose_audit
short_description: Evaluate the compose-doctor rule catalog and build the audit report
description:
  - Takes the C(compose) facts of M(compose_facts) and the C(runtime) facts of M(container_facts) (or,
    with O(gather), runs M(compose_facts) on the host itself), evaluates every enabled rule (restart loops with the missing Python module diagnosed, unhealthy
    containers with the Docker socket permission diagnosed, services defined but not running,
    configuration sprawl, readable env files, hardcoded and default secrets, privileged containers,
    Docker socket mounts, root users, ports on all interfaces, mesh and monitoring services down,
    memory pressure, missing and over-provisioned limits, unused and duplicate volumes, missing log
    rotation, missing healthchecks, compose files that do not parse, an unreachable daemon).
  - Returns the versioned audit report (the content of C(audit.json)) and the findings; with O(report_files)
    it also writes the host's report files on the controller, as M(audit_report) would.
  - An action plugin of the same name runs it on the controller, in the task's worker process. O(gather) and
    O(report_files) are the action's - one task per host instead of three, so the facts and the report never
    pass through Ansible's variables between tasks (most of what a fleet audit costs the controller); the
    audit role uses them.
  - Pure computation on the controller or the host; it reads and changes nothing, so it always
    returns C(changed=false).
  - When C(runtime.docker.reachable) is false only the file-based rules run, plus C(daemon-unreachable).
  - Findings never contain secret values, only key names and a fixed mask.
  - Suppressions (C(compose.suppressions) - C(x-compose-doctor.ignore) in the compose files and the project's
    ignore file) move the findings they match to C(report.suppressed), out of the score, the counts and
    RV(gate_ids); an expired one leaves its finding open with the note "suppression expired on <date>";
    a refused one (no reason, unknown rule id, bad date) is a C(suppression-refused) finding.
  - "Score: 100 * K / (K + penalty), rounded to an integer, where penalty is the sum of the findings'
    severity weights (critical 20, high 8, medium 3, low 1, info 0 by default, C(policy.score_weights)) and K
    is C(policy.score_scale) (100 by default). Saturating, not subtractive: a clean host scores 100,
    one critical finding 83, and the score approaches 0 without going below it; every fix raises it."
version_added: "0.1.0"
author:
  - compose-doctor contributors
options:
  compose:
    description:
      - The C(compose) return value of M(compose_facts).
      - Required unless O(gather) is given; mutually exclusive with it.
    type: dict
  runtime:
    description:
      - The C(runtime) return value of M(container_facts) (or of M(compose_facts) with its C(runtime) option).
      - Empty or omitted means runtime facts are missing (treated like an unreachable daemon).
    type: dict
  gather:
    description:
      - The options of M(compose_facts) (C(project_dir), C(files), C(runtime), ...). The action runs that module on
        the task's host (its connection, C(become) and C(environment)) and evaluates what it returns; its facts are
        not returned (the report has what the reports show).
      - A failure of M(compose_facts) fails the task with its message, prefixed C(gather:).
      - C(runtime.databases) and C(runtime.http_apis) may be the path of a YAML file on the controller holding the
        list; the action reads it and passes the data on.
      - Mutually exclusive with O(compose) and O(runtime). Needs the action plugin.
    type: dict
  stop_on_missing_libraries:
    description:
      - With O(gather), when the host's Python lacks a library the facts need (RV(missing_libraries)), return at
        once without evaluating or writing reports, so the play can provide it and run the task again (the audit
        role's C(audit_bootstrap)). False evaluates what could be read; the report says what is missing.
    type: bool
    default: false
  report_files:
    description:
      - Write the host's report files on the controller, as M(audit_report) does with the same options
        (C(dest) required, C(keep), C(formats), C(templates)); RV(files), RV(dest), RV(run) and RV(pruned) say what
        was written. Written in check mode too (reports are output, not a change to the host).
      - Needs the action plugin.
    type: dict
  policy:
    description:
      - Thresholds, lists and overrides; merged over the built-in defaults, so a partial policy works.
      - Keys include C(restart_threshold), C(memory_pressure_pct), C(overprovisioned_pct),
        C(overprovisioned_min_limit), C(mesh_services), C(monitoring_services), C(database_ports),
        C(default_credentials), C(secret_key_patterns), C(python_module_map), C(fix_map),
        C(disabled_rules), C(rule_severity) (rule id to critical, high, medium or low),
        C(sprawl_max_override_files), C(sprawl_min_running_pct), C(sprawl_max_dockerfiles),
        C(docker_socket_paths), C(docker_socket_names), C(log_drivers_needing_rotation), C(log_rotation_option),
        C(rightsize_headroom), C(rightsize_floor), C(score_weights), C(score_scale), C(crashloop_catalog)
        (the crash-loop doctor's causes, see roles/audit/files/crashloop_catalog.yml; the catalogue itself, or the path
        of a YAML file holding it where the rules run - the controller, for the action plugin); likewise
        C(database_kinds), a list or the path of a YAML file holding it.
      - For the CIS Docker Benchmark container checks, C(dangerous_capabilities) (capability to severity,
        merged over the defaults), C(sensitive_host_paths), C(sensitive_mount_read_only_severity),
        C(sensitive_mount_exempt_read_only), C(privileged_port_max) and C(restart_max_retries); for the image
        and build checks (section 4), C(dockerfile_arg_secret_severity) (a secret ARG default; an ENV takes
        the rule's severity).
      - An unknown rule id in C(disabled_rules) or C(rule_severity), or a catalogue pattern that
        does not compile, is an error.
    type: dict
    default: {}
  host:
    description:
      - Name of the audited host, recorded in the report.
      - Defaults to the name of the machine the module runs on.
    type: str
  generated_at:
    description:
      - ISO 8601 UTC timestamp recorded in the report; defaults to now. Its date is the day suppressions
        expire against.
    type: str
  baseline:
    description:
      - An earlier report - the content of an C(audit.json), or the path of one where the rules run (the controller,
        for the action plugin). Findings whose id it holds are C(known), the others C(new); its findings gone now are
        C(fixed). Only findings that are not known are in RV(gate_ids).
      - Empty means no baseline. A path that cannot be read, or anything that is not an C(audit.json), is an error
        naming it.
    type: raw
    default: {}
  fail_on:
    description:
      - The severity from which a finding counts for the gate (RV(gate_ids)) - the audit role's C(audit_fail_on).
        C(info) counts every finding, C(never) none. The task itself does not fail on findings; the role's gate
        does.
    type: str
    choices: [never, critical, high, medium, low, info]
    default: info
extends_documentation_fragment:
  - compose_doctor.attributes
  - compose_doctor.info_module
attributes:
  platform:
    details:
      - Pure computation; runs on the controller or the host.
notes:
  - Severities critical, high, medium and low are shown as priorities P0, P1, P2 and P3.
seealso:
  - module: compose_facts
  - module: container_facts
  - module: audit_report
"""

EXAMPLES = r"""
- name: Audit the host in one task - gather, evaluate, write the reports on the controller
  compose_audit:
    gather:
      project_dir: /opt/sutazaiapp
      runtime: {}
    report_files:
      dest: "reports/{{ inventory_hostname }}"
      keep: 10
  register: audit

- name: Read the compose project
  compose_facts:
    project_dir: /opt/sutazaiapp
  register: cf

- name: Read the containers
  container_facts:
    project: "{{ cf.compose.project.name }}"
  register: rt

- name: Evaluate the rules
  compose_audit:
    host: "{{ inventory_hostname }}"
    compose: "{{ cf.compose }}"
    runtime: "{{ rt.runtime }}"
    policy:
      restart_threshold: 3
      rule_severity:
        no-healthcheck: medium
      disabled_rules: [root-user]
    # only findings the earlier report did not have count, and only critical ones
    baseline: "baseline/{{ inventory_hostname }}/audit.json"
    fail_on: critical
  register: audit

- name: Fail on new P0 findings
  ansible.builtin.fail:
    msg: "new critical findings: {{ audit.gate_ids | join(', ') }}"
  when: audit.gate_ids | length > 0
"""

RETURN = r"""
report:
  description:
    - The audit report, schema version 1.0 (what C(audit_report) writes as C(audit.json)).
    - "Top-level keys: schema_version, tool, host, generated_at, project, model_source, docker, summary,
      compose, services, containers, ports, volumes, resources, mesh, monitoring, rules, findings, suppressed,
      suppressions, baseline."
    - "The findings are only here (C(report.findings)), not a second time beside it: one copy for Ansible to carry."
  returned: always
  type: dict
  contains:
    findings:
      description: The findings, most severe first.
      returned: always
      type: list
      elements: dict
      contains:
        id:
          description: Stable id, C(<rule>:<target>).
          type: str
          sample: restart-loop:jarvis
        rule:
          description: Rule id.
          type: str
        severity:
          description: critical, high, medium, low or info.
          type: str
        priority:
          description: P0 to P4.
          type: str
        title:
          description: Rule title.
          type: str
        target:
          description: Service, container, file, volume or service:port/proto the finding is about.
          type: str
        service:
          description: Compose service, when known.
          type: str
        container:
          description: Container name, when known.
          type: str
        file:
          description: File (relative to the project dir), when known.
          type: str
        line:
          description: 1-based line in C(file), when known.
          type: int
        evidence:
          description: What was observed, secrets masked.
          type: str
        diagnosis:
          description:
            - "Rule-specific cause, for example C({cause: missing-python-module, module, distribution,
              requirements_file, listed}) or C({cause: docker-socket-permission, user, socket_gid, group_add})."
          type: dict
        fix:
          description: Remediation role and tag that fix it, or null when the finding is report-only.
          type: dict
        cis:
          description: The CIS Docker Benchmark recommendation the rule checks (docker-bench-security's numbering), or null.
          type: str
          sample: "5.4"
        suppression_expired:
          description: The suppression that matched this finding but expired (until, reason, by - file:line).
          type: dict
        baseline_state:
          description: C(new) or C(known), when a O(baseline) is given.
          type: str
gate_ids:
  description:
    - The ids of the findings at or above O(fail_on) that the gate counts - of RV(report.findings) (suppressed
      findings never count), only the new ones with a O(baseline). Ids, not copies of the findings, to keep the
      result small.
  returned: always
  type: list
  elements: str
missing_libraries:
  description: With O(gather), the Python libraries the host lacks (from M(compose_facts)); absent when none.
  returned: when the host lacks one
  type: list
  elements: str
  sample: [PyYAML]
files:
  description: With O(report_files), the files written.
  returned: when O(report_files) is given
  type: list
  elements: str
dest:
  description: With O(report_files), the folder of the host's reports.
  returned: when O(report_files) is given
  type: str
run:
  description: With O(report_files) and C(keep) above 0, the run folder written (UTC timestamp).
  returned: when runs are kept
  type: str
  sample: 20261205T140102Z
pruned:
  description: With O(report_files), the old run folders removed past C(keep).
  returned: when O(report_files) is given
  type: list
  elements: str
lines:
  description:
    - The outcome in a few lines for people (what the audit role prints) - the project's score, services running,
      findings per severity and the engine's state (with O(report_files), where the reports are); then what
      suppressions did, the baseline's counts and a missing project's evidence.
  returned: always
  type: list
  elements: str
  sample: ['sutazai: score 26/100, 8/25 services running, findings {"critical": 2, "high": 18}; docker reachable']
summary:
  description: Copy of C(report.summary) for convenient conditionals.
  returned: always
  type: dict
  sample: {score: 42, findings: {critical: 1, high: 3, medium: 5, low: 9}}
"""

import traceback

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.compose_doctor import audit
from ansible.module_utils.compose_doctor.invocation import brief_invocation


def main():
    module = AnsibleModule(argument_spec=audit.ARGUMENT_SPEC, mutually_exclusive=audit.MUTUALLY_EXCLUSIVE,
                           required_one_of=audit.REQUIRED_ONE_OF, supports_check_mode=True)
    action_only = [k for k in audit.ACTION_ONLY if module.params[k] is not None]
    if action_only:
        module.fail_json(msg="%s need the compose_audit action plugin (plugins/action/compose_audit.py), which "
                             "runs on the controller; this is the module alone" % ", ".join(action_only))
    try:
        params = audit.check_inputs(module.params)
    except audit.AuditInputError as exc:
        module.fail_json(msg=str(exc))
    try:
        report = audit.run(params)
    except Exception as exc:  # a rule bug must not hide the facts: say which, with the trace
        module.fail_json(msg="compose_audit failed while evaluating the rules: %s" % exc,
                         exception=traceback.format_exc())
    module.exit_json(changed=False, invocation=brief_invocation(module.params, ("compose", "runtime", "policy", "baseline")),
                     **audit.result(report, module.params["fail_on"]))


if __name__ == "__main__":
    main()
