"""Every module's documentation, as ansible-doc renders it (doc fragments included): the attributes
check_mode, diff_mode and idempotent declared, diff_mode N/A for the read-only modules, and one
version_added."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "library").glob("*.py"))
READ_ONLY = {"compose_audit", "compose_facts", "container_facts", "memory_samples"}
SUPPORT = {"full", "partial", "none", "N/A"}


@pytest.fixture(scope="module")
def docs():
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-M", "library", "-t", "module",
                           "--json", *MODULES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return {name: value["doc"] for name, value in json.loads(proc.stdout).items()}


def test_every_module_renders(docs):
    assert sorted(docs) == MODULES


@pytest.mark.parametrize("module", MODULES)
def test_attributes_declared(docs, module):
    attrs = docs[module]["attributes"]
    for name in ("check_mode", "diff_mode", "idempotent"):
        assert attrs[name]["support"] in SUPPORT, (module, name)
        assert attrs[name]["description"], (module, name)  # from compose_doctor.attributes
    assert (attrs["diff_mode"]["support"] == "N/A") == (module in READ_ONLY), module


def test_one_version_added(docs):
    assert len({doc["version_added"] for doc in docs.values()}) == 1, {m: d["version_added"] for m, d in docs.items()}


def test_every_module_renders_as_text():
    """The text view also renders RETURN (the JSON view does not check its descriptions' types)."""
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), "-M", "library", "-t", "module",
                           *MODULES], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "ERROR" not in proc.stderr, proc.stderr
