# -*- coding: utf-8 -*-
"""compose-doctor rule catalog: compose facts + runtime facts + policy -> findings.

Pure logic, stdlib only. ``evaluate(compose, runtime, policy)`` returns a list of finding dicts
(see the shared contract)::

    {id, rule, severity, priority, title, target, service, container, file, line,
     evidence, impact, diagnosis, fix}

* ``id`` is stable: ``<rule>:<target>`` where target is the service, container, file, volume
  or ``service:port/proto`` the finding is about, so the same problem keeps the same id
  across audits (before/after comparisons, SARIF fingerprints, Prometheus series).
* severities ``critical|high|medium|low`` map to priorities ``P0..P3``.
  ``policy['rule_severity'][rule]`` overrides a rule's severity (for all of its findings);
  ``policy['disabled_rules']`` switches rules off.
* when ``runtime['docker']['reachable']`` is false only the file-based rules run, plus
  ``daemon-unreachable``; rules that mix file and runtime facts fall back to the file part.
* thresholds and lists come from ``policy`` (``DEFAULT_POLICY`` holds the defaults; a partial
  policy is merged over it), never from literals in rule code.
* evidence never carries a secret value: secrets are shown as key name + ``********`` and log
  lines are re-masked (``KEY=value`` with a secret-looking key) before they become evidence.
"""
from __future__ import absolute_import, division, print_function

import copy
import re
from collections import namedtuple

from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.analysis import crashloop, drift, rightsizing
from ansible.module_utils.compose_doctor.facts.compose_values import (
    capability_name, clean_host_path, is_root_user, port_label, security_options,
)
from ansible.module_utils.compose_doctor.redact import DEFAULT_CREDENTIALS, DEFAULT_SECRET_KEY_PATTERNS
from ansible.module_utils.compose_doctor.redact import redact_text
from ansible.module_utils.compose_doctor.change.requirements_file import normalize_name
from ansible.module_utils.compose_doctor.sizes import format_size, parse_size

# info: hardening advice most Compose files do not follow yet; listed, weighs 0 in the score, and
# only an explicit audit_fail_on=info gates on it.
SEVERITIES = ("critical", "high", "medium", "low", "info")
PRIORITY = {"critical": "P0", "high": "P1", "medium": "P2", "low": "P3", "info": "P4"}
SEVERITY_RANK = dict((s, i) for i, s in enumerate(SEVERITIES))
MASK = "********"

DEFAULT_POLICY = {
    # --- contract keys -------------------------------------------------------------------
    "restart_threshold": 3,
    "memory_pressure_pct": 80,
    "overprovisioned_pct": 10,
    "overprovisioned_min_limit": "512MiB",
    "mesh_services": ["kong", "consul"],
    "monitoring_services": ["prometheus", "grafana", "loki", "alertmanager"],
    "database_ports": [5432, 3306, 6379, 27017, 9200, 7687, 5672, 1433],
    "default_credentials": list(DEFAULT_CREDENTIALS),
    "secret_key_patterns": list(DEFAULT_SECRET_KEY_PATTERNS),
    "python_module_map": {
        "psutil": "psutil", "yaml": "PyYAML", "cv2": "opencv-python-headless", "PIL": "Pillow",
        "sklearn": "scikit-learn", "bs4": "beautifulsoup4", "dateutil": "python-dateutil",
        "dotenv": "python-dotenv", "jwt": "PyJWT", "docker": "docker", "requests": "requests",
        "redis": "redis", "psycopg2": "psycopg2-binary",
    },
    # Fix tags this installation ships (None: every fix in fix_map counts as available).
    "available_fixes": None,
    "fix_map": {
        "restart-loop": {"role": "python_deps", "tag": "pydeps"},
        "unhealthy": {"role": "socket_access", "tag": "socket"},
        "not-running": {"role": "compose_sprawl", "tag": "sprawl"},
        "compose-sprawl": {"role": "compose_sprawl", "tag": "sprawl"},
        "env-file-permissions": {"role": "env_secrets", "tag": "secrets"},
        "hardcoded-secret": {"role": "env_secrets", "tag": "secrets"},
        "default-credential": {"role": "env_secrets", "tag": "secrets"},
        "mesh-not-running": {"role": "service_mesh", "tag": "mesh"},
        "memory-pressure": {"role": "resource_limits", "tag": "limits"},
        "memory-no-limit": {"role": "resource_limits", "tag": "limits"},
        "memory-overprovisioned": {"role": "resource_limits", "tag": "limits"},
        "log-rotation-missing": {"role": "log_rotation", "tag": "logs"},
        # the crash-loop doctor's fixes (a diagnosis names the tag; see crashloop_catalog.yml)
        "start-error": {"role": "crashloop", "tag": "crashloop"},
    },
    "disabled_rules": [],
    "rule_severity": {},
    # --- additions (not in the contract; documented in the report-back) ------------------
    # compose-sprawl fires when any of these is exceeded
    "sprawl_max_override_files": 3,
    "sprawl_min_running_pct": 50,
    "sprawl_max_dockerfiles": 50,
    # docker-socket-mount / unhealthy diagnosis
    # (any bind of one of these paths, of a file with one of these names, or of a directory
    # holding one of these paths, e.g. /var/run or /; the socket the reached daemon listens on is added)
    "docker_socket_paths": ["/var/run/docker.sock", "/run/docker.sock", "/run/podman/podman.sock",
                            "/var/run/podman/podman.sock", "/run/user/*/docker.sock", "/run/user/*/podman/podman.sock"],
    "docker_socket_names": ["docker.sock", "podman.sock"],
    # log-rotation-missing: drivers that grow forever without this option
    "log_drivers_needing_rotation": ["json-file"],
    "log_rotation_option": "max-size",
    # the right-sized limit a finding recommends: rightsizing.recommend with this headroom and floor
    "rightsize_headroom": 1.15,
    "rightsize_floor": "64MiB",
    # severity weights of the score (see score())
    "score_weights": {"critical": 20, "high": 8, "medium": 3, "low": 1, "info": 0},
    # score = 100 * scale / (scale + weighted findings): one critical finding scores 83.
    "score_scale": 100,
    # the crash-loop doctor's catalogue (roles/audit/files/crashloop_catalog.yml); None: no diagnosis
    # beyond the two built-in ones (missing Python module, Docker socket permission)
    "crashloop_catalog": None,
    # --- CIS Docker Benchmark section 5 (container runtime), the compose-file side -----------
    # capability-added (5.4): capability (any case, with or without CAP_) -> severity of a service
    # that adds it; a finding takes its worst capability. ALL, SYS_ADMIN, SYS_MODULE and
    # DAC_READ_SEARCH are known container escapes (mount/cgroup release_agent, kernel modules,
    # open_by_handle_at); the rest widen what a compromised process can do to the host.
    # Capabilities Docker grants by default (NET_RAW, CHOWN, ...) add nothing and are not listed.
    "dangerous_capabilities": {
        "ALL": "high", "SYS_ADMIN": "high", "SYS_MODULE": "high", "DAC_READ_SEARCH": "high",
        "SYS_PTRACE": "medium", "NET_ADMIN": "medium", "SYS_RAWIO": "medium", "SYS_BOOT": "medium",
        "SYS_TIME": "medium", "MAC_ADMIN": "medium", "MAC_OVERRIDE": "medium", "BPF": "medium",
        "PERFMON": "medium", "SYSLOG": "medium", "LINUX_IMMUTABLE": "medium", "SYS_RESOURCE": "medium",
    },
    # sensitive-host-mount (5.6): host paths a bind must not expose (the path or anything under it;
    # '/' only itself). Read-write is the rule's severity, read-only this one. The engine socket is
    # docker-socket-mount's (5.32), not this rule's.
    "sensitive_host_paths": ["/", "/boot", "/dev", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/proc", "/sys",
                             "/usr", "/root", "/var/lib/docker", "/var/lib/containerd"],
    "sensitive_mount_read_only_severity": "medium",
    # read-only binds of these (or below them) are the usual harmless ones: time zone and CA bundle
    "sensitive_mount_exempt_read_only": ["/etc/localtime", "/etc/timezone", "/usr/share/zoneinfo",
                                         "/etc/ssl/certs"],
    # privileged-port (5.8): published host ports up to this one
    "privileged_port_max": 1023,
    # restart-retries (5.15): on-failure restarts allowed before the finding (0 = unlimited: flagged)
    "restart_max_retries": 5,
}

# keys whose dict values are merged (user keys over defaults) instead of replaced
_MERGED_KEYS = ("python_module_map", "fix_map", "rule_severity", "score_weights", "dangerous_capabilities")
_NUMERIC_KEYS = ("restart_threshold", "memory_pressure_pct", "overprovisioned_pct", "sprawl_max_override_files",
                 "sprawl_min_running_pct", "sprawl_max_dockerfiles", "rightsize_headroom", "privileged_port_max",
                 "restart_max_retries")

