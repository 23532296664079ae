"""The crash-loop fixes bind-mount-shadows-image (short and long volume syntax),
db-datadir-version and healthcheck-start-period on the real engine, on a small project of their own (cdcrashfix): remediate.yml --tags crashloop previews (--check changes
nothing), fixes (each container then stays up, the file diff is exactly the fix, the database's
data is not touched), changes nothing the second time, and rollback.yml restores the file byte for
byte.

No registry is reachable, so the "older major" image is a local stand-in tagged as a registry image
would be: it runs only on data whose PG_VERSION is 14 (the server of the newer tag is the real
PostgreSQL 15 of sutazai/postgres:lab, refusing that data for real).
"""
import subprocess

import docker
import pytest
import yaml

from conftest import RESTART_THRESHOLD, compose_in, holds_for, run_playbook, tree_state, wait_for

PROJECT = "cdcrashfix"
APP, PG, PG_OLD = "cdcrashfix/app:1", "cdcrashfix/pg:15-bookworm", "cdcrashfix/pg:14-bookworm"
IMAGES = {
    APP: """FROM compose-doctor/python:bookworm
WORKDIR /app
RUN mkdir node_modules && printf "print('serving', flush=True)\\nimport time\\ntime.sleep(10**9)\\n" > node_modules/app.py
CMD ["python3", "node_modules/app.py"]
""",
    # data initialised by the real server, then marked as written by 14: the 15 server refuses it
    PG: """FROM sutazai/postgres:lab
USER root
RUN install -d -o postgres /srv/pg && su postgres -s /bin/sh -c 'initdb -D /srv/pg >/dev/null' \\
 && echo 14 > /srv/pg/PG_VERSION
USER postgres
ENTRYPOINT []
CMD ["postgres", "-D", "/srv/pg"]
""",
    PG_OLD: """FROM sutazai/postgres:lab
ENTRYPOINT []
CMD ["sh", "-c", "grep -qx 14 /srv/pg/PG_VERSION && echo 'stand-in for 14: data accepted' && exec sleep infinity"]
""",
}
COMPOSE = f"""name: {PROJECT}
services:
  shadow:
    image: {APP}
    restart: unless-stopped
    stop_grace_period: 1s
    volumes:
      - ./src:/app   # the development bind mount hides the image's node_modules
  shadowlong:
    image: {APP}
    restart: unless-stopped
    stop_grace_period: 1s
    volumes:
      - {{type: bind, source: ./src2, target: /app}}
  olddata:
    image: {PG}
    restart: unless-stopped
    stop_grace_period: 1s
    volumes:
      - pgdata:/srv/pg
  slowstart:   # warms up for as long as ./startup/seconds says, then listens; its health check gives up after 3 s
    image: compose-doctor/python:bookworm
    restart: "no"
    stop_grace_period: 1s
    volumes: ["./startup:/startup:ro"]
    command:
      - python3
      - -c
      - |
        import socket, time
        end = time.time() + float(open('/startup/seconds').read())
        while time.time() < end:
            print('warming up', flush=True)
            time.sleep(2)
        s = socket.create_server(('', 8000))
        print('listening on :8000', flush=True)
        while True:
            s.accept()[0].close()
    healthcheck:
      test: ["CMD", "python3", "-c", "import socket; socket.create_connection(('127.0.0.1', 8000), timeout=1)"]
      interval: 2s
      timeout: 2s
      retries: 1
      start_period: 1s
volumes:
  pgdata:
"""
LOOPS = ("shadow", "shadowlong", "olddata")
SERVICES = LOOPS + ("slowstart",)


def _ctr(client, service):
    found = client.containers.list(all=True, filters={"label": [
        f"com.docker.compose.project={PROJECT}", f"com.docker.compose.service={service}"]})
    assert len(found) == 1, f"{service}: {len(found)} containers"
    return found[0]


def _state(client):
    return {s: (c.id, c.attrs["Config"]["Image"], c.attrs["RestartCount"])
            for s in SERVICES for c in [_ctr(client, s)]}


def _up_and_steady(client):
    """Every service running, then none restarting for 8 s (they looped within ~1 s before)."""
    def probe():
        return {s: (c.attrs["State"]["Status"], c.attrs["RestartCount"]) for s in SERVICES for c in [_ctr(client, s)]}
    seen = wait_for(probe, until=lambda v: all(st == "running" for st, _ in v.values()), what="every service running")
    holds_for(probe, 8, until=lambda v: v == seen, what="every service running without a restart")


def _health_until_healthy(client):
    """Every health status slowstart shows from now until it is healthy (deadline 60 s)."""
    seen = []

    def probe():
        status = _ctr(client, "slowstart").attrs["State"]["Health"]["Status"]
        seen.append(status)
        return status
    wait_for(probe, until=lambda h: h == "healthy", timeout=60, what="slowstart healthy")
    return seen


