"""audit.yml on the running lab: every seeded failure found with its cause, nothing changed,
no secret printed, and clear results when the daemon is down or a compose file is malformed."""
import json
import os
import shutil

import pytest

from conftest import LAB_DIR, lab_secrets, leaked_secrets, run_playbook

REPORT_FILES = ["audit.json", "audit.md", "audit.html", "audit.sarif", "junit.xml", "compose_doctor.prom"]


def by_id(report):
    return {f["id"]: f for f in report["findings"]}


@pytest.mark.parametrize("finding_id", [
    "restart-loop:jarvis-hardware-resource-optimizer",
    "restart-loop:jarvis-automation-agent",
    "unhealthy:hardware-resource-optimizer",
    "env-file-permissions:.env",
    "hardcoded-secret:.env:POSTGRES_PASSWORD",
    "default-credential:.env:GRAFANA_ADMIN_PASSWORD",
    "mesh-not-running:kong",
    "mesh-not-running:consul",
    "privileged-container:cadvisor",
    "docker-socket-mount:hardware-resource-optimizer",
    "port-all-interfaces:postgres:10000/tcp",
    "memory-pressure:sutazai-ollama-integration-1",
    "memory-no-limit:postgres",
    "memory-overprovisioned:sutazai-redis-1",
    "volume-unused:sutazai_old_chromadb_data",
    "volume-duplicate:sutazaiapp_postgres_data",
    "no-healthcheck:redis",
    "monitoring-down:loki",
    "compose-sprawl:sutazai",
    "log-rotation-missing:redis",
])
def test_seeded_failure_found(audit, finding_id):
    assert finding_id in by_id(audit["normal"]["report"]), sorted(by_id(audit["normal"]["report"]))


def test_missing_module_diagnosed_with_requirements_and_stale_image(audit):
    found = by_id(audit["normal"]["report"])
    missing = found["restart-loop:jarvis-hardware-resource-optimizer"]["diagnosis"]
    stale = found["restart-loop:jarvis-automation-agent"]["diagnosis"]
    for diag in (missing, stale):
        assert diag["cause"] == "missing-python-module" and diag["module"] == "psutil"
        assert diag["distribution"] == "psutil" and diag["requirements_file"].endswith("requirements.txt")
    assert missing["listed"] is False  # add it to requirements.txt
    assert stale["listed"] is True  # already there: the image is stale, rebuild
    assert found["restart-loop:jarvis-automation-agent"]["fix"] == {"role": "python_deps", "tag": "pydeps"}


def test_unhealthy_diagnosed_as_socket_permission(audit):
    diag = by_id(audit["normal"]["report"])["unhealthy:hardware-resource-optimizer"]["diagnosis"]
    assert diag["cause"] == "docker-socket-permission"
    assert diag["user"] == "10001" and isinstance(diag["socket_gid"], int)


def test_database_port_rated_high_and_findings_carry_file_and_line(audit):
    port = by_id(audit["normal"]["report"])["port-all-interfaces:postgres:10000/tcp"]
    assert port["severity"] == "high" and port["priority"] == "P1"
    assert port["file"].startswith("docker-compose") and port["line"] > 0


def test_summary_counts_match_the_lab(audit):
    s = audit["normal"]["report"]["summary"]
    # 15 seed-like services + the three `cis` profile services that carry the CIS checks, never started
    assert s["compose_files"] == 7 and s["services_defined"] == 25 and s["services_active"] == 18
    assert s["containers_restarting"] == 2 and s["containers_unhealthy"] == 1
    assert s["dockerfiles"] >= 5 and 0 < s["score"] < 100


def test_audit_changes_nothing(audit):
    assert audit["files"][0] == audit["files"][1], "lab files (content, mode, owner) changed"
    assert audit["docker"][0] == audit["docker"][1], "containers, images or volumes changed"
    for mode in ("normal", "check"):
        assert "changed=0" in audit[mode]["proc"].stdout
        assert "changed=1" not in audit[mode]["proc"].stdout


def test_check_mode_reports_the_same_findings(audit):
    assert set(by_id(audit["normal"]["report"])) == set(by_id(audit["check"]["report"]))


def test_reports_written_private(audit):
    for name in REPORT_FILES:
        path = audit["normal"]["dir"] / name
        assert oct(path.stat().st_mode & 0o777) == "0o600", name