def effective_policy(policy=None):
    """DEFAULT_POLICY with ``policy`` merged over it (dict-valued keys merged one level)."""
    eff = copy.deepcopy(DEFAULT_POLICY)
    for key, value in (policy or {}).items():
        if value is None:
            continue
        if key in _MERGED_KEYS and isinstance(value, dict):
            eff[key].update(value)
        else:
            eff[key] = copy.deepcopy(value)
    for key in _NUMERIC_KEYS:
        try:
            eff[key] = float(eff[key]) if "." in str(eff[key]) else int(eff[key])
        except (TypeError, ValueError):
            raise ValueError("policy %s=%r is not a number" % (key, eff[key])) from None
    eff["database_ports"] = [int(p) for p in eff["database_ports"]]
    eff["disabled_rules"] = list(eff["disabled_rules"] or [])
    unknown = [r for r in list(eff["disabled_rules"]) + list(eff["rule_severity"]) if r not in RULES]
    if unknown:
        raise ValueError("policy names unknown rule id(s): %s (known: %s)"
                         % (", ".join(sorted(set(unknown))), ", ".join(RULE_ORDER)))
    if not isinstance(eff["dangerous_capabilities"], dict):
        raise ValueError("policy dangerous_capabilities must map a capability to a severity, not %s"
                         % type(eff["dangerous_capabilities"]).__name__)
    severities = [("rule_severity[%s]" % r, v) for r, v in eff["rule_severity"].items()]
    severities += [("dangerous_capabilities[%s]" % c, v) for c, v in eff["dangerous_capabilities"].items()]
    severities.append(("sensitive_mount_read_only_severity", eff["sensitive_mount_read_only_severity"]))
    for key, sev in severities:
        if sev not in SEVERITIES:
            raise ValueError("policy %s=%r is not one of %s" % (key, sev, ", ".join(SEVERITIES)))
    crashloop.compile_catalog(eff["crashloop_catalog"])  # a pattern that does not compile: ValueError
    return eff


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _recommended(ctx, current, usage, rule, oom=False):
    """The limit the resource_limits fix would write (rightsizing.recommend), or None."""
    return rightsizing.recommend(current, usage, oom, [rule], ctx.rightsizing)["recommended"]


class _Ctx(object):
    """Indexes over the facts, built once per evaluate()."""

    def __init__(self, compose, runtime, policy):
        self.compose = compose or {}
        self.runtime = runtime or {}
        self.policy = policy
        self.rightsizing = rightsizing.audit_policy(policy)
        docker = self.runtime.get("docker") or {}
        self.reachable = bool(docker.get("reachable"))
        self.docker = docker
        self.project = (self.compose.get("project") or {}).get("name")
        self.services = self.compose.get("services") or {}
        self.services_defined = list(self.compose.get("services_defined") or self.services.keys())
        containers = (self.runtime.get("containers") or []) if self.reachable else []
        self.containers = [c for c in containers
                           if not c.get("project") or not self.project or c.get("project") == self.project]
        self.by_service = {}
        for c in self.containers:
            self.by_service.setdefault(c.get("service") or c.get("name"), []).append(c)
        self.volumes = (self.runtime.get("volumes") or []) if self.reachable else []
        self.socket_paths = set(policy["docker_socket_paths"])
        sock = (docker.get("socket") or {}).get("path")
        if sock:
            self.socket_paths.add(sock)
        # the crash-loop doctor: catalogue compiled once, a view of the project for its confirmations
        self.crashloop = crashloop.compile_catalog(policy.get("crashloop_catalog"))
        self.view = crashloop.ProjectView(self.services, self.containers, docker.get("host_facts"),
                                          policy["restart_threshold"], is_crash_looping)

    def why(self, container, state):
        """The crash-loop doctor's diagnosis of a failing container (None without a catalogue)."""
        if not self.crashloop:
            return None
        return crashloop.diagnose(container, state, self.crashloop, self.view)

    def fix_of(self, diag):
        """{role, tag} of the fix a diagnosis names (fix_tag), or None: report only."""
        tag = (diag or {}).get("fix_tag")
        for fix in self.policy["fix_map"].values():
            if tag and fix.get("tag") == tag:
                return fix
        return None

    def svc_loc(self, name):
        svc = self.services.get(name) or {}
        if svc.get("file"):
            return svc.get("file"), svc.get("line")
        for f in self.compose.get("files") or []:
            if name in (f.get("services") or []):
                return f.get("path"), None
        return None, None

    def containers_of(self, service):
        return self.by_service.get(service, [])

    def running(self, service):
        return any(c.get("state") == "running" for c in self.containers_of(service))

    def main_file(self):
        active = self.compose.get("active_files") or []
        if active:
            return active[0]
        for f in self.compose.get("files") or []:
            if f.get("kind") == "main":
                return f.get("path")
        return None


def _finding(ctx, rule, target, evidence, service=None, container=None, file=None, line=None,
             diagnosis=None, fix=True, severity=None):
    """Build a finding; ``fix=True`` means 'the rule's fix', None/False means none."""
    if service and file is None:
        file, line = ctx.svc_loc(service)
    return {
        "id": "%s:%s" % (rule, target),
        "rule": rule,
        "target": target,
        "severity": severity,      # None -> rule default (filled by evaluate)
        "service": service,
        "container": container,
        "file": file,
        "line": line,
        "evidence": evidence,
        "diagnosis": diagnosis,
        "fix": fix,
    }


def is_crash_looping(container, threshold):
    """The one definition of a crash-looping container, for the rule, the KPI and the lab.

    ``container``: a container fact (``state``, ``restart_count``); ``threshold``: restarts
    (policy ``restart_threshold``, default 3). True while the engine shows it restarting, and
    also in the brief moment it runs between two restarts once it has restarted ``threshold``
    times (the restart count never goes down, so the answer does not depend on when we look).
    """
    return container.get("state") == "restarting" or (container.get("restart_count") or 0) >= int(threshold)


def exposes_docker_socket(source, socket_paths, socket_names):
    """True when a bind of host path ``source`` gives the container an engine socket: the socket
    itself in any spelling (``//var/run/docker.sock``, ``/var/run/./docker.sock``), a file named
    like one (``docker.sock``, ``podman.sock``), or a directory that holds one (``/var/run``, ``/``).
    ``socket_paths`` may use ``*`` for one path component (``/run/user/*/docker.sock``)."""
    if not source:
        return False
    path = clean_host_path(source)
    if path.rsplit("/", 1)[-1] in socket_names:
        return True
    for pattern in socket_paths:
        regex = "^" + re.escape(clean_host_path(pattern)).replace(r"\*", "[^/]+") + "$"
        if re.match(regex, path):
            return True
        # a directory above the socket: every prefix of the pattern ('/', '/run', '/run/user/1000')
        parts = clean_host_path(pattern).strip("/").split("/")
        for depth in range(len(parts)):
            prefix = "^/" + "/".join(re.escape(p).replace(r"\*", "[^/]+") for p in parts[:depth]) + "$"
            if re.match(prefix.replace("^//", "^/"), path):
                return True
    return False


def _is_socket_mount(ctx, source):
    return exposes_docker_socket(source, ctx.socket_paths, ctx.policy["docker_socket_names"])


def name_matches(service, names):
    """kong matches 'kong', 'sutazai-kong', 'sutazai_kong'; not 'kong-database'."""
    s = service.lower()
    for n in names:
        n = n.lower()
        if s == n or s.endswith("-" + n) or s.endswith("_" + n):
            return n
    return None


def _log_excerpt(ctx, lines, limit=6):
    lines = [redact_text(line, ctx.policy["secret_key_patterns"]) for line in (lines or []) if line]
    return "\n".join(lines[-limit:])


_MODULE_RE = re.compile(r"No module named ['\"]?([A-Za-z_][A-Za-z0-9_.]*)['\"]?")


def diagnose_missing_module(ctx, service, lines):
    """Find ``No module named 'X'`` in log lines -> missing-python-module diagnosis or None."""
    module = None
    for line in reversed(lines or []):
        m = _MODULE_RE.search(line or "")
        if m:
            module = m.group(1)
            break
    if not module:
        return None
    top = module.split(".")[0]
    dist = ctx.policy["python_module_map"].get(top) or ctx.policy["python_module_map"].get(module) or top
    build = (ctx.services.get(service) or {}).get("build") or {}
    reqs = build.get("requirements") or []
    req = None
    for r in reqs:  # prefer a plain requirements.txt
        if str(r.get("path", "")).rsplit("/", 1)[-1] == "requirements.txt":
            req = r
            break
    if req is None and reqs:
        req = reqs[0]
    listed = bool(req) and normalize_name(dist) in [normalize_name(p) for p in req.get("packages") or []]
    return {
        "cause": "missing-python-module",
        "module": top,
        "import": module,
        "distribution": dist,
        "requirements_file": req.get("path") if req else None,
        "build_context": build.get("context"),
        "listed": listed,
        "action": "rebuild image (requirement already listed; the image is stale)" if listed
                  else "add %s to %s and rebuild" % (dist, req.get("path") if req else "the requirements file"),
    }


def diagnose_socket(ctx, service, container, lines):
    """Health output with 'permission denied' on the docker socket -> diagnosis or None."""
    text = "\n".join(line or "" for line in lines).lower()
    if "permission denied" not in text:
        return None
    mounts = [m.get("source") for m in (container.get("mounts") or [])]
    mounts += [m.get("source") for m in ((ctx.services.get(service) or {}).get("mounts") or [])]
    mounts_socket = any(_is_socket_mount(ctx, s) for s in mounts)
    if "docker.sock" not in text and not (mounts_socket and "docker" in text):
        return None
    sock = ctx.docker.get("socket") or {}
    svc = ctx.services.get(service) or {}
    return {
        "cause": "docker-socket-permission",
        "user": container.get("user") if container.get("user") is not None else svc.get("user"),
        "socket_path": sock.get("path"),
        "socket_gid": sock.get("gid"),
        "socket_group": sock.get("group"),
        "group_add": list(container.get("group_add") or svc.get("group_add") or []),
        "mounts_socket": mounts_socket,
    }


# ----------------------------------------------------------------------------------------
# rules: one function each, (ctx) -> [finding]
# ----------------------------------------------------------------------------------------

def rule_daemon_unreachable(ctx):
    if ctx.reachable:
        return []
    err = ctx.docker.get("error") or "runtime facts were not gathered"
    return [_finding(ctx, "daemon-unreachable", "docker",
                     "Docker daemon unreachable: %s. Runtime facts (containers, health, memory, "
                     "volumes) are missing; only file-based rules were evaluated." % err, fix=None)]


def rule_compose_not_found(ctx):
    """No compose file is active: the audit has no project to read (a mistyped path, or variant
    files without a default one). Evidence lists what was found and how to choose."""
    return [_finding(ctx, "compose-not-found", "compose", e.get("message"), fix=None)
            for e in ctx.compose.get("errors") or [] if e.get("kind") == "no-project"]


