"""Pure normalisers of module_utils/compose_doctor/facts/docker_runtime.py (plain dict inputs)."""
import copy
import datetime

import pytest

from ansible.module_utils.compose_doctor.facts import docker_runtime as dr

NOW = datetime.datetime(2024, 5, 1, 10, 10, 0, tzinfo=datetime.timezone.utc)
FULL_ID = "3f2a1b0c9d8e" + "a" * 52
IMAGE_ID = "sha256:" + "5c" * 32


def inspect_attrs(**over):
    """A realistic `docker inspect` dict of a compose service container."""
    attrs = {
        "Id": FULL_ID,
        "Created": "2024-05-01T09:59:58.1Z",
        "Name": "/sutazai-backend-1",
        "Image": IMAGE_ID,
        "RestartCount": 0,
        "State": {
            "Status": "running", "Running": True, "Paused": False, "Restarting": False,
            "OOMKilled": False, "Dead": False, "Pid": 4242, "ExitCode": 0, "Error": "",
            "StartedAt": "2024-05-01T10:00:00.123456789Z",
            "FinishedAt": "0001-01-01T00:00:00Z",
        },
        "Config": {
            "User": "",
            "Image": "sutazai/backend:latest",
            "Labels": {
                "com.docker.compose.project": "sutazai",
                "com.docker.compose.service": "backend",
                "com.docker.compose.oneoff": "False",
            },
        },
        "HostConfig": {
            "Privileged": False, "CapAdd": None, "GroupAdd": None,
            "RestartPolicy": {"Name": "unless-stopped", "MaximumRetryCount": 0},
            "Memory": 536870912, "MemoryReservation": 0,
            "LogConfig": {"Type": "json-file", "Config": {"max-size": "10m"}},
            "PortBindings": {"8000/tcp": [{"HostIp": "", "HostPort": "8000"}]},
        },
        "Mounts": [
            {"Type": "volume", "Name": "sutazai_data",
             "Source": "/var/lib/docker/volumes/sutazai_data/_data", "Destination": "/data",
             "Driver": "local", "Mode": "z", "RW": True, "Propagation": ""},
            {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock",
             "Mode": "ro", "RW": False, "Propagation": "rprivate"},
        ],
        "NetworkSettings": {
            "Ports": {
                "8000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8000"},
                             {"HostIp": "::", "HostPort": "8000"}],
                "9090/tcp": None,
            },
        },
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(attrs.get(key), dict):
            attrs[key] = dict(attrs[key], **value)
        else:
            attrs[key] = value
    return attrs


HEALTH_UNHEALTHY = {
    "Status": "unhealthy",
    "FailingStreak": 7,
    "Log": [
        {"Start": "2024-05-01T10:09:00.0Z", "End": "2024-05-01T10:09:01.0Z", "ExitCode": 1,
         "Output": "PermissionError: [Errno 13] Permission denied: '/var/run/docker.sock'\n"
                   "DB_PASSWORD=hunter2 retrying\n"},
        {"Start": "2024-05-01T10:09:30.0Z", "End": "2024-05-01T10:09:31.0Z", "ExitCode": 1,
         "Output": "curl: (7) Failed to connect to localhost port 8000\n"},
    ],
}

RESTARTING_STATE = {
    "Status": "restarting", "Running": True, "Restarting": True, "Pid": 0, "ExitCode": 1,
    "StartedAt": "2024-05-01T10:09:50.0Z", "FinishedAt": "2024-05-01T10:09:55.5Z",
}

OOM_STATE = {
    "Status": "exited", "Running": False, "OOMKilled": True, "Pid": 0, "ExitCode": 137,
    "StartedAt": "2024-05-01T09:00:00.0Z", "FinishedAt": "2024-05-01T10:05:00.0Z",
}

# ---- stats shapes -----------------------------------------------------------------------------

