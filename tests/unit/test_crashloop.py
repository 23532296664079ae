# -*- coding: utf-8 -*-
"""The crash-loop doctor: each cause of the catalogue against several log shapes (languages and
wordings where the cause has them), and each disambiguation rule of the catalogue (§1a)."""
import os

import pytest
import yaml

from ansible.module_utils.compose_doctor.analysis import crashloop as cl
from ansible.module_utils.compose_doctor.analysis.rules import is_crash_looping

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "roles", "audit", "files", "crashloop_catalog.yml")) as _fh:
    CATALOG = yaml.safe_load(_fh)
CAUSES = cl.compile_catalog(CATALOG)


def _ctr(log=(), exit_code=1, state="restarting", restart_count=5, **kw):
    c = {"name": "p-app-1", "service": "app", "state": state, "exit_code": exit_code, "restart_count": restart_count,
         "oom_killed": False, "log_tail": list(log), "mounts": [], "networks": ["p_default"], "restart_policy": "always"}
    c.update(kw)
    return c


def _view(services=None, containers=(), host=None):
    services = services if services is not None else {"app": {}, "db": {}}
    return cl.ProjectView(services, list(containers), host=host or {}, threshold=3, is_crash_looping=is_crash_looping)


def _diag(container, view=None, state=None):
    view = view or _view(containers=[container])
    state = state or cl.failing_state(container, 3, is_crash_looping)
    return cl.diagnose(container, state, CAUSES, view)


def test_every_pattern_compiles_and_every_confirmation_exists():
    assert len(CAUSES) >= 27
    for cause in CAUSES:
        for name in (cause.get("confirm") or []) + (cause.get("refute") or []):
            assert name in cl.CONFIRMATIONS, (cause["id"], name)
        assert cause.get("fix") in ("auto", "cond", "report"), cause["id"]
    with pytest.raises(ValueError, match="cause bad, pattern"):
        cl.compile_catalog({"causes": [{"id": "bad", "match": {"log": ["(unclosed"]}}]})


@pytest.mark.parametrize("lines", [
    ["Traceback (most recent call last):", "KeyError: 'APP_SECRET_KEY'"],
    ["Error: Database is uninitialized and superuser password is not specified."],
    ["error: database is uninitialized and password option is not specified"],
    ["/entrypoint.sh: line 4: APP_TOKEN: parameter not set"],
    ["django.core.exceptions.ImproperlyConfigured: The SECRET_KEY setting must not be empty."],
    ["Error: missing required environment variable: DATABASE_URL"],
    ["panic: environment variable \"API_KEY\" is not set"],
])
def test_missing_required_env(lines):
    assert _diag(_ctr(lines))["cause"] == "missing-required-env"


@pytest.mark.parametrize("lines", [
    ["PermissionError: [Errno 13] Permission denied: '/data/state.db'"],
    ["Error: EACCES: permission denied, open '/data/state.db'"],
    ["mkdir: cannot create directory '/data/cache': Permission denied"],
    ["thread 'main' panicked: /data/state.db: Permission denied (os error 13)"],
])
def test_volume_perm_uid_needs_the_path_under_a_mount(lines):
    mounted = _ctr(lines, user="10001", mounts=[{"type": "bind", "source": "/srv/p/data", "destination": "/data"}])
    d = _diag(mounted)
    assert d["cause"] == "volume-perm-uid" and d["confidence"] == "confirmed", d
    assert "/srv/p/data" in d["confirmations"][0]
    # the same line about a path no mount covers is not this cause
    assert _diag(_ctr(lines))["cause"] != "volume-perm-uid"


@pytest.mark.parametrize("lines, host", [
    (['nginx: [emerg] host not found in upstream "api:8000" in /etc/nginx/conf.d/default.conf:14'], "api"),
    (['psycopg2.OperationalError: could not translate host name "dbx" to address: Name or service not known'], "dbx"),
    (["Error: getaddrinfo ENOTFOUND cache"], "cache"),
    (["dial tcp: lookup queue on 127.0.0.11:53: no such host"], "queue"),
])
def test_service_dns_unresolvable_names_the_host_and_a_near_service(lines, host):
    view = _view(services={"app": {}, "db": {}, "cach": {}})
    d = _diag(_ctr(lines), view)
    assert d["cause"] == "service-dns-unresolvable" and d["captures"]["host"] == host
    assert d["confidence"] == "confirmed"


