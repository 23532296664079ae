# -*- coding: utf-8 -*-
"""Why a container dies: match a failing container's evidence against the crash-loop catalogue.

The catalogue is data (``roles/audit/files/crashloop_catalog.yml``, built from the research in
``crashloop-catalog.md``: 280 public reports, 27 causes). Each cause has an id, the states it
applies to, log signatures (Python ``re``, searched in the log tail, the health-check output or the
start error), inspect conditions, named confirmations and what to do. This module holds only the
matching and the confirmations, which read facts already gathered (container inspect, masked log
tail, mounts, compose model, host facts): nothing here talks to the engine.

Order is the disambiguation: causes are tried in catalogue order and the first one that matches
(and, when it says ``needs_confirm``, is confirmed) wins; e.g. ``localhost-in-container`` comes
before ``dep-not-ready`` and ``crlf-entrypoint`` (confirmed by the file's first line) before
``dynamic-binary-missing-loader`` for the same ``exec X: no such file or directory``.

Result (``diagnose``): None when the container is not failing, else
``{cause, title, confidence: confirmed|log|unknown, evidence: [lines], confirmations:
[lines], captures: {name: value}, action, fix: auto|cond|report, fix_tag, upstream}``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import os
import re

STATES = ("restart-loop", "exited", "start-error", "unhealthy")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
_FLAGS = re.MULTILINE


def failing_state(container, threshold, is_crash_looping):
    """The catalogue state of a container, or None when it is not failing.

    restart-loop (as the audit means it), start-error (``.State.Error`` set: the process never
    ran), exited (non-zero, or zero under an always/unless-stopped policy), unhealthy."""
    if container.get("state_error") and container.get("state") in ("created", "exited", "dead"):
        return "start-error"
    if is_crash_looping(container, threshold):
        return "restart-loop"
    if container.get("state") in ("exited", "dead"):
        code = container.get("exit_code")
        if code not in (0, None) or container.get("restart_policy") in ("always", "unless-stopped"):
            return "exited"
        return None
    if (container.get("health") or {}).get("status") == "unhealthy":
        return "unhealthy"
    return None


@functools.lru_cache(maxsize=1024)
def _regex(pattern):
    # The catalogue is compiled for every host (and re's own cache is shared with all other code);
    # compiled once in the playbook's main process (audit.preload), every worker forked after has it.
    return re.compile(pattern, _FLAGS)


def compile_catalog(catalog):
    """Validate and compile the catalogue's causes once: [{id, ..., patterns: [(source, regex)]}].
    Raises ValueError naming the cause and pattern that does not compile."""
    out = []
    for cause in (catalog or {}).get("causes") or []:
        compiled = []
        for source, patterns in sorted((cause.get("match") or {}).items()):
            for pattern in patterns or []:
                try:
                    compiled.append((source, _regex(pattern)))
                except re.error as exc:
                    raise ValueError("crash-loop catalogue: cause %s, pattern %r: %s"
                                     % (cause.get("id"), pattern, exc)) from None
        item = dict(cause)
        item["patterns"] = compiled
        item["captures"] = [(source, _regex(p)) for source, ps in sorted((cause.get("capture") or {}).items())
                            for p in ps or []]
        out.append(item)
    return out


def _texts(container):
    health = [h.get("output") or "" for h in ((container.get("health") or {}).get("log") or [])]
    # a start error (.State.Error) is what the process would have logged had it started
    log = [str(x) for x in container.get("log_tail") or []]
    if container.get("state_error"):
        log.append(str(container["state_error"]))
    # the start-up timing's verdict line (analysis/startup.py), when it found one
    startup = (container.get("startup") or {}).get("line") or ""
    return {"log": "\n".join(log),
            "health": "\n".join(health),
            "state_error": str(container.get("state_error") or ""),
            "startup": startup}


def _search(cause, texts):
    """(evidence lines, captures) of the last matching line per pattern, or (None, None)."""
    lines, captures = [], {}
    for source, regex in cause["patterns"]:
        matches = list(regex.finditer(texts.get(source) or ""))
        found = matches[-1] if matches else None
        if found is None:
            continue
        start = texts[source].rfind("\n", 0, found.start()) + 1
        end = texts[source].find("\n", found.end())
        line = texts[source][start:end if end >= 0 else None].strip() or found.group(0).strip()
        if line not in lines:
            lines.append(("%s: %s" % (source, line))[:300])
        captures.update({k: v for k, v in found.groupdict().items() if v})
    return (lines, captures) if lines else (None, None)


def _captures_only(cause, texts):
    """Named groups of the cause's ``capture`` patterns: context lines that do not make the cause
    match (``connecting to db:5432`` before Python's gaierror) but name what it is about."""
    out = {}
    for source, regex in cause["captures"]:
        for found in regex.finditer(texts.get(source) or ""):
            out.update({k: v for k, v in found.groupdict().items() if v})
    return out


def last_exit_code(container):
    """The exit code of the last run, or None when unknown: a crash-looping container caught
    running between two restarts reports ExitCode 0, which says nothing about how it ended; the
    engine's last ``die`` event does (``history``, gathered in the same pass)."""
    if container.get("state") == "running":
        return (container.get("history") or {}).get("last_exit_code")
    return container.get("exit_code")


def _state_ok(cause, state, container):
    when = cause.get("when") or {}
    if when.get("states") and state not in when["states"]:
        return False
    code = last_exit_code(container)
    exit_rule = when.get("exit")
    if exit_rule == "nonzero" and code == 0 and state != "start-error":
        return False
    if exit_rule == "zero" and code != 0:
        return False
    if isinstance(exit_rule, list) and code not in exit_rule:
        return False
    if when.get("oom_killed") is not None and bool(container.get("oom_killed")) != bool(when["oom_killed"]):
        return False
    return not (when.get("restart_policy") and container.get("restart_policy") not in when["restart_policy"])


def diagnose(container, state, causes, view):
    """Diagnosis of one failing container (``state`` from failing_state) -> dict (see module doc).

    ``causes``: compile_catalog(...); ``view``: a ProjectView (the other containers, the compose
    model, host facts) the confirmations read."""
    texts = _texts(container)
    for cause in causes:
        if not _state_ok(cause, state, container):
            continue
        lines, captures = _search(cause, texts) if cause["patterns"] else (None, None)
        if lines is None:
            if not cause.get("state_only"):
                continue
            lines, captures = [], {}
        captures = dict(_captures_only(cause, texts), **captures)
        confirms, refuted = _confirm(cause, container, captures, view)
        # a cause without a log line (state only), or one whose line is shared, needs a second signal
        if refuted or ((cause.get("needs_confirm") or not lines) and not confirms):
            continue
        confidence = "confirmed" if confirms else "log"
        return _result(cause, confidence, lines, confirms, captures, container, view)
    return {"cause": "unknown", "title": "Cause not recognised", "confidence": "unknown",
            "evidence": [line for line in ("log: %s" % x for x in (container.get("log_tail") or [])[-3:])],
            "confirmations": [], "captures": {}, "fix": "report", "fix_tag": None, "upstream": None,
            "action": "read the evidence below; no signature of the catalogue matched"}


def _result(cause, confidence, lines, confirms, captures, container, view):
    upstream = None
    target = captures.get("host") or captures.get("service")
    if target and view.is_service(target) and target != container.get("service") and view.failing(target):
        upstream = target
    try:
        action = (cause.get("action") or "").format_map(_Blank(captures))
    except (ValueError, IndexError, AttributeError):
        action = cause.get("action") or ""
    # a cause with several sub-causes offers its fix only for the one it fixes (fix_needs: captures)
    fixable = all(captures.get(name) for name in cause.get("fix_needs") or [])
    return {"cause": cause["id"], "title": cause.get("title") or cause["id"], "confidence": confidence,
            "evidence": lines, "confirmations": confirms, "captures": captures, "action": action,
            "fix": (cause.get("fix") or "report") if fixable else "report",
            "fix_tag": cause.get("fix_tag") if fixable else None, "upstream": upstream}


class _Blank(dict):
    def __missing__(self, key):
        return "?"


def _confirm(cause, container, captures, view):
    """Run the cause's named confirmations: ([lines that hold], refuted?). A confirmation listed
    under ``refute`` that holds rules the cause out (e.g. the host has AVX)."""
    holds = []
    for name in cause.get("confirm") or []:
        line = CONFIRMATIONS[name](container, captures, view)
        if line:
            holds.append(line)
    for name in cause.get("refute") or []:
        line = CONFIRMATIONS[name](container, captures, view)
        if line:
            return holds, True
    return holds, False


# ------------------------------------------------------------------ confirmations
# Each: (container fact, regex captures, view) -> a line saying what holds, or None.

def _mount_over(container, path):
    best = None
    for m in container.get("mounts") or []:
        dest = (m.get("destination") or "").rstrip("/") or "/"
        covers = path == dest or path.startswith(dest + "/")
        if covers and (best is None or len(dest) > len(best.get("destination") or "")):
            best = m
    return best


def c_oom_killed(container, captures, view):
    if container.get("oom_killed"):
        return "State.OOMKilled is true"
    kills = (container.get("history") or {}).get("oom_kills")
    return "the engine reported %d oom event(s) for it in the last hour" % kills if kills else None


def c_path_under_mount(container, captures, view):
    path = captures.get("path") or captures.get("dir")
    m = _mount_over(container, path) if path else None
    if not m:
        return None
    return "%s lies under the %s mount %s -> %s (user %s)" % (
        path, m.get("type"), m.get("source"), m.get("destination"), container.get("user") or "image default")


def c_bind_over_workdir(container, captures, view):
    workdir = container.get("working_dir") or ""
    path = captures.get("path") or ""
    for m in container.get("mounts") or []:
        dest = (m.get("destination") or "").rstrip("/")
        if m.get("type") == "bind" and dest and (workdir == dest or workdir.startswith(dest + "/")
                                                 or path.startswith(dest + "/")):
            return "the bind mount %s -> %s hides what the image has there (working dir %s)" % (
                m.get("source"), m.get("destination"), workdir or "?")
    return None


def c_host_is_down(container, captures, view):
    host = captures.get("host")
    if host and view.is_service(host) and (view.failing(host) or not view.running(host)):
        return "%s is a service of the project and is not up (%s)" % (host, view.state_of(host))
    return None


def c_host_not_service(container, captures, view):
    host = captures.get("host")
    if not host or view.is_service(host):
        return None
    near = view.nearest_service(host)
    return "no service, alias or container is called %s%s" % (host, "; did you mean %s?" % near if near else "")


def c_no_shared_network(container, captures, view):
    host = captures.get("host")
    if not host or not view.is_service(host):
        return None
    mine, theirs = set(container.get("networks") or []), view.networks_of(host)
    if mine and theirs and not mine & theirs:
        captures["network_of"] = host  # the fix (role crashloop) joins one of its networks
        return "%s (networks %s) shares no network with %s (networks %s)" % (
            container.get("service"), ", ".join(sorted(mine)), host, ", ".join(sorted(theirs)))
    return None


def c_env_localhost(container, captures, view):
    keys = container.get("env_local_keys") or []
    if keys:
        return "environment points at the container itself: %s (values not shown)" % ", ".join(keys)
    return None


def c_dependency_not_gated(container, captures, view):
    deps = view.depends_on(container.get("service"))
    targets = [captures["host"]] if captures.get("host") and view.is_service(captures["host"]) else list(deps)
    for target in targets:
        cond = deps.get(target)
        if cond != "service_healthy":
            # the fix (role crashloop) gates this dependency: name it and the file defining it
            captures["dependency"] = target
            captures["dependency_file"] = (view.services.get(target) or {}).get("file")
            return "%s depends on %s %s, so it starts before %s is ready%s" % (
                container.get("service"), target, "with condition %s" % cond if cond else "not at all",
                target, "" if view.has_healthcheck(target) else " (%s has no healthcheck)" % target)
    return None


def c_file_crlf(container, captures, view):
    f = view.file_of(container, captures.get("path"))
    return "%s starts with %r and its first line ends in CR (\\r)" % (f["path"], f.get("shebang")) \
        if f and f.get("crlf") else None


def c_file_not_executable(container, captures, view):
    f = view.file_of(container, captures.get("path"))
    if f and f.get("exists") and f.get("mode") is not None and not int(f["mode"]) & 0o111:
        return "%s has mode %o in the image: not executable" % (f["path"], int(f["mode"]))
    return None


def c_file_no_shebang(container, captures, view):
    f = view.file_of(container, captures.get("path"))
    if f and f.get("exists") and not f.get("elf") and not f.get("shebang"):
        return "%s is neither an ELF binary nor a script with a #! line" % f["path"]
    return None


def c_file_elf(container, captures, view):
    f = view.file_of(container, captures.get("path"))
    return "%s is an ELF binary: its loader (interpreter) is missing from the image" % f["path"] \
        if f and f.get("elf") else None


def c_file_missing(container, captures, view):
    f = view.file_of(container, captures.get("path"))
    return "%s does not exist in the container" % f["path"] if f and f.get("exists") is False else None


def c_host_has_avx(container, captures, view):
    return "the host CPU has AVX (/proc/cpuinfo)" if view.host.get("cpu_avx") else None


def c_host_lacks_avx(container, captures, view):
    return "the host CPU lacks AVX (/proc/cpuinfo flags)" if view.host.get("cpu_avx") is False else None


def c_map_count_low(container, captures, view):
    value = view.host.get("max_map_count")
    return "host vm.max_map_count is %s (< 262144)" % value if value is not None and value < 262144 else None


def c_healthcheck_uses_tool(container, captures, view):
    tool = captures.get("tool")
    test = " ".join(str(t) for t in container.get("healthcheck_test") or [])
    if tool and re.search(r"(^|[\s\"'/])%s(\s|$)" % re.escape(tool), test):
        return "the health check runs %s: %s" % (tool, test[:200])
    return None


def c_no_foreground(container, captures, view):
    cmd = " ".join(str(t) for t in container.get("command") or [])
    if re.search(r"\bservice\s+\S+\s+(start|restart)\b|\bsystemctl\s+start\b|\s-d\s*$|--daemon\b|&\s*$", cmd):
        return "the command starts a daemon in the background and returns: %s" % cmd[:200]
    if last_exit_code(container) == 0 and container.get("restart_policy") in ("always", "unless-stopped"):
        return "exit code 0 under restart policy %s: the main process ends, Docker starts it again" % (
            container.get("restart_policy"))
    return None


def c_short_start_period(container, captures, view):
    """The catalogue's confirmation: the first passing probe or ready line came later than
    StartedAt + start_period + interval x retries (a service still starting has no such time)."""
    t = container.get("startup") or {}
    if t.get("verdict") == "slow-start":
        captures["ready_after_s"] = "%g" % t["ready_after_s"]
        captures["startup"] = "ready after %gs" % t["ready_after_s"]
        return "ready after %gs (%s) > start_period %gs + interval %gs x retries %d = %gs" % (
            t["ready_after_s"], t["ready_source"], t["start_period_s"], t["interval_s"], t["retries"], t["window_s"])
    if t.get("verdict") == "still-starting":
        captures["starting_for_s"] = "%g" % t["observed_s"]   # a lower bound only: the fix uses its cap
        captures["startup"] = "not ready after %gs yet" % t["observed_s"]
    return None


CONFIRMATIONS = {
    "oom_killed": c_oom_killed, "path_under_mount": c_path_under_mount, "bind_over_workdir": c_bind_over_workdir,
    "host_is_down": c_host_is_down, "host_not_service": c_host_not_service,
    "no_shared_network": c_no_shared_network, "env_localhost": c_env_localhost,
    "dependency_not_gated": c_dependency_not_gated, "file_crlf": c_file_crlf,
    "file_not_executable": c_file_not_executable, "file_no_shebang": c_file_no_shebang, "file_elf": c_file_elf,
    "file_missing": c_file_missing, "host_has_avx": c_host_has_avx, "host_lacks_avx": c_host_lacks_avx,
    "map_count_low": c_map_count_low, "healthcheck_uses_tool": c_healthcheck_uses_tool,
    "no_foreground": c_no_foreground, "short_start_period": c_short_start_period,
}


class ProjectView(object):
    """What the confirmations may read about the rest of the project: services of the compose
    model, the containers (by service), host facts. Built once per audit."""

    def __init__(self, services, containers, host=None, threshold=3, is_crash_looping=None):
        self.services = services or {}
        self.by_service = {}
        for c in containers or []:
            if c.get("service"):
                self.by_service.setdefault(c["service"], []).append(c)
        self.names = set(self.services) | set(c.get("name") for c in containers or [] if c.get("name"))
        for svc in self.services.values():
            self.names.update((svc or {}).get("aliases") or [])
            if (svc or {}).get("container_name"):
                self.names.add(svc["container_name"])
        self.host = host or {}
        self.threshold = threshold
        self.is_crash_looping = is_crash_looping or (lambda c, t: False)

    def is_service(self, name):
        return bool(name) and name in self.names

    def state_of(self, name):
        cs = self.by_service.get(name) or []
        return ", ".join("%s %s" % (c.get("name"), c.get("state")) for c in cs) or "no container"

    def running(self, name):
        return any(c.get("state") == "running" for c in self.by_service.get(name) or [])

    def failing(self, name):
        return any(failing_state(c, self.threshold, self.is_crash_looping) for c in self.by_service.get(name) or [])

    def networks_of(self, name):
        nets = set()
        for c in self.by_service.get(name) or []:
            nets.update(c.get("networks") or [])
        return nets

    def depends_on(self, name):
        """{service: condition} from the compose model (long or short syntax)."""
        deps = (self.services.get(name) or {}).get("depends_on") or {}
        if isinstance(deps, list):
            return {d: "service_started" for d in deps}
        return {k: (v or {}).get("condition", "service_started") if isinstance(v, dict) else "service_started"
                for k, v in deps.items()}

    def has_healthcheck(self, name):
        hc = (self.services.get(name) or {}).get("healthcheck")
        return bool(hc) and not (hc or {}).get("disable")

    def nearest_service(self, name):
        best = None
        for cand in sorted(self.services):
            d = _distance(name, cand)
            if d <= 2 and (best is None or d < best[0]):
                best = (d, cand)
        return best[1] if best else None

    @staticmethod
    def file_of(container, path):
        files = container.get("files") or {}
        if path and path in files:
            return dict(files[path], path=path)
        if not path and len(files) == 1:
            (p, f), = files.items()
            return dict(f, path=p)
        return None


def _distance(a, b):
    """Levenshtein distance (small names only)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


# ------------------------------------------------------------------ fixes: probes

_URL_RE = re.compile(r"https?://[^\s'\"|;&]+")
_HOSTPORT_RE = re.compile(r"\b((?:localhost|127\.0\.0\.1|[a-z][\w.-]*)):(\d{2,5})\b")
_PY_HTTP = "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=5)"
_PY_TCP = "import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)"


def probe_candidates(test, missing_tool=None):
    """Health-check tests that ask what ``test`` asks with other tools, best first.

    ``test``: the compose/inspect form (``["CMD", "curl", "-f", URL]``, ``["CMD-SHELL", "..."]`` or
    a string). An HTTP URL in it is probed with python3/python urllib, wget or curl; a host:port
    alone with a TCP connect (python, bash /dev/tcp). The tool that is missing is left out. Each
    candidate must be run once in the container before it is written (the fix does): a tool's
    presence is proven, not assumed. Returns [] when the test names neither URL nor host:port.
    """
    text = " ".join(str(t) for t in test) if isinstance(test, (list, tuple)) else str(test or "")
    url = _URL_RE.search(text)
    out = []
    if url:
        u = url.group(0)
        out = [["CMD", "python3", "-c", _PY_HTTP, u], ["CMD", "python", "-c", _PY_HTTP, u],
               ["CMD", "wget", "-q", "--spider", u], ["CMD", "curl", "-fsS", "-o", "/dev/null", u]]
    else:
        hp = _HOSTPORT_RE.search(text)
        if hp:
            host, port = hp.group(1), hp.group(2)
            out = [["CMD", "python3", "-c", _PY_TCP, host, port], ["CMD", "python", "-c", _PY_TCP, host, port],
                   ["CMD", "bash", "-c", "exec 3<>/dev/tcp/%s/%s" % (host, port)]]
    return [c for c in out if c[1] != missing_tool]


# Probes a database image answers with its own client, by the port it serves (tried first).
_PORT_CLIENTS = {
    5432: [["CMD", "pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"]],
    3306: [["CMD", "mysqladmin", "ping", "-h", "127.0.0.1", "--silent"]],
    6379: [["CMD", "redis-cli", "-h", "127.0.0.1", "ping"]],
}


def port_probe_candidates(port):
    """Health-check tests for a service that listens on TCP ``port`` (int or str), best first: the
    database's own client for its well-known port, then a TCP connect with python3, python or bash.
    Like probe_candidates, each must be run once in the container before it is written.
    Returns [] for a port that is not an integer in 1..65535."""
    try:
        number = int(str(port).split("/")[0])
    except (TypeError, ValueError):
        return []
    if not 0 < number < 65536:
        return []
    p = str(number)
    return [list(c) for c in _PORT_CLIENTS.get(number, [])] + [
        ["CMD", "python3", "-c", _PY_TCP, "127.0.0.1", p], ["CMD", "python", "-c", _PY_TCP, "127.0.0.1", p],
        ["CMD", "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%s" % p]]


def gated_depends_on(effective, target):
    """The ``depends_on`` mapping that gates ``target`` on ``condition: service_healthy``.

    ``effective``: the service's depends_on as Compose's effective model gives it (``docker
    compose config --format json``: {service: {condition, required, restart}}), or the short list
    form. The other dependencies keep their condition; ``required: false`` and ``restart: true``
    are kept where set (Compose's defaults are left out). Returns {service: {condition, ...}}."""
    if isinstance(effective, (list, tuple)):
        effective = {name: {} for name in effective}
    out = {}
    for name, spec in list((effective or {}).items()) + ([(target, {})] if target not in (effective or {}) else []):
        spec = spec if isinstance(spec, dict) else {}
        entry = {"condition": "service_healthy" if name == target else spec.get("condition") or "service_started"}
        if spec.get("required") is False:
            entry["required"] = False
        if spec.get("restart") is True:
            entry["restart"] = True
        out[name] = entry
    return out


def executable_mode(mode):
    """The mode that lets whoever may read a script execute it: ``"0644"`` -> ``"0755"``,
    ``"0600"`` -> ``"0700"``, ``"0640"`` -> ``"0750"`` (mode as an octal string or int).
    Returns None when the result would be world-writable (never made executable for everyone:
    fix that file's mode by hand) or the mode does not parse."""
    try:
        value = int(str(mode), 8) if not isinstance(mode, int) else mode
    except ValueError:
        return None
    new = value | ((value & 0o444) >> 2)
    if new & 0o002:
        return None
    return "%04o" % new


def mounted_host_path(mounts, path):
    """Where a container path lives on the host, through the mount that covers it.

    ``mounts``: the engine's ``.Mounts`` ([{Type, Source, Destination, RW}], inspect form) or the
    evidence form ([{type, source, destination, rw}]); ``path``: an absolute container path.
    Returns {'host_path', 'type', 'rw', 'destination'} for a bind or volume mount (the deepest
    that covers the path), or None when the path is in the container's own layer."""
    best = None
    for m in mounts or []:
        get = (lambda k, m=m: m.get(k) if k in m else m.get(k.lower()))  # inspect or evidence keys
        dest = (get("Destination") or "").rstrip("/") or "/"
        covers = path == dest or (path or "").startswith(dest.rstrip("/") + "/")
        if covers and get("Type") in ("bind", "volume") and get("Source") and (
                best is None or len(dest) > len(best["destination"])):
            rel = os.path.relpath(path, dest) if path != dest else ""
            best = {"host_path": os.path.normpath(os.path.join(get("Source"), rel)), "type": get("Type"),
                    "rw": bool(get("RW") if get("RW") is not None else True), "destination": dest}
    return best


def joined_networks(effective, network):
    """The ``networks`` mapping of a service that also joins ``network``.

    ``effective``: the service's networks as Compose's effective model gives them ({name: settings
    or None}; a service without ``networks:`` is on ``default``), or the short list form. Every
    network it is on keeps its settings (aliases, addresses). Returns {name: settings or None}."""
    if isinstance(effective, (list, tuple)):
        effective = {name: None for name in effective}
    out = dict(effective or {"default": None})
    out.setdefault(network, None)
    return out


def _mount_get(m, key):
    return m.get(key) if key in m else m.get(key.lower())   # inspect or evidence keys


def shadow_mask_path(mounts, working_dir, captures):
    """The container path to cover with an anonymous volume so the image's files show again
    (bind-mount-shadows-image), or None when masking cannot help.

    ``mounts``: the engine's ``.Mounts`` (inspect or evidence keys); ``captures``: the diagnosis
    captures. A missing node module means ``node_modules`` under the bind mount over the working
    dir; a missing path means the first directory under the bind mount that holds it. A file lying
    directly in the bind mount cannot be masked (narrow the bind mount instead), nor can a path
    that already has its own mount (masked already, so something else is wrong)."""
    mounts = mounts or []
    binds = [(_mount_get(m, "Destination") or "").rstrip("/") for m in mounts if _mount_get(m, "Type") == "bind"]
    taken = {(_mount_get(m, "Destination") or "").rstrip("/") for m in mounts}
    workdir = (working_dir or "").rstrip("/")
    module, path, mask = captures.get("module"), captures.get("path"), None
    if module and not module.startswith((".", "/")):
        mask = workdir + "/node_modules" if workdir else None   # packages resolve from the working dir
        path = mask + "/" + module if mask else None
    elif path and not path.startswith("/"):
        path = workdir + "/" + path if workdir else None
    if not path:
        return None
    path = os.path.normpath(path)
    covering = [d for d in binds if d and path.startswith(d + "/")]
    if not covering:
        return None
    dest = max(covering, key=len)
    parts = os.path.relpath(path, dest).split("/")
    if len(parts) < 2 or parts[0] in ("", ".", ".."):
        return None
    mask = mask or dest + "/" + parts[0]
    return None if mask in taken else mask


_TAG_RE = re.compile(r"^(?P<ver>\d+(?:\.\d+)*)(?P<suffix>-[A-Za-z0-9][\w.-]*)?$")


def _data_version(old):
    """The version that wrote the data as a list of numbers: '15.3' -> [15, 3]; MySQL's
    version id (80036, from 'Cannot downgrade from 80036') -> [8, 0, 36]."""
    if not re.match(r"^\d+(?:\.\d+)*$", str(old or "")):
        return None
    parts = [int(p) for p in str(old).split(".")]
    if len(parts) == 1 and parts[0] >= 10000:
        n = parts[0]
        parts = [n // 10000, (n // 100) % 100, n % 100]
    return parts


def pinned_image(image, old, version_parts=None):
    """(image pinned to the version that wrote the data, None) or (None, why not).

    ``image``: the service's image reference; ``old``: the version the data directory names;
    ``version_parts``: image name -> how many numbers make a major version (mysql 8.0: 2; postgres
    16: 1, the default; postgres before 10 always 2). Registry, path and the tag's variant suffix
    (-alpine, -bookworm) are kept; a digest, no tag, or a tag that is not a version is refused."""
    image = str(image or "")
    if not image or "@" in image:
        return None, "the image %s is pinned by digest: choose the older image yourself" % (image or "(none)")
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:
        return None, "the image %s has no tag to pin" % image
    m = _TAG_RE.match(tag)
    if not m:
        return None, "the tag %s of %s is not a version that can be pinned back" % (tag, name)
    data = _data_version(old)
    if not data:
        return None, "the version that wrote the data is not known (%s)" % (old or "none")
    parts = int((version_parts or {}).get(name.rsplit("/", 1)[-1], 1))
    if parts == 1 and data[0] < 10 and len(data) > 1:
        parts = 2   # PostgreSQL 9.6: two numbers were the major version
    want = data[:max(parts, 1)]
    have = [int(p) for p in m.group("ver").split(".")]
    if have[:len(want)] == want:
        return None, "%s already runs %s: the data version does not explain the failure" % (
            image, ".".join(map(str, want)))
    return "%s:%s%s" % (name, ".".join(map(str, want)), m.group("suffix") or ""), None


_GO_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_UNIT_S = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def duration_seconds(value):
    """A Compose duration ('1m30s', '90s', '500ms'; a number = seconds) -> seconds, or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value or "").strip()
    if not text or _GO_DURATION_RE.sub("", text):
        return None
    return sum(float(n) * _UNIT_S[u] for n, u in _GO_DURATION_RE.findall(text))


def start_period_plan(written, effective, captures, cap_s, api_version=None):
    """The health-check keys that let a slow starter start (healthcheck-start-period), or why not.

    ``written``: the service's ``healthcheck`` as its compose file writes it; ``effective``: the
    same from Compose's effective model; ``captures``: the diagnosis captures (``ready_after_s``
    when the start-up time was seen, ``starting_for_s`` when it is still starting); ``cap_s``: the
    most start_period this fix writes. A known start-up time gets 1.5x (at least +10 s), rounded up
    to 5 s; an unknown one (still starting) gets the cap. start_interval (engine API >= 1.44) makes
    the probe run every 2 s during the start period, so it turns healthy soon after it is ready.
    Returns {'set': {start_period[, start_interval]}, 'seconds', 'why': ''} or {'set': {}, 'why'}."""
    written = written if isinstance(written, dict) else {}
    if not written.get("test"):
        return {"set": {}, "why": "its health check comes from the image, not the compose file: set one there"}
    for key in ("start_period", "start_interval"):
        if "$" in str(written.get(key) or ""):
            return {"set": {}, "why": "its %s is a variable (%s): raise it where the variable is set" % (
                key, written[key])}
    cap = int(cap_s)
    ready, starting = captures.get("ready_after_s"), captures.get("starting_for_s")
    if ready not in (None, "", "?"):
        need = int(-(-max(float(ready) * 1.5, float(ready) + 10) // 5) * 5)
    elif starting not in (None, "", "?"):
        need = max(cap, int(float(starting)) + 1)
    else:
        return {"set": {}, "why": "its start-up time is not known"}
    need = min(need, cap)
    current = duration_seconds((effective or {}).get("start_period")) or 0
    if current >= need:
        why = ("its start_period (%gs) already reaches the cap crashloop_start_period_max (%ds)" % (current, cap)
               if need == cap else "")
        return {"set": {}, "why": why, "seconds": int(current)}
    out = {"start_period": "%ds" % need}
    api = tuple(int(p) for p in re.findall(r"\d+", str(api_version or "0"))[:2])
    if api >= (1, 44) and not written.get("start_interval"):
        out["start_interval"] = "2s"
    return {"set": out, "seconds": need, "why": ""}
