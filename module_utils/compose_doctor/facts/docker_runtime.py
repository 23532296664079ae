# -*- coding: utf-8 -*-
"""Runtime facts from the Docker engine, gathered in one batched pass.

Two layers:

* pure normalisers (``normalize_*``, ``memory_from_stats`` ...): plain dicts in, plain dicts
  out, no I/O, unit-tested with inspect/stats dicts;
* I/O edges (``gather_runtime`` and the ``_fetch_*`` / ``read_*`` helpers), over the Engine API
  client of ``engine_api`` (standard library only): one container list (with each container's
  inspect attrs), then memory of the
  running containers and log tails of the broken ones, fetched concurrently in a thread pool.
  Memory comes from the container's cgroup files when the daemon is local (``auto``), else
  from one-shot ``stats`` API calls: engines before API 1.42 answer a one-shot request only on
  their next 1 s collection tick, so the API path costs about 1 s per wave of workers.
  Never a CLI process per container.

``gather_runtime`` never raises for an unreachable daemon: it returns ``reachable: false`` with
a human error and empty lists.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import json
import io
import os
import re
import stat
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

try:
    import grp
    import pwd
except ImportError:  # pragma: no cover - non-POSIX controller
    grp = pwd = None

from ansible.module_utils.compose_doctor.analysis import startup
from ansible.module_utils.compose_doctor.facts import engine_api, runtime_extras
from ansible.module_utils.compose_doctor.facts.engine_api import EngineError
from ansible.module_utils.compose_doctor.redact import SecretPolicy, is_secret_key, mask_text, scrub

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
DAEMON_JSON = "/etc/docker/daemon.json"
VOLUME_LABEL = "com.docker.compose.volume"
PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
# States whose log tail is worth reading for a diagnosis.
LOG_STATES = ("restarting", "exited", "dead")


# --------------------------------------------------------------------------------------------
# pure helpers
# --------------------------------------------------------------------------------------------

def default_docker_host(environ=None):
    environ = os.environ if environ is None else environ
    return environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def socket_path_from_host(docker_host):
    """unix:///var/run/docker.sock -> /var/run/docker.sock; tcp://... or ssh://... -> None."""
    if not docker_host:
        return None
    if docker_host.startswith("unix://"):
        return docker_host[len("unix://"):] or None
    if docker_host.startswith("/"):
        return docker_host
    return None


# Docker's timestamps: one parser, in analysis/startup.py (which this module imports for the
# start-up timing); re-exported here for the facts and the report.
_ts, parse_docker_time = startup.docker_time_or_none, startup.parse_docker_time