STATS_V1 = {  # cgroup v1, 512 MiB limit
    "read": "2024-05-01T10:10:00.0Z",
    "memory_stats": {
        "usage": 300 * 1024 * 1024,
        "max_usage": 400 * 1024 * 1024,
        "limit": 536870912,
        "stats": {"cache": 60 * 1024 * 1024, "total_inactive_file": 50 * 1024 * 1024,
                  "rss": 240 * 1024 * 1024, "total_cache": 60 * 1024 * 1024},
    },
}
STATS_V1_CACHE_ONLY = {  # old engine: no total_inactive_file, fall back to cache
    "memory_stats": {"usage": 1000, "limit": 4000, "stats": {"cache": 200}},
}
STATS_V2 = {  # cgroup v2, no limit: limit is host memory
    "memory_stats": {
        "usage": 128 * 1024 * 1024,
        "limit": 25276502016,
        "stats": {"anon": 100 * 1024 * 1024, "file": 28 * 1024 * 1024,
                  "inactive_file": 28 * 1024 * 1024, "active_file": 0},
    },
}
STATS_NOT_RUNNING = {"read": "0001-01-01T00:00:00Z", "memory_stats": {}}


@pytest.mark.parametrize("stats, limit, expected", [
    (STATS_V1, 536870912, {"usage_bytes": 250 * 1024 * 1024, "limit_bytes": 536870912,
                           "percent": 48.8, "host_limit_bytes": 536870912, "source": "api"}),
    (STATS_V1_CACHE_ONLY, 4000, {"usage_bytes": 800, "limit_bytes": 4000, "percent": 20.0,
                                 "host_limit_bytes": 4000, "source": "api"}),
    (STATS_V2, 0, {"usage_bytes": 100 * 1024 * 1024, "limit_bytes": None, "percent": None,
                   "host_limit_bytes": 25276502016, "source": "api"}),
    (STATS_V2, None, {"usage_bytes": 100 * 1024 * 1024, "limit_bytes": None, "percent": None,
                      "host_limit_bytes": 25276502016, "source": "api"}),
], ids=["v1-total_inactive_file", "v1-cache-fallback", "v2-no-limit", "v2-limit-none"])
def test_memory_from_stats(stats, limit, expected):
    assert dr.memory_from_stats(stats, limit) == expected


@pytest.mark.parametrize("stats", [None, {}, STATS_NOT_RUNNING])
def test_memory_from_stats_without_figures(stats):
    assert dr.memory_from_stats(stats, 1024) is None


@pytest.mark.parametrize("memory_stats, expected", [
    ({"usage": 100, "stats": {"total_inactive_file": 30, "cache": 50}}, 70),
    ({"usage": 100, "stats": {"inactive_file": 40}}, 60),
    ({"usage": 100, "stats": {"inactive_file": 400}}, 100),  # bogus cache > usage: keep usage
    ({"usage": 100}, 100),
    ({}, None),
])
def test_mem_usage_from_stats(memory_stats, expected):
    assert dr.mem_usage_from_stats(memory_stats) == expected


def test_memory_near_limit_percent():
    stats = {"memory_stats": {"usage": 63 * 1024 * 1024, "stats": {"total_inactive_file": 0}}}
    mem = dr.memory_from_stats(stats, 64 * 1024 * 1024)
    assert mem["percent"] == pytest.approx(98.4)


# ---- cgroup files -----------------------------------------------------------------------------

PROC_CGROUP_V1 = (
    "12:memory:/docker/%s\n11:pids:/docker/%s\n1:name=systemd:/docker/%s\n0::/docker/%s\n"
    % ((FULL_ID,) * 4))
PROC_CGROUP_V2 = "0::/system.slice/docker-%s.scope\n" % FULL_ID


@pytest.mark.parametrize("text, expected", [
    (PROC_CGROUP_V1, [("1", "/sys/fs/cgroup/memory/docker/" + FULL_ID),
                      ("2", "/sys/fs/cgroup/docker/" + FULL_ID),
                      ("2", "/sys/fs/cgroup/unified/docker/" + FULL_ID)]),
    (PROC_CGROUP_V2, [("2", "/sys/fs/cgroup/system.slice/docker-%s.scope" % FULL_ID),
                      ("2", "/sys/fs/cgroup/unified/system.slice/docker-%s.scope" % FULL_ID)]),
    ("0::/\n", []),                                   # foreign cgroup namespace
    ("4:memory:/user.slice\n0::/user.slice\n", []),   # recycled pid: not our container
    ("", []),
])
def test_cgroup_memory_dirs(text, expected):
    assert dr.cgroup_memory_dirs(text, FULL_ID) == expected


