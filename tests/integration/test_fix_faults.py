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

from conftest import ROOT, compose_in, run_playbook, tree_state, wait_for

AGENT = ROOT / "lab" / "agents" / "jarvis-automation-agent"
PROJECT = "cdfault"
BAD_REQUIREMENT = "cd-no-such-package-zz==9.9.9"






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
    compose_in(project, "up", "-d", "--build", check=True)
    wait_for(lambda: client.containers.get(f"{PROJECT}-agent-1").attrs["RestartCount"] >= 2,
             what="the agent to crash-loop")
    yield project
    compose_in(project, "down", "--rmi", "local", "-v")
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


def _fleet(tmp_path, order):
    """Two local hosts, each with its own small project (a world-readable .env), and one whose SSH
    port answers nothing, in ``order``. Host "broken" has an active override that does not parse."""
    hosts = {}
    for name in ("broken", "fine"):
        project = tmp_path / name
        project.mkdir()
        (project / "compose.yaml").write_text("services:\n  web:\n    image: compose-doctor/base:bookworm\n")
        (project / ".env").write_text("DB_PASSWORD=FleetFault%s01\n" % name)
        (project / ".env").chmod(0o644)
        hosts[name] = f"{{ansible_connection: local, compose_project_dir: {project}}}"
    (tmp_path / "broken" / "compose.override.yaml").write_text("services: [\n")
    hosts["gone"] = "{ansible_host: 127.0.0.1, ansible_port: 1, ansible_connection: ssh, ansible_timeout: 3}"
    inventory = tmp_path / "fleet.yml"
    inventory.write_text("all:\n  vars:\n    ansible_python_interpreter: %s/.venv/bin/python\n  hosts:\n%s" % (
        ROOT, "".join(f"    {h}: {hosts[h]}\n" for h in order)))
    return inventory


def _fleet_run(tmp_path, inventory, *extra):
    proc = run_playbook("remediate.yml", "-i", str(inventory), "-e", f"audit_reports_dir={tmp_path / 'r'}",
                        "-e", f"compose_doctor_journal_dir={tmp_path / 'journal'}", *extra, check=False)
    fleet = json.loads((tmp_path / "r" / "fleet.json").read_text())
    return proc, {o["host"]: o for o in fleet["outcomes"]}


def _env_mode(tmp_path, name):
    return oct((tmp_path / name / ".env").stat().st_mode & 0o777)


def test_check_mode_previews_every_host_past_an_unreachable_one(tmp_path):
    proc, outcomes = _fleet_run(tmp_path, _fleet(tmp_path, ["gone", "broken", "fine"]), "--check")
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert outcomes["gone"]["state"] == "unreachable"
    assert outcomes["broken"]["state"] == "failed" and "compose.override.yaml" in outcomes["broken"]["detail"]
    assert outcomes["fine"]["state"] == "previewed", outcomes["fine"]
    assert _env_mode(tmp_path, "fine") == "0o644", "--check changed a file"
    assert "FleetFault" not in proc.stdout and "FleetFault" not in (tmp_path / "r" / "fleet.md").read_text()
    page = (tmp_path / "r" / "fleet.html").read_text()
    assert "FleetFault" not in page and "<th>Outcome</th>" in page
    for host in ("gone", "broken", "fine"):
        assert f'data-host="{host}"' in page, host


@pytest.mark.parametrize("policy, fine_state, fine_mode", [("stop", "not run", "0o644"),
                                                           ("continue", "remediated", "0o600")])
def test_failure_policy_stops_or_continues_the_rollout(tmp_path, policy, fine_state, fine_mode):
    proc, outcomes = _fleet_run(tmp_path, _fleet(tmp_path, ["broken", "gone", "fine"]), "--tags", "secrets",
                                "-e", f"remediate_failure_policy={policy}")
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert outcomes["broken"]["state"] == "failed"
    assert outcomes["fine"]["state"] == fine_state, outcomes["fine"]
    assert _env_mode(tmp_path, "fine") == fine_mode
    assert "broken: failed: remediate stopped before any change" in " ".join(proc.stdout.split())


def test_an_immutable_env_file_stops_the_secrets_fix_before_any_change(tmp_path):
    project = tmp_path / "p"
    (project / "secrets").mkdir(parents=True)
    (project / "compose.yaml").write_text("services:\n  web:\n    image: compose-doctor/base:bookworm\n"
                                          "    secrets: [db_password]\nsecrets:\n  db_password:\n"
                                          "    file: ./secrets/db_password.txt\n")
    (project / "secrets" / "db_password.txt").write_text("ImmFault0001\n")
    (project / "secrets" / "db_password.txt").chmod(0o644)
    (project / ".env").write_text("DB_PASSWORD=ImmFault0002\n")
    (project / ".env").chmod(0o644)
    before = tree_state(project)
    subprocess.run(["chattr", "+i", str(project / ".env")], check=True)
    try:
        proc = _run("remediate.yml", project, tmp_path, "--tags", "secrets")
    finally:
        subprocess.run(["chattr", "-i", str(project / ".env")], check=True)
    out = " ".join(proc.stdout.split())
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert f"cannot change {project / '.env'}: immutable or append-only" in out, proc.stdout[-3000:]
    assert tree_state(project) == before, "a secret file was changed although the fix could not finish"
    assert "ImmFault" not in proc.stdout


