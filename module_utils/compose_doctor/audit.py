"""The audit's evaluation step: gathered facts -> findings -> the report (audit.json's model).

One home for what the ``compose_audit`` module and its action plugin (plugins/action/compose_audit.py,
which runs it on the controller) both do: the argument spec, the checks of the inputs, and the
pipeline rules -> suppressions -> baseline -> report.
"""
from __future__ import absolute_import, division, print_function

import socket

try:
    import yaml
except ImportError:  # only a catalogue given as a path needs it (Ansible's controller has it)
    yaml = None

from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.analysis.rules import RULES, effective_policy, evaluate
from ansible.module_utils.compose_doctor.output.report import build_report, utc_now

ARGUMENT_SPEC = dict(
    compose=dict(type="dict"),
    runtime=dict(type="dict"),
    policy=dict(type="dict", default={}),
    host=dict(type="str"),
    generated_at=dict(type="str"),
    baseline=dict(type="dict", default={}),
    # the action plugin's: gather the facts itself, write the report files itself
    gather=dict(type="dict"),
    stop_on_missing_libraries=dict(type="bool", default=False),
    report_files=dict(type="dict"),
)
MUTUALLY_EXCLUSIVE = [("compose", "gather"), ("runtime", "gather")]
REQUIRED_ONE_OF = [("compose", "gather")]
# what only the action plugin can do (it runs compose_facts on the host, it writes on the controller)
ACTION_ONLY = ("gather", "report_files")


class AuditInputError(ValueError):
    """An input the audit cannot use (a policy or baseline that does not validate); the message
    says which and why."""


def load_catalog(policy):
    """``policy`` with its ``crashloop_catalog`` read from the YAML file it names, when it is a path
    (the audit role's default: roles/audit/files/crashloop_catalog.yml on the controller, read once
    per host here instead of being templated into every task's arguments). Raises AuditInputError."""
    path = (policy or {}).get("crashloop_catalog")
    if not isinstance(path, str):
        return policy
    if yaml is None:
        raise AuditInputError("crashloop_catalog %s: PyYAML is needed to read it" % path)
    try:
        with open(path) as handle:
            catalog = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (IOError, OSError, yaml.YAMLError) as exc:
        raise AuditInputError("crashloop_catalog: cannot read %s: %s" % (path, exc)) from exc
    if not isinstance(catalog, dict):
        raise AuditInputError("crashloop_catalog: %s does not hold a catalogue (a mapping with causes)" % path)
    return dict(policy, crashloop_catalog=catalog)


def check_inputs(params):
    """-> the effective policy (a catalogue path read, see load_catalog); raises AuditInputError on an
    invalid policy or baseline."""
    try:
        policy = effective_policy(load_catalog(params.get("policy") or {}))
    except ValueError as exc:
        raise AuditInputError("invalid policy: %s" % exc) from exc
    try:
        suppressions.check_baseline(params.get("baseline") or {})
    except ValueError as exc:
        raise AuditInputError("invalid baseline: %s" % exc) from exc
    return policy


def run(params):
    """params: ARGUMENT_SPEC's keys (policy already effective, see check_inputs) -> the report dict
    (schema 1.0). Suppressed findings leave ``findings`` for ``suppressed``; a baseline annotates them."""
    policy = effective_policy(load_catalog(params.get("policy") or {}))
    compose = params.get("compose") or {}
    runtime = params.get("runtime") or {}
    generated_at = params.get("generated_at") or utc_now()
    outcome = suppressions.apply(evaluate(compose, runtime, policy), compose.get("suppressions"), RULES,
                                 generated_at[:10])
    baseline = suppressions.compare_baseline(outcome["findings"], outcome["suppressed"], params.get("baseline"))
    report = build_report(params.get("host") or socket.gethostname(), compose, runtime, outcome["findings"], policy,
                          generated_at)
    suppressions.annotate_report(report, outcome, baseline)
    return report


def result(report):
    """What compose_audit returns besides ``changed``: the report, its summary, and the ids of the
    findings ``audit_fail_on`` applies to (every finding, or only the new ones against a baseline)."""
    return dict(report=report, summary=report["summary"],
                gate_ids=[f["id"] for f in suppressions.gate_findings(report["findings"])])
