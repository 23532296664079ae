"""The crash-loop doctor on the real engine: the crash-loop lab (lab/crashloops) runs one
container per recognised cause, named after the catalogue id; the audit must name that cause for
every one of them, with its evidence, and attach the fix only where one exists."""
import json
import subprocess

import pytest
import yaml

from conftest import ROOT, run_playbook

LAB = ROOT / ".lab-crashloops"
NOT_A_CAUSE = {"dep-db", "dns-target"}   # dependencies: not failing themselves
CAUSE_OF = {"dns-other-network": "service-dns-unresolvable"}   # a second case of one cause


@pytest.fixture(scope="module")
def crash_audit(tmp_path_factory):
    up = subprocess.run(["bash", str(ROOT / "scripts" / "crashloop_lab.sh"), "up"], capture_output=True, text=True,
                        timeout=900)
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
    try:
        reports = tmp_path_factory.mktemp("crash-reports")
        proc = run_playbook("audit.yml", "-e", f"compose_project_dir={LAB}", "-e", f"audit_reports_dir={reports}")
        yield json.loads((reports / "lab" / "audit.json").read_text()), proc
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "crashloop_lab.sh"), "down"], capture_output=True, timeout=300)


def _causes():
    services = yaml.safe_load((ROOT / "lab" / "crashloops" / "compose.yaml").read_text())["services"]
    return sorted(set(services) - NOT_A_CAUSE)


@pytest.mark.parametrize("cause", _causes())
def test_the_audit_names_the_cause(crash_audit, cause):
    report, _ = crash_audit
    found = [f for f in report["findings"] if f["service"] == cause
             and f["rule"] in ("restart-loop", "unhealthy", "start-error", "not-running")]
    assert found, f"no failure finding for {cause}"
    diag = found[0]["diagnosis"] or {}
    assert diag.get("cause") == CAUSE_OF.get(cause, cause), found[0]["evidence"]
    assert diag["confidence"] in ("confirmed", "log") and diag["evidence"] + diag["confirmations"]
    assert "cause: " in found[0]["evidence"] and "what to do: " in found[0]["evidence"]


def test_only_causes_with_a_fix_offer_one(crash_audit):
    report, _ = crash_audit
    offered = {f["service"]: (f.get("fix") or {}).get("tag") for f in report["findings"]
               if f["rule"] in ("restart-loop", "unhealthy", "start-error", "not-running") and f.get("fix")
               and (f.get("diagnosis") or {}).get("cause") not in (None, "unknown")}
    crashloop_fixes = {"oom-killed": "limits", "healthcheck-tool-missing": "crashloop", "dep-not-ready": "crashloop",
                       "entrypoint-not-executable": "crashloop", "crlf-entrypoint": "crashloop",
                       "stale-pid-file": "crashloop", "dns-other-network": "crashloop",
                       "bind-mount-shadows-image": "crashloop", "db-datadir-version": "crashloop",
                       "healthcheck-start-period": "crashloop"}
    assert {s: t for s, t in offered.items() if t != "sprawl"} == crashloop_fixes


def test_the_dependency_is_not_blamed(crash_audit):
    report, _ = crash_audit
    assert not [f for f in report["findings"] if f["service"] == "dep-db"
                and f["rule"] in ("restart-loop", "unhealthy", "start-error")]