def rule_compose_invalid(ctx):
    out, seen = [], set()
    errors = [e for e in ctx.compose.get("errors") or [] if e.get("kind") != "no-project"]
    for f in ctx.compose.get("files") or []:
        if f.get("error"):
            e = dict(f["error"])
            e["file"] = f.get("path")
            errors.append(e)
    for e in errors:
        key = e.get("file") or "compose"
        if key in seen:
            continue
        seen.add(key)
        loc = "line %s" % e.get("line") if e.get("line") else "unknown line"
        if e.get("column"):
            loc += ", column %s" % e.get("column")
        out.append(_finding(ctx, "compose-invalid", key, "%s (%s): %s" % (key, loc, e.get("message")),
                            file=e.get("file"), line=e.get("line"), fix=None))
    for name in sorted(ctx.services):
        for p in (ctx.services[name] or {}).get("problems") or []:
            target = "%s.%s" % (name, p.get("key")) if p.get("key") else name
            if target in seen:
                continue
            seen.add(target)
            ev = "service %s, key %s (%s line %s): %s; the value is a %s, so this value was left out of the audit" % (
                name, p.get("key") or "-", p.get("file") or "?", p.get("line") or "?", p.get("message"),
                p.get("shape"))
            out.append(_finding(ctx, "compose-invalid", target, ev, service=name, file=p.get("file"),
                                line=p.get("line"), fix=None))
    return out


def rule_suppression_refused(ctx):
    """A suppression that cannot be applied (no reason, unknown rule id, bad date, unknown key, an
    ignore file that does not parse): it silences nothing; file, line and key are named."""
    return [_finding(ctx, suppressions.REFUSED_RULE, r["target"],
                     "%s line %s, key %s: %s; it suppresses nothing%s" % (
                         r["file"], r["line"] or "?", r["key"], r["message"],
                         " (service %s)" % r["service"] if r.get("service") else ""),
                     file=r["file"], line=r["line"], fix=None)
            for r in suppressions.refused(ctx.compose.get("suppressions"), RULES)]


def diagnosis_text(diag):
    """Evidence lines of a crash-loop diagnosis: cause, confidence, what matched, what to do."""
    if not diag or "confidence" not in diag:
        return ""
    head = "cause: %s (%s, %s)" % (diag["title"], diag["cause"], {"confirmed": "confirmed by a second signal",
                                                                   "log": "from the log line alone",
                                                                   "unknown": "no known signature"}[diag["confidence"]])
    if diag.get("upstream"):
        head += "; upstream first: %s fails too and this service depends on it" % diag["upstream"]
    lines = [head] + ["  " + line for line in diag.get("evidence") or []]
    lines += ["  confirmed: " + line for line in diag.get("confirmations") or []]
    lines.append("what to do: " + diag.get("action", ""))
    return "\n".join(lines)


def rule_restart_loop(ctx):
    out = []
    threshold = ctx.policy["restart_threshold"]
    for c in ctx.containers:
        count = c.get("restart_count") or 0
        if not is_crash_looping(c, threshold):
            continue
        svc = c.get("service")
        diag = diagnose_missing_module(ctx, svc, c.get("log_tail"))
        fix = True if diag else None
        doctor = ctx.why(c, "restart-loop") if diag is None else None
        if doctor:
            diag, fix = doctor, ctx.fix_of(doctor)
        elif diag is None and c.get("oom_killed"):
            diag = {"cause": "oom-killed"}
            fix = ctx.policy["fix_map"].get("memory-pressure")
        ev = "%s is %s, restarted %d times (threshold %d), last exit code %s" % (
            c.get("name"), c.get("state"), count, threshold, c.get("exit_code"))
        if c.get("oom_killed"):
            ev += ", OOMKilled"
        excerpt = diagnosis_text(doctor) or _log_excerpt(ctx, c.get("log_tail"))
        if excerpt:
            ev += "\n" + excerpt
        out.append(_finding(ctx, "restart-loop", svc or c.get("name"), ev, service=svc,
                            container=c.get("name"), diagnosis=diag, fix=fix))
    return out


def rule_unhealthy(ctx):
    out = []
    for c in ctx.containers:
        health = c.get("health") or {}
        if health.get("status") != "unhealthy":
            continue
        svc = c.get("service")
        outputs = [h.get("output") for h in health.get("log") or []]
        diag = diagnose_socket(ctx, svc, c, outputs + list(c.get("log_tail") or []))
        fix = True if diag else None
        doctor = ctx.why(c, "unhealthy") if diag is None else None
        if doctor:
            diag, fix = doctor, ctx.fix_of(doctor)
        last = outputs[-1] if outputs else ""
        ev = "%s is unhealthy (failing streak %s)" % (c.get("name"), health.get("failing_streak"))
        if last:
            ev += "; last health check output: %s" % redact_text(
                str(last).strip(), ctx.policy["secret_key_patterns"])
        if doctor:
            ev += "\n" + diagnosis_text(doctor)
        out.append(_finding(ctx, "unhealthy", svc or c.get("name"), ev, service=svc,
                            container=c.get("name"), diagnosis=diag, fix=fix))
    return out


def rule_start_error(ctx):
    """Created or exited with a start error (.State.Error): the process never ran, so there is
    no log and no restart count, only the engine's error."""
    out = []
    for c in ctx.containers:
        if crashloop.failing_state(c, ctx.policy["restart_threshold"], is_crash_looping) != "start-error":
            continue
        svc = c.get("service")
        diag = ctx.why(c, "start-error")
        ev = "%s did not start (%s): %s" % (c.get("name"), c.get("state"), c.get("state_error"))
        if diag:
            ev += "\n" + diagnosis_text(diag)
        out.append(_finding(ctx, "start-error", svc or c.get("name"), ev, service=svc, container=c.get("name"),
                            diagnosis=diag, fix=ctx.fix_of(diag)))
    return out


def _covered_elsewhere(ctx, name):
    enabled = lambda r: r not in ctx.policy["disabled_rules"]  # noqa: E731
    if enabled("mesh-not-running") and name_matches(name, ctx.policy["mesh_services"]):
        return True
    return enabled("monitoring-down") and name_matches(name, ctx.policy["monitoring_services"])


def rule_not_running(ctx):
    out = []
    threshold = ctx.policy["restart_threshold"]
    # Profiles enabled for `docker compose up` (COMPOSE_PROFILES, '*' = all); the model itself
    # is built with every profile, so a service under an inactive profile is parked on purpose.
    active_profiles = set(ctx.compose.get("active_profiles") or [])
    for name in sorted(ctx.services):
        if ctx.running(name) or _covered_elsewhere(ctx, name):
            continue
        profiles = (ctx.services[name] or {}).get("profiles") or []
        if profiles and "*" not in active_profiles and not active_profiles.intersection(profiles):
            continue  # intentionally inactive: `docker compose up` does not start it
        cs = ctx.containers_of(name)
        states = [crashloop.failing_state(c, threshold, is_crash_looping) for c in cs]
        if "restart-loop" in states or "start-error" in states:
            continue  # restart-loop / start-error report it
        diag, fix = None, True
        if cs:
            c = cs[0]
            ev = "service %s is defined in the active compose files; container %s is %s (exit code %s)" % (
                name, c.get("name"), c.get("state"), c.get("exit_code"))
            diag = diagnose_missing_module(ctx, name, c.get("log_tail"))
            doctor = ctx.why(c, states[0]) if diag is None and states[0] == "exited" else None
            if diag:
                fix = ctx.policy["fix_map"].get("restart-loop")
            elif doctor:
                # why it exited: the doctor's fix when the cause has one, else parking (the rule's fix)
                diag, fix = doctor, ctx.fix_of(doctor) or True
                ev += "\n" + diagnosis_text(doctor)
            excerpt = _log_excerpt(ctx, c.get("log_tail"), limit=3)
            if excerpt:
                ev += "\n" + excerpt
        else:
            ev = "service %s is defined in the active compose files but has no container" % name
            if profiles:
                ev += " (profiles: %s)" % ", ".join(profiles)
        out.append(_finding(ctx, "not-running", name, ev, service=name,
                            container=cs[0].get("name") if cs else None, diagnosis=diag, fix=fix))
    return out


def rule_compose_sprawl(ctx):
    p = ctx.policy
    files = ctx.compose.get("files") or []
    overrides = [f for f in files if f.get("kind") == "override"]
    dockerfiles = ctx.compose.get("dockerfiles") or []
    defined = len(ctx.services_defined)
    reasons = []
    if len(overrides) > p["sprawl_max_override_files"]:
        reasons.append("%d override files (max %d)" % (len(overrides), p["sprawl_max_override_files"]))
    if len(dockerfiles) > p["sprawl_max_dockerfiles"]:
        reasons.append("%d Dockerfiles (max %d)" % (len(dockerfiles), p["sprawl_max_dockerfiles"]))
    running = None
    if ctx.reachable and defined:
        running = len([s for s in set(ctx.services_defined) if ctx.running(s)])
        pct = 100.0 * running / defined
        if pct < p["sprawl_min_running_pct"]:
            reasons.append("%d of %d defined services running (%.0f%%, min %s%%)"
                           % (running, defined, pct, p["sprawl_min_running_pct"]))
    if not reasons:
        return []
    ev = "%d compose files (%d override), %d services defined, %d Dockerfiles: %s" % (
        len(files), len(overrides), defined, len(dockerfiles), "; ".join(reasons))
    skipped = ctx.compose.get("skipped_dirs") or []
    if skipped:
        ev += " (not counted: files under %s: vendored, VCS or data directories)" % ", ".join(skipped[:8])
    return [_finding(ctx, "compose-sprawl", ctx.project or "project", ev, file=ctx.main_file(), line=None,
                     diagnosis={"compose_files": len(files), "override_files": len(overrides),
                                "services_defined": defined, "services_running": running,
                                "dockerfiles": len(dockerfiles)})]


