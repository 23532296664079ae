# -*- coding: utf-8 -*-
"""audit.json model: summary numbers, score, port registry, fleet aggregation."""
import json

import pytest

from ansible.module_utils.compose_doctor.output import report as rp
from ansible.module_utils.compose_doctor.analysis import rightsizing, rules

import audit_fixtures as fx

MiB = fx.MiB


def build(compose=None, runtime=None, policy=None, host="lab1"):
    c = compose if compose is not None else fx.lab_compose()
    r = runtime if runtime is not None else fx.lab_runtime()
    findings = rules.evaluate(c, r, policy or {})
    return rp.build_report(host, c, r, findings, policy or {}, fx.GENERATED_AT)


@pytest.fixture
def lab():
    return build()


def test_top_level_schema(lab):
    assert lab["schema_version"] == "1.0"
    assert lab["host"] == "lab1" and lab["generated_at"] == fx.GENERATED_AT
    assert lab["project"] == {"name": "shop", "dir": "/opt/shop"}
    assert lab["docker"]["reachable"] is True and lab["docker"]["version"] == "20.10.24"
    for key in ("summary", "services", "containers", "ports", "volumes", "findings", "rules", "resources",
                "mesh", "monitoring", "compose"):
        assert key in lab
    json.dumps(lab)  # serialisable


def test_summary_numbers(lab):
    s = lab["summary"]
    assert s["compose_files"] == 7
    assert s["override_files"] == 5
    assert s["active_files"] == 3
    assert s["services_defined"] == 17  # distinct names across ALL files (incl. agent-a/b)
    assert s["services_active"] == 15
    assert s["services_running"] == 8
    assert s["containers_total"] == 10
    assert s["containers_running"] == 8
    assert s["containers_healthy"] == 7  # running and not unhealthy (no healthcheck counts as healthy)
    assert s["containers_unhealthy"] == 1
    assert s["containers_restarting"] == 2
    assert s["dockerfiles"] == 4
    assert s["memory_used_bytes"] == (23 + 3 + 91 + 200 + 138 + 48 + 130 + 900) * MiB
    assert s["memory_limit_bytes"] == (512 + 1024 + 512 + 512 + 512 + 8192 + 1024) * MiB
    assert s["health_pct"] == 70.0
    assert s["findings_total"] == len(lab["findings"])
    assert sum(s["findings"].values()) == len(lab["findings"])
    assert s["worst_severity"] == "critical" and s["worst_priority"] == "P0"


def test_score_weights():
    f = lambda sev: {"severity": sev}  # noqa: E731
    assert rules.score([]) == 100
    assert rules.score([f("critical")]) == 83
    assert rules.score([f("critical"), f("high"), f("medium"), f("low")]) == round(100 * 100 / 132.0)
    assert 0 < rules.score([f("critical")] * 50) < 10  # saturates, never negative
    assert rules.score([f("low")], {"score_weights": {"low": 100}}) == 50
    assert rules.score([f("low")] * 3) > rules.score([f("low")] * 4)  # every fix raises it


def test_score_in_report_matches_findings(lab):
    w = lab["summary"]["score_weights"]
    expected = round(100 * 100.0 / (100 + sum(w[f["severity"]] for f in lab["findings"])))
    assert lab["summary"]["score"] == expected


def test_clean_report():
    rep = build(fx.clean_compose(), fx.clean_runtime())
    assert rep["summary"]["score"] == 100
    assert rep["summary"]["findings"] == {"critical": 0, "high": 0, "medium": 0, "low": 0, "info": 0}
    assert rep["summary"]["health_pct"] == 100.0
    assert rep["summary"]["worst_severity"] is None


def test_port_registry(lab):
    ports = lab["ports"]
    assert [p["port"] for p in ports] == sorted(p["port"] for p in ports)
    pg = [p for p in ports if p["port"] == 10000][0]
    assert pg["service"] == "postgres" and pg["all_interfaces"] and pg["database"] and pg["listening"]
    assert pg["host_ip"] == ""
    kong = [p for p in ports if p["port"] == 10005][0]
    assert kong["service"] == "kong" and not kong["listening"] and not kong["all_interfaces"]
    redis = [p for p in ports if p["port"] == 10001][0]
    assert redis["host_ip"] == "127.0.0.1" and redis["database"] and redis["listening"]
    assert not any(p["conflict"] for p in ports)


def test_port_conflict_detected():
    c = fx.lab_compose()
    c["services"]["consul"]["ports"] = [{"host_ip": "127.0.0.1", "published": 10005, "target": 8500,
                                         "protocol": "tcp"}]
    rep = build(c)
    assert [p["conflict"] for p in rep["ports"] if p["port"] == 10005] == [True, True]


def test_services_rows(lab):
    by = {s["name"]: s for s in lab["services"]}
    assert by["agent-a"]["active"] is False and by["agent-a"]["file"] == "docker-compose.agents.yml"
    assert by["neo4j"]["running"] and by["neo4j"]["container"] == "shop-neo4j-1"
    assert by["neo4j"]["mem_usage_bytes"] == 900 * MiB and by["neo4j"]["mem_limit_bytes"] == 1024 * MiB
    assert by["kong"]["running"] is False and by["kong"]["state"] == "not created"
    assert by["jarvis"]["state"] == "restarting"
    assert "restart-loop:jarvis" in by["jarvis"]["findings"]
    assert by["redis"]["mem_limit_bytes"] is None


