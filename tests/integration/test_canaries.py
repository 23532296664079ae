"""Secret values cannot leak, whatever the keys are called: an attacker's test.

``canary_project/`` plants 33 unique values (``Cnry...``) under key names the rules know and names
they do not (``FOO``, ``X_KEY``, ``DATA``, ``pw``, camelCase, kebab-case, lower case) in compose
``environment`` (also through an anchor), an ``env_file``, the project ``.env`` (referenced by
``${...}``, also by a key whose own name says nothing), a ``secrets:`` file, a container's log and
health-check output, and a container's command line (``--requirepass``) that the fix's Compose
recreate (rotation of a default credential) and rollback's recreate would list. The project runs for real
(its own Compose project ``cdcanary``); then the audit, ``remediate.yml --check --diff``,
``remediate.yml`` and ``rollback.yml`` run at ``-vvv`` and every byte they print, every report and
every journal file (except the 0600 backups of files that already held the value) is searched.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import docker
import pytest

from conftest import compose_in as _compose, run_playbook, wait_for

HERE = Path(__file__).resolve().parent
PROJECT = "cdcanary"
CANARY_RE = re.compile(r"Cnry[A-Za-z$]*\d\d")




def _state(client, service):
    found = client.containers.list(all=True, filters={"label": [f"com.docker.compose.project={PROJECT}",
                                                                f"com.docker.compose.service={service}"]})
    if not found:
        return None
    s = found[0].attrs["State"]
    return {"status": s["Status"], "health": (s.get("Health") or {}).get("Status"), "exit": s.get("ExitCode")}


@pytest.fixture(scope="module")
def canary(tmp_path_factory):
    client = docker.from_env(timeout=60)
    client.ping()
    base = tmp_path_factory.mktemp("canary")
    project = base / "project"
    shutil.copytree(HERE / "canary_project", project)
    for rel in (".env", "app.env", "secrets/db_password.txt"):
        os.chmod(project / rel, 0o644)   # readable by others: the audit reports them, the fix protects them
    canaries = sorted(set(CANARY_RE.findall("".join(
        p.read_text() for p in project.rglob("*") if p.is_file()))))
    assert len(canaries) >= 30
    _compose(project, "down", "-v", "--remove-orphans", "--timeout", "1")
    up = _compose(project, "up", "-d", "--no-build")
    assert up.returncode == 0, up.stdout + up.stderr
    wait_for(lambda: (_state(client, "web") or {}).get("health"), until=lambda h: h == "unhealthy",
             what="cdcanary web unhealthy (its health output holds canaries)")
    wait_for(lambda: (_state(client, "cache") or {}).get("status"), until=lambda s: s == "running",
             what="cdcanary cache running (its command line holds a canary)")
    reports, journal = base / "reports", base / "journal"
    common = ["-vvv", "-e", f"compose_project_dir={project}", "-e", f"audit_reports_dir={reports}",
              "-e", f"compose_doctor_journal_dir={journal}"]
    runs = {}
    try:
        runs["audit"] = run_playbook("audit.yml", *common)
        first_audit = json.loads((reports / "lab" / "audit.json").read_text())
        runs["remediate --check --diff"] = run_playbook("remediate.yml", "--check", "--diff", "--tags", "secrets",
                                                        *common)
        # rotation on: the default credential in .env is replaced and `cache` recreated through Compose
        runs["remediate"] = run_playbook("remediate.yml", "--diff", "--tags", "secrets", "-e", "env_secrets_rotate=true",
                                         *common)
        runs["rollback"] = run_playbook("rollback.yml", *common)
        # the failure path at -vvv: the fix stops on an immutable secret file and undoes itself
        subprocess.run(["chattr", "+i", str(project / "secrets" / "db_password.txt")], check=True)
        try:
            runs["remediate (fails, undone)"] = run_playbook("remediate.yml", "--tags", "secrets", "-e",
                                                             "env_secrets_rotate=true", *common, check=False)
        finally:
            subprocess.run(["chattr", "-i", str(project / "secrets" / "db_password.txt")], check=True)
        yield {"canaries": canaries, "runs": runs, "reports": reports, "journal": journal, "project": project,
               "first_audit": first_audit}
    finally:
        _compose(project, "down", "-v", "--remove-orphans", "--timeout", "1")


def _hits(text, canaries):
    return sorted(c for c in canaries if c in text)


@pytest.mark.parametrize("run", ["audit", "remediate --check --diff", "remediate", "rollback",
                                 "remediate (fails, undone)"])
def test_no_canary_in_the_output_at_vvv(canary, run):
    proc = canary["runs"][run]
    assert _hits(proc.stdout + proc.stderr, canary["canaries"]) == []


def test_the_failing_run_failed_and_said_why(canary):
    proc = canary["runs"]["remediate (fails, undone)"]
    assert proc.returncode == 2 and "immutable or append-only" in proc.stdout, proc.stdout[-2000:]


def test_no_canary_in_any_report(canary):
    leaks = {}
    for path in canary["reports"].rglob("*"):
        if path.is_file():
            hits = _hits(path.read_text(errors="replace"), canary["canaries"])
            if hits:
                leaks[str(path.relative_to(canary["reports"]))] = hits
    assert leaks == {}


def test_no_canary_in_the_journal_but_its_backups(canary):
    leaks = {}
    for path in canary["journal"].rglob("*"):
        if not path.is_file():
            continue
        hits = _hits(path.read_text(errors="replace"), canary["canaries"])
        if hits and not (path.stat().st_mode & 0o077 == 0 and "backup" in str(path).lower()):
            leaks[str(path.relative_to(canary["journal"]))] = hits
    assert leaks == {}


def test_the_audit_saw_the_secrets_without_their_values(canary):
    """The canaries are not hidden by an audit that missed them: the findings name the keys."""
    findings = canary["first_audit"]["findings"]
    hardcoded = {f["target"] for f in findings if f["rule"] == "hardcoded-secret"}
    for target in ("web:X_KEY", "web:pw", "web:dbPassword", "web:camelCaseSecret", "web:client-secret",
                   "web:SERVICE_ROLE_KEY", "web:DATABASE_URL", ".env:PIHOLE_PW", "app.env:APP_SECRET"):
        assert target in hardcoded, (target, sorted(hardcoded))
    assert any(f["rule"] == "env-file-permissions" and f["target"] == ".env" for f in findings)


def test_the_fix_protected_the_files_and_rollback_restored_them(canary):
    """remediate made .env 0600 and rollback put the original mode back (the runs did their job)."""
    mode = (canary["project"] / ".env").stat().st_mode & 0o777
    assert mode == 0o644, oct(mode)
    assert "ADMIN_PASSWORD" in canary["runs"]["remediate"].stdout   # rotated (names only), then rolled back
    assert "ADMIN_PASSWORD=changeme" in (canary["project"] / ".env").read_text()
