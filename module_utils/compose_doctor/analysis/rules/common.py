# -*- coding: utf-8 -*-
"""What every rule module shares: severities, the policy and its defaults, the evaluation
context (``_Ctx``), the finding shape, and helpers several concerns use."""
from __future__ import absolute_import, division, print_function

import re

from ansible.module_utils.compose_doctor.analysis import crashloop, rightsizing
from ansible.module_utils.compose_doctor.facts.compose_values import clean_host_path, name_matches  # noqa: F401 (re-exported)
from ansible.module_utils.compose_doctor.redact import DEFAULT_CREDENTIALS, DEFAULT_SECRET_KEY_PATTERNS

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
    # --- CIS Docker Benchmark section 4 (images and build files) ------------------------------
    # dockerfile-secret (4.10): an ARG default stays in `docker history`, an ENV in every container
    # (the rule's severity); this is the ARG's
    "dockerfile_arg_secret_severity": "medium",
}


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
             diagnosis=None, fix=True, severity=None, title=None):
    """Build a finding; ``fix=True`` means 'the rule's fix', None/False means none; ``title``
    replaces the rule's title when this finding is a more exact case of it."""
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
        "title": title,
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


# ----------------------------------------------------------------------------------------
# CIS Docker Benchmark section 5 (container runtime): what the compose model shows
# ----------------------------------------------------------------------------------------

def _services(ctx):
    for name in sorted(ctx.services):
        yield name, ctx.services[name] or {}
