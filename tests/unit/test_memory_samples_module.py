"""memory_samples main() with a fake Docker client and a fake Prometheus (no daemon needed)."""
import io
import json

import pytest

import memory_samples
from ansible.module_utils.compose_doctor.facts import docker_runtime

MIB = 1024 * 1024


class FakeClient:
    """The engine_api.EngineClient calls memory_samples makes."""

    def __init__(self, containers):
        self.containers = containers

    def inspect_container(self, name):
        if name not in self.containers:
            raise docker_runtime.EngineError("No such container: %s" % name, 404)
        return self.containers[name]

    def info(self):
        return {"MemTotal": 8 * 1024 * MIB}

    def close(self):
        pass


def attrs(name, memory, running=True, oom=False):
    return {"Id": name * 4, "Name": "/" + name, "RestartCount": 0,
            "State": {"Running": running, "Status": "running" if running else "exited", "Pid": 42,
                      "StartedAt": "2024-05-01T10:00:00Z", "OOMKilled": oom},
            "HostConfig": {"Memory": memory, "MemorySwap": memory * 2}}


def install_fakes(monkeypatch, fakes, usage):
    containers = fakes
    monkeypatch.setattr(docker_runtime, "connect", lambda *a, **k: FakeClient(containers))
    monkeypatch.setattr(docker_runtime, "socket_facts", lambda path: {"exists": True})
    readings = {k: iter(v) for k, v in usage.items()}

    def memory_for(client, cid, pid, source, *rest):
        name = next(n for n, a in containers.items() if a["Id"] == cid)
        return {"memory_stats": {"usage": next(readings[name]), "stats": {}}}, "cgroup"

    monkeypatch.setattr(docker_runtime, "read_memory", memory_for)


def test_samples_peak_and_recommendation(monkeypatch, run_module):
    containers = {"tight": attrs("tight", 64 * MIB), "free": attrs("free", 0), "gone": attrs("gone", 0, running=False)}
    install_fakes(monkeypatch, containers, {"tight": [50 * MIB, 55 * MIB, 54 * MIB], "free": [9 * MIB] * 3})
    res = run_module(memory_samples, dict(containers=["tight", "free", "gone", "missing"], samples=3, window=0,
                                          reasons={"tight": ["memory-pressure"], "free": ["memory-no-limit"]},
                                          policy={}), check=True)
    assert not res.get("failed", False) and res["changed"] is False
    out = {c["name"]: c for c in res["containers"]}
    assert out["tight"]["samples"] == [50 * MIB, 55 * MIB, 54 * MIB]
    assert out["tight"]["peak_bytes"] == 55 * MIB and out["tight"]["last_bytes"] == 54 * MIB
    assert out["tight"]["recommendation"]["action"] == "raise"
    assert out["tight"]["recommendation"]["recommended"] == 80 * MIB
    assert out["free"]["limit_bytes"] is None
    assert out["free"]["recommendation"]["action"] == "cap"
    assert out["gone"]["samples"] == [] and out["gone"]["recommendation"]["action"] == "skip"
    assert out["missing"]["exists"] is False and out["missing"]["recommendation"] is None


def test_prometheus_peak_counts(monkeypatch, run_module):
    seen = {}

    def open_url(url, **kwargs):
        seen["url"] = url
        return io.BytesIO(json.dumps({"status": "success", "data": {"result": [
            {"metric": {"name": "tight"}, "value": [1, str(60 * MIB)]}]}}).encode())

    monkeypatch.setattr(memory_samples, "open_url", open_url)
    install_fakes(monkeypatch, {"tight": attrs("tight", 64 * MIB)}, {"tight": [50 * MIB]})
    res = run_module(memory_samples, dict(containers=["tight"], samples=1, window=0, prometheus_url="http://prom:9090/",
                                          prometheus_window="1d"), check=True)
    entry = res["containers"][0]
    assert entry["prometheus_peak_bytes"] == 60 * MIB and entry["peak_bytes"] == 60 * MIB
    assert seen["url"].startswith("http://prom:9090/api/v1/query?query=max_over_time")
    assert "recommendation" not in entry


@pytest.mark.parametrize("params, text", [
    ({"samples": 0}, "samples"), ({"window": -1}, "window"), ({"policy": {"floor": "lots"}}, "floor"),
])
def test_bad_params(monkeypatch, run_module, params, text):
    install_fakes(monkeypatch, {}, {})
    res = run_module(memory_samples, dict(containers=["x"], **params), check=True)
    assert res.get("failed", False) and text in res["msg"]