@pytest.fixture(scope="module")
def fixes(tmp_path_factory):
    client = docker.from_env(timeout=60)
    project = tmp_path_factory.mktemp("cdcrashfix")
    (project / "src").mkdir()
    (project / "src2").mkdir()
    (project / "compose.yaml").write_text(COMPOSE)
    (project / "startup").mkdir()
    (project / "startup" / "seconds").write_text("600")   # not ready while the audits look at it
    for tag, dockerfile in IMAGES.items():
        subprocess.run(["docker", "build", "-q", "-t", tag, "-"], input=dockerfile, text=True, check=True,
                       capture_output=True, timeout=300)
    journal, reports = tmp_path_factory.mktemp("journal"), tmp_path_factory.mktemp("reports")
    common = ["--tags", "crashloop", "-e", f"compose_project_dir={project}", "-e", f"audit_reports_dir={reports}",
              "-e", f"compose_doctor_journal_dir={journal}"]
    try:
        compose_in(project, "up", "-d", "--pull", "never", check=True)
        for service in LOOPS:   # the audit sees a crash loop once the restart count reaches the threshold
            wait_for(lambda s=service: _ctr(client, s).attrs["RestartCount"], until=lambda n: n >= RESTART_THRESHOLD,
                     what=f"{service} restarted {RESTART_THRESHOLD} times")
        wait_for(lambda: _ctr(client, "slowstart").attrs["State"]["Health"]["Status"], until=lambda h: h == "unhealthy",
                 what="slowstart unhealthy while it warms up")
        volume = client.volumes.get(f"{PROJECT}_pgdata").attrs["Mountpoint"]
        out = {"project": project, "client": client, "journal": journal, "pristine": (project / "compose.yaml").read_bytes(),
               "data": tree_state(volume), "volume": volume}
        files0, docker0 = tree_state(project), _state(client)
        out["check"] = run_playbook("remediate.yml", "--check", "--diff", *common)
        out["check_state"] = (files0, tree_state(project), {s: v[:2] for s, v in docker0.items()},
                              {s: v[:2] for s, v in _state(client).items()})
        # the recreated slowstart is ready after 12 s: later than its old 3 s, well within the new start period
        (project / "startup" / "seconds").write_text("12")
        out["apply"] = run_playbook("remediate.yml", "--diff", *common)
        out["slow_health"] = _health_until_healthy(client)
        out["fixed"] = (project / "compose.yaml").read_bytes()
        out["again"] = run_playbook("remediate.yml", *common)
        yield out
    finally:
        compose_in(project, "down", "-v", "-t", "1")
        subprocess.run(["docker", "image", "rm", "-f", *IMAGES], capture_output=True)


def test_check_mode_changes_nothing_and_shows_both_edits(fixes):
    files0, files1, docker0, docker1 = fixes["check_state"]
    assert files0 == files1 and docker0 == docker1
    assert "/app/node_modules" in fixes["check"].stdout and PG_OLD in fixes["check"].stdout


def test_the_file_diff_is_exactly_the_two_fixes(fixes):
    before, after = yaml.safe_load(fixes["pristine"]), yaml.safe_load(fixes["fixed"])
    assert after["services"]["shadow"]["volumes"] == ["./src:/app", "/app/node_modules"]   # short syntax, as the file
    assert after["services"]["shadowlong"]["volumes"][1] == {"type": "volume", "target": "/app/node_modules"}   # long
    assert after["services"]["olddata"]["image"] == PG_OLD      # name and -bookworm variant kept
    after["services"]["shadow"]["volumes"].pop()
    after["services"]["shadowlong"]["volumes"].pop()
    after["services"]["olddata"]["image"] = PG
    assert after["services"]["slowstart"]["healthcheck"].pop("start_period") == "300s"   # still starting: the cap
    before["services"]["slowstart"]["healthcheck"].pop("start_period")
    assert after == before
    assert b"# the development bind mount hides" in fixes["fixed"]   # comments kept


def test_each_container_stays_up_and_the_data_is_untouched(fixes):
    client = fixes["client"]
    _up_and_steady(client)
    assert _ctr(client, "olddata").attrs["Config"]["Image"] == PG_OLD
    for src in ("src", "src2"):   # on the host only the engine's empty mount point: the host's files are not touched
        host = fixes["project"] / src
        assert {p.name for p in host.iterdir()} <= {"node_modules"} and not any(host.glob("node_modules/*"))
    assert tree_state(fixes["volume"]) == fixes["data"]


def test_the_slow_starter_is_no_longer_unhealthy_while_it_starts(fixes):
    """Recreated with start_period 300s, it stays `starting` through its 12 s warm-up (its old
    health check gave up after 3 s) and turns healthy once it listens."""
    assert "unhealthy" not in fixes["slow_health"] and fixes["slow_health"][-1] == "healthy"
    c = _ctr(fixes["client"], "slowstart")
    assert c.attrs["Config"]["Healthcheck"]["StartPeriod"] == 300 * 10 ** 9


def test_second_run_changes_nothing(fixes):
    assert "changed=0" in fixes["again"].stdout.split("PLAY RECAP")[-1]
    assert (fixes["project"] / "compose.yaml").read_bytes() == fixes["fixed"]


def test_rollback_restores_the_file_byte_for_byte(fixes):
    run_playbook("rollback.yml", "-e", f"compose_doctor_journal_dir={fixes['journal']}")
    assert (fixes["project"] / "compose.yaml").read_bytes() == fixes["pristine"]
    wait_for(lambda: _ctr(fixes["client"], "olddata").attrs["Config"]["Image"], until=lambda i: i == PG,
             ignore=(AssertionError, docker.errors.NotFound), what="olddata recreated from the restored file")
