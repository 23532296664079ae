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

The catalog is a package, one module per concern: ``health``, ``privileges``, ``network``,
``secrets``, ``resources``, ``project`` (and ``common`` for what they share); this module is
the one registry (``RULES``, ``RULE_ORDER``) and the evaluation."""
from __future__ import absolute_import, division, print_function

import copy
from collections import namedtuple

from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.analysis import crashloop
from ansible.module_utils.compose_doctor.analysis.rules import build as rules_build
from ansible.module_utils.compose_doctor.analysis.rules.common import (
    _Ctx, _finding,
)
from ansible.module_utils.compose_doctor.analysis.rules.health import (
    rule_container_drift, rule_daemon_unreachable, rule_mesh_not_running, rule_monitoring_down, rule_no_healthcheck, rule_not_running, rule_restart_loop, rule_start_error, rule_unhealthy,
)
from ansible.module_utils.compose_doctor.analysis.rules.network import (
    rule_host_network, rule_port_all_interfaces, rule_privileged_port,
)
from ansible.module_utils.compose_doctor.analysis.rules.privileges import (
    rule_apparmor_unconfined, rule_capability_added, rule_docker_socket_mount, rule_host_devices, rule_host_ipc, rule_host_pid, rule_host_userns, rule_host_uts, rule_mount_propagation_shared, rule_no_new_privileges_missing, rule_privileged_container, rule_root_user, rule_rootfs_writable, rule_seccomp_unconfined, rule_selinux_disabled, rule_sensitive_host_mount,
)
from ansible.module_utils.compose_doctor.analysis.rules.project import (
    rule_compose_invalid, rule_compose_not_found, rule_compose_sprawl,
)
from ansible.module_utils.compose_doctor.analysis.rules.resources import (
    rule_cpu_no_limit, rule_log_rotation_missing, rule_memory_no_limit, rule_memory_overprovisioned, rule_memory_pressure, rule_pids_no_limit, rule_restart_retries, rule_volume_duplicate, rule_volume_unused,
)
from ansible.module_utils.compose_doctor.analysis.rules.secrets import (
    rule_default_credential, rule_env_file_permissions, rule_hardcoded_secret,
)
from ansible.module_utils.compose_doctor.analysis.rules.common import (  # noqa: F401 (the catalog's public names)
    SEVERITIES, PRIORITY, SEVERITY_RANK, MASK, DEFAULT_POLICY, is_crash_looping, exposes_docker_socket, name_matches,
)

# keys whose dict values are merged (user keys over defaults) instead of replaced
_MERGED_KEYS = ("python_module_map", "fix_map", "rule_severity", "score_weights", "dangerous_capabilities")
_NUMERIC_KEYS = ("restart_threshold", "memory_pressure_pct", "overprovisioned_pct", "sprawl_max_override_files",
                 "sprawl_min_running_pct", "sprawl_max_dockerfiles", "rightsize_headroom", "privileged_port_max",
                 "restart_max_retries")

class EffectivePolicy(dict):
    """A policy ``effective_policy`` already merged and checked: passed on as it is (the rules, the
    catalog and the score each take a policy; merging and checking it again per call cost a deep copy
    of the defaults and the crash-loop catalogue each time)."""


def effective_policy(policy=None):
    """DEFAULT_POLICY with ``policy`` merged over it (dict-valued keys merged one level), checked ->
    an EffectivePolicy (a dict); one already effective is returned as it is. Raises ValueError."""
    if isinstance(policy, EffectivePolicy):
        return policy
    eff = EffectivePolicy(copy.deepcopy(DEFAULT_POLICY))
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
    severities.append(("dockerfile_arg_secret_severity", eff["dockerfile_arg_secret_severity"]))
    for key, sev in severities:
        if sev not in SEVERITIES:
            raise ValueError("policy %s=%r is not one of %s" % (key, sev, ", ".join(SEVERITIES)))
    crashloop.compile_catalog(eff["crashloop_catalog"])  # a pattern that does not compile: ValueError
    return eff


def rule_suppression_refused(ctx):
    """A suppression that cannot be applied (no reason, unknown rule id, bad date, unknown key, an
    ignore file that does not parse): it silences nothing; file, line and key are named."""
    return [_finding(ctx, suppressions.REFUSED_RULE, r["target"],
                     "%s line %s, key %s: %s; it suppresses nothing%s" % (
                         r["file"], r["line"] or "?", r["key"], r["message"],
                         " (service %s)" % r["service"] if r.get("service") else ""),
                     file=r["file"], line=r["line"], fix=None)
            for r in suppressions.refused(ctx.compose.get("suppressions"), RULES)]


def _build_rule(check):
    """A rules_build check ``(ctx, finding)`` as a catalog rule ``(ctx) -> [finding]``."""
    def rule(ctx):
        return check(ctx, _finding)
    rule.__name__ = check.__name__
    return rule


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
    # --- CIS Docker Benchmark section 4 (images and build files): analysis/rules/build.py ---------
    "dockerfile-missing": Rule(_build_rule(rules_build.rule_dockerfile_missing), "medium",
                               "Dockerfile not found", None,
                               "The service's build fails, and its image could not be checked.",
                               "Fix build.context / build.dockerfile to name the Dockerfile, or add it.", False),
    "dockerfile-add": Rule(_build_rule(rules_build.rule_dockerfile_add), "low", "ADD used in a Dockerfile", None,
                           "ADD of a URL fetches content that can change under the same URL; ADD of a local file "
                           "may unpack it unexpectedly where COPY only copies.",
                           "Use `COPY` for local files; for a download, `ADD --checksum=sha256:<digest> <url>` (or "
                           "fetch and verify it in a RUN).", False, "4.9"),
    "dockerfile-secret": Rule(_build_rule(rules_build.rule_dockerfile_secret), "high", "Secret in a Dockerfile",
                              None,
                              "Anyone who can pull the image reads it (`docker inspect`, `docker history`); it "
                              "leaks with every copy of the Dockerfile and image.",
                              "Remove the value; pass it at run time (compose `secrets:` or an env file) or at "
                              "build time with `RUN --mount=type=secret`.", False, "4.10"),
    "image-unpinned": Rule(_build_rule(rules_build.rule_image_unpinned), "low", "Image not pinned", None,
                           "`latest` (or no tag) is whatever was pushed last: builds and deploys change without a "
                           "change in the files.",
                           "Name a version tag (`image: nginx:1.27`, `FROM python:3.12-slim`); a digest "
                           "(`@sha256:...`) is the stronger pin.", False, None),
}

# the order rules are listed in catalogs and reports
RULE_ORDER = ["daemon-unreachable", "compose-not-found", "compose-invalid", "suppression-refused", "restart-loop",
              "start-error", "unhealthy", "not-running",
              "compose-sprawl", "env-file-permissions", "hardcoded-secret", "default-credential",
              "privileged-container", "docker-socket-mount", "root-user", "port-all-interfaces",
              "mesh-not-running", "memory-pressure", "memory-no-limit", "memory-overprovisioned",
              "volume-unused", "volume-duplicate", "log-rotation-missing", "no-healthcheck",
              "monitoring-down", "container-drift",
              # CIS Docker Benchmark section 4 (images and build files)
              "dockerfile-missing", "image-unpinned", "dockerfile-add", "dockerfile-secret",
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
            f["title"] = f.get("title") or rule.title     # a rule may name what it found more exactly
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