def test_zz_the_crashloop_fixes_prove_themselves_then_rollback_restores(crash_audit, tmp_path):
    """Runs last in this module (it changes the lab): remediate --tags crashloop rewrites the curl
    health check with a probe the image has (the service becomes healthy), gates dep-not-ready
    on a health check proven in dep-db (it starts once dep-db answers and stays up), makes the
    entrypoint script executable and strips the CRLF of the other in their build contexts, then
    rebuilds both (they run and stay up), removes the stale PID file (backed up) while its container
    is stopped and starts it, joins dns-other-network to dns-target's network, masks the hidden
    node_modules with an anonymous volume, reports the database image it cannot pin, raises the slow
    starter's start_period to the cap (it was still starting: no longer unhealthy); a second run
    changes nothing; rollback restores the files byte for byte and the old failures return."""
    import docker
    from conftest import tree_state, wait_for
    client = docker.from_env()
    before = tree_state(LAB)
    common = ["-e", f"compose_project_dir={LAB}", "-e", f"audit_reports_dir={tmp_path / 'r'}",
              "-e", f"compose_doctor_journal_dir={tmp_path / 'journal'}"]
    check = run_playbook("remediate.yml", "--check", "--diff", "--tags", "crashloop", *common)
    assert tree_state(LAB) == before and "python3" in check.stdout and "service_healthy" in check.stdout
    fixed = run_playbook("remediate.yml", "--tags", "crashloop", *common)
    attrs = lambda name: client.containers.get(f"cdcrash-{name}-1").attrs  # noqa: E731
    health = lambda: attrs("healthcheck-tool-missing")["State"]["Health"]["Status"]  # noqa: E731
    wait_for(health, until=lambda s: s == "healthy", what="the service healthy with the new probe")
    services = yaml.safe_load((LAB / "compose.yaml").read_text())["services"]
    test = services["healthcheck-tool-missing"]["healthcheck"]["test"]
    assert test[:2] == ["CMD", "python3"] and test[-1] == "http://localhost:8000/"
    assert services["dep-not-ready"]["depends_on"] == {"dep-db": {"condition": "service_healthy"}}
    assert services["dep-db"]["healthcheck"]["test"][-2:] == ["127.0.0.1", "5432"]
    gated = attrs("dep-not-ready")
    assert gated["State"]["Status"] == "running" and gated["RestartCount"] == 0
    start = LAB / "entrypoint-not-executable" / "start.sh"
    assert oct(start.stat().st_mode & 0o777) == "0o755"
    assert b"\r" not in (LAB / "crlf-entrypoint" / "entrypoint.sh").read_bytes()
    for name in ("entrypoint-not-executable", "crlf-entrypoint"):  # rebuilt: the script runs, no restart
        assert attrs(name)["State"]["Status"] == "running" and attrs(name)["RestartCount"] == 0, name
    assert attrs("stale-pid-file")["State"]["Status"] == "running"  # started without the stale file
    joined = attrs("dns-other-network")
    assert services["dns-other-network"]["networks"] == {"front": None, "back": None}
    assert set(joined["NetworkSettings"]["Networks"]) == {"cdcrash_front", "cdcrash_back"}
    assert joined["State"]["Status"] == "running" and joined["RestartCount"] == 0
    assert attrs("dep-db")["State"]["Health"]["Status"] == "healthy"
    # the image's node_modules shows through an anonymous volume; the project-built database image
    # has no older version to pin to: reported, file and data left alone
    assert services["bind-mount-shadows-image"]["volumes"] == ["./src:/app", "/app/node_modules"]
    wait_for(lambda: attrs("bind-mount-shadows-image")["State"]["Status"], until=lambda s: s == "running",
             what="bind-mount-shadows-image running with its node_modules")
    assert services["db-datadir-version"]["image"] == "cdcrash/db-datadir-version:lab"
    assert "its image is built by the project" in fixed.stdout
    # still starting when the audit saw it: start_period to the cap, and it is no longer unhealthy
    assert services["healthcheck-start-period"]["healthcheck"]["start_period"] == "300s"
    slow = lambda: attrs("healthcheck-start-period")["State"]["Health"]["Status"]  # noqa: E731
    assert slow() == "starting"
    again = run_playbook("remediate.yml", "--tags", "crashloop", *common)
    assert "changed=0" in again.stdout.replace(" ", "").split("PLAYRECAP")[-1], again.stdout[-2000:]
    run_playbook("rollback.yml", *common)
    assert tree_state(LAB) == before
    wait_for(health, until=lambda s: s == "unhealthy", what="the service back to its old probe (unhealthy)")
    wait_for(slow, until=lambda s: s == "unhealthy", what="the slow starter back to its 2 s start period (unhealthy)")
    wait_for(lambda: attrs("dep-not-ready")["State"]["Status"], until=lambda s: s == "exited",
             what="dep-not-ready started too early again (no gate)")
    for name in ("entrypoint-not-executable", "crlf-entrypoint", "stale-pid-file", "dns-other-network"):
        wait_for(lambda n=name: attrs(n)["RestartCount"], until=lambda c: c >= 1, what=f"{name} failing again")
