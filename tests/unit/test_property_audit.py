"""Property test: no value in any field the facts and rules read can crash the audit.

Hypothesis writes compose files whose services hold random and malformed values (wrong types,
odd strings, nested junk) in every field compose_facts and the rules read, then runs the audit's
whole static path — compose facts (fallback model: hermetic, no Docker), the rules, the report
model and every report format — and asserts that nothing escapes and every report renders. A value
that cannot be read must come back as a ``compose-invalid`` finding, not an exception.
"""
import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible.module_utils.compose_doctor.facts import compose_model
from ansible.module_utils.compose_doctor.output import render, report
from ansible.module_utils.compose_doctor.analysis import rules
from ansible.module_utils.compose_doctor.facts.docker_runtime import empty_runtime

FIELDS = ("ports", "expose", "volumes", "tmpfs", "user", "mem_limit", "mem_reservation", "deploy", "healthcheck",
          "environment", "env_file", "build", "networks", "profiles", "logging", "labels", "privileged",
          "cap_add", "group_add", "depends_on", "image", "restart", "extends", "secrets", "network_mode")

text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["80", "8000-8002", "127.0.0.1:8080", "${UNSET}-9000", "[::]:53:53/udp", "::0:70:70",
                     "a:b:c:d", "-1", "99999", "0:0", "root:docker", "//var/run/docker.sock:/s", "/var/run:/r:ro",
                     "512m", "bogus", "${MEM:-bogus}", "$$", "${A:?err}", "1e9", "", " ", "\x00", "::"]),
)
scalar = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 12, 10 ** 12), st.floats(allow_nan=False), text)
value = st.recursive(scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                     st.dictionaries(st.one_of(text, st.integers()), inner,
                                                                     max_size=4)),
                     max_leaves=12)
service = st.dictionaries(st.sampled_from(FIELDS), value, max_size=8)
project = st.dictionaries(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True), st.one_of(service, value),
                          min_size=1, max_size=3)


def _audit(tmp_path, doc):
    for name in os.listdir(tmp_path):
        os.remove(os.path.join(tmp_path, name))
    (tmp_path / "compose.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))
    compose = compose_model.gather(str(tmp_path), use_cli=False, environ={})
    runtime = empty_runtime("unix:///nonexistent.sock", error="not reachable (test)")
    findings = rules.evaluate(compose, runtime)
    rep = report.build_report("host", compose, runtime, findings)
    for to in (render.to_markdown, render.to_html, render.to_sarif, render.to_junit, render.to_prometheus):
        assert isinstance(to(rep), str)
    return compose, findings


@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(services=project, top=st.dictionaries(st.sampled_from(["volumes", "networks", "secrets", "include", "name"]),
                                             value, max_size=2))
def test_no_value_crashes_the_audit(tmp_path, services, top):
    doc = dict(top, services=services)
    compose, findings = _audit(tmp_path, doc)
    assert isinstance(findings, list)
    problems = [p for s in compose["services"].values() for p in s["problems"]]
    if problems:  # what was left out is a finding naming service and key
        assert any(f["rule"] == "compose-invalid" and f.get("service") for f in findings)


@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")), deadline=None)
@given(name=st.text(min_size=1, max_size=10), svc=st.one_of(service, value))
def test_no_model_shape_crashes_normalisation(name, svc):
    """Compose's JSON model and the fallback's take the same road: any shape in, facts out."""
    facts = compose_model.normalize_service(name, svc, "/srv/project")
    assert isinstance(facts["ports"], list) and isinstance(facts["problems"], list)
    for p in facts["ports"]:
        assert isinstance(p["target"], int) and isinstance(p["all_interfaces"], bool)


@pytest.mark.parametrize("doc", [
    "services: [",                              # does not parse
    "a: &a [*a]",                               # self-referencing alias
    "services:\n  x: !reset\n",                 # Compose tag on a service
    "services:\n  x:\n    ports: !override [80]\n    image: !custom x\n",
    "- just\n- a list\n",
    "services: 7\n",
])
def test_broken_files_become_findings(tmp_path, doc):
    (tmp_path / "compose.yaml").write_text(doc)
    compose = compose_model.gather(str(tmp_path), use_cli=False, environ={})
    findings = rules.evaluate(compose, empty_runtime("unix:///nonexistent.sock"))
    rep = report.build_report("host", compose, empty_runtime("unix:///nonexistent.sock"), findings)
    assert render.to_markdown(rep)
