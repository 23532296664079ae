"""container_facts main() without an engine: an unreachable daemon, a missing SDK, bad parameters.
Its tests on the real engine are in tests/integration/test_container_facts_engine.py."""
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


def test_missing_sdk_fails_clearly(monkeypatch, run_module):
    monkeypatch.setattr(container_facts.docker_runtime, "HAS_DOCKER", False)
    res = run_module(container_facts, {})
    assert res.get("failed", False)
    assert "docker" in res["msg"]


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
