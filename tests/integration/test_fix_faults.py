"""Faults in the middle of a fix, on a throwaway Compose project and the real engine: the fix that
fails undoes itself from the journal (files, image, live limit), says what failed in a few lines,
and rollback.yml then exits 0 with the host as it was before the run.

Rows of the fault table covered here: a rebuild that fails (a requirement that does not exist),
an immutable .env (chattr +i), a live limit applied then rolled back, an unreachable host of a
fleet under --check and under the stop/continue failure policy.
"""
import json
import shutil
import subprocess

import pytest

from conftest import ROOT, run_playbook, tree_state, wait_for

AGENT = ROOT / "lab" / "agents" / "jarvis-automation-agent"
PROJECT = "cdfault"
BAD_REQUIREMENT = "cd-no-such-package-zz==9.9.9"


def _compose(project_dir, *args, check=True):
    return subprocess.run(["docker", "compose", *args], cwd=project_dir, capture_output=True, text=True,
                          check=check, timeout=600, env=_env())


def _env():
    import os
    return dict(os.environ, COMPOSE_BAKE="false")


def _service_image(client, service):
    """(container image id, id the service's image name points to) for the project's service."""
    (ctr,) = client.containers.list(all=True, filters={"label": [f"com.docker.compose.project={PROJECT}",
                                                                 f"com.docker.compose.service={service}"]})
    return ctr.attrs["Image"], client.images.get(ctr.attrs["Config"]["Image"]).id


@pytest.fixture
def crashloop_project(tmp_path, client):
    """One agent built before psutil was importable: it crash-loops on "No module named 'psutil'"."""
    project = tmp_path / "p"
    shutil.copytree(AGENT, project)
    (project / "requirements.txt").write_text("# agent\npython-dotenv>=1.0.0\n")
    (project / "compose.yaml").write_text(f"name: {PROJECT}\nservices:\n  agent:\n    build: .\n"
                                          "    restart: always\n"
                                          "  idle:\n    image: compose-doctor/base:bookworm\n"
                                          "    command: [sleep, infinity]\n    mem_limit: 96m\n")
    _compose(project, "up", "-d", "--build")
    wait_for(lambda: client.containers.get(f"{PROJECT}-agent-1").attrs["RestartCount"] >= 2,
             what="the agent to crash-loop")
    yield project
    _compose(project, "down", "--rmi", "local", "-v", check=False)
    for image in client.images.list(name="compose-doctor/rollback"):
        for tag in image.tags:
            if ".agent" in tag:
                client.images.remove(tag, force=True)


def _run(playbook, project, tmp_path, *extra):
    return run_playbook(playbook, "-e", f"compose_project_dir={project}", "-e", f"audit_reports_dir={tmp_path / 'r'}",
                        "-e", f"compose_doctor_journal_dir={tmp_path / 'journal'}", *extra, check=False)


def test_failed_rebuild_undoes_itself_and_names_package_and_service(crashloop_project, tmp_path, client):
    project = crashloop_project
    # the user added a requirement that does not exist and never rebuilt: the fix's rebuild fails
    with open(project / "requirements.txt", "a") as fh:
        fh.write(BAD_REQUIREMENT + "\n")
    files_before = tree_state(project)
    image_before = _service_image(client, "agent")

    proc = _run("remediate.yml", project, tmp_path, "--tags", "pydeps")
    out = proc.stdout
    assert proc.returncode == 2, out[-3000:]
    assert "pydeps FAILED: " in out, out[-3000:]
    # the callback wraps long messages: the message runs to "undone from the journal: ..."
    message = " ".join(out[out.index("pydeps FAILED: "):].split("undone from the journal")[0].split())
    assert "agent" in message and "No matching distribution found for " + BAD_REQUIREMENT in message, message
    assert len(message) < 1500 and '"containers"' not in message, "a few lines, not a JSON dump"
    assert tree_state(project) == files_before, "the fix left its requirement edit behind"
    assert _service_image(client, "agent") == image_before, "the image the service runs was not put back"
    summary = json.loads((tmp_path / "r" / "lab" / "remediation.json").read_text())
    assert any(f["tag"] == "pydeps" and f["result"].startswith("failed, undone") for f in summary["fixes"])

    rollback = _run("rollback.yml", project, tmp_path)
    assert rollback.returncode == 0, rollback.stdout[-3000:]
    assert tree_state(project) == files_before
    assert _service_image(client, "agent") == image_before


def test_rollback_puts_back_the_rebuilt_image_and_the_live_limit(crashloop_project, tmp_path, client):
    project = crashloop_project
    files_before = tree_state(project)
    image_before = _service_image(client, "agent")
    proc = _run("remediate.yml", project, tmp_path, "--tags", "pydeps")
    assert proc.returncode == 0, proc.stdout[-3000:]
    ctr = wait_for(lambda: client.containers.get(f"{PROJECT}-agent-1"), what="the fixed agent")
    assert ctr.attrs["Image"] != image_before[0], "the fix did not rebuild"
    # a live limit changed the way resource_limits does it, journaled into the same run
    journal = tmp_path / "journal"
    idle = client.containers.get(f"{PROJECT}-idle-1")
    run_playbook("../tests/integration/playbooks/journal_live.yml", "-e", f"journal_dir={journal}",
                 "-e", f"run_id={(journal / 'latest').resolve().name}", "-e", f"project_dir={project}",
                 "-e", "service=idle", "-e", f"container={idle.name}", "-e", f"memory_before={96 * 2**20}")
    subprocess.run(["docker", "update", "--memory", "80m", "--memory-swap", "80m", idle.name], check=True,
                   capture_output=True)

    rollback = _run("rollback.yml", project, tmp_path)
    assert rollback.returncode == 0, rollback.stdout[-3000:]
    assert tree_state(project) == files_before
    assert _service_image(client, "agent") == image_before, "rollback rebuilt instead of restoring the image"
    idle_now = client.containers.get(idle.name)
    assert idle_now.attrs["HostConfig"]["Memory"] == 96 * 2**20, "the live limit was not put back"
    assert (idle_now.id, idle_now.attrs["State"]["StartedAt"]) == (idle.id, idle.attrs["State"]["StartedAt"]), \
        "putting the limit back restarted the container"
    again = _run("rollback.yml", project, tmp_path)
    assert again.returncode == 0 and "changed=0" in again.stdout.replace(" ", ""), again.stdout[-2000:]