def _popen_playbook(playbook, *args):
    """ansible-playbook in its own process group (so a test can interrupt it like Ctrl-C does)."""
    import os
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}")
    return subprocess.Popen([str(ROOT / ".venv" / "bin" / "ansible-playbook"), f"playbooks/{playbook}", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def _journal_has(journal, entry_type):
    for path in journal.glob("*/journal.json"):
        if any(e.get("type") == entry_type for e in json.loads(path.read_text())["entries"]):
            return True
    return False


def test_interrupted_rebuild_then_rollback_puts_files_and_image_back(crashloop_project, tmp_path, client):
    import os
    import signal
    project = crashloop_project
    files_before = tree_state(project)
    image_before = _service_image(client, "agent")
    journal = tmp_path / "journal"
    proc = _popen_playbook("remediate.yml", "--tags", "pydeps", "-e", f"compose_project_dir={project}",
                           "-e", f"audit_reports_dir={tmp_path / 'r'}", "-e", f"compose_doctor_journal_dir={journal}")
    try:
        # interrupt once the fix has journaled the image it is about to replace (the rebuild starts)
        wait_for(lambda: _journal_has(journal, "image") or proc.poll() is not None, timeout=300,
                 what="the fix to journal the image before its rebuild")
        os.killpg(proc.pid, signal.SIGINT)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    rollback = _run("rollback.yml", project, tmp_path)
    assert rollback.returncode == 0, rollback.stdout[-3000:]
    assert tree_state(project) == files_before
    assert _service_image(client, "agent")[1] == image_before[1], "the image name does not point at the old image"
    wait_for(lambda: _service_image(client, "agent") == image_before, what="the service running its old image")


@pytest.fixture
def socket_project(tmp_path):
    """The lab's socket agent (uid 10001, no group for the socket): unhealthy on EACCES."""
    project = tmp_path / "s"
    shutil.copytree(ROOT / "lab" / "agents" / "hardware-resource-optimizer", project)
    (project / "compose.yaml").write_text(
        "name: cdfaultsock\nservices:\n  sockagent:\n    build: .\n    restart: \"no\"\n"
        "    volumes: [/var/run/docker.sock:/var/run/docker.sock]\n"
        "    healthcheck:\n      test: [CMD, python3, /app/healthcheck.py, /var/run/docker.sock]\n"
        "      interval: 2s\n      timeout: 3s\n      retries: 2\n      start_period: 1s\n")
    compose_in(project, "up", "-d", "--build", check=True)
    yield project
    compose_in(project, "down", "--rmi", "local")


def test_agent_killed_while_the_socket_fix_waits_ends_the_wait_and_undoes_the_fix(socket_project, tmp_path, client):
    import threading
    import time
    project = socket_project
    wait_for(lambda: client.containers.get("cdfaultsock-sockagent-1").attrs["State"].get("Health", {}).get("Status")
             == "unhealthy", what="the socket agent to be unhealthy")
    files_before = tree_state(project)
    first_id = client.containers.get("cdfaultsock-sockagent-1").id
    killed = {}

    def kill_the_recreated_agent():
        ctr = wait_for(lambda: next((c for c in client.containers.list(filters={"name": "cdfaultsock-sockagent"})
                                     if c.id != first_id), None), timeout=300, what="the recreated agent")
        ctr.kill()
        killed["at"] = time.monotonic()

    killer = threading.Thread(target=kill_the_recreated_agent, daemon=True)
    killer.start()
    proc = _run("remediate.yml", project, tmp_path, "--tags", "socket")
    ended = time.monotonic()
    killer.join(timeout=5)
    assert "at" in killed, proc.stdout[-3000:]
    assert proc.returncode == 2, proc.stdout[-3000:]
    assert ended - killed["at"] < 45, f"the fix waited {ended - killed['at']:.0f}s after the agent had exited"
    assert "socket FAILED: " in proc.stdout and "exited" in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert tree_state(project) == files_before, "the socket fix left its compose edit behind"
    assert _run("rollback.yml", project, tmp_path).returncode == 0


def test_limits_fix_never_overwrites_an_interpolated_limit(tmp_path, client):
    """mem_limit: "${MEM:-512m}" (MEM defined nowhere): the limits fix declines to write a literal
    over the variable; the file, the live limit and the container stay as they were."""
    project = tmp_path / "m"
    project.mkdir()
    (project / "compose.yaml").write_text('name: cdfaultmem\nservices:\n  idle:\n    image: compose-doctor/base:bookworm\n'
                                          '    command: [sleep, infinity]\n    mem_limit: "${MEM:-512m}"\n')
    compose_in(project, "up", "-d", check=True)
    try:
        before = tree_state(project)
        ctr = client.containers.get("cdfaultmem-idle-1")
        proc = _run("remediate.yml", project, tmp_path, "--tags", "limits", "-e", "resource_limits_samples=2",
                    "-e", "resource_limits_sample_seconds=1")
        out = " ".join(proc.stdout.split())
        assert "interpolation (${MEM})" in out, proc.stdout[-3000:]
        assert tree_state(project) == before, "the variable was replaced by a literal"
        now = client.containers.get(ctr.name)
        assert now.attrs["HostConfig"]["Memory"] == 512 * 2**20 and now.id == ctr.id
        assert _run("rollback.yml", project, tmp_path).returncode == 0
    finally:
        compose_in(project, "down")