def test_no_environment_values_in_report(lab):
    text = json.dumps(lab)
    assert fx.PLANTED not in text
    assert "environment" not in json.dumps(lab["services"])


def test_volumes(lab):
    by = {v["name"]: v for v in lab["volumes"]}
    assert by["shop_postgres_data"]["status"] == "in-use"
    assert by["shopapp_postgres_data"]["status"] == "duplicate"
    assert by["shop_models_data"]["status"] == "unused"
    assert by["shop_agent_workspaces"]["status"] == "unused"
    assert by["unrelated_cache"]["status"] == "unrelated"  # another project's, not ours to judge


def test_resources(lab):
    res = lab["resources"]
    by = {r["container"]: r for r in res["containers"]}
    assert by["shop-neo4j-1"]["status"] == "under-provisioned"
    assert by["shop-rabbitmq-1"]["status"] == "over-provisioned"
    assert by["shop-redis-1"]["status"] == "no limit"
    assert res["reclaimable_bytes"] == sum(r["reclaimable_bytes"] or 0 for r in res["containers"]) > 0
    assert res["unlimited_containers"] == 1


_FIX_REASON = {"under-provisioned": "memory-pressure", "over-provisioned": "memory-overprovisioned",
               "no limit": "memory-no-limit"}


def test_report_recommends_what_the_fix_writes(lab):
    """The report's recommended limit (and so its reclaimable memory) is rightsizing's for the same peak."""
    checked = 0
    for row in lab["resources"]["containers"]:
        if row["status"] not in _FIX_REASON:
            continue
        fix = rightsizing.recommend(row["limit_bytes"], row["usage_bytes"], False, [_FIX_REASON[row["status"]]])
        assert row["recommended_limit_bytes"] == fix["recommended"], row["container"]
        if row["status"] == "over-provisioned":
            assert row["reclaimable_bytes"] == row["limit_bytes"] - fix["recommended"]
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("peak_mib", [1, 14, 63, 64, 100, 300, 470, 1000, 4000])
def test_no_limit_recommendation_is_rightsizings(peak_mib):
    compose, runtime = fx.clean_compose(), fx.clean_runtime()
    compose["services"]["web"]["mem_limit_bytes"] = None
    runtime["containers"][0]["memory"] = {"usage_bytes": peak_mib * MiB, "limit_bytes": None, "percent": None}
    row = build(compose, runtime)["resources"]["containers"][0]
    assert row["recommended_limit_bytes"] == rightsizing.recommend(None, peak_mib * MiB)["recommended"]
    assert row["recommended_limit_bytes"] == max(rightsizing.target_limit(peak_mib * MiB, rightsizing.normalize_policy()),
                                                 256 * MiB)


def test_mesh_and_monitoring(lab):
    mesh = {m["component"]: m for m in lab["mesh"]}
    assert mesh["kong"]["defined"] and not mesh["kong"]["running"]
    mon = {m["component"]: m for m in lab["monitoring"]}
    assert mon["prometheus"]["running"] and not mon["alertmanager"]["running"]
    assert mon["loki"]["defined"] is False


def test_rules_catalog_in_report(lab):
    assert {r["id"] for r in lab["rules"]} == set(rules.RULES)
    assert all(r["status"] == "evaluated" for r in lab["rules"])


def test_unreachable_report():
    rep = build(fx.lab_compose(), fx.unreachable_runtime())
    s = rep["summary"]
    assert rep["docker"]["reachable"] is False and "connection refused" in rep["docker"]["error"]
    assert s["containers_total"] is None and s["services_running"] is None and s["health_pct"] is None
    assert s["services_defined"] == 17 and s["compose_files"] == 7
    assert rep["resources"] is None and rep["containers"] == []
    assert "daemon-unreachable:docker" in [f["id"] for f in rep["findings"]]
    by = {r["id"]: r["status"] for r in rep["rules"]}
    assert by["restart-loop"] == "skipped-no-runtime"


def test_fleet_report():
    a = build(host="a")
    b = build(fx.clean_compose(), fx.clean_runtime(), host="b")
    fleet = rp.fleet_report([a, b], ["c", {"host": "d", "msg": "ssh timeout"}], fx.GENERATED_AT)
    t = fleet["totals"]
    assert t["hosts"] == 4 and t["hosts_audited"] == 2 and t["hosts_unreachable"] == 2
    assert t["findings"]["critical"] == a["summary"]["findings"]["critical"]
    assert t["score_min"] == a["summary"]["score"]
    assert [u["host"] for u in fleet["unreachable"]] == ["c", "d"]
    assert fleet["unreachable"][1]["error"] == "ssh timeout"
    rl = [r for r in fleet["rules"] if r["rule"] == "restart-loop"][0]
    assert rl["hosts"] == ["a"] and rl["findings"] == 2 and rl["priority"] == "P0"
    json.dumps(fleet)


def test_fleet_report_tells_a_failed_audit_from_an_unreachable_host():
    fleet = rp.fleet_report([build(host="a")], ["c", {"host": "e", "state": "failed"},
                                                {"host": "f", "state": "bogus", "error": "no route"}], fx.GENERATED_AT)
    assert [(u["host"], u["state"], u["error"]) for u in fleet["unreachable"]] == [
        ("c", "unreachable", "unreachable"), ("e", "failed", "failed"), ("f", "unreachable", "no route")]
    t = fleet["totals"]
    assert (t["hosts"], t["hosts_audited"], t["hosts_unreachable"], t["hosts_failed"]) == (4, 1, 2, 1)
