"""Shared helpers for tests on the running lab: playbook runs, before/after snapshots, and polls
with a deadline for every state that takes time to show (never a fixed sleep and one sample)."""
import hashlib
import json
import os
import re
import subprocess
import time
from pathlib import Path

import docker
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("LAB_DIR", ROOT / ".lab"))
PROJECT = "sutazai"
BIN = ROOT / ".venv" / "bin"
# Crash-looping as the audit means it (rules.is_crash_looping): restarted audit_restart_threshold
# times, the one number in roles/audit/defaults. The count never goes down, so once it is reached
# the audit sees the loop whenever it looks (the "restarting" state alone comes and goes).
RESTART_THRESHOLD = int(yaml.safe_load((ROOT / "roles/audit/defaults/main.yml").read_text())["audit_restart_threshold"])
# Seconds a test waits for a lab state to show before it fails (lab.sh up already waited for most).
LAB_TIMEOUT = float(os.environ.get("LAB_TEST_TIMEOUT", 120))
PSUTIL_ERROR = "No module named 'psutil'"


class WaitTimeout(AssertionError):
    """wait_for gave up: the message names what it waited for and the last value it saw."""


def wait_for(probe, timeout=LAB_TIMEOUT, interval=1.0, what=None, until=bool, ignore=()):
    """Call ``probe()`` until ``until(value)`` holds, for at most ``timeout`` seconds; return the value.

    ``probe`` reads the state (a container's status, an HTTP answer, a log tail...) and ``until``
    says whether it is the wanted one (default: the value is truthy, so a plain predicate works).
    An exception of a type in ``ignore`` (e.g. OSError while a port is not open yet) means "not
    yet" and is kept as the last value. A state that never comes still fails: WaitTimeout, naming
    ``what`` and the last value seen.
    """
    what = what or getattr(probe, "__name__", "the condition")
    deadline = time.monotonic() + timeout
    tries = 0
    while True:
        tries += 1
        try:
            last = probe()
        except ignore as err:  # "not yet": keep polling
            last = err
        else:
            if until(last):
                return last
        left = deadline - time.monotonic()
        if left <= 0:
            raise WaitTimeout(f"gave up after {timeout:g}s ({tries} tries) waiting for {what}; last seen: {last!r}")
        time.sleep(min(interval, left))


def holds_for(probe, duration, interval=1.0, what=None, until=bool):
    """Call ``probe()`` for ``duration`` seconds and fail at the first value for which ``until`` is
    false; return the last value. For a state that must last once wait_for saw it come (a fixed
    container keeps running and does not restart)."""
    what = what or getattr(probe, "__name__", "the condition")
    deadline = time.monotonic() + duration
    while True:
        value = probe()
        if not until(value):
            raise AssertionError(f"{what} stopped holding within {duration:g}s: {value!r}")
        left = deadline - time.monotonic()
        if left <= 0:
            return value
        time.sleep(min(interval, left))


# Runs a command and prints, on stderr's last line, the peak RSS (KiB) of the largest process it
# started, at any depth (the playbook, its workers, the modules, docker compose).
_PEAK_RSS = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[1:]); "
             "print('PEAK_RSS_KIB=%d' % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); "
             "sys.exit(rc)")


def peak_rss_mib(proc):
    """Peak RSS in MiB of a run_playbook(..., measure=True) result."""
    return int(re.findall(r"PEAK_RSS_KIB=(\d+)", proc.stderr)[-1]) / 1024.0