def test_dns_python_gaierror_and_the_failing_upstream_named_first():
    db = _ctr(["KeyError: 'POSTGRES_PASSWORD'"], name="p-db-1", service="db")
    app = _ctr(["connecting to db:5432", "socket.gaierror: [Errno -2] Name or service not known"])
    d = _diag(app, _view(containers=[db, app]))
    assert d["cause"] == "service-dns-unresolvable" and d["upstream"] == "db"


@pytest.mark.parametrize("lines, old", [
    (["FATAL:  database files are incompatible with server",
      "DETAIL:  The data directory was initialized by PostgreSQL version 15, which is not compatible with this version 17.2."],
     "15"),
    (["[ERROR] [MY-013171] [InnoDB] Invalid MySQL server downgrade: Cannot downgrade from 80300 to 80036."], "80300"),
    (["[ERROR] InnoDB: Upgrade after a crash is not supported. The redo log was created with MariaDB 10.5.9."], "10.5.9"),
])
def test_db_datadir_version(lines, old):
    d = _diag(_ctr(lines))
    assert d["cause"] == "db-datadir-version" and d["captures"].get("old") == old
    assert old in d["action"] and "Never delete" in d["action"]


@pytest.mark.parametrize("lines", [
    ["python: can't open file '/app/main.py': [Errno 2] No such file or directory"],
    ["Error: Cannot find module 'express'", "Require stack:", "- /usr/src/app/server.js"],
    ["sh: 1: nodemon: not found"],
])
def test_bind_mount_shadows_image(lines):
    c = _ctr(lines, working_dir="/app", mounts=[{"type": "bind", "source": "/srv/p/src", "destination": "/app"}])
    c2 = dict(c, working_dir="/usr/src/app", mounts=[{"type": "bind", "source": "/srv/p", "destination": "/usr/src/app"}])
    assert _diag(c)["cause"] == "bind-mount-shadows-image" or _diag(c2)["cause"] == "bind-mount-shadows-image"


def test_sh_not_found_without_a_bind_is_a_missing_command():
    assert _diag(_ctr(["sh: 1: uvicorn: not found"], exit_code=127))["cause"] == "cmd-not-found-127"


def test_exit_137_alone_is_not_oom():
    killed = _diag(_ctr(["allocated 96 MiB"], exit_code=137))
    assert killed["cause"] != "oom-killed"
    oom = _diag(_ctr(["allocated 96 MiB"], exit_code=137, oom_killed=True))
    assert oom["cause"] == "oom-killed" and oom["confidence"] == "confirmed" and oom["fix_tag"] == "limits"


@pytest.mark.parametrize("lines", [
    ["Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space"],
    ["FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"],
    ["fatal error: runtime: out of memory"],
    ["MemoryError"],
])
def test_oom_from_the_runtime_own_message(lines):
    d = _diag(_ctr(lines, exit_code=1))
    assert d["cause"] == "oom-killed" and d["confidence"] == "log"


def test_avx_is_refuted_on_a_host_that_has_it():
    lines = ["WARNING: MongoDB 5.0+ requires a CPU with AVX support, and your current system does not appear to have that!"]
    c = _ctr(lines, exit_code=132)
    assert _diag(c, _view(containers=[c], host={"cpu_avx": False}))["cause"] == "mongo-avx-cpu"
    assert _diag(c, _view(containers=[c], host={"cpu_avx": True}))["cause"] != "mongo-avx-cpu"


@pytest.mark.parametrize("lines", [
    ["exec /usr/local/bin/app-server: exec format error"],
    ["standard_init_linux.go:228: exec user process caused: exec format error"],
])
def test_exec_format_error(lines):
    assert _diag(_ctr(lines))["cause"] == "exec-format-arch"


@pytest.mark.parametrize("lines", [
    ["A server is already running (pid: 1, file: /app/tmp/pids/server.pid)."],
    ["A server is already running. Check /app/tmp/pids/server.pid."],
    ["ERROR: Pidfile (celerybeat.pid) already exists."],
])
def test_stale_pid_file(lines):
    assert _diag(_ctr(lines))["cause"] == "stale-pid-file"


