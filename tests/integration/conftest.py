"""Shared helpers for tests on the running lab: playbook runs and before/after snapshots."""
import hashlib
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("LAB_DIR", ROOT / ".lab"))
PROJECT = "sutazai"
BIN = ROOT / ".venv" / "bin"


def run_playbook(playbook, *args, check=True):
    """ansible-playbook from the project root with its ansible.cfg -> CompletedProcess (text)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", PATH=f"{BIN}:{os.environ['PATH']}")
    env.pop("DOCKER_HOST", None)
    proc = subprocess.run([str(BIN / "ansible-playbook"), f"playbooks/{playbook}", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
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


@pytest.fixture(scope="session")
def client():
    import docker

    cli = docker.from_env(timeout=60)
    cli.ping()  # a daemon that is down fails the run here: the lab tests need it
    if not cli.containers.list(all=True, filters={"label": f"com.docker.compose.project={PROJECT}"}):
        pytest.fail(f"lab is not up: run `make lab-up` first (LAB_DIR={LAB_DIR})")
    return cli
