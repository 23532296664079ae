"""container_facts main() against the real Docker engine (throwaway containers, not the lab's).

The integration stage starts the lab first, so the daemon and the base image are there. Every
state that takes time to show (a container's memory, its log lines) is polled with a deadline."""
import contextlib
import json
import uuid

import docker
import pytest

import container_facts
from conftest import wait_for

IMAGE = "compose-doctor/base:bookworm"
MIB = 1024 * 1024


@pytest.fixture(scope="module")
def engine():
    client = docker.from_env(version="auto")
    client.ping()  # a daemon that is down fails here: these tests need it
    client.images.get(IMAGE)  # built by scripts/setup.sh
    yield client
    client.close()


@pytest.fixture(scope="module")
def project(engine, request):
    """Two throwaway containers of a fake compose project, removed in the finalizer."""
    name = "cdtest-%s" % uuid.uuid4().hex[:8]

    def cleanup():
        for c in engine.containers.list(all=True, filters={"label": "com.docker.compose.project=" + name}):
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)

    request.addfinalizer(cleanup)

    def labels(service):
        return {"com.docker.compose.project": name, "com.docker.compose.service": service}

    engine.containers.run(
        IMAGE, ["sleep", "600"], name=name + "-sleeper-1", labels=labels("sleeper"),
        mem_limit="64m", detach=True)
    crasher = engine.containers.run(
        IMAGE, ["sh", "-c", "echo starting; echo API_TOKEN=supersecretvalue; "
                            "echo 'fatal: cannot continue' >&2; exit 3"],
        name=name + "-crasher-1", labels=labels("crasher"), detach=True)
    assert crasher.wait(timeout=30)["StatusCode"] == 3
    return name


def by_service(result):
    return {c["service"]: c for c in result["runtime"]["containers"]}


def settled(res):
    """Both containers seen, the sleeper running with a memory reading, the crasher's lines logged."""
    services = by_service(res)
    sleeper, crasher = services.get("sleeper"), services.get("crasher")
    return (sleeper is not None and crasher is not None and sleeper["state"] == "running"
            and (sleeper["memory"] or {}).get("usage_bytes", 0) > 0
            and "fatal: cannot continue" in crasher["log_tail"] and "starting" in crasher["log_tail"])


def facts(run_module, until=settled, **params):
    return wait_for(lambda: run_module(container_facts, params), until=until, timeout=60,
                    what="container_facts of %s" % params)


def test_facts_of_real_containers(run_module, project):
    res = facts(run_module, project=project)
    assert not res.get("failed", False)
    assert res["changed"] is False
    rt = res["runtime"]
    assert rt["docker"]["reachable"] is True
    assert rt["docker"]["error"] is None
    assert rt["docker"]["api_version"]
    assert rt["docker"]["version"]
    assert rt["docker"]["logging_driver"]
    assert rt["docker"]["socket"]["exists"] is True
    assert len(rt["containers"]) == 2
    services = by_service(res)

    sleeper = services["sleeper"]
    assert sleeper["project"] == project
    assert sleeper["name"] == project + "-sleeper-1"
    assert sleeper["state"] == "running"
    assert sleeper["status"].startswith("Up")
    assert sleeper["image"] == IMAGE
    assert sleeper["image_id"].startswith("sha256:")
    assert sleeper["image_created"]
    assert sleeper["mem_limit_bytes"] == 64 * MIB
    assert sleeper["memory"]["limit_bytes"] == 64 * MIB
    assert 0 < sleeper["memory"]["usage_bytes"] < 64 * MIB
    assert 0 < sleeper["memory"]["percent"] < 100
    assert sleeper["log_tail"] == []
    assert sleeper["restart_count"] == 0
    assert sleeper["oom_killed"] is False

    crasher = services["crasher"]
    assert crasher["state"] == "exited"
    assert crasher["exit_code"] == 3
    assert crasher["status"].startswith("Exited (3)")
    assert crasher["memory"] is None
    assert "starting" in crasher["log_tail"]  # stdout and stderr lines may interleave either way
    assert "fatal: cannot continue" in crasher["log_tail"]
    assert "API_TOKEN=********" in crasher["log_tail"]
    assert "supersecretvalue" not in json.dumps(res)


@pytest.mark.parametrize("memory_source", ["api", "cgroup"])
def test_memory_sources_agree(run_module, project, memory_source):
    res = facts(run_module, project=project, memory_source=memory_source)
    mem = by_service(res)["sleeper"]["memory"]
    assert mem["source"] == memory_source
    assert mem["limit_bytes"] == 64 * MIB
    assert 0 < mem["usage_bytes"] < 64 * MIB


def test_log_tail_limit_and_no_stats(run_module, project):
    res = facts(run_module, until=lambda r: len(by_service(r).get("crasher", {}).get("log_tail", [])) == 1,
                project=project, log_tail_lines=1, stats=False)
    services = by_service(res)
    assert services["sleeper"]["memory"] is None
    assert len(services["crasher"]["log_tail"]) == 1


def test_check_mode_same_facts(run_module, project):
    res = wait_for(lambda: run_module(container_facts, dict(project=project), check=True),
                   until=lambda r: len(r["runtime"]["containers"]) == 2, timeout=60, what="both containers")
    assert res["changed"] is False
    assert len(res["runtime"]["containers"]) == 2


def test_unknown_project_is_empty(run_module, engine):
    res = run_module(container_facts, dict(project="cdtest-does-not-exist-%s" % uuid.uuid4().hex[:6]))
    assert res["runtime"]["docker"]["reachable"] is True
    assert res["runtime"]["containers"] == []


def test_unreachable_has_same_keys(run_module, project):
    up = facts(run_module, project=project)["runtime"]
    down = run_module(container_facts, dict(docker_host="unix:///tmp/nothing.sock"))["runtime"]
    assert set(down) == set(up)
    assert set(down["docker"]) == set(up["docker"])