def test_entrypoint_not_executable_loop_and_start_error():
    loop = _ctr(["sh: 1: /app/start.sh: Permission denied"], exit_code=126,
                files={"/app/start.sh": {"exists": True, "mode": 0o644, "shebang": "#!/bin/sh"}})
    d = _diag(loop)
    assert d["cause"] == "entrypoint-not-executable" and d["confidence"] == "confirmed"
    start = _ctr([], state="created", exit_code=126, restart_count=0,
                 state_error='failed to create task: exec: "/entrypoint.sh": permission denied: unknown')
    assert cl.failing_state(start, 3, is_crash_looping) == "start-error"
    assert _diag(start)["cause"] == "entrypoint-not-executable"


@pytest.mark.parametrize("health", [
    'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in $PATH: unknown',
    "/bin/sh: 1: curl: not found",
])
def test_healthcheck_tool_missing(health):
    c = _ctr(["Serving HTTP on 0.0.0.0 port 8000"], state="running", restart_count=0, exit_code=0,
             health={"status": "unhealthy", "log": [{"output": health, "exit_code": -1}]},
             healthcheck_test=["CMD", "curl", "-fsS", "http://localhost:8000/"])
    d = _diag(c)
    assert d["cause"] == "healthcheck-tool-missing" and d["captures"]["tool"] == "curl" and d["confidence"] == "confirmed"


@pytest.mark.parametrize("lines", [
    ["pgdata: data directory \"/var/lib/postgresql/data\" has wrong ownership"],
    ['initdb: error: could not change permissions of directory "/var/lib/postgresql/data": Operation not permitted'],
])
def test_pgdata_fs_perms_before_volume_perm(lines):
    c = _ctr(lines, mounts=[{"type": "bind", "source": "/mnt/c/pg", "destination": "/var/lib/postgresql/data"}])
    assert _diag(c)["cause"] == "pgdata-fs-perms"


def test_crlf_first_by_its_own_line_then_by_the_file():
    assert _diag(_ctr(["env: 'bash\r': No such file or directory"]))["cause"] == "crlf-entrypoint"
    line = ["exec /entrypoint.sh: no such file or directory"]
    crlf = _ctr(line, files={"/entrypoint.sh": {"exists": True, "mode": 0o755, "shebang": "#!/bin/sh", "crlf": True}})
    assert _diag(crlf)["cause"] == "crlf-entrypoint"
    elf = _ctr(line, files={"/entrypoint.sh": {"exists": True, "mode": 0o755, "elf": True}})
    assert _diag(elf)["cause"] == "dynamic-binary-missing-loader"
    gone = _ctr(line, files={"/entrypoint.sh": {"exists": False}})
    assert _diag(gone)["cause"] == "cmd-not-found-127"


def test_connection_refused_to_localhost_before_dependency_not_ready():
    refused = ["ConnectionRefusedError: [Errno 111] Connection refused"]
    local = _ctr(refused, env_local_keys=["DB_HOST"])
    d = _diag(local)
    assert d["cause"] == "localhost-in-container" and "DB_HOST" in d["confirmations"][0]
    dep = _ctr(["Error: connect ECONNREFUSED db:5432"])
    view = _view(services={"app": {"depends_on": {"db": {"condition": "service_started"}}}, "db": {}})
    d = _diag(dep, view)
    assert d["cause"] == "dep-not-ready" and "has no healthcheck" in d["confirmations"][0]
    gated = {"app": {"depends_on": {"db": {"condition": "service_healthy"}}}, "db": {"healthcheck": {"test": ["x"]}}}
    assert _diag(dep, _view(services=gated))["cause"] != "dep-not-ready"


def test_exit_zero_loop_without_a_foreground_process():
    c = _ctr(["Starting web server: apache2.", "done."], exit_code=0, state="restarting",
             command=["sh", "-c", "service apache2 start"])
    d = _diag(c)
    assert d["cause"] == "exit0-no-foreground" and "service apache2 start" in d["confirmations"][0]


@pytest.mark.parametrize("lines", [
    ["Error: listen EACCES: permission denied 0.0.0.0:80"],
    ["(13)Permission denied: AH00072: make_sock: could not bind to address [::]:80"],
    ['nginx: [emerg] bind() to 0.0.0.0:80 failed (13: Permission denied)'],
])
def test_privileged_port(lines):
    assert _diag(_ctr(lines))["cause"] == "privileged-port-nonroot"


