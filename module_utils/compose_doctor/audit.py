"""The audit's evaluation step: gathered facts -> findings -> the report (audit.json's model).

One home for what the ``compose_audit`` module and its action plugin (plugins/action/compose_audit.py,
which runs it on the controller) both do: the argument spec, the checks of the inputs, and the
pipeline rules -> suppressions -> baseline -> report.
"""
from __future__ import absolute_import, division, print_function

import socket

from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.analysis.rules import RULES, effective_policy, evaluate
from ansible.module_utils.compose_doctor.output.report import build_report, utc_now

ARGUMENT_SPEC = dict(
    compose=dict(type="dict", required=True),
    runtime=dict(type="dict", default={}),
    policy=dict(type="dict", default={}),
    host=dict(type="str"),
    generated_at=dict(type="str"),
    baseline=dict(type="dict", default={}),
)


class AuditInputError(ValueError):
    """An input the audit cannot use (a policy or baseline that does not validate); the message
    says which and why."""


def check_inputs(params):
    """-> the effective policy; raises AuditInputError on an invalid policy or baseline."""
    try:
        policy = effective_policy(params.get("policy") or {})
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
    policy = effective_policy(params.get("policy") or {})
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