@pytest.mark.parametrize("version, usage, limit, stat, mem_total, expected", [
    ("1", "409600\n", "67108864\n", "cache 20480\ntotal_inactive_file 4096\n", 10 ** 10,
     {"usage_bytes": 405504, "limit_bytes": 67108864, "percent": 0.6,
      "host_limit_bytes": 67108864, "source": "cgroup"}),
    ("1", "409600\n", "9223372036854771712\n", "total_inactive_file 0\n", 10 ** 10,
     {"usage_bytes": 409600, "limit_bytes": None, "percent": None,
      "host_limit_bytes": 10 ** 10, "source": "cgroup"}),
    ("2", "1048576\n", "max\n", "anon 524288\ninactive_file 524288\n", 10 ** 10,
     {"usage_bytes": 524288, "limit_bytes": None, "percent": None,
      "host_limit_bytes": 10 ** 10, "source": "cgroup"}),
])
def test_cgroup_stats_feed_memory_from_stats(version, usage, limit, stat, mem_total, expected):
    stats = dr.cgroup_stats(version, usage, limit, stat, mem_total)
    configured = int(limit) if limit.strip().isdigit() and int(limit) < mem_total else 0
    assert dr.memory_from_stats(stats, configured, "cgroup") == expected


def test_cgroup_stats_bad_usage():
    assert dr.cgroup_stats("1", "garbage", "1", "") is None


def test_read_cgroup_memory_from_files(tmp_path):
    proc = tmp_path / "proc" / "4242"
    proc.mkdir(parents=True)
    (proc / "cgroup").write_text(PROC_CGROUP_V1)
    mem = tmp_path / "cg" / "memory" / "docker" / FULL_ID
    mem.mkdir(parents=True)
    (mem / "memory.usage_in_bytes").write_text("1000\n")
    (mem / "memory.limit_in_bytes").write_text("4000\n")
    (mem / "memory.stat").write_text("cache 300\ntotal_inactive_file 200\n")
    stats = dr.read_cgroup_memory(4242, FULL_ID, root=str(tmp_path / "cg"),
                                  proc=str(tmp_path / "proc"))
    assert dr.memory_from_stats(stats, 4000, "cgroup")["usage_bytes"] == 800
    assert dr.read_cgroup_memory(4243, FULL_ID, root=str(tmp_path / "cg"),
                                 proc=str(tmp_path / "proc")) is None
    assert dr.read_cgroup_memory(0, FULL_ID) is None


# ---- health, status, ports, mounts ------------------------------------------------------------

def test_normalize_health_masks_and_keeps_log():
    health = dr.normalize_health({"Health": HEALTH_UNHEALTHY})
    assert health["status"] == "unhealthy"
    assert health["failing_streak"] == 7
    assert [e["exit_code"] for e in health["log"]] == [1, 1]
    assert "Permission denied: '/var/run/docker.sock'" in health["log"][0]["output"]
    assert "hunter2" not in health["log"][0]["output"]
    assert "DB_PASSWORD=********" in health["log"][0]["output"]
    assert health["log"][1]["start"] == "2024-05-01T10:09:30.0Z"


@pytest.mark.parametrize("state", [{}, {"Status": "running"}, None])
def test_normalize_health_none(state):
    assert dr.normalize_health(state) is None


@pytest.mark.parametrize("state, expected", [
    ({"Status": "running", "StartedAt": "2024-05-01T10:05:00.987654321Z"}, "Up 4 minutes"),
    ({"Status": "running", "StartedAt": "2024-05-01T10:09:58Z",
      "Health": {"Status": "starting"}}, "Up 2 seconds (health: starting)"),
    ({"Status": "running", "StartedAt": "2024-04-28T10:00:00Z",
      "Health": {"Status": "unhealthy"}}, "Up 3 days (unhealthy)"),
    ({"Status": "running", "StartedAt": "2024-05-01T09:09:00Z",
      "Health": {"Status": "healthy"}}, "Up About an hour (healthy)"),
    (RESTARTING_STATE, "Restarting (1) 4 seconds ago"),
    (OOM_STATE, "Exited (137) 5 minutes ago"),
    ({"Status": "created", "StartedAt": "0001-01-01T00:00:00Z"}, "Created"),
    ({"Status": "paused", "Paused": True, "StartedAt": "2024-05-01T10:09:00Z"},
     "Up About a minute (Paused)"),
    ({"Status": "dead"}, "Dead"),
])
def test_format_status(state, expected):
    assert dr.format_status(state, now=NOW) == expected