def test_unknown_cause_keeps_its_evidence():
    d = _diag(_ctr(["segmentation fault"], exit_code=139))
    assert d["cause"] == "unknown" and d["evidence"] == ["log: segmentation fault"]


def test_failing_states():
    assert cl.failing_state(_ctr(state="running", restart_count=0, exit_code=0), 3, is_crash_looping) is None
    assert cl.failing_state(_ctr(state="exited", restart_count=0, exit_code=0, restart_policy="no"), 3,
                            is_crash_looping) is None
    assert cl.failing_state(_ctr(state="exited", restart_count=0, exit_code=2), 3, is_crash_looping) == "exited"
    assert cl.failing_state(_ctr(), 3, is_crash_looping) == "restart-loop"


def test_a_loop_caught_running_has_no_known_exit_code():
    """Between two restarts the engine reports ExitCode 0: not a clean exit."""
    running = _ctr(["A server is already running. Check /app/tmp/server.pid."], state="running", exit_code=0)
    assert cl.last_exit_code(running) is None
    assert _diag(running)["cause"] == "stale-pid-file"
    assert _diag(_ctr([], state="running", exit_code=0))["cause"] == "unknown"


def test_localhost_resolving_to_ipv6_without_ipv6():
    c = _ctr(["OSError: [Errno 99] Cannot assign requested address"], env_local_keys=["DB_HOST"])
    assert _diag(c)["cause"] == "localhost-in-container"


def test_probe_candidates_keep_the_url_and_skip_the_missing_tool():
    cands = cl.probe_candidates(["CMD", "curl", "-fsS", "http://localhost:8000/health"], missing_tool="curl")
    assert [c[1] for c in cands] == ["python3", "python", "wget"]
    assert all(c[-1] == "http://localhost:8000/health" for c in cands)
    shell = cl.probe_candidates(["CMD-SHELL", "curl -f http://127.0.0.1:9000/ || exit 1"], missing_tool="curl")
    assert shell[0][-1] == "http://127.0.0.1:9000/"
    tcp = cl.probe_candidates(["CMD-SHELL", "nc -z localhost 5432 || nc -z localhost:5432"], missing_tool="nc")
    assert tcp[0][-2:] == ["localhost", "5432"] and tcp[-1][1] == "bash"
    assert cl.probe_candidates(["CMD", "pg_isready"]) == []


def test_a_loop_caught_running_takes_its_exit_and_oom_from_the_events():
    running = _ctr(["allocated 96 MiB"], state="running", exit_code=0,
                   history={"last_exit_code": 137, "oom_kills": 2})
    d = _diag(running)
    assert d["cause"] == "oom-killed" and "2 oom event(s)" in d["confirmations"][0]
    exited0 = _ctr([], state="running", exit_code=0, history={"last_exit_code": 0, "oom_kills": 0})
    assert _diag(exited0)["cause"] == "exit0-no-foreground"


def test_dependency_not_ready_names_the_dependency_and_its_file_for_the_fix():
    dep = _ctr(["Error: connect ECONNREFUSED db:5432"], service="api", state="exited", restart_policy="on-failure")
    view = _view(services={"api": {"depends_on": ["db"]}, "db": {"file": "compose.base.yml"}})
    d = _diag(dep, view)
    assert d["cause"] == "dep-not-ready" and d["fix_tag"] == "crashloop"
    assert d["captures"]["dependency"] == "db" and d["captures"]["dependency_file"] == "compose.base.yml"
    assert d["captures"]["port"] == "5432"


@pytest.mark.parametrize("port,first", [(5432, "pg_isready"), ("3306/tcp", "mysqladmin"), ("6379", "redis-cli"),
                                        (8080, "python3")])
def test_port_probe_candidates_try_the_database_client_first(port, first):
    cands = cl.port_probe_candidates(port)
    assert cands[0][0] == "CMD" and cands[0][1] == first
    number = str(port).split("/")[0]
    assert ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%s" % number] in cands
    assert all(c[1] != "curl" for c in cands)


@pytest.mark.parametrize("port", [None, "", "http", 0, 70000])
def test_port_probe_candidates_refuse_what_is_not_a_port(port):
    assert cl.port_probe_candidates(port) == []


