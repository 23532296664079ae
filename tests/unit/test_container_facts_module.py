"""container_facts main() without an engine: an unreachable daemon, no SDK needed, bad parameters.
Its tests on the real engine are in tests/integration/test_container_facts_engine.py."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import container_facts


def test_unreachable_daemon(run_module):
    res = run_module(container_facts, dict(docker_host="unix:///tmp/nothing.sock", timeout=2))
    assert not res.get("failed", False)
    assert res["changed"] is False
    rt = res["runtime"]
    assert rt["docker"]["reachable"] is False
    assert rt["docker"]["error"].startswith("Cannot connect to the Docker daemon at unix:///tmp/nothing.sock: ")
    assert rt["docker"]["socket"] == {"path": "/tmp/nothing.sock", "exists": False, "owner": None,
                                      "group": None, "uid": None, "gid": None, "mode": None}
    assert rt["containers"] == [] and rt["volumes"] == []


def test_needs_neither_the_docker_sdk_nor_requests(tmp_path):
    """A target has python3 and the engine, usually not the Docker SDK nor requests: the modules
    import and report an unreachable daemon with both imports blocked."""
    root = Path(__file__).resolve().parents[2]
    code = textwrap.dedent("""
        import sys
        sys.modules["docker"] = sys.modules["requests"] = sys.modules["urllib3"] = None
        import ansible.module_utils
        ansible.module_utils.__path__.append(%r)
        sys.path.insert(0, %r)
        import container_facts, memory_samples
        from ansible.module_utils.compose_doctor.facts import docker_runtime
        rt = docker_runtime.gather_runtime(docker_host="unix://%s/none.sock", timeout=2)
        print(rt["docker"]["error"])
    """) % (str(root / "module_utils"), str(root / "library"), tmp_path)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("Cannot connect to the Docker daemon at unix://%s/none.sock: socket not found" % tmp_path)


@pytest.mark.parametrize("params, message", [
    ({"stats_workers": 0}, "stats_workers"),
    ({"timeout": 0}, "timeout"),
    ({"log_tail_lines": -1}, "log_tail_lines"),
    ({"memory_source": "psychic"}, "memory_source"),
])
def test_bad_params(run_module, params, message):
    res = run_module(container_facts, params)
    assert res.get("failed", False)
    assert message in res["msg"]
