"""Drift on the real engine: a container changed by `docker update`, and an orphan left behind by an
older definition, are findings the file alone cannot show; recreating from the file clears them.

Its own small Compose project (``cddrift``) in a temporary folder, on the local base image."""
import json
import subprocess

import docker
import pytest

from conftest import compose_in, run_playbook, wait_for

PROJECT = "cddrift"
COMPOSE = """\
name: cddrift
services:
  app:
    image: compose-doctor/base:bookworm
    command: ["sleep", "infinity"]
    init: true
    mem_limit: 64m
    pids_limit: 50
    security_opt: ["no-new-privileges:true"]
    cap_drop: [ALL]
{extra}"""
WORKER = """\
  worker:
    image: compose-doctor/base:bookworm
    command: ["sleep", "infinity"]
    init: true
"""




def _running(client, service):
    found = client.containers.list(filters={"label": [f"com.docker.compose.project={PROJECT}",
                                                      f"com.docker.compose.service={service}"]})
    return found[0] if found else None


def _drift(project_dir, reports):
    run_playbook("audit.yml", "-e", f"compose_project_dir={project_dir}", "-e", f"audit_reports_dir={reports}")
    report = json.loads((reports / "lab" / "audit.json").read_text())
    return {f["target"]: f for f in report["findings"] if f["rule"] == "container-drift"}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    client = docker.from_env(timeout=60)
    client.ping()
    base = tmp_path_factory.mktemp("drift")
    project_dir = base / "project"
    project_dir.mkdir()
    (project_dir / "compose.yaml").write_text(COMPOSE.format(extra=WORKER))
    compose_in(project_dir, "up", "-d", "--remove-orphans", check=True)
    for service in ("app", "worker"):
        wait_for(lambda s=service: _running(client, s), what=f"{PROJECT} {service} running")
    try:
        yield {"dir": project_dir, "reports": base / "reports", "client": client}
    finally:
        compose_in(project_dir, "down", "--remove-orphans", "--timeout", "1")


def test_container_as_declared_has_no_drift(project):
    assert _drift(project["dir"], project["reports"]) == {}


def test_docker_update_and_orphan_are_drift_until_recreated(project):
    client, project_dir = project["client"], project["dir"]
    app = _running(client, "app")
    # by hand, outside Compose: a bigger memory limit and no process limit
    subprocess.run(["docker", "update", "--memory", "128m", "--memory-swap", "128m", "--pids-limit", "-1",
                    app.name], check=True, capture_output=True)
    # the worker leaves the file, its container stays
    (project_dir / "compose.yaml").write_text(COMPOSE.format(extra=""))
    found = _drift(project_dir, project["reports"])
    assert set(found) == {app.name, f"{PROJECT}-worker-1"}, found
    changed = found[app.name]
    assert changed["severity"] == "high" and changed["service"] == "app"
    settings = {d["setting"]: d for d in changed["diagnosis"]["differences"]}
    assert settings["mem_limit_bytes"]["container"] == 128 * 1024 ** 2
    assert settings["mem_limit_bytes"]["file"] == 64 * 1024 ** 2
    assert settings["pids_limit"]["container"] is None and settings["pids_limit"]["file"] == 50
    assert found[f"{PROJECT}-worker-1"]["diagnosis"] == {"orphan": True}
    # Compose's own answer: recreate from the file and remove the orphan
    compose_in(project_dir, "up", "-d", "--force-recreate", "--remove-orphans", check=True)
    wait_for(lambda: _running(client, "app"), what=f"{PROJECT} app running again")
    assert _drift(project_dir, project["reports"]) == {}