def test_gated_depends_on_from_the_short_and_the_long_form():
    assert cl.gated_depends_on(["db", "cache"], "db") == {
        "db": {"condition": "service_healthy"}, "cache": {"condition": "service_started"}}
    effective = {"db": {"condition": "service_started", "required": True},
                 "migrate": {"condition": "service_completed_successfully", "required": False, "restart": True}}
    assert cl.gated_depends_on(effective, "db") == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully", "required": False, "restart": True}}
    assert cl.gated_depends_on({}, "db") == {"db": {"condition": "service_healthy"}}
    assert cl.gated_depends_on(None, "db") == {"db": {"condition": "service_healthy"}}


@pytest.mark.parametrize("mode,new", [("0644", "0755"), ("0600", "0700"), ("0640", "0750"), ("644", "0755"),
                                      (0o444, "0555"), ("0755", "0755"), ("0666", None), ("x", None)])
def test_executable_mode_follows_the_read_bits_and_never_world_writable(mode, new):
    assert cl.executable_mode(mode) == new


def test_mounted_host_path_through_the_deepest_bind_or_volume():
    mounts = [{"Type": "bind", "Source": "/srv/app", "Destination": "/app", "RW": True},
              {"Type": "volume", "Source": "/var/lib/docker/volumes/p_tmp/_data", "Destination": "/app/tmp", "RW": True},
              {"Type": "tmpfs", "Source": "", "Destination": "/run", "RW": True}]
    assert cl.mounted_host_path(mounts, "/app/tmp/server.pid") == {
        "host_path": "/var/lib/docker/volumes/p_tmp/_data/server.pid", "type": "volume", "rw": True,
        "destination": "/app/tmp"}
    assert cl.mounted_host_path(mounts, "/app/conf/x.pid")["host_path"] == "/srv/app/conf/x.pid"
    assert cl.mounted_host_path(mounts, "/apps/x.pid") is None      # not under /app
    assert cl.mounted_host_path(mounts, "/run/x.pid") is None       # tmpfs: gone with the container
    evidence = [{"type": "bind", "source": "/h/pids", "destination": "/app/tmp", "rw": False}]
    assert cl.mounted_host_path(evidence, "/app/tmp/server.pid") == {
        "host_path": "/h/pids/server.pid", "type": "bind", "rw": False, "destination": "/app/tmp"}


def test_dns_fix_offered_only_when_no_network_is_shared():
    log = ["connecting to api:8080", "socket.gaierror: [Errno -2] Name or service not known"]
    client = _ctr(log, networks=["p_front"])
    api = _ctr([], service="api", name="p-api-1", state="running", networks=["p_back"])
    d = _diag(client, _view(services={"app": {}, "api": {}}, containers=[client, api]))
    assert d["cause"] == "service-dns-unresolvable" and d["fix_tag"] == "crashloop"
    assert d["captures"]["network_of"] == "api" and "shares no network" in " ".join(d["confirmations"])
    typo = _ctr(["connecting to apj:8080", "socket.gaierror: [Errno -2] Name or service not known"])
    t = _diag(typo, _view(services={"app": {}, "api": {}}, containers=[typo, api]))
    assert t["cause"] == "service-dns-unresolvable" and t["fix_tag"] is None and t["fix"] == "report"


def test_joined_networks_keeps_every_network_and_its_settings():
    assert cl.joined_networks({"front": {"aliases": ["web"]}}, "back") == {"front": {"aliases": ["web"]}, "back": None}
    assert cl.joined_networks(["front"], "back") == {"front": None, "back": None}
    assert cl.joined_networks(None, "back") == {"default": None, "back": None}
    assert cl.joined_networks({"back": {"ipv4_address": "10.0.0.5"}}, "back") == {"back": {"ipv4_address": "10.0.0.5"}}


# ------------------------------------------------------------------ bind-mount-shadows-image: which path to mask

BIND_APP = [{"Type": "bind", "Source": "/srv/app", "Destination": "/app", "RW": True}]