def rule_env_file_permissions(ctx):
    out = []
    for kind, entries in (("env file", ctx.compose.get("env_files") or []),
                          ("secret file", ctx.compose.get("secret_files") or [])):
        for f in entries:
            if f.get("template") or not (f.get("world_readable") or f.get("group_readable")):
                continue  # a template Compose never reads (example.env, .env.example) is not a live secret
            who = "world-readable" if f.get("world_readable") else "group-readable"
            ev = "%s %s is %s (mode %s, owner %s:%s)" % (kind, f.get("path"), who, f.get("mode"),
                                                       f.get("owner"), f.get("group"))
            keys = [s.get("key") for s in f.get("secrets") or []
                    if s.get("class", "secret") in ("secret", "default-credential")]
            if keys:
                ev += "; holds secrets: %s" % ", ".join("%s=%s" % (k, MASK) for k in keys)
            out.append(_finding(ctx, "env-file-permissions", f.get("path"), ev, file=f.get("path"), line=None,
                                diagnosis={"mode": f.get("mode"), "owner": f.get("owner"),
                                           "group": f.get("group"), "world_readable": bool(f.get("world_readable")),
                                           "group_readable": bool(f.get("group_readable")),
                                           "secret_keys": keys}))
    return out


def _compose_secrets(ctx):
    """(service, secret_env entry) for every service secret in the active model."""
    for name in sorted(ctx.services):
        for s in (ctx.services[name] or {}).get("secret_env") or []:
            yield name, s


def rule_hardcoded_secret(ctx):
    out = []
    for name, s in _compose_secrets(ctx):
        if not s.get("literal") or s.get("class", "secret") != "secret":
            continue  # references, default credentials (their own rule), placeholders, data
        ev = "service %s sets %s=%s as a literal in %s line %s (not a ${VAR} reference)" % (
            name, s.get("key"), MASK, s.get("file"), s.get("line"))
        out.append(_finding(ctx, "hardcoded-secret", "%s:%s" % (name, s.get("key")), ev, service=name,
                            file=s.get("file") or ctx.svc_loc(name)[0],
                            line=s.get("line") or ctx.svc_loc(name)[1]))
    # An env file is where Compose expects literal secrets; they count as hardcoded once the
    # file is readable beyond its owner (the seed's world-readable .env full of passwords).
    for f in ctx.compose.get("env_files") or []:
        if f.get("template") or not (f.get("group_readable") or f.get("world_readable")):
            continue
        for s in f.get("secrets") or []:
            if s.get("class", "secret") != "secret" or not s.get("literal", True):
                continue
            ev = "%s line %s: %s=%s is a hardcoded secret in a file readable by others (mode %s)" % (
                f.get("path"), s.get("line"), s.get("key"), MASK, f.get("mode"))
            out.append(_finding(ctx, "hardcoded-secret", "%s:%s" % (f.get("path"), s.get("key")), ev,
                                file=f.get("path"), line=s.get("line")))
    return out


def rule_default_credential(ctx):
    out, seen = [], set()
    for name, s in _compose_secrets(ctx):
        if not s.get("default_credential"):
            continue
        target = "%s:%s" % (s.get("file") or name, s.get("key"))
        if target in seen:
            continue
        seen.add(target)
        ev = "service %s: %s=%s is a well-known default credential (%s line %s)" % (
            name, s.get("key"), MASK, s.get("file"), s.get("line"))
        out.append(_finding(ctx, "default-credential", target, ev, service=name,
                            file=s.get("file") or ctx.svc_loc(name)[0], line=s.get("line")))
    for f in ctx.compose.get("env_files") or []:
        if f.get("template"):
            continue
        for s in f.get("secrets") or []:
            if not s.get("default_credential"):
                continue
            target = "%s:%s" % (f.get("path"), s.get("key"))
            if target in seen:
                continue
            seen.add(target)
            ev = "%s line %s: %s=%s is a well-known default credential" % (
                f.get("path"), s.get("line"), s.get("key"), MASK)
            out.append(_finding(ctx, "default-credential", target, ev, file=f.get("path"), line=s.get("line")))
    return out


def rule_privileged_container(ctx):
    out = []
    names = set(ctx.services) | set(ctx.by_service)
    for name in sorted(n for n in names if n):
        svc = ctx.services.get(name) or {}
        cs = [c for c in ctx.containers_of(name) if c.get("privileged")]
        if not (svc.get("privileged") or cs):
            continue
        where = "declared privileged: true" if svc.get("privileged") else "container runs privileged"
        ev = "service %s: %s%s" % (name, where, "" if cs or not svc else
                                   " (not started; flagged from the compose file)")
        out.append(_finding(ctx, "privileged-container", name, ev, service=name,
                            container=cs[0].get("name") if cs else None))
    return out


def rule_docker_socket_mount(ctx):
    out = []
    names = set(ctx.services) | set(ctx.by_service)
    for name in sorted(n for n in names if n):
        svc = ctx.services.get(name) or {}
        srcs = [(m.get("source"), not m.get("read_only")) for m in svc.get("mounts") or []]
        for c in ctx.containers_of(name):
            srcs += [(m.get("source"), m.get("rw")) for m in c.get("mounts") or []]
        hits = [(s, rw) for s, rw in srcs if _is_socket_mount(ctx, s)]
        if not hits:
            continue
        rw = any(h[1] for h in hits)
        ev = "service %s mounts the Docker socket %s (%s): full control of the Docker daemon" % (
            name, hits[0][0], "read-write" if rw else "read-only")
        cs = ctx.containers_of(name)
        out.append(_finding(ctx, "docker-socket-mount", name, ev, service=name,
                            container=cs[0].get("name") if cs else None, fix=None))
    return out


def rule_root_user(ctx):
    out = []
    names = set(ctx.services) | set(ctx.by_service)
    for name in sorted(n for n in names if n):
        cs = ctx.containers_of(name)
        svc = ctx.services.get(name) or {}
        if cs:
            user = cs[0].get("user")
            user = "" if user is None else str(user)
            src = "container %s runs as %s" % (cs[0].get("name"), user or "root (no USER set)")
        elif svc.get("user") is not None:
            user = str(svc.get("user"))
            src = "compose sets user: %s" % (user or "''")
        else:
            continue  # no container and no explicit user: the image decides, unknown from files
        if not (is_root_user(user) or (cs and user == "")):
            continue  # '' on a container: no USER in the image, so root
        out.append(_finding(ctx, "root-user", name, "service %s: %s" % (name, src), service=name,
                            container=cs[0].get("name") if cs else None, fix=None))
    return out


def rule_port_all_interfaces(ctx):
    """Ports published on every interface: no host_ip or an unspecified one (0.0.0.0, ::, ::0,
    [::]), including container-only ports ("80", long syntax without ``published``) that Docker
    publishes on a random host port. A range is one finding."""
    out = []
    dbports = set(int(p) for p in ctx.policy["database_ports"])
    for name in sorted(ctx.services):
        for p in (ctx.services[name] or {}).get("ports") or []:
            if not p.get("all_interfaces"):
                continue
            proto = p.get("protocol") or "tcp"
            label = port_label(p)
            tgt_lo, tgt_hi = p.get("target"), p.get("target_end") or p.get("target")
            pub_lo, pub_hi = p.get("published"), p.get("published_end") or p.get("published")
            db = any(tgt_lo <= d <= tgt_hi or (pub_lo is not None and pub_lo <= d <= pub_hi) for d in dbports)
            target = tgt_lo if tgt_hi == tgt_lo else "%s-%s" % (tgt_lo, tgt_hi)
            if pub_lo is None:
                ev = "service %s publishes container port %s/%s on a random host port on all interfaces" % (
                    name, target, proto)
            else:
                ev = "service %s publishes %s/%s -> %s on all interfaces (%s)" % (
                    name, label, proto, target, p.get("host_ip") or "0.0.0.0")
            if db:
                ev += "; %s is a database port" % target
            out.append(_finding(ctx, "port-all-interfaces", "%s:%s/%s" % (name, label, proto), ev,
                                service=name, fix=True if db else None, severity="high" if db else None,
                                diagnosis={"port": pub_lo, "port_end": pub_hi, "target": tgt_lo,
                                           "target_end": tgt_hi, "protocol": proto, "database": db}))
    return out


def _state_summary(ctx, name):
    cs = ctx.containers_of(name)
    if not cs:
        return "no container"
    c = cs[0]
    st = c.get("state")
    health = (c.get("health") or {}).get("status")
    return "%s%s" % (st, " (%s)" % health if health else "")


def rule_mesh_not_running(ctx):
    out = []
    defined = set(ctx.services_defined) | set(ctx.services)
    for mesh in ctx.policy["mesh_services"]:
        for name in sorted(n for n in defined if name_matches(n, [mesh])):
            if ctx.running(name):
                continue
            active = name in ctx.services
            ports = ", ".join(str(p.get("published")) for p in (ctx.services.get(name) or {}).get("ports") or []
                              if p.get("published"))
            ev = "service %s (%s) is defined%s but not running (%s)%s" % (
                name, mesh, "" if active else " only in inactive compose files", _state_summary(ctx, name),
                "; ports %s allocated" % ports if ports else "")
            out.append(_finding(ctx, "mesh-not-running", name, ev, service=name,
                                diagnosis={"mesh": mesh, "active": active}))
    return out


def rule_monitoring_down(ctx):
    out = []
    defined = set(ctx.services_defined) | set(ctx.services)
    for name in sorted(defined):
        comp = name_matches(name, ctx.policy["monitoring_services"])
        if not comp:
            continue
        cs = ctx.containers_of(name)
        unhealthy = any((c.get("health") or {}).get("status") == "unhealthy" for c in cs)
        if ctx.running(name) and not unhealthy:
            continue
        ev = "monitoring component %s (%s) is %s" % (
            name, comp, "unhealthy" if unhealthy else "not running (%s)" % _state_summary(ctx, name))
        out.append(_finding(ctx, "monitoring-down", name, ev, service=name, fix=None,
                            diagnosis={"component": comp, "unhealthy": unhealthy}))
    return out


