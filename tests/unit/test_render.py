# -*- coding: utf-8 -*-
"""Renderers: Markdown sections, self-contained HTML, SARIF, JUnit, Prometheus, no secrets anywhere."""
import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible.module_utils.compose_doctor.output import render
from ansible.module_utils.compose_doctor.output import report as rp
from ansible.module_utils.compose_doctor.analysis import rules

import audit_fixtures as fx


def build(compose=None, runtime=None, policy=None, host="lab1"):
    c = compose if compose is not None else fx.lab_compose()
    r = runtime if runtime is not None else fx.lab_runtime()
    return rp.build_report(host, c, r, rules.evaluate(c, r, policy or {}), policy or {}, fx.GENERATED_AT)


@pytest.fixture
def lab():
    return build()


@pytest.fixture
def down():
    return build(fx.lab_compose(), fx.unreachable_runtime())


MD_SECTIONS = ["EXECUTIVE SUMMARY", "Key indicators", "CONTAINER HEALTH STATUS", "RESTART LOOP & UNHEALTHY ANALYSIS",
               "CONFIGURATION SPRAWL", "PORT REGISTRY", "SECURITY AUDIT FINDINGS", "NETWORKING & SERVICE DISCOVERY",
               "DATA PERSISTENCE & VOLUMES", "RESOURCE UTILISATION & RIGHT-SIZING", "MONITORING & OBSERVABILITY",
               "FINDINGS BY PRIORITY", "ACTION PLAN PRIORITY MATRIX", "CONCLUSION"]


def test_markdown_sections(lab):
    md = render.to_markdown(lab)
    headings = [line for line in md.splitlines() if line.startswith("#")]
    for section in MD_SECTIONS:
        assert any(section in h for h in headings), section
    assert md.startswith("# INFRASTRUCTURE & DEVOPS AUDIT REPORT")


def test_markdown_content(lab):
    md = render.to_markdown(lab)
    assert "ansible-playbook playbooks/remediate.yml --tags pydeps" in md
    assert "ansible-playbook playbooks/remediate.yml --tags socket" in md
    assert "ansible-playbook playbooks/remediate.yml --tags mesh" in md
    assert "already lists it: the image is stale" in md          # jarvis-stale
    assert "not in agents/jarvis/requirements.txt" in md         # jarvis
    assert "No module named 'psutil'" in md
    assert "8 running of 17 defined" in md
    assert "| P0 | Container in a restart loop |" in md
    assert "shop-neo4j-1" in md and "under-provisioned" in md
    assert "DEFINED but NOT RUNNING" in md  # kong + consul down
    # every finding id is listed
    for f in lab["findings"]:
        assert f["id"] in md


def test_markdown_table_cells_escaped():
    c = fx.lab_compose()
    c["errors"][0]["message"] = "bad | pipe\nnewline"
    md = render.to_markdown(build(c))
    assert "bad \\| pipe" in md


def test_markdown_unreachable(down):
    md = render.to_markdown(down)
    assert "Runtime facts are missing" in md
    assert "UNREACHABLE" in md
    for section in MD_SECTIONS:
        assert section in md


def test_html_self_contained(lab):
    page = render.to_html(lab)
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page and "Memory use vs limit" in page and "Findings by severity" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    # one inline script, the page's own sorting and filtering (audit.js); nothing loaded
    assert page.lower().count("<script") == 1 and "<script>" in page and " src=" not in page.lower()
    assert "<link" not in page.lower()


def test_html_escapes_everything():
    c = fx.lab_compose()
    c["errors"][0]["message"] = "<script>alert(1)</script>"
    page = render.to_html(build(c))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_sarif_structure(lab):
    doc = json.loads(render.to_sarif(lab))
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert set(rule_ids) == set(rules.RULES)
    assert run["tool"]["driver"]["name"] == "compose-doctor"
    results = run["results"]
    assert len(results) == len(lab["findings"])
    for res in results:
        assert res["ruleId"] in rule_ids
        assert rule_ids[res["ruleIndex"]] == res["ruleId"]
        assert res["level"] in ("error", "warning", "note")
        assert res["message"]["text"]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"]
        if "region" in loc:
            assert isinstance(loc["region"]["startLine"], int) and loc["region"]["startLine"] >= 1
        assert res["partialFingerprints"]
    jarvis = [r for r in results if r["partialFingerprints"]["composeDoctorId/v1"] == "restart-loop:jarvis"][0]
    loc = jarvis["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "docker-compose.yml" and loc["region"]["startLine"] == 50
    assert run["originalUriBaseIds"]["PROJECTROOT"]["uri"] == "file:///opt/shop/"


def test_junit(lab):
    root = ET.fromstring(render.to_junit(lab))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == len(lab["findings"]) == int(suite.get("failures"))
    assert int(suite.get("tests")) == len(cases)
    fired = {f["rule"] for f in lab["findings"]}
    passing = [c for c in cases if c.find("failure") is None and c.find("skipped") is None]
    assert {c.get("name") for c in passing} == set(rules.RULES) - fired
    assert any(c.get("name") == "restart-loop[jarvis]" for c in failures)


def test_junit_skips_disabled_and_runtime_rules(down):
    root = ET.fromstring(render.to_junit(down))
    skipped = {c.get("name") for c in root.iter("testcase") if c.find("skipped") is not None}
    assert "restart-loop" in skipped and "mesh-not-running" in skipped


PROM_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? '
                       r'-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$')