@pytest.mark.parametrize("captures, workdir, mask", [
    ({"module": "express"}, "/app", "/app/node_modules"),                        # node: a package
    ({"module": "@nestjs/core"}, "/app", "/app/node_modules"),                   # scoped package
    ({"module": "express"}, "/app/web", "/app/web/node_modules"),                # bind over the workdir's parent
    ({"path": "/app/node_modules/app.py"}, "/app", "/app/node_modules"),         # python: can't open file
    ({"path": "/app/vendor/lib/x.py"}, "/", "/app/vendor"),                      # first dir under the bind
    ({"path": "dist/server.js"}, "/app", "/app/dist"),                           # relative to the workdir
])
def test_shadow_mask_path_masks_the_first_directory_the_bind_hides(captures, workdir, mask):
    assert cl.shadow_mask_path(BIND_APP, workdir, captures) == mask


@pytest.mark.parametrize("mounts, workdir, captures", [
    (BIND_APP, "/app", {"path": "/app/main.py"}),            # a file directly in the bind: narrow the bind instead
    (BIND_APP, "/app", {"module": "./lib/util"}),             # the app's own file, not a package
    (BIND_APP, "/app", {"module": "/app/x"}),
    (BIND_APP, "/app", {"path": "/srv/other/x.py"}),          # not under any bind mount
    (BIND_APP, "", {"module": "express"}),                    # no working dir: no node_modules to name
    (BIND_APP, "/app", {}),                                   # nothing captured
    ([{"Type": "volume", "Source": "/var/lib/docker/volumes/v/_data", "Destination": "/app"}], "/app",
     {"module": "express"}),                                  # a volume, not a bind
    (BIND_APP + [{"Type": "volume", "Source": "/v", "Destination": "/app/node_modules"}], "/app",
     {"module": "express"}),                                  # masked already
])
def test_shadow_mask_path_refuses_what_a_volume_cannot_fix(mounts, workdir, captures):
    assert cl.shadow_mask_path(mounts, workdir, captures) is None


def test_shadow_mask_path_reads_evidence_keys_and_the_deepest_bind():
    mounts = [{"type": "bind", "source": "/srv", "destination": "/app"},
              {"type": "bind", "source": "/srv/web", "destination": "/app/web"}]
    assert cl.shadow_mask_path(mounts, "/app/web", {"module": "react"}) == "/app/web/node_modules"


# ------------------------------------------------------------------ db-datadir-version: which tag to pin to

PARTS = {"mysql": 2, "mariadb": 2, "percona": 2}


@pytest.mark.parametrize("image, old, pinned", [
    ("postgres:16", "15", "postgres:15"),
    ("postgres:16.2-alpine", "15", "postgres:15-alpine"),
    ("postgres:16-bookworm", "14.11", "postgres:14-bookworm"),
    ("docker.io/library/postgres:17", "9.6", "docker.io/library/postgres:9.6"),   # before 10: two numbers
    ("registry.example:5000/db/postgres:16", "15", "registry.example:5000/db/postgres:15"),
    ("docker.io/library/mysql:8.4", "8.0.36", "docker.io/library/mysql:8.0"),
    ("mysql:8.0", "80400", "mysql:8.4"),               # "Cannot downgrade from 80400": the data is newer
    ("mariadb:11", "10.11.6", "mariadb:10.11"),
    ("mariadb:11.4.2-noble", "10.6", "mariadb:10.6-noble"),
])
def test_pinned_image_keeps_name_registry_and_variant(image, old, pinned):
    assert cl.pinned_image(image, old, PARTS) == (pinned, None)


@pytest.mark.parametrize("image, old, why", [
    ("postgres@sha256:" + "a" * 64, "15", "digest"),
    ("postgres:16@sha256:" + "a" * 64, "15", "digest"),
    ("postgres", "15", "no tag"),
    ("localhost:5000/postgres", "15", "no tag"),
    ("postgres:latest", "15", "not a version"),
    ("postgres:alpine", "15", "not a version"),
    ("", "15", "digest"),
    ("postgres:16", None, "not known"),
    ("postgres:16", "fifteen", "not known"),
    ("postgres:15.4", "15", "already runs 15"),        # same major: not this cause
    ("mysql:8.0.36", "8.0.30", "already runs 8.0"),
])
def test_pinned_image_refuses_what_it_cannot_pin(image, old, why):
    new, reason = cl.pinned_image(image, old, PARTS)
    assert new is None and why in reason