def rule_memory_pressure(ctx):
    out = []
    thr = ctx.policy["memory_pressure_pct"]
    for c in ctx.containers:
        usage, limit, pct = rightsizing.container_memory(c)
        oom = bool(c.get("oom_killed"))
        if not oom and (limit is None or pct is None or pct < thr):
            continue
        svc = c.get("service")
        ev = "%s uses %s of %s limit (%.0f%%, threshold %s%%)" % (
            c.get("name"), format_size(usage, unknown="n/a"), format_size(limit, unknown="n/a"), pct or 0, thr)
        if oom:
            ev += "; container was OOM-killed"
        rec = _recommended(ctx, limit, usage, "memory-pressure", oom)
        out.append(_finding(ctx, "memory-pressure", c.get("name"), ev, service=svc, container=c.get("name"),
                            diagnosis={"usage_bytes": usage, "limit_bytes": limit,
                                       "percent": round(pct, 1) if pct is not None else None,
                                       "oom_killed": oom, "recommended_limit_bytes": rec}))
    return out


def rule_memory_no_limit(ctx):
    out = []
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        if svc.get("mem_limit_bytes"):
            continue
        cs = ctx.containers_of(name)
        if any(rightsizing.container_memory(c)[1] for c in cs):
            continue  # limited at runtime (docker update)
        usage = None
        if cs:
            usage = rightsizing.container_memory(cs[0])[0]
        ev = "service %s has no memory limit (deploy.resources.limits.memory / mem_limit)" % name
        if usage is not None:
            ev += "; currently uses %s" % format_size(usage)
        out.append(_finding(ctx, "memory-no-limit", name, ev, service=name,
                            container=cs[0].get("name") if cs else None,
                            diagnosis={"usage_bytes": usage,
                                       "recommended_limit_bytes": _recommended(ctx, None, usage, "memory-no-limit")}))
    return out


def rule_memory_overprovisioned(ctx):
    out = []
    thr = ctx.policy["overprovisioned_pct"]
    min_limit = parse_size(ctx.policy["overprovisioned_min_limit"]) or 0
    for c in ctx.containers:
        if c.get("state") != "running":
            continue
        usage, limit, pct = rightsizing.container_memory(c)
        if limit is None or usage is None or limit < min_limit or pct is None or pct >= thr:
            continue
        rec = _recommended(ctx, limit, usage, "memory-overprovisioned")
        ev = "%s uses %s of %s limit (%.1f%%, below %s%%); right-sizing to %s would reclaim %s" % (
            c.get("name"), format_size(usage), format_size(limit), pct, thr, format_size(rec),
            format_size(max(limit - rec, 0)))
        out.append(_finding(ctx, "memory-overprovisioned", c.get("name"), ev, service=c.get("service"),
                            container=c.get("name"),
                            diagnosis={"usage_bytes": usage, "limit_bytes": limit, "percent": round(pct, 2),
                                       "recommended_limit_bytes": rec,
                                       "reclaimable_bytes": max(limit - rec, 0)}))
    return out


def _volume_keys(ctx):
    """compose volume key -> expected docker volume name."""
    keys = {}
    for key, v in (ctx.compose.get("volumes") or {}).items():
        v = v or {}
        keys[key] = v.get("name") or ("%s_%s" % (ctx.project, key) if ctx.project and not v.get("external") else key)
    return keys


def _volume_key_of(name, keys):
    best = None
    for key in keys:
        if (name == key or name.endswith("_" + key)) and (best is None or len(key) > len(best)):
            best = key
    return best


def _referenced_volume_sources(ctx):
    refs = set()
    for svc in ctx.services.values():
        for m in (svc or {}).get("mounts") or []:
            if m.get("type") == "volume" and m.get("source"):
                refs.add(m.get("source"))
    return refs


def rule_volume_unused(ctx):
    out, seen = [], set()
    keys = _volume_keys(ctx)
    refs = _referenced_volume_sources(ctx)
    # file part: declared at top level but mounted by no service
    for key in sorted(keys):
        if key in refs or keys[key] in refs:
            continue
        seen.add(keys[key])
        out.append(_finding(ctx, "volume-unused", keys[key],
                            "volume %s is declared in the compose file but no service mounts it" % key,
                            file=ctx.main_file(), fix=None, diagnosis={"declared": key, "in_use": False}))
    # runtime part: volumes of this project (label, or name matching a declared key) with no container;
    # unused duplicates are volume-duplicate's (unless that rule is off)
    if "volume-duplicate" not in ctx.policy["disabled_rules"]:
        seen.update(d[0].get("name") for d in _duplicate_volumes(ctx))
    for v in ctx.volumes:
        name = v.get("name")
        if v.get("in_use") or name in seen:
            continue
        related = (ctx.project and v.get("project") == ctx.project) or _volume_key_of(name, keys)
        if not related:
            continue
        seen.add(name)
        out.append(_finding(ctx, "volume-unused", name, "volume %s (driver %s) is not used by any container" % (
            name, v.get("driver")), fix=None, diagnosis={"declared": _volume_key_of(name, keys), "in_use": False}))
    return out


def _duplicate_volumes(ctx):
    """[(volume, declared key, expected name, other names)] for unused copies of a declared volume."""
    keys = _volume_keys(ctx)
    groups = {}
    for v in ctx.volumes:
        key = _volume_key_of(v.get("name") or "", keys)
        if key:
            groups.setdefault(key, []).append(v)
    out = []
    for key in sorted(groups):
        vols = groups[key]
        if len(vols) < 2:
            continue
        expected = keys[key]
        for v in sorted(vols, key=lambda x: x.get("name")):
            if v.get("name") == expected or v.get("in_use"):
                continue
            out.append((v, key, expected, sorted(x.get("name") for x in vols if x is not v)))
    return out


def rule_volume_duplicate(ctx):
    out = []
    for v, key, expected, others in _duplicate_volumes(ctx):
        out.append(_finding(ctx, "volume-duplicate", v.get("name"),
                            "volume %s duplicates %s (same data volume '%s' under another prefix); not in use"
                            % (v.get("name"), ", ".join(others), key), fix=None,
                            diagnosis={"declared": key, "expected": expected, "in_use": bool(v.get("in_use"))}))
    return out


def rule_log_rotation_missing(ctx):
    out = []
    needs = set(ctx.policy["log_drivers_needing_rotation"])
    opt = ctx.policy["log_rotation_option"]
    daemon_driver = ctx.docker.get("logging_driver") if ctx.reachable else None
    daemon_opts = (ctx.docker.get("log_opts") or {}) if ctx.reachable else {}
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        cs = ctx.containers_of(name)
        if cs and cs[0].get("log_config"):
            driver = cs[0]["log_config"].get("type")
            opts = dict(cs[0]["log_config"].get("config") or {})
            src = "container %s" % cs[0].get("name")
        else:
            logging = svc.get("logging") or {}
            driver = logging.get("driver")
            opts = dict(logging.get("options") or {})
            src = "compose"
        if not driver:
            driver = daemon_driver
            src += " (daemon default)"
        if not driver:
            continue  # unknown without the daemon
        if driver == daemon_driver:
            merged = dict(daemon_opts)
            merged.update(opts)
            opts = merged
        if driver not in needs or opts.get(opt):
            continue
        out.append(_finding(ctx, "log-rotation-missing", name,
                            "service %s logs with the %s driver without %s (%s): logs grow unbounded"
                            % (name, driver, opt, src), service=name,
                            container=cs[0].get("name") if cs else None,
                            diagnosis={"driver": driver, "options": sorted(opts)}))
    return out


def rule_no_healthcheck(ctx):
    out = []
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        cs = ctx.containers_of(name)
        if cs:
            if any(c.get("health") for c in cs):
                continue
            ev = "container %s has no healthcheck (neither compose nor image defines one)" % cs[0].get("name")
        else:
            hc = svc.get("healthcheck")
            if not (hc and hc.get("disabled")):
                continue  # the image may define one; unknown without a container
            ev = "service %s disables its healthcheck" % name
        out.append(_finding(ctx, "no-healthcheck", name, ev, service=name,
                            container=cs[0].get("name") if cs else None, fix=None))
    return out


# ----------------------------------------------------------------------------------------
# CIS Docker Benchmark section 5 (container runtime): what the compose model shows
# ----------------------------------------------------------------------------------------

def _services(ctx):
    for name in sorted(ctx.services):
        yield name, ctx.services[name] or {}


def _drift_text(diff):
    def show(v):
        if isinstance(v, list):
            return ",".join(v) or "none"
        return "none" if v is None else str(v).lower() if isinstance(v, bool) else str(v)
    return "%s %s (file: %s)" % (diff["setting"], show(diff["container"]), show(diff["file"]))


def rule_container_drift(ctx):
    """A container that is not what its service's file says (analysis/drift.py), or whose service no
    active file defines (Compose's orphans): runtime evidence only, so nothing without the engine."""
    out = []
    nnp = bool(ctx.docker.get("no_new_privileges"))
    for name in sorted(n for n in ctx.by_service if n):
        svc = ctx.services.get(name)
        for c in ctx.containers_of(name):
            if svc is None:
                ev = ("container %s belongs to service %s, which no active compose file defines (an orphan: "
                      "left from an older definition; `docker compose up -d --remove-orphans` removes it)"
                      % (c.get("name"), name))
                out.append(_finding(ctx, "container-drift", c.get("name"), ev, service=name,
                                    container=c.get("name"), fix=None, diagnosis={"orphan": True}))
                continue
            diffs = drift.differences(drift.file_settings(svc, nnp), drift.container_settings(c, nnp))
            if not diffs:
                continue
            worse = [d for d in diffs if d["escalates"]]
            ev = "container %s runs with settings its file does not declare: %s%s" % (
                c.get("name"), "; ".join(_drift_text(d) for d in diffs),
                " - more privilege or fewer limits than declared" if worse else "")
            out.append(_finding(ctx, "container-drift", c.get("name"), ev, service=name, container=c.get("name"),
                                fix=None, severity="high" if worse else None,
                                diagnosis={"differences": diffs}))
    return out


