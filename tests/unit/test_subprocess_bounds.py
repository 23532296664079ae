# -*- coding: utf-8 -*-
"""Every subprocess the audit starts (docker compose config) runs in its own process group with a
real timeout: on timeout the whole group dies, grandchildren included, and nothing outlives it."""
import os
import time

from ansible.module_utils.compose_doctor.facts import compose_model

# conftest.py replaces compose_model._run in every unit test (docker compose never runs here);
# this test drives the real one with `sh`, keeping a reference taken at import time.
REAL_RUN = compose_model._run


def _alive(pgid):
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


def test_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "pids"
    # a child that starts a grandchild (as the docker CLI starts the compose plugin) and both hang
    cmd = ["sh", "-c", "sleep 60 & echo $$ > %s; wait" % pidfile]
    start = time.monotonic()
    rc, _, err = REAL_RUN(cmd, dict(os.environ), 1)
    assert rc == 124 and "timed out after 1s" in err
    assert time.monotonic() - start < 10
    pgid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pgid), "a process of the timed-out group is still running"
