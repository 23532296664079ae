# -*- coding: utf-8 -*-
"""Suppressions (x-compose-doctor.ignore, .compose-doctor-ignore.yml) and the baseline, from the
compose files on disk to the report and the gate."""
import copy
import datetime
import xml.etree.ElementTree as ET

import audit_fixtures as fx
import compose_audit
import compose_facts
import pytest

from ansible.module_utils.compose_doctor.analysis import rules
from ansible.module_utils.compose_doctor.facts import compose_model
from ansible.module_utils.compose_doctor.output import render
from ansible.module_utils.compose_doctor import suppressions as sp

COMPOSE = """\
x-compose-doctor:
  ignore:
    - rule: memory-no-limit
      service: worker
      reason: batch job, bounded by its input
services:
  web:
    image: nginx
    user: root
    x-compose-doctor:
      ignore:
        - rule: root-user
          reason: binds port 80 inside the container
          until: 2099-12-31
        - rule: no-healthcheck
          until: 2099-12-31
  worker:
    image: busybox
"""

IGNORE_FILE = """\
ignore:
  - rule: cpu-no-limit
    reason: sized by the host's cgroup
  - rule: pids-no-limit
    reason: old
    until: 2020-01-31
  - rule: no-such-rule
    reason: typo
  - rule: rootfs-writable
    reason: writes its cache
    until: 31/12/2099
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / ".compose-doctor-ignore.yml").write_text(IGNORE_FILE)
    return tmp_path


def _gathered(project):
    facts = compose_model.gather(str(project), use_cli=False, environ={})
    facts["suppressions"] += sp.ignore_file_entries_fs(str(project))
    return facts


def _finding(rule, service="web", **kw):
    f = {"id": "%s:%s" % (rule, service), "rule": rule, "target": service, "service": service,
         "severity": "medium", "priority": "P2", "title": rule, "evidence": "seen"}
    f.update(kw)
    return f


def _entry(kind="external", file=".compose-doctor-ignore.yml", line=2, service=None, **fields):
    return {"kind": kind, "file": file, "line": line, "key": "ignore[0]", "service": service, "fields": fields,
            "unknown": [], "keys": {"rule": line, "reason": line + 1, "until": line + 2}, "error": None}


# --- gathering, with lines --------------------------------------------------------------------

def test_in_source_entries_carry_file_line_and_scope(project):
    entries = {(e["file"], e["line"]): e for e in _gathered(project)["suppressions"]}
    top = entries[("compose.yaml", 3)]
    assert top["kind"] == "inSource" and top["service"] is None
    assert top["fields"] == {"rule": "memory-no-limit", "service": "worker", "reason": "batch job, bounded by its input"}
    root = entries[("compose.yaml", 12)]
    assert root["service"] == "web" and root["key"] == "services.web.x-compose-doctor.ignore[0]"
    assert root["fields"]["until"] == "2099-12-31"   # YAML's date, as ISO text
    assert entries[("compose.yaml", 15)]["keys"] == {"rule": 15, "until": 16}
    ext = entries[(".compose-doctor-ignore.yml", 2)]
    assert ext["kind"] == "external" and ext["key"] == "ignore[0]"


def test_no_ignore_file_is_no_entry_but_a_named_missing_one_is_refused(tmp_path):
    assert sp.ignore_file_entries_fs(str(tmp_path)) == []
    [entry] = sp.ignore_file_entries_fs(str(tmp_path), "ops/ignore.yml")
    assert "not found" in entry["error"]
    [refusal] = sp.refused([entry], rules.RULES)
    assert refusal["file"] == "ops/ignore.yml"


def test_ignore_file_that_does_not_parse_is_refused_with_its_line(tmp_path):
    (tmp_path / ".compose-doctor-ignore.yml").write_text("ignore:\n  - rule: x\n   reason: [\n")
    [refusal] = sp.refused(sp.ignore_file_entries_fs(str(tmp_path)), rules.RULES)
    assert refusal["file"] == ".compose-doctor-ignore.yml" and refusal["line"] == 3


def test_a_reason_is_masked_where_it_is_read():
    [entry] = sp.entries_of({"ignore": [{"rule": "root-user", "reason": "see API_TOKEN=abcd1234efgh"}]},
                            "external", "i.yml", [], "")
    assert "abcd1234efgh" not in entry["fields"]["reason"] and "API_TOKEN" in entry["fields"]["reason"]


def test_wrong_shapes_never_raise():
    assert sp.entries_of(None, "inSource", "c.yml", [], "x-compose-doctor") == []
    [bad] = sp.entries_of(["nope"], "inSource", "c.yml", [], "x-compose-doctor")
    assert "must be a mapping" in bad["error"]
    [item] = sp.entries_of({"ignore": ["root-user"]}, "inSource", "c.yml", [], "x-compose-doctor")
    assert item["error"] and item["key"] == "x-compose-doctor.ignore[0]"


# --- checking: refused entries name file, line and key -------------------------------------------

def test_refused_without_reason_names_the_entry_line():
    [r] = sp.refused([_entry(kind="inSource", file="compose.yaml", line=15, service="web", rule="no-healthcheck",
                             until="2099-12-31")], rules.RULES)
    assert (r["file"], r["line"]) == ("compose.yaml", 15)
    assert "without a reason" in r["message"]


@pytest.mark.parametrize("fields,key,words", [
    ({"rule": "no-such-rule", "reason": "r"}, "rule", "unknown rule id"),
    ({"rule": "root-user", "reason": "r", "until": "31/12/2099"}, "until", "not a date"),
    ({"rule": "root-user", "reason": "r", "until": "2099-02-30"}, "until", "not a date"),
    ({"rule": "suppression-refused", "reason": "r"}, "rule", "cannot be suppressed"),
    ({"rule": "root-user", "reason": "   "}, "reason", "without a reason"),
])
def test_refusals(fields, key, words):
    _sup, refusal = sp.check_entry(_entry(**fields), rules.RULES)
    assert _sup is None and words in refusal["message"]
    assert refusal["key"] == "ignore[0].%s" % key and refusal["line"] == _entry()["keys"][key]


def test_unknown_key_is_refused():
    entry = dict(_entry(rule="root-user", reason="r"), unknown=["reasn"], keys={"reasn": 9})
    _sup, refusal = sp.check_entry(entry, rules.RULES)
    assert refusal["key"] == "ignore[0].reasn" and refusal["line"] == 9


def test_valid_entry_and_reason_masked():
    sup, refusal = sp.check_entry(_entry(rule="root-user", reason="was DB_PASSWORD=hunter2 once"), rules.RULES)
    assert refusal is None and sup["by"] == ".compose-doctor-ignore.yml:2"
    assert "hunter2" not in sup["reason"]


# --- applying: suppressed, expired, refused -------------------------------------------------------

def test_suppressed_finding_leaves_the_open_list():
    out = sp.apply([_finding("root-user"), _finding("no-healthcheck")],
                   [_entry(kind="inSource", file="compose.yaml", line=12, service="web", rule="root-user",
                           reason="port 80", until="2099-12-31")], rules.RULES, "2026-12-05")
    assert [f["id"] for f in out["findings"]] == ["no-healthcheck:web"]
    [s] = out["suppressed"]
    assert s["suppression"] == {"kind": "inSource", "reason": "port 80", "until": "2099-12-31", "file": "compose.yaml",
                                "line": 12, "by": "compose.yaml:12"}
    assert out["counts"]["applied"] == 1


def test_suppression_scope_service_and_target():
    entry = _entry(rule="root-user", reason="r", service="api")
    out = sp.apply([_finding("root-user", "web"), _finding("root-user", "api")], [entry], rules.RULES,
                   datetime.date(2026, 1, 1))
    assert [f["id"] for f in out["suppressed"]] == ["root-user:api"]
    out = sp.apply([_finding("root-user", "web")], [_entry(rule="root-user", reason="r", target="api")],
                   rules.RULES, "2026-01-01")
    assert out["suppressed"] == [] and "matched no finding" in out["notes"][0]


def test_suppression_valid_through_its_until_day_then_expired():
    entry = _entry(rule="root-user", reason="migrating", until="2026-03-31")
    assert sp.apply([_finding("root-user")], [entry], rules.RULES, "2026-03-31")["suppressed"]
    out = sp.apply([_finding("root-user")], [entry], rules.RULES, "2026-04-01")
    [f] = out["findings"]
    assert out["suppressed"] == [] and out["counts"]["expired"] == 1
    assert f["evidence"].endswith("suppression expired on 2026-03-31 (.compose-doctor-ignore.yml:2)")
    assert f["suppression_expired"]["until"] == "2026-03-31"
    assert any("expired on 2026-03-31" in n and "root-user:web" in n for n in out["notes"])


def test_refused_entry_suppresses_nothing():
    out = sp.apply([_finding("root-user")], [_entry(rule="root-user")], rules.RULES, "2026-01-01")
    assert [f["id"] for f in out["findings"]] == ["root-user:web"] and out["counts"]["refused"] == 1


def test_refused_finding_is_never_suppressed():
    f = _finding("suppression-refused", "x")
    out = sp.apply([f], [_entry(rule="suppression-refused", reason="r")], rules.RULES, "2026-01-01")
    assert out["findings"] == [f]


# --- the audit end to end: score, gate, report -----------------------------------------------------

def _audit(run_module, compose, **extra):
    params = dict(compose=compose, runtime={}, host="h", generated_at="2026-12-05T10:00:00Z")
    params.update(extra)
    out = run_module(compose_audit, params)
    assert not out.get("failed", False), out
    return out


def test_audit_on_a_project_suppresses_expires_and_refuses(run_module, project):
    res = _audit(run_module, _gathered(project))
    rep = res["report"]
    suppressed = {f["id"]: f["suppression"] for f in rep["suppressed"]}
    assert suppressed["root-user:web"]["by"] == "compose.yaml:12"
    assert suppressed["memory-no-limit:worker"]["kind"] == "inSource"
    assert suppressed["cpu-no-limit:web"]["kind"] == "external"
    ids = [f["id"] for f in res["report"]["findings"]]
    assert "root-user:web" not in ids and "memory-no-limit:web" in ids
    expired = [f for f in res["report"]["findings"] if f.get("suppression_expired")]
    assert {f["id"] for f in expired} == {"pids-no-limit:web", "pids-no-limit:worker"}
    refused = [f for f in res["report"]["findings"] if f["rule"] == "suppression-refused"]
    assert sorted((f["file"], f["line"]) for f in refused) == [
        (".compose-doctor-ignore.yml", 7), (".compose-doctor-ignore.yml", 11), ("compose.yaml", 15)]
    assert any("services.web.x-compose-doctor.ignore[1]" in f["evidence"] for f in refused)
    assert rep["summary"]["suppressed"] == len(rep["suppressed"]) == rep["suppressions"]["applied"]
    assert rep["summary"]["findings_total"] == len(res["report"]["findings"])
    assert res["gate_ids"] == [f["id"] for f in res["report"]["findings"]]


def test_suppressed_findings_do_not_count_in_the_score(run_module, project):
    facts = _gathered(project)
    with_sup = _audit(run_module, facts)["report"]["summary"]["score"]
    facts["suppressions"] = [e for e in facts["suppressions"] if sp.check_entry(e, rules.RULES)[1]]  # refused only
    assert _audit(run_module, facts)["report"]["summary"]["score"] < with_sup


# --- baseline -----------------------------------------------------------------------------------

def test_baseline_one_new_one_fixed(run_module):
    before = _audit(run_module, fx.lab_compose())["report"]
    compose = fx.lab_compose()
    old = before["findings"][-1]
    compose["services"]["jarvis"]["user"] = "root"      # one new finding: root-user:jarvis
    baseline = copy.deepcopy(before)
    baseline["findings"].append(dict(old, id="memory-no-limit:gone", target="gone"))   # one fixed
    res = _audit(run_module, compose, baseline=baseline)
    rep = res["report"]
    assert res["gate_ids"] == ["root-user:jarvis"]
    assert {f["baseline_state"] for f in res["report"]["findings"] if f["id"] != "root-user:jarvis"} == {"known"}
    assert rep["baseline"]["fixed_findings"][0]["id"] == "memory-no-limit:gone"
    assert rep["summary"]["baseline"] == {"new": 1, "known": len(res["report"]["findings"]) - 1, "fixed": 1}


def test_no_baseline_gates_every_finding(run_module):
    res = _audit(run_module, fx.lab_compose())
    assert res["gate_ids"] == [f["id"] for f in res["report"]["findings"]] and res["report"]["baseline"] is None
    assert all("baseline_state" not in f for f in res["report"]["findings"])


def test_baseline_that_is_not_an_audit_json_fails_clearly(run_module):
    out = run_module(compose_audit, dict(compose=fx.lab_compose(), baseline={"findings": "nope"}))
    assert out.get("failed") and "invalid baseline" in out["msg"]


def test_compose_facts_reads_the_named_ignore_file(run_module, project):
    (project / "ops").mkdir()
    (project / ".compose-doctor-ignore.yml").rename(project / "ops" / "ignore.yml")
    out = run_module(compose_facts, dict(project_dir=str(project), use_cli=False, ignore_file="ops/ignore.yml"))
    files = {e["file"] for e in out["compose"]["suppressions"]}
    assert files == {"compose.yaml", "ops/ignore.yml"}


# --- reports: Markdown, HTML, JUnit, Prometheus ---------------------------------------------------

@pytest.fixture
def rich_report(run_module):
    compose = fx.lab_compose()
    before = _audit(run_module, compose)["report"]
    first = next(f for f in before["findings"] if f.get("service"))
    compose["suppressions"] = [_entry(kind="inSource", file="docker-compose.yml", line=12, service=first["service"],
                                      rule=first["rule"], reason="accepted for the lab", until="2099-12-31")]
    baseline = copy.deepcopy(before)
    baseline["findings"].pop()
    baseline["findings"].append(dict(first, id="root-user:retired", target="retired"))
    return _audit(run_module, compose, baseline=baseline)["report"], first


def test_markdown_lists_suppressed_and_the_baseline(rich_report):
    report, first = rich_report
    md = render.to_markdown(report)
    assert "SUPPRESSED FINDINGS AND BASELINE" in md
    assert "| accepted for the lab | `docker-compose.yml:12` | 2099-12-31 | in the compose file |" in md
    assert "**(new since the baseline)**" in md and "(known in the baseline)" in md
    assert "fixed: [" in md and "`root-user:retired`" in md
    assert "| Suppressed (not counted) | 1 |" in md
    assert "| Since the baseline | 1 new, " in md and " 1 fixed |" in md
    assert "`%s`" % first["id"] not in md.split("FINDINGS BY PRIORITY")[1].split("SUPPRESSED FINDINGS")[0]


def test_html_lists_suppressed_and_the_baseline(rich_report):
    report, _first = rich_report
    page = render.to_html(report)
    assert "Suppressed findings and baseline" in page and "accepted for the lab" in page
    assert "(new since the baseline)" in page and "root-user:retired" in page


def test_reports_without_suppressions_or_baseline_have_no_section(run_module):
    report = _audit(run_module, fx.lab_compose())["report"]
    assert "SUPPRESSED FINDINGS" not in render.to_markdown(report)
    assert "Suppressed findings and baseline" not in render.to_html(report)


def test_junit_groups_by_cis_and_skips_suppressed(rich_report):
    report, first = rich_report
    root = ET.fromstring(render.to_junit(report))
    cases = list(root.iter("testcase"))
    by_class = {c.get("classname") for c in cases}
    assert "compose_doctor.CIS_5_4.capability-added" in by_class
    assert "compose_doctor.restart-loop" in by_class          # no CIS id: ungrouped
    skipped = [c for c in cases if c.get("name") == "%s[%s]" % (first["rule"], first["target"])]
    assert skipped[0].find("skipped").get("message") == "suppressed by docker-compose.yml:12: accepted for the lab"
    assert int(root.get("tests")) == len(cases)


def test_prometheus_counts_suppressed(rich_report):
    assert "compose_doctor_suppressed_findings 1\n" in render.to_prometheus(rich_report[0])