def _security_opt_rule(rule, key, values, what):
    """A rule that fires when ``security_opt`` sets ``key`` to one of ``values`` (any case)."""
    def check(ctx):
        out = []
        for name, svc in _services(ctx):
            hits = [text for k, v, text in security_options(svc) if k == key and v.lower() in values]
            if hits:
                out.append(_finding(ctx, rule, name, "service %s sets security_opt %s: %s" % (
                    name, ", ".join(hits), what), service=name, fix=None, diagnosis={"security_opt": hits}))
        return out
    check.__name__ = "rule_" + rule.replace("-", "_")
    return check


def _host_namespace_rule(rule, key, what):
    """A rule that fires when the service shares the host's namespace through ``key: host``."""
    def check(ctx):
        out = []
        for name, svc in _services(ctx):
            if str(svc.get(key) or "").strip().lower() == "host":
                out.append(_finding(ctx, rule, name, "service %s sets %s: host: %s" % (name, key, what),
                                    service=name, fix=None, diagnosis={key: "host"}))
        return out
    check.__name__ = "rule_" + rule.replace("-", "_")
    return check


rule_apparmor_unconfined = _security_opt_rule(
    "apparmor-unconfined", "apparmor", ("unconfined",), "the container runs without an AppArmor profile")
rule_selinux_disabled = _security_opt_rule(
    "selinux-disabled", "label", ("disable", "type:spc_t", "type:unconfined_t"),
    "SELinux does not separate the container from the host")
rule_seccomp_unconfined = _security_opt_rule(
    "seccomp-unconfined", "seccomp", ("unconfined",), "every system call is open to the container")
rule_host_network = _host_namespace_rule(
    "host-network", "network_mode", "the container shares the host's network stack (every host port and "
    "local-only service, no network isolation)")
rule_host_pid = _host_namespace_rule(
    "host-pid", "pid", "the container sees (and with privileges can signal or trace) every host process")
rule_host_ipc = _host_namespace_rule(
    "host-ipc", "ipc", "the container shares the host's shared memory and semaphores")
rule_host_uts = _host_namespace_rule(
    "host-uts", "uts", "the container can change the host's hostname")
rule_host_userns = _host_namespace_rule(
    "host-userns", "userns_mode", "the container opts out of the daemon's user-namespace remapping (root "
    "in the container is root on the host)")


def rule_capability_added(ctx):
    rated = dict((capability_name(c), sev) for c, sev in ctx.policy["dangerous_capabilities"].items())
    out = []
    for name, svc in _services(ctx):
        caps = []
        for cap in svc.get("cap_add") or []:
            cap = capability_name(cap)
            if cap in rated and cap not in caps:
                caps.append(cap)
        if not caps:
            continue
        dropped = sorted(set(capability_name(c) for c in svc.get("cap_drop") or []))
        ev = "service %s adds capabilities %s" % (name, ", ".join(caps))
        if "ALL" in caps:
            ev += " (ALL: every capability, close to privileged: true)"
        ev += "; cap_drop: %s" % (", ".join(dropped) if dropped else "none")
        severity = min((rated[c] for c in caps), key=lambda sev: SEVERITY_RANK[sev])
        out.append(_finding(ctx, "capability-added", name, ev, service=name, fix=None, severity=severity,
                            diagnosis={"cap_add": caps, "cap_drop": dropped}))
    return out


def _under(path, root):
    """True when ``path`` is ``root`` or below it ('/' is only itself: everything is below it)."""
    return path == root or (root != "/" and path.startswith(root.rstrip("/") + "/"))


def _sensitive_binds(ctx, svc):
    """[(host path, target, read_only)] of the service's binds of sensitive host paths."""
    roots = [clean_host_path(p) for p in ctx.policy["sensitive_host_paths"]]
    exempt = [clean_host_path(p) for p in ctx.policy["sensitive_mount_exempt_read_only"]]
    project = (ctx.compose.get("project") or {}).get("dir")
    project = clean_host_path(project) if project else None
    hits = []
    for m in svc.get("mounts") or []:
        if m.get("type") != "bind" or not m.get("source"):
            continue
        src = clean_host_path(m["source"])
        if src.rsplit("/", 1)[-1] in ctx.policy["docker_socket_names"]:
            continue  # the engine socket: docker-socket-mount's
        if project and project not in roots and _under(src, project):
            continue  # the project's own files (a project under /root or /usr/local binds ./data)
        if not any(_under(src, root) for root in roots):
            continue
        if m.get("read_only") and any(_under(src, e) for e in exempt):
            continue
        hits.append((src, m.get("target"), bool(m.get("read_only"))))
    return hits


def rule_sensitive_host_mount(ctx):
    out = []
    for name, svc in _services(ctx):
        hits = _sensitive_binds(ctx, svc)
        if not hits:
            continue
        rw = any(not ro for _s, _t, ro in hits)
        ev = "service %s bind-mounts sensitive host paths: %s" % (name, ", ".join(
            "%s -> %s (%s)" % (s, t, "read-only" if ro else "read-write") for s, t, ro in hits))
        out.append(_finding(ctx, "sensitive-host-mount", name, ev, service=name, fix=None,
                            severity=None if rw else ctx.policy["sensitive_mount_read_only_severity"],
                            diagnosis={"mounts": [{"source": s, "target": t, "read_only": ro} for s, t, ro in hits],
                                       "read_write": rw}))
    return out


def rule_mount_propagation_shared(ctx):
    out = []
    for name, svc in _services(ctx):
        hits = [m for m in svc.get("mounts") or [] if str(m.get("propagation") or "").lower() in ("shared", "rshared")]
        if not hits:
            continue
        ev = "service %s mounts with shared propagation: %s (mounts made in the container appear on the host)" % (
            name, ", ".join("%s -> %s (%s)" % (m.get("source"), m.get("target"), m.get("propagation")) for m in hits))
        out.append(_finding(ctx, "mount-propagation-shared", name, ev, service=name, fix=None,
                            diagnosis={"mounts": [{"source": m.get("source"), "target": m.get("target"),
                                                   "propagation": m.get("propagation")} for m in hits]}))
    return out


def rule_privileged_port(ctx):
    top = ctx.policy["privileged_port_max"]
    out = []
    for name, svc in _services(ctx):
        for p in svc.get("ports") or []:
            lo = p.get("published")
            if not lo or lo > top:
                continue  # a random host port (None, 0) or an unprivileged one
            proto = p.get("protocol") or "tcp"
            label = port_label(p)
            ev = "service %s publishes host port %s/%s (at or below %d, a privileged port)" % (name, label, proto, top)
            out.append(_finding(ctx, "privileged-port", "%s:%s/%s" % (name, label, proto), ev, service=name,
                                fix=None, diagnosis={"port": lo, "port_end": p.get("published_end") or lo,
                                                     "protocol": proto, "host_ip": p.get("host_ip") or None}))
    return out


def rule_host_devices(ctx):
    out = []
    for name, svc in _services(ctx):
        devices = svc.get("devices") or []
        if not devices:
            continue
        ev = "service %s is given host devices: %s" % (name, ", ".join(
            "%s -> %s (%s)" % (d.get("source"), d.get("target"), d.get("permissions")) for d in devices))
        out.append(_finding(ctx, "host-devices", name, ev, service=name, fix=None,
                            diagnosis={"devices": [dict(d) for d in devices]}))
    return out


def rule_restart_retries(ctx):
    """CIS 5.15: ``on-failure`` without a low retry limit; and ``always``/``unless-stopped`` on a
    service that is crash-looping now (Docker restarts it forever: the loop never ends by itself)."""
    most = ctx.policy["restart_max_retries"]
    out = []
    for name, svc in _services(ctx):
        rp = svc.get("restart_policy") or {}
        retries = rp.get("max_retries") or 0
        looping = [c for c in ctx.containers_of(name) if is_crash_looping(c, ctx.policy["restart_threshold"])]
        if rp.get("name") in ("always", "unless-stopped") and looping:
            ev = ("service %s restarts %s (%s) and is crash-looping (%s restarted %d times): Docker will restart "
                  "it forever; fix the cause (restart-loop) or cap it with on-failure:%d" % (
                      name, rp.get("name"), rp.get("source"), looping[0].get("name"),
                      looping[0].get("restart_count") or 0, most))
            out.append(_finding(ctx, "restart-retries", name, ev, service=name, container=looping[0].get("name"),
                                fix=None, diagnosis={"policy": rp.get("name"), "crash_looping": True}))
            continue
        if rp.get("name") != "on-failure" or 0 < retries <= most:
            continue
        ev = "service %s restarts on failure %s (%s; at most %d recommended)" % (
            name, "up to %d times" % retries if retries else "without limit", rp.get("source"), most)
        out.append(_finding(ctx, "restart-retries", name, ev, service=name, fix=None,
                            diagnosis={"max_retries": retries, "source": rp.get("source")}))
    return out


# The hardening settings most Compose files leave out (read-only root, no-new-privileges, pids
# and CPU limits): one finding per service each, so they default to info (no weight in the
# score), and their advice is a one-line compose change.

def _unset_rule(rule, is_set, what):
    """A rule that fires for each service where ``is_set(ctx, svc)`` is false (its fix, if any,
    is the rule's: the hardening role's for no-new-privileges and pids)."""
    def check(ctx):
        return [_finding(ctx, rule, name, "service %s: %s" % (name, what(svc)), service=name, fix=True)
                for name, svc in _services(ctx) if not is_set(ctx, svc)]
    check.__name__ = "rule_" + rule.replace("-", "_")
    return check