def compose_in(project_dir, *args, check=False, timeout=600):
    """``docker compose`` for a test's own project folder -> CompletedProcess (text). The one way
    tests drive Compose: our venv's plugin on PATH, no DOCKER_HOST, no bake; ``check`` raises with
    Compose's output when it fails."""
    env = dict(os.environ, COMPOSE_BAKE="false", PATH=f"{BIN}:{os.environ['PATH']}")
    env.pop("DOCKER_HOST", None)
    proc = subprocess.run(["docker", "compose", "--project-directory", str(project_dir), *args],
                          capture_output=True, text=True, env=env, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"docker compose {' '.join(args)} failed (rc {proc.returncode}):\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def run_playbook(playbook, *args, check=True, measure=False):
    """ansible-playbook from the project root with its ansible.cfg -> CompletedProcess (text).
    ``measure``: also report the peak memory of every process of the run (peak_rss_mib)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PATH=f"{BIN}:{os.environ['PATH']}")
    env.pop("DOCKER_HOST", None)
    cmd = [str(BIN / "ansible-playbook"), f"playbooks/{playbook}", *args]
    if measure:
        cmd = [str(BIN / "python"), "-c", _PEAK_RSS, *cmd]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f"{playbook} {' '.join(args)} failed (rc {proc.returncode}):\n"
                             f"{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}")
    return proc


def tree_state(root):
    """relative path -> (sha256, mode, uid, gid) for every file below root."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for name in files:
            path = Path(dirpath) / name
            st = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
            out[str(path.relative_to(root))] = (digest, oct(st.st_mode & 0o7777), st.st_uid, st.st_gid)
    return out


def docker_state(client, project=PROJECT):
    """container name -> (id, image id, state) for the project; volumes too."""
    ctrs = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={project}"})
    state = {c.name: (c.id, c.attrs["Image"], c.attrs["State"]["Status"] in ("running", "restarting"))
             for c in ctrs}
    state["volumes"] = sorted(v.name for v in client.volumes.list())
    return state


def lab_secrets(env_file=None):
    """(key, value) of secret-looking keys in the lab's .env: what must never be printed."""
    env_file = env_file or LAB_DIR / ".env"
    pairs = []
    for line in env_file.read_text().splitlines():
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        key, value = line.split("=", 1)
        value = value.strip().strip("'\"")
        if any(p in key.upper() for p in ("PASSWORD", "SECRET", "TOKEN")) and value:
            pairs.append((key.strip(), value))
    return pairs


def leaked_secrets(text, pairs):
    """Secrets of ``pairs`` found in ``text``: distinctive values anywhere, short/default values
    (e.g. 'admin', which is also a common word) only next to their key."""
    leaks = []
    for key, value in pairs:
        if len(value) >= 8:
            hit = value in text
        else:
            hit = re.search(r"%s\W{0,4}[=:]\W{0,4}%s\b" % (re.escape(key), re.escape(value)), text) is not None
        if hit:
            leaks.append(key)
    return leaks


def lab_container(client, service, project=PROJECT):
    """The one container of ``service`` in the project (None while there is none or several)."""
    found = client.containers.list(all=True, filters={"label": [
        f"com.docker.compose.project={project}", f"com.docker.compose.service={service}"]})
    return found[0] if len(found) == 1 else None


def container_view(container, log_tail=20):
    """The container's state, freshly read: what the waits check and show when they give up."""
    container.reload()
    state = container.attrs["State"]
    health = state.get("Health") or {}
    return {
        "name": container.name,
        "status": container.status,
        "restarts": container.attrs["RestartCount"],
        "oom_killed": state.get("OOMKilled"),
        "health": health.get("Status"),
        "health_log": [(entry.get("Output") or "").strip()[-200:] for entry in health.get("Log") or []][-3:],
        "logs": container.logs(tail=log_tail).decode(errors="replace") if log_tail else "",
    }


# The broken lab as `lab.sh up` promises it (lab/README.md), in the parts the audit and the
# remediation sample in one go: service -> (what, condition on container_view).
BROKEN_LAB = {
    **{svc: (f"restarted >= {RESTART_THRESHOLD} times on the missing psutil",
             lambda v: v["restarts"] >= RESTART_THRESHOLD and PSUTIL_ERROR in v["logs"])
       for svc in ("jarvis-hardware-resource-optimizer", "jarvis-automation-agent")},
    "hardware-resource-optimizer": ("running, unhealthy on the socket's permission",
                                    lambda v: v["status"] == "running" and v["health"] == "unhealthy"
                                    and any("Permission denied" in out for out in v["health_log"])),
    **{svc: ("running and healthy", lambda v: v["status"] == "running" and v["health"] == "healthy")
       for svc in ("postgres", "backend", "prometheus", "grafana")},
    **{svc: ("running", lambda v: v["status"] == "running") for svc in ("redis", "node-exporter")},
    "ollama-integration": ("running and holding its memory ballast",
                           lambda v: v["status"] == "running" and "ballast: holding" in v["logs"]),
}


def broken_lab_unmet(client):
    """What of BROKEN_LAB does not show yet, each with the state seen ([] when all of it shows)."""
    unmet = []
    for service, (what, ok) in BROKEN_LAB.items():
        c = lab_container(client, service)
        try:
            view = container_view(c, log_tail=200) if c else None
        except docker.errors.NotFound as err:  # recreated while we looked: not yet
            view = {"error": repr(err)}
        if view is None or "error" in view or not ok(view):
            if view and "logs" in view:
                view = dict(view, logs=view["logs"][-300:])
            unmet.append(f"{service} not {what}: {view}")
    return unmet


@pytest.fixture(scope="session")
def broken_lab(client):
    """Waits until the lab shows every seeded failure the audit samples at once (what lab.sh up
    waits for): an audit started earlier would report whatever it caught, not the lab."""
    wait_for(lambda: broken_lab_unmet(client), timeout=LAB_TIMEOUT, interval=2, until=lambda unmet: not unmet,
             what="the broken lab state (scripts/lab.sh up)")
    return client


@pytest.fixture(scope="session")
def audit(client, broken_lab, tmp_path_factory):
    """One normal and one --check run of audit.yml on the broken lab, with the lab's files and containers
    snapshotted around them (test_audit.py checks them; test_report_browser.py opens their audit.html).

    broken_lab first: an audit samples the whole lab at once, so it starts only once every seeded
    failure shows (restart counts, health, memory ballast), not whatever it would catch earlier."""
    files_before, docker_before = tree_state(LAB_DIR), docker_state(client)
    runs = {}
    for mode, extra in (("normal", []), ("check", ["--check", "--diff"])):
        reports = tmp_path_factory.mktemp(f"reports-{mode}")
        proc = run_playbook("audit.yml", "-e", f"audit_reports_dir={reports}", *extra)
        runs[mode] = {"proc": proc, "dir": reports / "lab",
                      "report": json.loads((reports / "lab" / "audit.json").read_text())}
    runs["files"] = (files_before, tree_state(LAB_DIR))
    runs["docker"] = (docker_before, docker_state(client))
    return runs


@pytest.fixture(scope="session")
def client():
    cli = docker.from_env(timeout=60)
    cli.ping()  # a daemon that is down fails the run here: the lab tests need it
    if not cli.containers.list(all=True, filters={"label": f"com.docker.compose.project={PROJECT}"}):
        pytest.fail(f"lab is not up: run `make lab-up` first (LAB_DIR={LAB_DIR})")
    return cli
