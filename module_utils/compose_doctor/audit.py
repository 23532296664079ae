"""The audit's evaluation step: gathered facts -> findings -> the report (audit.json's model).

One home for what the ``compose_audit`` module and its action plugin (plugins/action/compose_audit.py,
which runs it on the controller) both do: the argument spec, the checks of the inputs, and the
pipeline rules -> suppressions -> baseline -> report.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import socket

from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.analysis import crashloop
from ansible.module_utils.compose_doctor.analysis.rules import RULES, effective_policy, evaluate
from ansible.module_utils.compose_doctor.analysis.rules.common import SEVERITIES, SEVERITY_RANK
from ansible.module_utils.compose_doctor.facts import compose_yaml
from ansible.module_utils.compose_doctor.output.report import build_report, utc_now

ARGUMENT_SPEC = dict(
    compose=dict(type="dict"),
    runtime=dict(type="dict"),
    policy=dict(type="dict", default={}),
    host=dict(type="str"),
    generated_at=dict(type="str"),
    baseline=dict(type="raw", default={}),
    fail_on=dict(type="str", default="info", choices=("never",) + SEVERITIES),
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


# Data options the audit role passes as the path of a YAML file on the controller (its own files/ by
# default): read once per host by the action instead of being templated into every task's arguments.
POLICY_DATA = (("crashloop_catalog", dict), ("database_kinds", list))
GATHER_RUNTIME_DATA = (("databases", list), ("http_apis", list))


# path -> ((mtime_ns, size), data) of the files load_data read in this process: every host's task
# names the same files (callers do not change the data: the policy takes deep copies).
_DATA = {}


def load_data(value, name, kind):
    """``value`` as it is, or when it is a str, the ``kind`` (dict or list) read from the YAML file it
    names (again only when the file changed). Raises AuditInputError naming ``name`` and the file."""
    if not isinstance(value, str):
        return value
    if compose_yaml.yaml is None:
        raise AuditInputError("%s %s: PyYAML is needed to read it" % (name, value))
    try:
        stat = os.stat(value)
        key = (stat.st_mtime_ns, stat.st_size)
        known = _DATA.get(value)
        if known and known[0] == key:
            data = known[1]
        else:
            with open(value) as handle:
                data = compose_yaml.safe_load(handle)
            _DATA[value] = (key, data)
    except (IOError, OSError, compose_yaml.yaml.YAMLError) as exc:
        raise AuditInputError("%s: cannot read %s: %s" % (name, value, exc)) from exc
    if not isinstance(data, kind):
        raise AuditInputError("%s: %s does not hold a %s" % (
            name, value, "catalogue (a mapping)" if kind is dict else "list"))
    return data


def preload(files_dir):
    """Read the audit role's data files in ``files_dir`` (its files/; None: nothing) and compile the
    crash-loop catalogue now. The action plugin calls it in the playbook's main process, so the workers
    forked per host start with both; a file that is missing or does not load is left to the task that
    names it, which says so."""
    if not files_dir:
        return
    for name, kind in (("crashloop_catalog", dict), ("database_kinds", list), ("http_apis", list)):
        path = os.path.join(files_dir, name + ".yml")
        if not os.path.isfile(path):
            continue
        try:
            data = load_data(path, name, kind)
            if name == "crashloop_catalog":
                crashloop.compile_catalog(data)
        except (AuditInputError, ValueError):
            continue


def load_policy_data(policy):
    """``policy`` with each POLICY_DATA key given as a path read (load_data); the same object when
    none is a path (an effective policy stays one)."""
    paths = [(key, kind) for key, kind in POLICY_DATA if isinstance((policy or {}).get(key), str)]
    if not paths:
        return policy or {}
    return dict(policy, **dict((key, load_data(policy[key], key, kind)) for key, kind in paths))


def load_gather_data(gather):
    """compose_facts' options ``gather`` with runtime.databases and runtime.http_apis given as a path
    on the controller read (load_data): the module on the host gets the data."""
    runtime = (gather or {}).get("runtime")
    if not isinstance(runtime, dict):
        return gather
    runtime = dict(runtime)
    for key, kind in GATHER_RUNTIME_DATA:
        if key in runtime:
            runtime[key] = load_data(runtime[key], "gather.runtime.%s" % key, kind)
    return dict(gather, runtime=runtime)


def load_baseline(value):
    """``baseline`` as it is, or when it is a str, the earlier audit.json it names read ('' is none).
    Raises AuditInputError naming the file and why (missing, not JSON)."""
    if not isinstance(value, str):
        return value or {}
    if not value:
        return {}
    try:
        with open(value) as handle:
            data = json.load(handle)
    except (IOError, OSError) as exc:
        raise AuditInputError("baseline %s is not a readable file where the audit is evaluated (the controller, "
                              "for the action plugin): %s" % (value, exc.strerror or exc)) from exc
    except ValueError as exc:
        raise AuditInputError("baseline %s is not an audit.json: %s" % (value, exc)) from exc
    if not data:    # {} would mean "no baseline": a file given is one, or an error
        raise AuditInputError("baseline %s is not an audit.json: it is empty" % value)
    return data


def check_inputs(params):
    """-> ``params`` with the policy effective (its data paths read, see load_policy_data) and the baseline
    read (load_baseline); raises AuditInputError on an invalid policy or baseline."""
    policy = load_policy_data(params.get("policy"))
    try:
        policy = effective_policy(policy)
    except ValueError as exc:
        raise AuditInputError("invalid policy: %s" % exc) from exc
    baseline = load_baseline(params.get("baseline"))
    try:
        suppressions.check_baseline(baseline)
    except ValueError as exc:
        raise AuditInputError("invalid baseline: %s" % exc) from exc
    return dict(params, policy=policy, baseline=baseline)


def run(params):
    """params: ARGUMENT_SPEC's keys (checked, see check_inputs) -> the report dict
    (schema 1.0). Suppressed findings leave ``findings`` for ``suppressed``; a baseline annotates them."""
    policy = effective_policy(load_policy_data(params.get("policy")))
    compose = params.get("compose") or {}
    runtime = params.get("runtime") or {}
    generated_at = params.get("generated_at") or utc_now()
    outcome = suppressions.apply(evaluate(compose, runtime, policy), compose.get("suppressions"), RULES,
                                 generated_at[:10])
    baseline = suppressions.compare_baseline(outcome["findings"], outcome["suppressed"],
                                             load_baseline(params.get("baseline")))
    report = build_report(params.get("host") or socket.gethostname(), compose, runtime, outcome["findings"], policy,
                          generated_at)
    suppressions.annotate_report(report, outcome, baseline)
    return report


def result(report, fail_on="info"):
    """What compose_audit returns besides ``changed``: the report, its summary, ``gate_ids`` (the ids of
    the findings at or above ``fail_on`` - a severity or 'never' - that the gate counts: every open
    finding, or only the new ones against a baseline), and ``lines``, the outcome in a few lines for
    people (see outcome_lines)."""
    rank = SEVERITY_RANK.get(fail_on, -1)
    gate = [f["id"] for f in suppressions.gate_findings(report["findings"])
            if SEVERITY_RANK.get(f.get("severity"), len(SEVERITIES)) <= rank]
    return dict(report=report, summary=report["summary"], lines=outcome_lines(report), gate_ids=gate)


def outcome_lines(report):
    """[str]: the project's score, services running, findings per severity and the engine's state;
    then what suppressions did, the baseline's counts, and a missing project's evidence. Built here
    once, not by a template over every finding per host (what the audit role prints)."""
    summary, docker = report["summary"], report["docker"]
    lines = ["%s: score %s/100, %s/%s services running, findings %s; docker %s" % (
        report["project"]["name"], summary["score"], summary["services_running"], summary["services_defined"],
        json.dumps(summary["findings"]), "reachable" if docker["reachable"] else "UNREACHABLE: %s" % docker["error"])]
    lines += list((report.get("suppressions") or {}).get("notes") or [])
    baseline = report.get("baseline")
    if baseline:
        lines.append("baseline of %s: %d new, %d known, %d fixed" % (
            baseline["generated_at"], baseline["new"], baseline["known"], baseline["fixed"]))
    lines += [f["evidence"] for f in report["findings"] if f["rule"] == "compose-not-found"]
    return lines
