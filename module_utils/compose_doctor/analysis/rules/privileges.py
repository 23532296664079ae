# -*- coding: utf-8 -*-
"""Privileges and isolation (CIS Docker Benchmark 4.1, 5.2-5.6, 5.16-5.22, 5.26, 5.31, 5.32): what a container may do to its host."""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.analysis.rules import build as rules_build
from ansible.module_utils.compose_doctor.facts.compose_values import capability_name, clean_host_path, is_root_user, security_options
from ansible.module_utils.compose_doctor.analysis.rules.common import (
    SEVERITY_RANK, _finding, _is_socket_mount, _services,
)
from ansible.module_utils.compose_doctor.analysis.rules.resources import (
    _unset_rule,
)


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
            # no container, no user: the image decides; its Dockerfile tells when the service builds one
            image = rules_build.dockerfile_user(name, svc)
            if image and image["root"]:
                out.append(_finding(ctx, "root-user", name, "service %s: no user: in compose; %s" % (
                    name, image["evidence"]), service=name, file=image["file"], line=image["line"], fix=None))
            continue
        if not (is_root_user(user) or (cs and user == "")):
            continue  # '' on a container: no USER in the image, so root
        image = rules_build.dockerfile_user(name, svc) if cs and svc.get("user") is None else None
        src += "; %s" % image["evidence"] if image and image["root"] else ""
        out.append(_finding(ctx, "root-user", name, "service %s: %s" % (name, src), service=name,
                            container=cs[0].get("name") if cs else None, fix=None))
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
