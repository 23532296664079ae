"""Unit tests are hermetic: no docker compose and no Docker engine (run_module is in tests/conftest.py)."""
import os

import pytest


@pytest.fixture(autouse=True)
def _compose_only_through_a_runner(monkeypatch):
    """Hermetic unit tests: ``docker compose`` never runs unless a test injects its own runner."""
    from ansible.module_utils.compose_doctor.facts import compose_model

    def refuse(cmd, env, timeout, cwd=None):
        raise AssertionError('unit tests run docker compose only through an injected runner: %r' % (cmd,))

    monkeypatch.setattr(compose_model, '_run', refuse)


@pytest.fixture(autouse=True)
def _no_docker_engine(monkeypatch):
    """Hermetic unit tests: a Docker client only for a socket that does not exist (the "daemon
    unreachable" path) or through a fake; tests that need the engine live in tests/integration."""
    from ansible.module_utils.compose_doctor.facts import docker_runtime

    real_connect = docker_runtime.connect

    def connect(docker_host, *args, **kwargs):
        path = docker_host[len('unix://'):] if docker_host and docker_host.startswith('unix://') else None
        if path is None or os.path.exists(path):
            raise AssertionError('unit tests never reach a Docker engine: %r' % (docker_host,))
        return real_connect(docker_host, *args, **kwargs)

    monkeypatch.setattr(docker_runtime, 'connect', connect)