def human_duration(seconds):
    """Like docker's units.HumanDuration (the 'Up 3 minutes' wording)."""
    seconds = int(max(0, seconds))
    if seconds < 1:
        return "Less than a second"
    if seconds == 1:
        return "1 second"
    if seconds < 60:
        return "%d seconds" % seconds
    minutes = seconds // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return "%d minutes" % minutes
    hours = int(round(seconds / 3600.0))
    if hours == 1 and seconds < 7200:
        return "About an hour"
    if hours < 48:
        return "%d hours" % hours
    if hours < 24 * 7 * 2:
        return "%d days" % (hours // 24)
    if hours < 24 * 30 * 2:
        return "%d weeks" % (hours // 24 // 7)
    if hours < 24 * 365 * 2:
        return "%d months" % (hours // 24 // 30)
    return "%d years" % (hours // 24 // 365)


def format_status(state, now=None):
    """The `docker ps` STATUS text from an inspect State dict ('Up 5 minutes (healthy)')."""
    state = state or {}
    now = now or datetime.datetime.now(datetime.timezone.utc)
    status = state.get("Status") or "unknown"
    started = parse_docker_time(state.get("StartedAt"))
    finished = parse_docker_time(state.get("FinishedAt"))
    health = (state.get("Health") or {}).get("Status")
    if status == "running" and not state.get("Paused"):
        text = "Up %s" % human_duration((now - started).total_seconds()) if started else "Up"
        if health == "starting":
            text += " (health: starting)"
        elif health in ("healthy", "unhealthy"):
            text += " (%s)" % health
        return text
    if status == "paused" or state.get("Paused"):
        up = human_duration((now - started).total_seconds()) if started else "?"
        return "Up %s (Paused)" % up
    if status == "restarting":
        ago = human_duration((now - finished).total_seconds()) if finished else "?"
        return "Restarting (%s) %s ago" % (state.get("ExitCode", 0), ago)
    if status in ("exited", "dead"):
        if status == "dead":
            return "Dead"
        ago = human_duration((now - finished).total_seconds()) if finished else "?"
        return "Exited (%s) %s ago" % (state.get("ExitCode", 0), ago)
    if status == "created":
        return "Created"
    if status == "removing":
        return "Removal In Progress"
    return status.capitalize()


def secret_values_of_containers(attrs_list, patterns=None):
    """Values to scrub from log lines and health output, seen in the containers' own config: the
    environment values the classifier calls secret (any key name for a URL with credentials) and
    the value after a secret-named flag on the command line (``--requirepass X``, ``--password=X``).
    They never leave this module."""
    policy = SecretPolicy(patterns)
    values = set()
    for attrs in attrs_list or []:
        config = (attrs or {}).get("Config") or {}
        for item in config.get("Env") or []:
            key, sep, value = str(item).partition("=")
            if sep and policy.classify(key, value) in ("secret", "default-credential"):
                values.add(value)
        args = [str(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])]
        for i, arg in enumerate(args):
            flag, eq, value = arg.partition("=")
            if not flag.startswith("-") or not is_secret_key(flag.lstrip("-"), patterns):
                continue
            if eq:
                values.add(value)
            elif i + 1 < len(args) and not args[i + 1].startswith("-"):
                values.add(args[i + 1])
    return set(v for v in values if len(v) >= 4)


def _clean(line, patterns, secret_values):
    return mask_text(scrub(line, secret_values), patterns)


def normalize_health(state, patterns=None, secret_values=None):
    """State.Health -> {status, failing_streak, log: [{exit_code, output, start}]} or None;
    output scrubbed of ``secret_values`` and masked (``KEY=value``, URL credentials)."""
    health = (state or {}).get("Health")
    if not health:
        return None
    log = []
    for entry in health.get("Log") or []:
        output = entry.get("Output") or ""
        output = "\n".join(_clean(line, patterns, secret_values) for line in output.rstrip("\n").splitlines())
        log.append({
            "exit_code": entry.get("ExitCode"),
            "output": output,
            "start": entry.get("Start"),
            "end": entry.get("End"),
        })
    return {
        "status": health.get("Status"),
        "failing_streak": int(health.get("FailingStreak") or 0),
        "log": log,
    }


def normalize_mounts(mounts):
    """inspect Mounts -> [{type, source, destination, rw, name}]; a volume's source is its name."""
    out = []
    for m in mounts or []:
        mtype = m.get("Type") or ("volume" if m.get("Name") else "bind")
        name = m.get("Name") or None
        out.append({
            "type": mtype,
            "source": name if (mtype == "volume" and name) else (m.get("Source") or ""),
            "destination": m.get("Destination") or "",
            "rw": bool(m.get("RW", True)),
            "name": name,
        })
    return out


def normalize_ports(network_settings_ports, port_bindings=None):
    """Published ports -> [{host_ip, host_port, container_port, protocol}].

    Uses NetworkSettings.Ports (live, running containers); when that is empty (stopped
    containers) falls back to HostConfig.PortBindings (configured). Unpublished exposed
    ports are left out. A blank HostIp in the configuration means all interfaces: 0.0.0.0.
    """
    source = network_settings_ports or port_bindings or {}
    out = []
    seen = set()
    for key in sorted(source, key=_port_sort_key):
        bindings = source.get(key)
        if not bindings:
            continue
        port, _, proto = key.partition("/")
        try:
            container_port = int(port)
        except ValueError:
            continue
        for b in bindings:
            host_ip = b.get("HostIp") or "0.0.0.0"
            host_port = b.get("HostPort")
            try:
                host_port = int(host_port) if host_port not in (None, "") else None
            except ValueError:
                host_port = None
            item = (host_ip, host_port, container_port, proto or "tcp")
            if item in seen:
                continue
            seen.add(item)
            out.append({"host_ip": host_ip, "host_port": host_port,
                        "container_port": container_port, "protocol": proto or "tcp"})
    return out


def _port_sort_key(key):
    port, _, proto = key.partition("/")
    try:
        return (int(port), proto)
    except ValueError:
        return (0, key)


def mem_usage_from_stats(memory_stats):
    """Usage without page cache, the way `docker stats` computes it.

    cgroup v1: usage - total_inactive_file (fallback: cache); cgroup v2: usage - inactive_file.
    Returns None when there is no usage figure (container not running).
    """
    memory_stats = memory_stats or {}
    usage = memory_stats.get("usage")
    if usage is None:
        return None
    sub = memory_stats.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file", "cache"):
        value = sub.get(key)
        if value is not None and value < usage:
            return int(usage - value)
    return int(usage)


def memory_from_stats(stats, configured_limit, source="api"):
    """stats(stream=False) dict + HostConfig.Memory -> {usage_bytes, limit_bytes, percent,
    host_limit_bytes}, or None when the stats carry no memory figure.

    limit_bytes is None when the container has no memory limit (HostConfig.Memory == 0);
    percent is then None too (usage against the host's memory is not a pressure signal).
    """
    if not stats:
        return None
    memory_stats = stats.get("memory_stats") or {}
    usage = mem_usage_from_stats(memory_stats)
    if usage is None:
        return None
    limit = int(configured_limit) if configured_limit else None
    percent = round(100.0 * usage / limit, 1) if limit else None
    host_limit = memory_stats.get("limit")
    return {
        "usage_bytes": usage,
        "limit_bytes": limit,
        "percent": percent,
        "host_limit_bytes": int(host_limit) if host_limit else None,
        "source": source,
    }


def parse_proc_cgroup(text):
    """/proc/<pid>/cgroup -> (v1 memory controller path or None, v2 unified path or None)."""
    v1 = v2 = None
    for line in (text or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            v2 = path
        elif "memory" in controllers.split(","):
            v1 = path
    return v1, v2


def cgroup_memory_dirs(proc_cgroup_text, container_id, root="/sys/fs/cgroup"):
    """Candidate cgroup directories holding the memory files of a container, most specific
    first, as (version, dir). Paths that do not name the container id are rejected (guards
    against a recycled pid or a foreign pid namespace)."""
    v1, v2 = parse_proc_cgroup(proc_cgroup_text)
    out = []
    if v1 and container_id in v1:
        out.append(("1", root.rstrip("/") + "/memory" + v1))
    if v2 and container_id in v2 and v2 != "/":
        out.append(("2", root.rstrip("/") + v2))
        out.append(("2", root.rstrip("/") + "/unified" + v2))
    return out


def parse_memory_stat(text):
    """memory.stat -> {key: int}."""
    out = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out


def cgroup_stats(version, usage_text, limit_text, stat_text, mem_total=None):
    """Raw cgroup memory files -> the `memory_stats` shape of the stats API, so the same
    memory_from_stats() applies. v1: memory.usage_in_bytes / memory.limit_in_bytes,
    v2: memory.current / memory.max ('max' = unlimited)."""
    try:
        usage = int(usage_text.strip())
    except (AttributeError, ValueError):
        return None
    limit_text = (limit_text or "").strip()
    limit = None if limit_text in ("", "max") else int(limit_text)
    if mem_total and (limit is None or limit > mem_total):
        limit = int(mem_total)
    memory_stats = {"usage": usage, "stats": parse_memory_stat(stat_text)}
    if limit is not None:
        memory_stats["limit"] = limit
    return {"memory_stats": memory_stats, "cgroup_version": version}


def mask_log_lines(raw, patterns=None, tail=None, secret_values=None):
    """bytes|str log output -> list of scrubbed and masked lines (last `tail`)."""
    if raw is None:
        return []
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", "replace")
    lines = [line.rstrip("\r") for line in raw.splitlines()]
    if tail:
        lines = lines[-tail:]
    return [_clean(line, patterns, secret_values) for line in lines]


def wants_log_tail(fact):
    """Restarting, exited, dead and unhealthy containers get a log tail; so does a running
    container that has restarted (a crash loop caught between two restarts)."""
    if fact.get("state") in LOG_STATES:
        return True
    if fact.get("restart_count"):
        return True
    health = fact.get("health") or {}
    return health.get("status") == "unhealthy"


def normalize_container(attrs, images=None, now=None, patterns=None, secret_values=None):
    """Full inspect attrs of one container -> the contract's container fact.

    `images` maps image id -> created timestamp (ISO); memory and log_tail start empty and
    are filled by the I/O layer.
    """
    attrs = attrs or {}
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    state = attrs.get("State") or {}
    labels = config.get("Labels") or {}
    image_id = attrs.get("Image") or ""
    restart = (host.get("RestartPolicy") or {}).get("Name") or "no"
    log_config = host.get("LogConfig") or {}
    status = state.get("Status") or "unknown"
    if state.get("Restarting"):
        status = "restarting"
    fact = {
        "id": (attrs.get("Id") or "")[:12],
        "name": (attrs.get("Name") or "").lstrip("/"),
        "project": labels.get(PROJECT_LABEL),
        "service": labels.get(SERVICE_LABEL),
        "image": config.get("Image") or image_id,
        "image_id": image_id,
        "image_created": (images or {}).get(image_id),
        "state": status,
        "status": format_status(state, now=now),
        "started_at": _ts(state.get("StartedAt")),
        "finished_at": _ts(state.get("FinishedAt")),
        "health": normalize_health(state, patterns, secret_values),
        "restart_count": int(attrs.get("RestartCount") or 0),
        "exit_code": state.get("ExitCode"),
        "oom_killed": bool(state.get("OOMKilled")),
        "user": config.get("User") or None,
        "privileged": bool(host.get("Privileged")),
        "cap_add": list(host.get("CapAdd") or []),
        "cap_drop": list(host.get("CapDrop") or []),
        "security_opt": [str(o) for o in host.get("SecurityOpt") or []],
        # namespaces as Compose writes them ("host", "container:<id>", "" for the engine's default)
        "pid": host.get("PidMode") or "",
        "ipc": host.get("IpcMode") or "",
        "uts": host.get("UTSMode") or "",
        "userns_mode": host.get("UsernsMode") or "",
        "network_mode": host.get("NetworkMode") or "",
        "read_only": bool(host.get("ReadonlyRootfs")),
        "pids_limit": int(host.get("PidsLimit") or 0) if int(host.get("PidsLimit") or 0) > 0 else None,
        "group_add": [str(g) for g in (host.get("GroupAdd") or [])],
        "restart_policy": restart,
        "mounts": normalize_mounts(attrs.get("Mounts")),
        "ports": normalize_ports((attrs.get("NetworkSettings") or {}).get("Ports"),
                                 host.get("PortBindings")),
        "mem_limit_bytes": int(host.get("Memory") or 0) or None,
        "mem_reservation_bytes": int(host.get("MemoryReservation") or 0) or None,
        "memory": None,
        "cpu_usage_ns": None,
        "log_config": {"type": log_config.get("Type"), "config": dict(log_config.get("Config") or {})},
        "log_tail": [],
    }
    fact.update(failure_evidence(attrs, patterns, secret_values))
    return fact


_LOCAL_RE = re.compile(r"(?:^|[/@:=\s])(?:localhost|127\.0\.0\.1|\[?::1\]?)(?:[:/\s]|$)")


def failure_evidence(attrs, patterns=None, secret_values=None):
    """What the crash-loop doctor reads beyond the contract (catalogue §4), from the same inspect:
    start error, command (secret flags scrubbed), working dir, networks, health-check test and
    start period (seconds), and the NAMES of environment variables whose value points at the
    container itself (localhost, 127.0.0.1, ::1) -- never a value."""
    config = attrs.get("Config") or {}
    state = attrs.get("State") or {}
    health = config.get("Healthcheck") or {}
    local_keys = []
    for item in config.get("Env") or []:
        key, sep, value = str(item).partition("=")
        if sep and _LOCAL_RE.search(value):
            local_keys.append(key)
    clean = lambda v: _clean(str(v), patterns, secret_values)  # noqa: E731
    period = health.get("StartPeriod")
    return {
        "state_error": clean(state.get("Error")) if state.get("Error") else None,
        "command": [clean(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])],
        "working_dir": config.get("WorkingDir") or None,
        "env_local_keys": sorted(local_keys),
        "networks": sorted(((attrs.get("NetworkSettings") or {}).get("Networks") or {}).keys()),
        "healthcheck_test": [clean(a) for a in health.get("Test") or []],
        "healthcheck_start_period_s": int(period) // 10 ** 9 if period is not None else None,
    }


def normalize_volume(vol, used_by=None, dangling=None):
    """volumes list entry -> {name, driver, project, in_use, used_by, created, labels}.

    in_use: referenced by any container on the host (the engine's own `dangling` filter when
    known), else by one of the listed containers.
    """
    labels = vol.get("Labels") or {}
    used_by = sorted(used_by or [])
    in_use = vol.get("Name") not in dangling if dangling is not None else bool(used_by)
    return {
        "name": vol.get("Name"),
        "driver": vol.get("Driver"),
        "project": labels.get(PROJECT_LABEL),
        "in_use": in_use,
        "used_by": used_by,
        "created": vol.get("CreatedAt"),
        "labels": dict(labels),
    }


def volume_users(containers):
    """container facts -> {volume name: [container names]} (from the same list, no calls)."""
    users = {}
    for c in containers:
        for m in c.get("mounts") or []:
            if m.get("type") == "volume" and m.get("name"):
                users.setdefault(m["name"], []).append(c["name"])
    return users


def select_volumes(volumes, project, users):
    """With a project filter keep the project's volumes, unlabelled ones, those our containers
    mount, and other projects' copies of one of our volumes (same compose volume key under
    another prefix: the duplicates the audit reports); drop the rest of other projects'."""
    if not project:
        return list(volumes)
    labels = [v.get("Labels") or {} for v in volumes]
    ours = {lb.get(VOLUME_LABEL) for lb in labels if lb.get(PROJECT_LABEL) == project} - {None}
    out = []
    for v, lb in zip(volumes, labels):
        vp = lb.get(PROJECT_LABEL)
        if vp == project or vp is None or v.get("Name") in users or lb.get(VOLUME_LABEL) in ours:
            out.append(v)
    return out


def image_created_map(image_summaries):
    """GET /images/json entries -> {image id: ISO-8601 UTC created}."""
    out = {}
    for img in image_summaries or []:
        created = img.get("Created")
        if isinstance(created, (int, float)):
            created = datetime.datetime.fromtimestamp(created, datetime.timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
        out[img.get("Id")] = created
    return out


def engine_facts(version=None, info=None, daemon_json=None):
    """client.version() + client.info() + parsed daemon.json -> engine part of `docker`."""
    version = version or {}
    info = info or {}
    daemon_json = daemon_json or {}
    return {
        "version": version.get("Version"),
        "api_version": version.get("ApiVersion"),
        "os": version.get("Os"),
        "kernel_version": version.get("KernelVersion") or info.get("KernelVersion"),
        "logging_driver": info.get("LoggingDriver") or daemon_json.get("log-driver"),
        "log_opts": dict(daemon_json.get("log-opts") or {}),
        # daemon-wide no-new-privileges (daemon.json): every container gets it unless it opts out
        "no_new_privileges": daemon_json.get("no-new-privileges") is True,
        "cgroup_driver": info.get("CgroupDriver"),
        "cgroup_version": info.get("CgroupVersion"),
        "mem_total_bytes": info.get("MemTotal"),
        "ncpu": info.get("NCPU"),
        "containers_total": info.get("Containers"),
    }


def _root_os_error(exc, depth=0):
    """The innermost OSError inside an EngineError (its __cause__) or other wrappers, or None."""
    if exc is None or depth > 8:
        return None
    if isinstance(exc, OSError) and getattr(exc, "errno", None):
        return exc
    for inner in list(getattr(exc, "args", ()) or ()) + [getattr(exc, "reason", None),
                                                        exc.__cause__, exc.__context__]:
        if isinstance(inner, BaseException):
            found = _root_os_error(inner, depth + 1)
            if found is not None:
                return found
    return None


def unreachable_error(docker_host, exc):
    """A human error for a daemon we could not talk to."""
    root = _root_os_error(exc)
    if root is not None:
        reason = (root.strerror or str(root)).strip()
        if isinstance(root, FileNotFoundError):
            reason = "socket not found (%s); is the docker daemon running?" % reason.lower()
        elif isinstance(root, PermissionError):
            reason = ("permission denied (%s); run as root or as a member of the socket's "
                      "group" % reason.lower())
        elif isinstance(root, ConnectionRefusedError):
            reason = "connection refused; is the docker daemon running?"
        return "Cannot connect to the Docker daemon at %s: %s" % (docker_host, reason)
    reason = str(exc) or exc.__class__.__name__
    return "Cannot connect to the Docker daemon at %s: %s" % (docker_host, reason)


def empty_runtime(docker_host, error=None, socket=None):
    """The runtime dict of a daemon we could not talk to: same keys, no facts."""
    docker_facts = {
        "reachable": False,
        "error": error,
        "host": docker_host,
        "socket": socket or socket_facts(socket_path_from_host(docker_host)),
        "memory_source": None,
        "host_facts": host_facts(None),
    }
    docker_facts.update(engine_facts())
    return {"docker": docker_facts, "containers": [], "volumes": [], "networks": [], "disk_usage": None}


# --------------------------------------------------------------------------------------------
# I/O edges
# --------------------------------------------------------------------------------------------

def socket_facts(path):
    """os.stat of the daemon socket -> {path, exists, owner, group, gid, uid, mode}."""
    facts = {"path": path, "exists": False, "owner": None, "group": None,
             "uid": None, "gid": None, "mode": None}
    if not path:
        return facts
    try:
        st = os.stat(path)
    except OSError:
        return facts
    facts.update(exists=True, uid=st.st_uid, gid=st.st_gid,
                 mode="%04o" % stat.S_IMODE(st.st_mode),
                 is_socket=stat.S_ISSOCK(st.st_mode))
    try:
        facts["owner"] = pwd.getpwuid(st.st_uid).pw_name if pwd else None
    except KeyError:
        facts["owner"] = str(st.st_uid)
    try:
        facts["group"] = grp.getgrgid(st.st_gid).gr_name if grp else None
    except KeyError:
        facts["group"] = str(st.st_gid)
    return facts


def read_daemon_json(path=DAEMON_JSON):
    """/etc/docker/daemon.json as a dict; {} when missing, unreadable or invalid."""
    try:
        with open(path) as fh:
            data = json.load(fh)
    except (OSError, IOError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def connect(docker_host, timeout=10, pool_size=10):
    """engine_api.EngineClient for docker_host (API version negotiated; one connection per
    request, so any pool_size of threads may share it). Raises EngineError."""
    return engine_api.connect(docker_host, timeout=timeout)


def read_cgroup_memory(pid, container_id, root="/sys/fs/cgroup", proc="/proc", mem_total=None):
    """Memory of a running container straight from its cgroup (the files the engine's stats
    collector reads). None when not readable here (remote daemon, other pid namespace...)."""
    if not pid:
        return None
    try:
        with open("%s/%d/cgroup" % (proc, int(pid))) as fh:
            proc_cgroup = fh.read()
    except (OSError, IOError, ValueError):
        return None
    for version, path in cgroup_memory_dirs(proc_cgroup, container_id, root):
        names = (("memory.usage_in_bytes", "memory.limit_in_bytes") if version == "1"
                 else ("memory.current", "memory.max"))
        try:
            with open(os.path.join(path, names[0])) as fh:
                usage = fh.read()
            with open(os.path.join(path, "memory.stat")) as fh:
                stat_text = fh.read()
            try:
                with open(os.path.join(path, names[1])) as fh:
                    limit = fh.read()
            except (OSError, IOError):
                limit = ""
        except (OSError, IOError):
            continue
        stats = cgroup_stats(version, usage, limit, stat_text, mem_total)
        if stats is not None:
            return stats
    return None


def _fetch_stats(client, cid):
    """One-shot stats (API >= 1.41 skips the 1 s second sample); None on failure."""
    try:
        return client.stats(cid)
    except (EngineError, OSError, ValueError):
        return None


EVENTS_WINDOW_S = 3600


def _fetch_events(client, window=EVENTS_WINDOW_S):
    """The engine's die and oom container events of the last ``window`` seconds, one call."""
    now = int(time.time())
    try:
        return client.events(since=now - int(window), until=now,
                             filters={"type": "container", "event": ["die", "oom"]})
    except (EngineError, OSError, ValueError):
        return []


def run_history(events):
    """container id (12) -> {last_exit_code, oom_kills}: how the last runs ended, which the
    inspect of a container caught running between two restarts no longer says (ExitCode 0,
    OOMKilled false)."""
    out = {}
    for ev in sorted(events or [], key=lambda e: e.get("timeNano") or e.get("time") or 0):
        cid = (ev.get("id") or (ev.get("Actor") or {}).get("ID") or "")[:12]
        if not cid:
            continue
        item = out.setdefault(cid, {"last_exit_code": None, "oom_kills": 0})
        action = ev.get("Action") or ev.get("status")
        if action == "oom":
            item["oom_kills"] += 1
        elif action == "die":
            code = ((ev.get("Actor") or {}).get("Attributes") or {}).get("exitCode")
            if str(code or "").lstrip("-").isdigit():
                item["last_exit_code"] = int(code)
    return out


def _fetch_logs(client, cid, tail, tty=None):
    try:
        return client.logs(cid, tail=tail, timestamps=True, tty=tty)
    except (EngineError, OSError, ValueError):
        return None


def list_containers(client, project=None):
    """One container list (all, the project's label), each container's inspect attrs."""
    filters = {"label": "%s=%s" % (PROJECT_LABEL, project)} if project else None
    return client.list_containers(filters=filters)


def gather_runtime(project=None, docker_host=None, timeout=10, stats=True, stats_workers=8,
                   log_tail_lines=40, patterns=None, daemon_json_path=DAEMON_JSON, client=None,
                   memory_source="auto", cgroup_root="/sys/fs/cgroup", proc_root="/proc", databases=None,
                   disk_usage_timeout=runtime_extras.DF_TIMEOUT, http_apis=None):
    """The container_facts `runtime` dict. Never raises for an unreachable daemon.

    memory_source: ``api`` = one-shot stats per running container (concurrent);
    ``cgroup`` = read the container's cgroup memory files (local daemon only);
    ``auto`` = cgroup when readable, else the stats API for that container.
    databases: the recognised kinds (audit_database_kinds) probed by one exec each;
    disk_usage_timeout: seconds for the one /system/df call (0: not called);
    http_apis: the monitoring/mesh API kinds (audit_http_apis) read with GETs on published ports.
    """
    docker_host = docker_host or default_docker_host()
    sock = socket_facts(socket_path_from_host(docker_host))
    workers = max(1, int(stats_workers or 1))
    own_client = client is None
    try:
        if own_client:
            client = connect(docker_host, timeout=timeout, pool_size=workers)
    except EngineError as exc:
        return empty_runtime(docker_host, unreachable_error(docker_host, exc), sock)
    # The cgroup files are only ours to read when the daemon is on this machine.
    if memory_source == "auto" and not sock.get("exists"):
        memory_source = "api"
    opts = dict(project=project, docker_host=docker_host, sock=sock, want_stats=stats,
                workers=workers, log_tail_lines=log_tail_lines, patterns=patterns,
                daemon_json_path=daemon_json_path, memory_source=memory_source,
                cgroup_root=cgroup_root, proc_root=proc_root, databases=databases or [],
                df_timeout=disk_usage_timeout, http_apis=http_apis or [])
    try:
        return _gather(client, **opts)
    except (EngineError, OSError) as exc:
        return empty_runtime(docker_host, unreachable_error(docker_host, exc), sock)
    finally:
        if own_client:
            with contextlib.suppress(Exception):  # best effort
                client.close()


def read_memory(client, cid, pid, memory_source, cgroup_root, proc_root, mem_total):
    """(stats dict, source) for one running container."""
    if memory_source in ("auto", "cgroup"):
        stats = read_cgroup_memory(pid, cid, cgroup_root, proc_root, mem_total)
        if stats is not None or memory_source == "cgroup":
            return stats, "cgroup"
    return _fetch_stats(client, cid), "api"


def read_usage(client, cid, pid, memory_source, cgroup_root, proc_root, mem_total):
    """(memory stats, source, total CPU ns) for one running container: one job of the pool."""
    stats, source = read_memory(client, cid, pid, memory_source, cgroup_root, proc_root, mem_total)
    return stats, source, runtime_extras.read_cpu_usage_ns(pid, cid, cgroup_root, proc_root,
                                                           stats if source == "api" else None)


def probe_database(client, attrs, kind, patterns, secret_values):
    """One read-only exec in a recognised database container -> the fact's ``database`` dict."""
    user, user_source = runtime_extras.env_user(attrs, kind, patterns)
    code, raw, error = runtime_extras.run_probe(client, attrs["Id"], runtime_extras.probe_argv(kind, user),
                                                runtime_extras.exec_auth_env(attrs, kind))
    lines = mask_log_lines(raw, patterns, tail=200, secret_values=secret_values)
    fact = {"kind": kind.get("kind"), "user": user, "user_source": user_source}
    fact.update(runtime_extras.probe_result(kind, code, lines,
                                            _clean(error, patterns, secret_values) if error else None))
    return fact


def _gather(client, project, docker_host, sock, want_stats, workers, log_tail_lines, patterns,
            daemon_json_path, memory_source, cgroup_root, proc_root, databases, df_timeout, http_apis):
    with ThreadPoolExecutor(max_workers=workers) as pool:
        # The cheap host-wide calls overlap the container list.
        f_version = pool.submit(client.version)
        f_info = pool.submit(client.info)
        f_images = pool.submit(client.images)
        f_volumes = pool.submit(client.volumes)
        f_dangling = pool.submit(client.volumes, filters={"dangling": True})
        f_events = pool.submit(_fetch_events, client)
        f_networks = pool.submit(runtime_extras.fetch_networks, client)
        f_df = pool.submit(runtime_extras.fetch_disk_usage, client, df_timeout) if df_timeout else None
        attrs_list = list_containers(client, project)

        images = image_created_map(_result(f_images, []))
        info = _result(f_info, {}) or {}
        mem_total = info.get("MemTotal")
        now = datetime.datetime.now(datetime.timezone.utc)
        by_id = {}
        containers = []
        secret_values = secret_values_of_containers(attrs_list, patterns)
        for a in attrs_list:
            c = normalize_container(a, images=images, now=now, patterns=patterns, secret_values=secret_values)
            by_id[c["id"]] = a
            containers.append(c)
        containers.sort(key=lambda c: (c["project"] or "", c["service"] or "", c["name"]))

        mem_jobs = {}
        log_jobs = {}
        for c in containers:
            a = by_id[c["id"]]
            if want_stats and c["state"] == "running":
                pid = (a.get("State") or {}).get("Pid")
                mem_jobs[c["id"]] = pool.submit(read_usage, client, a["Id"], pid, memory_source,
                                                cgroup_root, proc_root, mem_total)
            if log_tail_lines and wants_log_tail(c):
                log_jobs[c["id"]] = pool.submit(_fetch_logs, client, a["Id"], int(log_tail_lines),
                                                bool((a.get("Config") or {}).get("Tty")))
        file_jobs = {}
        for c in containers:
            if c["id"] in mem_jobs:
                stats, source, c["cpu_usage_ns"] = mem_jobs[c["id"]].result()
                c["memory"] = memory_from_stats(stats, c["mem_limit_bytes"], source)
            if c["id"] in log_jobs:
                times, text = startup.split_timestamps(log_jobs[c["id"]].result())
                c["log_tail"] = mask_log_lines(text, patterns, tail=int(log_tail_lines), secret_values=secret_values)
                add_startup(c, by_id[c["id"]], times[-int(log_tail_lines):])
            # the file an exec error names, read out of the container (never changed)
            paths = exec_paths(c)
            if paths:
                file_jobs[c["id"]] = dict((p, pool.submit(read_file_head, client, by_id[c["id"]]["Id"], p))
                                          for p in paths)
        probe_jobs = _submit_probes(pool, client, containers, by_id, databases, patterns, secret_values, http_apis)
        history = run_history(_result(f_events, []))
        for c in containers:
            c["history"] = history.get(c["id"], {"last_exit_code": None, "oom_kills": 0})
            if c["id"] in file_jobs:
                c["files"] = dict((p, job.result()) for p, job in file_jobs[c["id"]].items())
            for key, job in probe_jobs.get(c["id"], {}).items():
                c[key] = job.result()

        version = f_version.result()
        vol_resp = _result(f_volumes, {}) or {}
        dangling_resp = _result(f_dangling, None)
        networks = _result(f_networks, [])
        df_raw, df_meta = f_df.result() if f_df else (None, {"error": "not gathered"})
    runtime = _assemble(containers, project, vol_resp, dangling_resp, sock, daemon_json_path)
    runtime["docker"].update({"host": docker_host, "memory_source": memory_source,
                              "host_facts": host_facts(proc_root if sock.get("exists") else None)})
    runtime["docker"].update(engine_facts(version, info, runtime.pop("daemon_json")))
    runtime["networks"] = runtime_extras.select_networks(networks, project, containers)
    runtime["disk_usage"] = runtime_extras.normalize_disk_usage(
        df_raw, df_meta, set(by_id[c["id"]].get("Image") for c in containers), [v["name"] for v in runtime["volumes"]])
    return runtime


def _submit_probes(pool, client, containers, by_id, databases, patterns, secret_values, http_apis=None):
    """Per running container: one exec job when it is of a recognised database kind, one HTTP
    job (3 timed GETs) when its health check is HTTP on a published port, one API read (a GET
    per path) when it is a recognised monitoring/mesh API. -> {id: {key: future}}."""
    jobs = {}
    for c in containers:
        c["http_probe"] = None
        if c["state"] != "running":
            continue
        url = runtime_extras.health_endpoint(by_id[c["id"]])
        if url:
            jobs.setdefault(c["id"], {})["http_probe"] = pool.submit(runtime_extras.probe_http, url)
        kind = runtime_extras.match_database(c["service"], c["image"], databases)
        if kind is not None:
            jobs.setdefault(c["id"], {})["database"] = pool.submit(probe_database, client, by_id[c["id"]], kind,
                                                                   patterns, secret_values)
        api = runtime_extras.match_database(c["service"], c["image"], http_apis)
        if api is not None:
            jobs.setdefault(c["id"], {})["api"] = pool.submit(runtime_extras.read_api, by_id[c["id"]], api)
    return jobs


def _assemble(containers, project, vol_resp, dangling_resp, sock, daemon_json_path):
    daemon_json = read_daemon_json(daemon_json_path) if sock.get("exists") else {}
    users = volume_users(containers)
    dangling = None
    if dangling_resp is not None:
        dangling = set(v.get("Name") for v in (dangling_resp.get("Volumes") or []))
    volumes = [normalize_volume(v, users.get(v.get("Name")), dangling)
               for v in select_volumes(vol_resp.get("Volumes") or [], project, users)]
    volumes.sort(key=lambda v: v["name"] or "")
    docker_facts = {"reachable": True, "error": None, "socket": sock}
    return {"docker": docker_facts, "containers": containers, "volumes": volumes, "daemon_json": daemon_json}


_EXEC_PATH_RE = re.compile(r'exec:? \\?"?(/[^\s":\\]+)\\?"?:? (?:no such file or directory|permission denied|'
                           r'exec format error)|(?:^|sh: (?:\d+: )?)(/[^\s:]+): Permission denied', re.IGNORECASE)


def add_startup(fact, attrs, log_times):
    """How long the service took to become ready vs its health check's window (catalogue row 22):
    ``startup`` and ``ready_after_s`` on a container with a health check, from facts already read."""
    if not fact.get("health"):
        return
    hc = startup.healthcheck_config((attrs.get("Config") or {}).get("Healthcheck"))
    timing = startup.startup_timing(fact.get("started_at"), fact["health"].get("log"), fact.get("log_tail"),
                                    log_times, hc)
    if timing:
        fact["startup"] = timing
        fact["ready_after_s"] = timing["ready_after_s"]


def exec_paths(fact):
    """Up to two absolute paths an exec error of a failing container names (log tail, start error)."""
    if not wants_log_tail(fact) and not fact.get("state_error"):
        return []
    found = []
    for line in list(fact.get("log_tail") or [])[-20:] + [fact.get("state_error") or ""]:
        for m in _EXEC_PATH_RE.finditer(line or ""):
            path = m.group(1) or m.group(2)
            if path and path not in found:
                found.append(path)
    return found[-2:]


def read_file_head(client, cid, path, limit=512):
    """{exists, mode, shebang, crlf, elf} of a file in a container, read through the archive
    endpoint (a copy out; the container is not changed). Values are never returned: only the
    first line's interpreter when it is a #! line."""
    try:
        data, info = client.get_archive(cid, path)
    except (EngineError, OSError, ValueError):
        return {"exists": False}
    mode = (info or {}).get("mode")
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            member = next((m for m in tar.getmembers() if m.isfile()), None)
            head = tar.extractfile(member).read(limit) if member else b""
            mode = member.mode if member else mode
    except (tarfile.TarError, OSError):
        head = b""
    first = head.split(b"\n", 1)[0]
    shebang = first.decode("utf-8", "replace").rstrip("\r")[:80] if first.startswith(b"#!") else None
    return {"exists": True, "mode": (int(mode) & 0o7777) if mode is not None else None, "shebang": shebang,
            "crlf": first.endswith(b"\r"), "elf": head.startswith(b"\x7fELF")}


def host_facts(proc_root="/proc"):
    """Host facts the crash-loop doctor confirms with, readable without privileges: the CPU's AVX
    flag (/proc/cpuinfo) and vm.max_map_count. None when unknown (a remote daemon)."""
    out = {"cpu_avx": None, "max_map_count": None}
    if not proc_root:
        return out
    try:
        with open(os.path.join(proc_root, "cpuinfo")) as fh:
            flags = [line for line in fh if line.startswith("flags")]
        if flags:
            out["cpu_avx"] = " avx" in flags[0] or flags[0].rstrip().endswith("avx")
    except (IOError, OSError):
        pass
    try:
        with open(os.path.join(proc_root, "sys", "vm", "max_map_count")) as fh:
            out["max_map_count"] = int(fh.read().strip())
    except (IOError, OSError, ValueError):
        pass
    return out


def _result(future, default):
    try:
        return future.result()
    except (EngineError, OSError, ValueError):
        return default