def _no_new_privileges(ctx, svc):
    """Set in security_opt, or daemon-wide (daemon.json ``no-new-privileges``) and not turned off."""
    values = [v.lower() for k, v, _t in security_options(svc) if k == "no-new-privileges"]
    if values:
        return values[-1] in ("true", "1", "yes")
    return ctx.reachable and bool(ctx.docker.get("no_new_privileges"))


def _no_new_privileges_text(svc):
    written = [t for k, _v, t in security_options(svc) if k == "no-new-privileges"]
    return "security_opt does not set no-new-privileges:true%s" % (
        " (it sets %s)" % ", ".join(written) if written else "")


rule_rootfs_writable = _unset_rule(
    "rootfs-writable", lambda ctx, svc: svc.get("read_only"),
    lambda svc: "the root filesystem is writable (read_only is not true)")
rule_no_new_privileges_missing = _unset_rule(
    "no-new-privileges-missing", _no_new_privileges, _no_new_privileges_text)
rule_pids_no_limit = _unset_rule(
    "pids-no-limit", lambda ctx, svc: (svc.get("pids_limit") or 0) > 0,
    lambda svc: "no process limit (pids_limit / deploy.resources.limits.pids)%s" % (
        " (%s: unlimited)" % svc.get("pids_limit") if svc.get("pids_limit") is not None else ""))
rule_cpu_no_limit = _unset_rule(
    "cpu-no-limit", lambda ctx, svc: any(svc.get(k) for k in ("cpus", "cpu_quota", "cpu_shares", "cpuset")),
    lambda svc: "no CPU limit or share (cpus / deploy.resources.limits.cpus, cpu_quota, cpu_shares, cpuset)")


# The optional fix (remediate.yml --tags hardening) of no-new-privileges, pids and database ports.
HARDENING_FIX = {"role": "hardening", "tag": "hardening"}

Rule = namedtuple("Rule", "func severity title fix impact advice runtime cis")
Rule.__new__.__defaults__ = (None,)

# rule-id -> Rule(function, default severity, title, fix, impact, advice, needs runtime, CIS id)
# ``runtime=True``: skipped when the daemon is unreachable (needs container facts).
# ``cis``: the CIS Docker Benchmark recommendation (docker-bench-security's numbering) the rule
# checks, or None; every finding of the rule carries it. ``impact`` says why, ``advice`` is the
# compose change that fixes it (SARIF help text).
RULES = {
    "daemon-unreachable": Rule(rule_daemon_unreachable, "critical", "Docker daemon unreachable", None,
                               "No runtime facts: container health, memory and volumes cannot be audited.",
                               "Start dockerd / check DOCKER_HOST and socket permissions, then re-run the audit.",
                               False),
    "compose-not-found": Rule(rule_compose_not_found, "critical", "No compose project to audit", None,
                              "Nothing of the project was audited: an empty audit is not a healthy one.",
                              "Point audit_project_dir at the project, or name its files with audit_compose_files.",
                              False),
    "compose-invalid": Rule(rule_compose_invalid, "high", "Compose file does not parse", None,
                            "The project cannot be deployed or audited from this file.",
                            "Fix the YAML at the reported line; validate with `docker compose config -q`.", False),
    "suppression-refused": Rule(rule_suppression_refused, "medium", "Suppression refused", None,
                                "The finding it was meant to silence is still reported and counted.",
                                "Give the entry a rule id of the catalog, a reason and an until date as "
                                "YYYY-MM-DD (x-compose-doctor.ignore or .compose-doctor-ignore.yml), or remove it.",
                                False),
    "restart-loop": Rule(rule_restart_loop, "critical", "Container in a restart loop",
                         {"role": "python_deps", "tag": "pydeps"},
                         "Service is down and crash-looping; dependent features are unavailable.",
                         "Read the log tail, fix the crash cause, rebuild and recreate the service.", True),
    "start-error": Rule(rule_start_error, "critical", "Container could not start", None,
                        "The service is down: the engine could not start its process.",
                        "Read the start error and the diagnosis; fix the cause and recreate the service.", True),
    "unhealthy": Rule(rule_unhealthy, "high", "Container unhealthy", {"role": "socket_access", "tag": "socket"},
                      "Service runs but fails its health check; its function is degraded.",
                      "Read the health-check output and fix the cause.", True),
    "not-running": Rule(rule_not_running, "medium", "Service defined but not running",
                        {"role": "compose_sprawl", "tag": "sprawl"},
                        "Dead configuration: allocated ports and config that nothing serves.",
                        "Start the service or park it under a compose profile.", True),
    "compose-sprawl": Rule(rule_compose_sprawl, "medium", "Configuration sprawl",
                           {"role": "compose_sprawl", "tag": "sprawl"},
                           "Many files and unused services make the effective configuration hard to reason about.",
                           "Consolidate overrides; park never-started services under profiles.", False),
    "env-file-permissions": Rule(rule_env_file_permissions, "high", "Env/secret file readable by others",
                                 {"role": "env_secrets", "tag": "secrets"},
                                 "Any local user or process can read the credentials in the file.",
                                 "chmod 0600 and restrict the owner/group.", False),
    "hardcoded-secret": Rule(rule_hardcoded_secret, "high", "Hardcoded secret in compose file",
                             {"role": "env_secrets", "tag": "secrets"},
                             "Secret committed with the configuration; leaks with every copy of the file.",
                             "Move the value to a 0600 env/secret file and reference it as ${VAR}.", False),
    "default-credential": Rule(rule_default_credential, "high", "Default credential in use",
                               {"role": "env_secrets", "tag": "secrets"},
                               "Well-known credential: anyone who reaches the service can log in.",
                               "Rotate to a generated secret.", False),
    "privileged-container": Rule(rule_privileged_container, "high", "Privileged container", None,
                                 "Container has full access to the host kernel and devices.",
                                 "Drop privileged; grant only the capabilities/devices needed.", False, "5.5"),
    "docker-socket-mount": Rule(rule_docker_socket_mount, "high", "Docker socket mounted", None,
                                "Whoever controls the container controls the Docker daemon (root on the host).",
                                "Avoid the mount or use a filtering socket proxy; read-only does not help.", False,
                                "5.32"),
    "root-user": Rule(rule_root_user, "medium", "Container runs as root", None,
                      "A container escape or bind-mount write lands as root on the host.",
                      "Set a non-root `user:` (or USER in the Dockerfile).", False, "4.1"),
    # database ports: the optional hardening fix re-binds them to 127.0.0.1 for the services listed
    "port-all-interfaces": Rule(rule_port_all_interfaces, "low", "Port published on all interfaces", HARDENING_FIX,
                                "Service reachable from every network the host is on (database ports: high).",
                                "Bind to 127.0.0.1 or a specific interface (`127.0.0.1:PORT:PORT`).", False, "5.14"),
    "mesh-not-running": Rule(rule_mesh_not_running, "high", "Service mesh component not running",
                             {"role": "service_mesh", "tag": "mesh"},
                             "No API gateway / service discovery: no routing, load balancing or registration.",
                             "Start the mesh services and verify their endpoints.", True),
    "memory-pressure": Rule(rule_memory_pressure, "high", "Memory usage near limit",
                            {"role": "resource_limits", "tag": "limits"},
                            "Risk of OOM kills and restarts under load.",
                            "Raise the limit to the recommended value.", True),
    "memory-no-limit": Rule(rule_memory_no_limit, "medium", "No memory limit",
                            {"role": "resource_limits", "tag": "limits"},
                            "One leaking container can exhaust host memory and take down the rest.",
                            "Set deploy.resources.limits.memory from observed usage.", False, "5.11"),
    "memory-overprovisioned": Rule(rule_memory_overprovisioned, "low", "Memory limit over-provisioned",
                                   {"role": "resource_limits", "tag": "limits"},
                                   "Reserved memory far above use hides real capacity.",
                                   "Right-size the limit to observed peak x headroom.", True),
    "volume-unused": Rule(rule_volume_unused, "low", "Unused volume", None,
                          "Orphaned data and disk space; unclear what is authoritative.",
                          "Review, back up, then remove (`docker volume rm`) - report only.", False),
    "volume-duplicate": Rule(rule_volume_duplicate, "low", "Duplicate volume", None,
                             "Two copies of the same data under different prefixes; risk of using the stale one.",
                             "Confirm which copy is live, back up and remove the other - report only.", True),
    "log-rotation-missing": Rule(rule_log_rotation_missing, "low", "No log rotation",
                                 {"role": "log_rotation", "tag": "logs"},
                                 "json-file logs grow without bound and can fill the disk.",
                                 "Set logging.options max-size/max-file per service or in daemon.json.", False),
    "no-healthcheck": Rule(rule_no_healthcheck, "low", "No healthcheck", None,
                           "Failures are invisible to Docker and to depends_on: service_healthy.",
                           "Add a healthcheck to the service or image.", False, "5.27"),
    "monitoring-down": Rule(rule_monitoring_down, "medium", "Monitoring component down", None,
                            "Blind spots: metrics, dashboards, logs or alerts are missing.",
                            "Start the component (`docker compose up -d <service>`) and check its health.", True),
    # --- CIS Docker Benchmark section 5, compose-file side ---------------------------------
    "apparmor-unconfined": Rule(rule_apparmor_unconfined, "medium", "AppArmor profile disabled", None,
                                "Without its AppArmor profile the container may write to /proc and /sys and mount "
                                "file systems the default profile forbids.",
                                "Remove `apparmor:unconfined` from security_opt (or name a custom profile: "
                                "`apparmor:<profile>`).", False, "5.2"),
    "selinux-disabled": Rule(rule_selinux_disabled, "medium", "SELinux separation disabled", None,
                             "On SELinux hosts the container's processes are no longer confined to its own files.",
                             "Remove `label:disable` (or `label:type:spc_t`) from security_opt; relabel binds "
                             "with `:z`/`:Z` instead.", False, "5.3"),
    "seccomp-unconfined": Rule(rule_seccomp_unconfined, "medium", "Seccomp profile disabled", None,
                               "Every system call, including those behind known kernel escapes (unshare, keyctl, "
                               "bpf), is open to the container.",
                               "Remove `seccomp:unconfined` from security_opt; if one call is needed, use a "
                               "profile that allows only it (`seccomp:<profile.json>`).", False, "5.22"),
    "capability-added": Rule(rule_capability_added, "medium", "Dangerous capability added", None,
                             "Each added capability is kernel power outside the container's sandbox; ALL, "
                             "SYS_ADMIN, SYS_MODULE and DAC_READ_SEARCH are known ways out to the host.",
                             "Remove the capability from cap_add, or add only what the process needs after "
                             "`cap_drop: [ALL]`.", False, "5.4"),
    "sensitive-host-mount": Rule(rule_sensitive_host_mount, "high", "Sensitive host path mounted", None,
                                 "The container reads (or, read-write, changes) the host's system files: "
                                 "credentials, boot files, binaries, devices or the engine's data.",
                                 "Mount only the file or directory the service needs, read-only (`:ro`), or use "
                                 "a named volume.", False, "5.6"),
    "mount-propagation-shared": Rule(rule_mount_propagation_shared, "medium", "Shared mount propagation", None,
                                     "Mounts made inside the container propagate to the host (and back).",
                                     "Drop `shared`/`rshared` from the bind (long syntax `bind.propagation`); the "
                                     "default is rprivate.", False, "5.20"),
    "privileged-port": Rule(rule_privileged_port, "low", "Privileged host port published", None,
                            "Host ports below 1024 are reserved for system services; publishing one makes the "
                            "container stand in for one.",
                            "Publish a port above 1023 (`8080:80`) and put a reverse proxy in front if port 80 "
                            "or 443 is needed.", False, "5.8"),
    "host-network": Rule(rule_host_network, "medium", "Host network namespace shared", None,
                         "No network isolation: the container binds host ports directly and reaches services "
                         "that listen only on the host's loopback.",
                         "Remove `network_mode: host`; publish the ports the service needs with `ports:`.",
                         False, "5.10"),
    "host-pid": Rule(rule_host_pid, "high", "Host PID namespace shared", None,
                     "The container sees every host process and their environment; with privileges it can "
                     "signal or trace them.",
                     "Remove `pid: host`.", False, "5.16"),
    "host-ipc": Rule(rule_host_ipc, "medium", "Host IPC namespace shared", None,
                     "The container reads and writes the host's shared memory segments and semaphores.",
                     "Remove `ipc: host` (use `ipc: shareable` / `service:<name>` to share between containers).",
                     False, "5.17"),
    "host-uts": Rule(rule_host_uts, "low", "Host UTS namespace shared", None,
                     "The container can change the host's hostname and domain name.",
                     "Remove `uts: host`.", False, "5.21"),
    # low: effective only where the daemon remaps user namespaces (userns-remap); a no-op elsewhere
    "host-userns": Rule(rule_host_userns, "low", "Host user namespace shared", None,
                        "Root in the container is root on the host again, where the daemon remaps user "
                        "namespaces.",
                        "Remove `userns_mode: host`.", False, "5.31"),
    "host-devices": Rule(rule_host_devices, "medium", "Host device exposed", None,
                         "The container accesses the host device directly (raw disks, USB, GPUs, /dev/mem).",
                         "Remove the entry from `devices:`, or limit it to the one device with the least "
                         "permissions (`/dev/x:/dev/x:r`).", False, "5.18"),
    "restart-retries": Rule(rule_restart_retries, "low", "Unbounded on-failure restarts", None,
                            "A failing container restarts again and again, hiding the failure and loading the "
                            "host.",
                            "Cap the retries: `restart: on-failure:5` (or deploy.restart_policy.max_attempts: 5).",
                            False, "5.15"),
    # The four below flag what most Compose files leave out, one finding per service each: info, so
    # that an existing audit gains advice at the bottom of the report, not a lower score nor a
    # failed low gate (rule_severity raises them, disabled_rules turns them off).
    "container-drift": Rule(rule_container_drift, "medium", "Container differs from its compose file", None,
                            "The engine runs what the file does not say (changed by `docker update`, recreated "
                            "by hand, or left from an older definition): an audit of the file is wrong about it.",
                            "Recreate it from the file: `docker compose up -d <service>` (orphans: "
                            "`--remove-orphans`); or write the running value into the file if it is the one "
                            "you want.", True, None),
    "rootfs-writable": Rule(rule_rootfs_writable, "info", "Root filesystem writable", None,
                            "An intruder can change the container's binaries and configuration in place.",
                            "Set `read_only: true` and give the paths the service writes a volume or `tmpfs:`.",
                            False, "5.13"),
    "no-new-privileges-missing": Rule(rule_no_new_privileges_missing, "info", "no-new-privileges not set", HARDENING_FIX,
                                      "Setuid and file-capability binaries can still raise a process's privileges.",
                                      "Add `security_opt: [\"no-new-privileges:true\"]`.", False, "5.26"),
    "pids-no-limit": Rule(rule_pids_no_limit, "info", "No process limit", HARDENING_FIX,
                          "A fork bomb or a leak in the container can exhaust the host's process table.",
                          "Set `pids_limit` (e.g. 200) or deploy.resources.limits.pids.", False, "5.29"),
    "cpu-no-limit": Rule(rule_cpu_no_limit, "info", "No CPU limit", None,
                         "One busy container can starve the others and the host of CPU.",
                         "Set deploy.resources.limits.cpus (or `cpus:`), or `cpu_shares` to set its priority.",
                         False, "5.12"),
}