def test_no_secret_value_in_reports_or_output(audit):
    pairs = lab_secrets()
    for mode in ("normal", "check"):
        assert not leaked_secrets(audit[mode]["proc"].stdout + audit[mode]["proc"].stderr, pairs)
        for name in REPORT_FILES:
            assert not leaked_secrets((audit[mode]["dir"] / name).read_text(), pairs), name


def test_daemon_unreachable_reports_file_findings(client, tmp_path):
    proc = run_playbook("audit.yml", "-e", f"audit_reports_dir={tmp_path}",
                        "-e", "audit_docker_host=unix:///tmp/compose-doctor-nothing.sock")
    report = json.loads((tmp_path / "lab" / "audit.json").read_text())
    rules = {f["rule"] for f in report["findings"]}
    assert report["docker"]["reachable"] is False and "nothing.sock" in report["docker"]["error"]
    assert {"daemon-unreachable", "env-file-permissions", "privileged-container"} <= rules
    assert "restart-loop" not in rules  # runtime facts are missing, not invented
    assert "UNREACHABLE" in proc.stdout


def test_malformed_compose_file_named_with_line(client, broken_lab, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(LAB_DIR, project, symlinks=True)
    (project / "docker-compose.dev.yml").write_text("services:\n  web:\n    image: nginx\n   ports: [80]\n")
    run_playbook("audit.yml", "-e", f"audit_reports_dir={tmp_path / 'reports'}", "-e", f"compose_project_dir={project}")
    report = json.loads((tmp_path / "reports" / "lab" / "audit.json").read_text())
    invalid = [f for f in report["findings"] if f["rule"] == "compose-invalid"]
    assert invalid and invalid[0]["file"] == "docker-compose.dev.yml" and invalid[0]["line"] == 4
    assert "restart-loop" in {f["rule"] for f in report["findings"]}  # the rest still audited


def test_fail_on_gate_fails_the_play(client, broken_lab, tmp_path):
    proc = run_playbook("audit.yml", "-e", f"audit_reports_dir={tmp_path}", "-e", "audit_fail_on=critical", check=False)
    assert proc.returncode != 0 and "restart-loop:" in proc.stdout
    assert (tmp_path / "lab" / "audit.json").exists()  # reports are written before the gate


# One lab key per CIS container check the file shows (lab/docker-compose.override.yml, profile cis).
CIS_LAB = {
    "cis-privileges": {"capability-added": "5.4", "sensitive-host-mount": "5.6", "apparmor-unconfined": "5.2",
                       "selinux-disabled": "5.3", "seccomp-unconfined": "5.22", "host-devices": "5.18",
                       "mount-propagation-shared": "5.20", "privileged-port": "5.8", "restart-retries": "5.15",
                       "rootfs-writable": "5.13", "no-new-privileges-missing": "5.26", "pids-no-limit": "5.29",
                       "cpu-no-limit": "5.12", "memory-no-limit": "5.11"},
    "cis-isolation": {"host-network": "5.10", "host-pid": "5.16", "host-ipc": "5.17", "host-uts": "5.21",
                      "host-userns": "5.31"},
    # section 4, read from lab/cis/Dockerfile (the service is never built)
    "cis-build": {"root-user": "4.1", "dockerfile-add": "4.9", "dockerfile-secret": "4.10", "no-healthcheck": "5.27"},
}
CIS_FILES = {"cis-build": {"dockerfile-add": "cis/Dockerfile", "dockerfile-secret": "cis/Dockerfile",
                           "root-user": "cis/Dockerfile"}}


@pytest.mark.parametrize("service", sorted(CIS_LAB))
def test_cis_checks_found_in_the_lab_files(audit, service):
    found = {f["rule"]: f for f in audit["normal"]["report"]["findings"] if f.get("service") == service}
    assert {rule: (found.get(rule) or {}).get("cis") for rule in CIS_LAB[service]} == CIS_LAB[service]
    for rule in CIS_LAB[service]:
        where = CIS_FILES.get(service, {}).get(rule, "docker-compose.override.yml")
        assert (found[rule]["file"], found[rule]["line"] > 0) == (where, True), (rule, found[rule]["file"])
    # defined under a profile nobody asked for: not expected to run, so not "not running"
    assert "not-running" not in found


def test_sarif_rules_carry_the_cis_ids(audit):
    sarif = json.loads((audit["normal"]["dir"] / "audit.sarif").read_text())
    tags = {r["id"]: r["properties"]["tags"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    for rules_of_service in CIS_LAB.values():
        for rule, cis in rules_of_service.items():
            assert "CIS-" + cis in tags[rule], (rule, tags[rule])


def test_a_secret_in_a_dockerfile_is_named_never_shown(audit):
    found = by_id(audit["normal"]["report"])
    secret = [f for f in found.values() if f["rule"] == "dockerfile-secret" and f["service"] == "cis-build"]
    assert secret and "API_TOKEN" in secret[0]["evidence"]
    for name in REPORT_FILES:
        assert "cis-lab-token-4f1d93" not in (audit["normal"]["dir"] / name).read_text(), name
    assert "cis-lab-token-4f1d93" not in audit["normal"]["proc"].stdout


# --- the seed's sections, from the same run (no extra audit) ---------------------------------

def test_networks_section_matches_the_engine(audit, client):
    nets = audit["normal"]["report"]["networks"]
    by = {n["name"]: n for n in nets["networks"]}
    ipam = client.networks.get("sutazai_default").attrs["IPAM"]["Config"][0]
    default = by["sutazai_default"]
    assert default["subnets"] == [{"subnet": ipam["Subnet"], "gateway": ipam.get("Gateway")}]
    assert default["driver"] == "bridge" and default["internal"] is False and default["created"] is True
    assert {"postgres", "redis", "backend", "kong"} <= set(default["services"])
    assert "cis-isolation" in nets["host_network_services"]
    assert "postgres" in nets["default_only_services"]
    published = {p["service"]: p for p in nets["published_services"]}
    assert published["postgres"]["all_interfaces"] is True and "10000->5432/tcp" in published["postgres"]["ports"]
    assert published["backend"]["ports"] == ["127.0.0.1:10010->8000/tcp"]
    assert "ollama-integration" in nets["internal_only_services"]


def test_containers_have_uptime_cpu_and_disk_usage(audit, client):
    report = audit["normal"]["report"]
    rows = {c["service"]: c for c in report["containers"]}
    pg = rows["postgres"]
    assert pg["state"] == "running" and pg["uptime_s"] > 0 and pg["cpu_pct"] is not None and pg["cpu_pct"] >= 0
    assert all(c["uptime_s"] is None for c in report["containers"] if c["state"] != "running")
    disk = report["disk_usage"]
    assert disk["available"] is True and disk["timed_out"] is False
    vols = {v["name"]: v for v in disk["volumes"]}
    assert vols["sutazai_postgres_data"]["size_bytes"] > 1024 * 1024  # an initialised cluster
    assert vols["sutazai_postgres_data"]["used_by"] == ["sutazai-postgres-1"]
    images = {t: i for i in disk["images"] for t in i["tags"]}
    engine_size = client.images.get("sutazai/postgres:lab").attrs["Size"]
    assert images["sutazai/postgres:lab"]["size_bytes"] == engine_size
    assert "postgres" in images["sutazai/postgres:lab"]["services"]
    dangling = {i.id for i in client.images.list(filters={"dangling": True})}
    assert {i["id"] for i in disk["dangling_images"]} <= dangling


def test_databases_probed_read_only_with_backup_commands(audit):
    dbs = {d["service"]: d for d in audit["normal"]["report"]["databases"]}
    assert set(dbs) == {"postgres", "redis"}
    pg, redis = dbs["postgres"], dbs["redis"]
    assert pg["kind"] == "postgres" and pg["ready"] is True and pg["user_source"] == "POSTGRES_USER"
    assert pg["backup_command"] == "docker compose exec -T postgres pg_dumpall -U %s > postgres-backup.sql" % pg["user"]
    assert pg["volumes"][0]["name"] == "sutazai_postgres_data" and pg["volumes"][0]["size_bytes"] > 0
    # the lab's redis needs its password (--requirepass): the probe authenticated and read the settings
    assert redis["ready"] is True, redis
    assert redis["settings"]["maxmemory_policy"] == "allkeys-lru" and redis["settings"]["maxmemory"] == "0"
    assert redis["settings"]["aof_enabled"] in ("0", "1") and redis["settings"]["save"] is not None
    assert "<password>" in redis["backup_command"]


def test_kpis_as_the_seed_frames_them(audit):
    report = audit["normal"]["report"]
    k = report["kpis"]
    running_healthy = {c["service"] for c in report["containers"] if c["state"] == "running" and c["healthy"]}
    assert k["availability"]["available"] == len(running_healthy) and k["availability"]["defined"] >= 20
    assert k["health_pct"] == report["summary"]["health_pct"]
    probed = {r["service"]: r for r in k["response_times"]}
    # the lab's published HTTP health checks: backend, grafana, prometheus (kong is not started)
    assert set(probed) == {"backend", "grafana", "prometheus"}
    assert probed["backend"]["url"] == "http://127.0.0.1:10010/health" and probed["backend"]["status"] == 200
    assert all(len(r["samples_ms"]) == 3 and r["median_ms"] < 2000 for r in probed.values())
    assert k["response_target_ms"] == 200
    assert "sutazai-ollama-integration-1" in [o["container"] for o in k["memory"]["over_target"]]
    loops = {r["container"] for r in k["restarts"]["containers"]}
    assert {"sutazai-jarvis-automation-agent-1", "sutazai-jarvis-hardware-resource-optimizer-1"} <= loops
    assert k["oom_kills"]["total"] == 0  # the ballast service is near its limit, never killed


def test_monitoring_depth_reads_prometheus_api(audit):
    m = audit["normal"]["report"]["monitoring_depth"]
    assert m["defined_not_running"] == ["alertmanager", "loki"]
    p = m["prometheus"]
    assert p["running"] is True and p["api_url"] == "http://127.0.0.1:10200" and p["error"] is None
    health = {t["job"]: t["health"] for t in p["targets"]}
    # the stand-in connects to each target: what the lab runs is up, what it leaves down is down
    assert health["node-exporter"] == "up" and health["backend"] == "up"
    assert health["loki"] == "down" and health["alertmanager"] == "down"
    assert p["targets_up"] + p["targets_down"] == len(p["targets"]) and p["targets_down"] >= 2
    assert p["rules"] == 4 and p["alerting_rules"] == 3
    mesh = audit["normal"]["report"]["mesh_depth"]
    assert mesh["kong"]["running"] is False and mesh["consul"]["error"] == "not running"
    # the project's declarative file is read even while Kong is down; nothing to compare it with yet
    declared = mesh["kong"]["declarative"]
    assert [d["file"] for d in declared] == ["config/kong/kong.yml"]
    assert [s["name"] for s in declared[0]["services"]] == ["backend", "grafana"]
    assert mesh["kong"]["declared_not_served"] is None


def _action(tmp_path, project_dir, report_files):
    out = tmp_path / "result.json"
    run_playbook("../tests/integration/playbooks/compose_audit_action.yml", "-e", json.dumps(
        {"project_dir": str(project_dir), "report_files": report_files, "result_file": str(out)}))
    return json.loads(out.read_text())


def test_compose_audit_gathers_evaluates_and_writes_in_one_task(client, tmp_path):
    """gather runs compose_facts on the host, report_files writes what audit_report would: the
    facts themselves are not returned (the report holds what the reports show)."""
    res = _action(tmp_path, LAB_DIR, {"dest": str(tmp_path / "reports"), "formats": ["json", "md"]})
    assert not res.get("failed"), res
    assert res["report"]["project"]["name"] == "sutazai" and res["report"]["docker"]["reachable"] is True
    assert "restart-loop:jarvis-automation-agent" in res["gate_ids"]
    assert "compose" not in res and "runtime" not in res
    assert sorted(os.path.basename(p) for p in res["files"]) == ["audit.json", "audit.md"]
    written = json.loads((tmp_path / "reports" / "audit.json").read_text())
    assert written["findings"] == res["report"]["findings"]
    assert oct((tmp_path / "reports" / "audit.json").stat().st_mode & 0o777) == "0o600"


def test_compose_audit_says_which_step_failed(client, tmp_path):
    """A project path that is a file fails in compose_facts (message prefixed gather:), an unknown
    report_files option fails naming it; neither writes a report."""
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("")
    res = _action(tmp_path, a_file, {"dest": str(tmp_path / "r1")})
    assert res.get("failed") and res["msg"].startswith("gather: ") and "not a directory" in res["msg"], res
    res = _action(tmp_path, LAB_DIR, {"dest": str(tmp_path / "r2"), "fleet": True})
    assert res.get("failed") and res["msg"].startswith("report_files: ") and "fleet" in res["msg"], res
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()