def test_prometheus(lab):
    text = render.to_prometheus(lab)
    assert text.endswith("\n")
    typed = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            assert kind in ("gauge", "counter")
            typed.add(name)
            continue
        assert PROM_LINE.match(line), line
        assert line.split("{")[0].split(" ")[0] in typed  # TYPE precedes samples
    for metric in ("compose_doctor_findings", "compose_doctor_containers", "compose_doctor_score",
                   "compose_doctor_audit_timestamp_seconds"):
        assert metric in typed
    assert 'compose_doctor_findings{rule="restart-loop",severity="critical"} 2' in text
    assert 'compose_doctor_findings{rule="daemon-unreachable",severity="critical"} 0' in text
    assert 'compose_doctor_containers{state="restarting"} 2' in text
    assert "compose_doctor_score %d" % lab["summary"]["score"] in text
    assert "compose_doctor_audit_timestamp_seconds 1754757900" in text


def test_prometheus_label_escaping():
    assert render._labels(rule='a"b\\c\nd') == '{rule="a\\"b\\\\c\\nd"}'


def test_fleet_markdown(lab):
    fleet = rp.fleet_report([lab, build(fx.clean_compose(), fx.clean_runtime(), host="clean")],
                            [{"host": "db9", "error": "ssh: connect timed out"}], fx.GENERATED_AT)
    md = render.fleet_markdown(fleet)
    assert "# FLEET AUDIT SUMMARY" in md
    assert "| lab1 |" in md and "| clean |" in md
    assert "**db9**: ssh: connect timed out" in md
    assert "`restart-loop`" in md


def test_action_plan_groups_by_rule(lab):
    plan = render.action_plan(lab)
    first = plan[0]
    assert first["priority"] == "P0" and first["command"] == "ansible-playbook playbooks/remediate.yml --tags pydeps"
    assert first["count"] == 2
    assert len({(a["rule"], (a["fix"] or {}).get("tag")) for a in plan}) == len(plan)


def test_no_secret_in_any_output(lab, down):
    fleet = rp.fleet_report([lab, down], [], fx.GENERATED_AT)
    outputs = [json.dumps(lab), json.dumps(down), json.dumps(fleet), render.fleet_markdown(fleet),
               render.fleet_html(fleet)]
    for rep in (lab, down):
        outputs += [render.to_markdown(rep), render.to_html(rep), render.to_sarif(rep), render.to_junit(rep),
                    render.to_prometheus(rep)]
    for text in outputs:
        assert fx.PLANTED not in text
    assert "DB_PASSWORD=********" in render.to_markdown(lab)


def _cis_report():
    """The clean project with a service that adds SYS_ADMIN and runs with seccomp unconfined."""
    c = fx.clean_compose()
    web = c["services"]["web"]
    web.update(cap_add=["SYS_ADMIN"], security_opt=["no-new-privileges:true", "seccomp=unconfined"])
    return build(c, fx.clean_runtime())


def test_sarif_rules_carry_cis_tags_and_help():
    doc = json.loads(render.to_sarif(_cis_report()))
    run = doc["runs"][0]
    by_id = dict((r["id"], r) for r in run["tool"]["driver"]["rules"])
    cap = by_id["capability-added"]
    assert "CIS-5.4" in cap["properties"]["tags"] and cap["properties"]["cis"] == "5.4"
    help_text = cap["help"]["text"]
    assert help_text.startswith("Why: ") and "Fix: " in help_text and "cap_drop: [ALL]" in help_text
    assert help_text.endswith("CIS Docker Benchmark 5.4.")
    assert "CIS-5.32" in by_id["docker-socket-mount"]["properties"]["tags"]
    assert "CIS-5.5" in by_id["privileged-container"]["properties"]["tags"]
    assert "CIS-5.11" in by_id["memory-no-limit"]["properties"]["tags"]
    assert by_id["compose-sprawl"]["properties"]["tags"] == ["compose-doctor"]  # no CIS id, no CIS tag
    for rid, r in by_id.items():
        assert r["help"]["text"], rid
        if rules.RULES[rid].cis:
            assert "CIS-%s" % rules.RULES[rid].cis in r["properties"]["tags"], rid
    results = dict((res["ruleId"], res) for res in run["results"])
    assert results["seccomp-unconfined"]["properties"]["cis"] == "5.22"
    assert results["capability-added"]["level"] == "error"  # SYS_ADMIN: high


def test_markdown_and_html_show_the_cis_id():
    rep = _cis_report()
    md = render.to_markdown(rep)
    assert "Dangerous capability added (CIS 5.4): web" in md
    assert "- **CIS Docker Benchmark:** 5.22" in md
    assert "**[P2] Seccomp profile disabled (CIS 5.22)**" in md  # security section, isolation group
    assert "| Dangerous capability added (CIS 5.4) |" in md  # action plan
    page = render.to_html(rep)
    assert "Seccomp profile disabled (CIS 5.22)" in page