@pytest.mark.parametrize("value, expected", [
    ("2024-05-01T10:00:00.123456789Z",
     datetime.datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=datetime.timezone.utc)),
    ("2024-05-01T12:00:00+02:00",
     datetime.datetime(2024, 5, 1, 10, 0, 0, tzinfo=datetime.timezone.utc)),
    ("0001-01-01T00:00:00Z", None),
    ("", None),
    (None, None),
    ("not a date", None),
])
def test_parse_docker_time(value, expected):
    assert dr.parse_docker_time(value) == expected


def test_normalize_ports_live_dedupes_and_skips_unpublished():
    ports = dr.normalize_ports(inspect_attrs()["NetworkSettings"]["Ports"])
    assert ports == [
        {"host_ip": "0.0.0.0", "host_port": 8000, "container_port": 8000, "protocol": "tcp"},
        {"host_ip": "::", "host_port": 8000, "container_port": 8000, "protocol": "tcp"},
    ]


@pytest.mark.parametrize("live, bindings, expected", [
    ({}, {"5432/tcp": [{"HostIp": "", "HostPort": "5432"}]},
     [{"host_ip": "0.0.0.0", "host_port": 5432, "container_port": 5432, "protocol": "tcp"}]),
    (None, {"53/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}]},
     [{"host_ip": "127.0.0.1", "host_port": None, "container_port": 53, "protocol": "udp"}]),
    (None, None, []),
    ({"10000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "10000"}],
      "9000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "9000"}]}, None,
     [{"host_ip": "0.0.0.0", "host_port": 9000, "container_port": 9000, "protocol": "tcp"},
      {"host_ip": "0.0.0.0", "host_port": 10000, "container_port": 10000, "protocol": "tcp"}]),
])
def test_normalize_ports_fallback_to_bindings(live, bindings, expected):
    assert dr.normalize_ports(live, bindings) == expected


def test_normalize_mounts():
    mounts = dr.normalize_mounts(inspect_attrs()["Mounts"] + [
        {"Type": "tmpfs", "Source": "", "Destination": "/tmp", "RW": True}])
    assert mounts == [
        {"type": "volume", "source": "sutazai_data", "destination": "/data", "rw": True,
         "name": "sutazai_data"},
        {"type": "bind", "source": "/var/run/docker.sock", "destination": "/var/run/docker.sock",
         "rw": False, "name": None},
        {"type": "tmpfs", "source": "", "destination": "/tmp", "rw": True, "name": None},
    ]


# ---- whole container --------------------------------------------------------------------------

def test_normalize_container_running():
    c = dr.normalize_container(inspect_attrs(), images={IMAGE_ID: "2024-04-30T08:00:00Z"}, now=NOW)
    assert c["id"] == "3f2a1b0c9d8e"
    assert c["name"] == "sutazai-backend-1"
    assert (c["project"], c["service"]) == ("sutazai", "backend")
    assert c["image"] == "sutazai/backend:latest"
    assert c["image_id"] == IMAGE_ID
    assert c["image_created"] == "2024-04-30T08:00:00Z"
    assert c["state"] == "running"
    assert c["status"] == "Up 9 minutes"  # 599.9 s, truncated like docker
    assert c["started_at"] == "2024-05-01T10:00:00.123456789Z"
    assert c["finished_at"] is None
    assert c["health"] is None
    assert c["restart_count"] == 0
    assert c["exit_code"] == 0
    assert c["oom_killed"] is False
    assert c["user"] is None
    assert c["privileged"] is False
    assert c["cap_add"] == [] and c["group_add"] == []
    assert c["restart_policy"] == "unless-stopped"
    assert c["mem_limit_bytes"] == 536870912
    assert c["mem_reservation_bytes"] is None
    assert c["memory"] is None and c["log_tail"] == []
    assert c["log_config"] == {"type": "json-file", "config": {"max-size": "10m"}}
    assert [m["type"] for m in c["mounts"]] == ["volume", "bind"]
    assert c["ports"][0]["host_port"] == 8000
    assert not dr.wants_log_tail(c)


def test_normalize_container_restart_loop():
    attrs = inspect_attrs(State=RESTARTING_STATE, RestartCount=14,
                          NetworkSettings={"Ports": {}})
    c = dr.normalize_container(attrs, now=NOW)
    assert c["state"] == "restarting"
    assert c["restart_count"] == 14
    assert c["exit_code"] == 1
    assert c["status"].startswith("Restarting (1)")
    assert c["image_created"] is None
    # ports fall back to the configured bindings; blank HostIp = all interfaces
    assert c["ports"] == [{"host_ip": "0.0.0.0", "host_port": 8000, "container_port": 8000,
                           "protocol": "tcp"}]
    assert dr.wants_log_tail(c)


@pytest.mark.parametrize("fact, expected", [
    ({"state": "running", "restart_count": 0, "health": None}, False),
    ({"state": "running", "restart_count": 0, "health": {"status": "healthy"}}, False),
    ({"state": "running", "restart_count": 0, "health": {"status": "unhealthy"}}, True),
    ({"state": "running", "restart_count": 12, "health": None}, True),  # caught between restarts
    ({"state": "restarting", "restart_count": 0}, True),
    ({"state": "exited", "restart_count": 0}, True),
    ({"state": "dead"}, True),
    ({"state": "created"}, False),
    ({"state": "paused"}, False),
])
def test_wants_log_tail(fact, expected):
    assert dr.wants_log_tail(fact) is expected


def test_normalize_container_restarting_flag_wins():
    state = dict(RESTARTING_STATE, Status="running")
    assert dr.normalize_container(inspect_attrs(State=state), now=NOW)["state"] == "restarting"


def test_normalize_container_oom_killed():
    c = dr.normalize_container(inspect_attrs(State=OOM_STATE), now=NOW)
    assert c["state"] == "exited"
    assert c["oom_killed"] is True
    assert c["exit_code"] == 137
    assert dr.wants_log_tail(c)


def test_normalize_container_unhealthy_privileged_root():
    state = dict(inspect_attrs()["State"], Health=HEALTH_UNHEALTHY)
    attrs = inspect_attrs(
        State=state,
        Config={"User": "0:0"},
        HostConfig={"Privileged": True, "CapAdd": ["NET_ADMIN"], "GroupAdd": [999],
                    "RestartPolicy": {"Name": ""}, "Memory": 0,
                    "LogConfig": {"Type": "json-file", "Config": None}},
    )
    c = dr.normalize_container(attrs, now=NOW)
    assert c["health"]["status"] == "unhealthy"
    assert c["status"] == "Up 9 minutes (unhealthy)"
    assert c["user"] == "0:0"
    assert c["privileged"] is True
    assert c["cap_add"] == ["NET_ADMIN"]
    assert c["group_add"] == ["999"]
    assert c["restart_policy"] == "no"
    assert c["mem_limit_bytes"] is None
    assert c["log_config"] == {"type": "json-file", "config": {}}
    assert dr.wants_log_tail(c)


def test_normalize_container_tolerates_sparse_attrs():
    c = dr.normalize_container({"Id": FULL_ID, "Name": "/x"})
    assert c["name"] == "x" and c["state"] == "unknown" and c["mounts"] == [] and c["ports"] == []


def test_normalize_container_does_not_mutate_input():
    attrs = inspect_attrs()
    before = copy.deepcopy(attrs)
    dr.normalize_container(attrs, now=NOW)
    assert attrs == before


# ---- logs, volumes, engine, host --------------------------------------------------------------

@pytest.mark.parametrize("raw, tail, expected", [
    (b"Traceback (most recent call last):\n  File \"app.py\", line 3\n"
     b"ModuleNotFoundError: No module named 'psutil'\n", 40,
     ["Traceback (most recent call last):", "  File \"app.py\", line 3",
      "ModuleNotFoundError: No module named 'psutil'"]),
    ("a\r\nb\r\nc\r\n", 2, ["b", "c"]),
    (b"POSTGRES_PASSWORD=s3cr3t\n", 40, ["POSTGRES_PASSWORD=********"]),
    (b"\xff\xfebroken utf8\n", 40, ["\ufffd\ufffdbroken utf8"]),
    (None, 40, []),
    (b"", 40, []),
])
def test_mask_log_lines(raw, tail, expected):
    assert dr.mask_log_lines(raw, tail=tail) == expected


def test_volumes_use_and_selection():
    containers = [
        dr.normalize_container(inspect_attrs(), now=NOW),
        dr.normalize_container(inspect_attrs(Id="b" * 64, Name="/sutazai-worker-1"), now=NOW),
    ]
    users = dr.volume_users(containers)
    assert users == {"sutazai_data": ["sutazai-backend-1", "sutazai-worker-1"]}
    volumes = [
        {"Name": "sutazai_data", "Driver": "local", "CreatedAt": "2024-05-01T09:00:00Z",
         "Labels": {"com.docker.compose.project": "sutazai"}},
        {"Name": "sutazai_old", "Driver": "local",
         "Labels": {"com.docker.compose.project": "sutazai"}},
        {"Name": "postgres_data", "Driver": "local", "Labels": None},
        {"Name": "other_db", "Driver": "local",
         "Labels": {"com.docker.compose.project": "other"}},
    ]
    selected = dr.select_volumes(volumes, "sutazai", users)
    assert [v["Name"] for v in selected] == ["sutazai_data", "sutazai_old", "postgres_data"]
    assert len(dr.select_volumes(volumes, None, users)) == 4
    dangling = {"sutazai_old", "postgres_data"}
    facts = [dr.normalize_volume(v, users.get(v["Name"]), dangling) for v in selected]
    assert facts[0] == {"name": "sutazai_data", "driver": "local", "project": "sutazai",
                        "in_use": True, "used_by": ["sutazai-backend-1", "sutazai-worker-1"],
                        "created": "2024-05-01T09:00:00Z",
                        "labels": {"com.docker.compose.project": "sutazai"}}
    assert [f["in_use"] for f in facts] == [True, False, False]
    # without the engine's dangling filter, use comes from the listed containers
    assert dr.normalize_volume(volumes[1], None, None)["in_use"] is False


def test_image_created_map():
    assert dr.image_created_map([{"Id": IMAGE_ID, "Created": 1714557600},
                                 {"Id": "sha256:x", "Created": "2024-01-01T00:00:00Z"}]) == {
        IMAGE_ID: "2024-05-01T10:00:00Z", "sha256:x": "2024-01-01T00:00:00Z"}


def test_engine_facts():
    facts = dr.engine_facts(
        {"Version": "20.10.24+dfsg1", "ApiVersion": "1.41", "Os": "linux"},
        {"LoggingDriver": "json-file", "CgroupVersion": "1", "MemTotal": 1024, "NCPU": 2},
        {"log-opts": {"max-size": "10m", "max-file": "3"}},
    )
    assert facts["version"] == "20.10.24+dfsg1"
    assert facts["api_version"] == "1.41"
    assert facts["logging_driver"] == "json-file"
    assert facts["log_opts"] == {"max-size": "10m", "max-file": "3"}
    assert dr.engine_facts()["log_opts"] == {}
    assert facts["no_new_privileges"] is False
    assert dr.engine_facts(daemon_json={"no-new-privileges": True})["no_new_privileges"] is True


@pytest.mark.parametrize("host, path", [
    ("unix:///var/run/docker.sock", "/var/run/docker.sock"),
    ("unix:///tmp/nothing.sock", "/tmp/nothing.sock"),
    ("/run/docker.sock", "/run/docker.sock"),
    ("tcp://10.0.0.5:2375", None),
    ("ssh://me@host", None),
    ("", None),
])
def test_socket_path_from_host(host, path):
    assert dr.socket_path_from_host(host) == path


@pytest.mark.parametrize("env, expected", [
    ({}, "unix:///var/run/docker.sock"),
    ({"DOCKER_HOST": "tcp://h:2375"}, "tcp://h:2375"),
    ({"DOCKER_HOST": ""}, "unix:///var/run/docker.sock"),
])
def test_default_docker_host(env, expected):
    assert dr.default_docker_host(env) == expected


def test_socket_facts(tmp_path):
    f = tmp_path / "fake.sock"
    f.write_text("")
    f.chmod(0o660)
    facts = dr.socket_facts(str(f))
    assert facts["exists"] is True and facts["mode"] == "0660"
    assert facts["gid"] == f.stat().st_gid and facts["owner"]
    assert dr.socket_facts(str(tmp_path / "missing"))["exists"] is False
    assert dr.socket_facts(None)["path"] is None


def test_read_daemon_json(tmp_path):
    good = tmp_path / "daemon.json"
    good.write_text('{"log-driver": "json-file", "log-opts": {"max-size": "10m"}}')
    assert dr.read_daemon_json(str(good))["log-opts"] == {"max-size": "10m"}
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert dr.read_daemon_json(str(bad)) == {}
    assert dr.read_daemon_json(str(tmp_path / "nope.json")) == {}


@pytest.mark.parametrize("exc, expected", [
    (ConnectionError(OSError()), "Cannot connect to the Docker daemon at unix:///x.sock: "),
    (Exception("boom"), "Cannot connect to the Docker daemon at unix:///x.sock: boom"),
    (Exception(Exception("Connection aborted.", FileNotFoundError(2, "No such file or directory"))),
     "Cannot connect to the Docker daemon at unix:///x.sock: socket not found"),
    (Exception(PermissionError(13, "Permission denied")),
     "Cannot connect to the Docker daemon at unix:///x.sock: permission denied"),
    (Exception(ConnectionRefusedError(111, "Connection refused")),
     "Cannot connect to the Docker daemon at unix:///x.sock: connection refused"),
])
def test_unreachable_error(exc, expected):
    assert dr.unreachable_error("unix:///x.sock", exc).startswith(expected)


def test_empty_runtime_shape():
    rt = dr.empty_runtime("unix:///tmp/nothing.sock", "Cannot connect")
    assert rt["docker"]["reachable"] is False
    assert rt["docker"]["error"] == "Cannot connect"
    assert rt["docker"]["socket"]["exists"] is False
    assert rt["containers"] == [] and rt["volumes"] == []


@pytest.mark.parametrize("seconds, expected", [
    (0, "Less than a second"), (1, "1 second"), (59, "59 seconds"), (60, "About a minute"),
    (300, "5 minutes"), (3600, "About an hour"), (3 * 3600, "3 hours"), (3 * 86400, "3 days"),
    (20 * 86400, "2 weeks"), (100 * 86400, "3 months"), (800 * 86400, "2 years"),
])
def test_human_duration(seconds, expected):
    assert dr.human_duration(seconds) == expected


def test_select_volumes_keeps_other_projects_copies_of_our_volumes():
    vol = lambda name, project, key: {"Name": name, "Labels": {  # noqa: E731
        "com.docker.compose.project": project, "com.docker.compose.volume": key}}
    volumes = [vol("sutazai_postgres_data", "sutazai", "postgres_data"),
               vol("sutazaiapp_postgres_data", "sutazaiapp", "postgres_data"),
               vol("other_cache", "other", "cache")]
    names = [v["Name"] for v in dr.select_volumes(volumes, "sutazai", {})]
    assert names == ["sutazai_postgres_data", "sutazaiapp_postgres_data"]


def test_fetch_stats_failure_is_no_reading():
    class Client(object):
        def stats(self, cid):
            raise dr.EngineError("No such container: %s" % cid, 404)
    assert dr._fetch_stats(Client(), "abc") is None


def test_secret_values_of_containers_env_and_command_line():
    attrs = [{"Config": {"Env": ["PIHOLE_PW=CanaryPw0001", "FOO=plainvalue", "LOG_LEVEL=info",
                                 "DSN=postgres://u:CanaryUrl0002@db/x", "FLAG=true"],
                         "Entrypoint": ["redis-server"], "Cmd": ["--requirepass", "CanaryCmd0003", "--port", "6379",
                                                                 "--masterauth=CanaryCmd0004"]}}]
    values = dr.secret_values_of_containers(attrs)
    assert {"CanaryPw0001", "postgres://u:CanaryUrl0002@db/x", "CanaryCmd0003"} <= values
    assert "plainvalue" not in values and "info" not in values and "6379" not in values


def test_log_and_health_output_scrubbed_with_values_seen():
    seen = {"CanaryPw0001"}
    lines = dr.mask_log_lines(b"connecting with CanaryPw0001\nok\n", tail=10, secret_values=seen)
    assert lines == ["connecting with ********", "ok"]
    state = {"Health": {"Status": "unhealthy", "FailingStreak": 1,
                        "Log": [{"ExitCode": 1, "Output": "auth CanaryPw0001 refused\n", "Start": "x"}]}}
    assert "CanaryPw0001" not in str(dr.normalize_health(state, secret_values=seen))