# the order rules are listed in catalogs and reports
RULE_ORDER = ["daemon-unreachable", "compose-not-found", "compose-invalid", "suppression-refused", "restart-loop",
              "start-error", "unhealthy", "not-running",
              "compose-sprawl", "env-file-permissions", "hardcoded-secret", "default-credential",
              "privileged-container", "docker-socket-mount", "root-user", "port-all-interfaces",
              "mesh-not-running", "memory-pressure", "memory-no-limit", "memory-overprovisioned",
              "volume-unused", "volume-duplicate", "log-rotation-missing", "no-healthcheck",
              "monitoring-down", "container-drift",
              # CIS Docker Benchmark section 5, in the benchmark's order
              "apparmor-unconfined", "selinux-disabled", "capability-added", "sensitive-host-mount",
              "privileged-port", "host-network", "cpu-no-limit", "rootfs-writable", "restart-retries",
              "host-pid", "host-ipc", "host-devices", "mount-propagation-shared", "host-uts", "seccomp-unconfined",
              "no-new-privileges-missing", "pids-no-limit", "host-userns"]
assert sorted(RULE_ORDER) == sorted(RULES)


def rule_severity(rule_id, policy):
    return (policy.get("rule_severity") or {}).get(rule_id) or RULES[rule_id].severity


def rule_fix(rule_id, policy):
    fm = policy.get("fix_map") or {}
    if rule_id in fm:
        return copy.deepcopy(fm[rule_id]) if fm[rule_id] else None
    return copy.deepcopy(RULES[rule_id].fix)


def rule_status(runtime, policy=None):
    """rule-id -> 'evaluated' | 'disabled' | 'skipped-no-runtime' for the given facts."""
    policy = effective_policy(policy)
    reachable = bool(((runtime or {}).get("docker") or {}).get("reachable"))
    out = {}
    for rid in RULE_ORDER:
        if rid in policy["disabled_rules"]:
            out[rid] = "disabled"
        elif RULES[rid].runtime and not reachable:
            out[rid] = "skipped-no-runtime"
        else:
            out[rid] = "evaluated"
    return out


def catalog(runtime=None, policy=None):
    """Rule metadata with effective severity/fix and evaluation status (for reports/SARIF/JUnit)."""
    policy = effective_policy(policy)
    status = rule_status(runtime, policy)
    out = []
    for rid in RULE_ORDER:
        r = RULES[rid]
        sev = rule_severity(rid, policy)
        out.append({"id": rid, "title": r.title, "severity": sev, "priority": PRIORITY[sev],
                    "fix": rule_fix(rid, policy), "impact": r.impact, "advice": r.advice,
                    "needs_runtime": r.runtime, "status": status[rid], "cis": r.cis})
    return out


def evaluate(compose, runtime, policy=None):
    """Run every enabled rule; return findings sorted by severity, rule order, id."""
    policy = effective_policy(policy)
    ctx = _Ctx(compose, runtime, policy)
    status = rule_status(runtime, policy)
    findings, seen = [], set()
    for rid in RULE_ORDER:
        if status[rid] != "evaluated":
            continue
        rule = RULES[rid]
        for f in rule.func(ctx):
            if f["id"] in seen:
                continue
            seen.add(f["id"])
            override = (policy.get("rule_severity") or {}).get(rid)
            f["severity"] = override or f["severity"] or rule.severity
            f["priority"] = PRIORITY[f["severity"]]
            f["title"] = rule.title
            f["impact"] = rule.impact
            f["advice"] = rule.advice
            f["cis"] = rule.cis
            if f["fix"] is True:
                f["fix"] = rule_fix(rid, policy)
            elif not f["fix"]:
                f["fix"] = None
            findings.append(f)
    order = dict((r, i) for i, r in enumerate(RULE_ORDER))
    findings.sort(key=lambda f: (SEVERITY_RANK[f["severity"]], order[f["rule"]], f["id"]))
    return findings


def score(findings, policy=None):
    """0-100 from the weighted findings: 100 * K / (K + penalty), K = policy score_scale.

    Saturating rather than subtractive, so a badly drifted host (the seed) still scores above 0
    and every fix visibly raises the score; a clean host scores 100.
    """
    pol = effective_policy(policy)
    penalty = sum(pol["score_weights"].get(f.get("severity"), 0) for f in findings)
    scale = float(pol["score_scale"])
    return int(round(100 * scale / (scale + penalty)))
