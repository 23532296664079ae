# -*- coding: utf-8 -*-
"""Runtime health: the engine, containers that crash, restart, never start or fail their health check, services that should run and do not, and containers that drift from their file."""
from __future__ import absolute_import, division, print_function

import re

from ansible.module_utils.compose_doctor.analysis import crashloop, drift
from ansible.module_utils.compose_doctor.analysis.rules import build as rules_build
from ansible.module_utils.compose_doctor.redact import redact_text
from ansible.module_utils.compose_doctor.change.requirements_file import normalize_name
from ansible.module_utils.compose_doctor.analysis.rules.common import (
    _finding, _is_socket_mount, is_crash_looping, name_matches,
)


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


def rule_no_healthcheck(ctx):
    out = []
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        cs = ctx.containers_of(name)
        if cs:
            # health state, or the inspect's Config.Healthcheck (the image's merged with compose's) on a
            # container that has not run it yet; the batched pass does not inspect images themselves
            if any(c.get("health") or (c.get("healthcheck_test") or ["NONE"])[0] != "NONE" for c in cs):
                continue
            ev = "container %s has no healthcheck (neither compose nor image defines one)" % cs[0].get("name")
        else:
            hc = svc.get("healthcheck") or {}
            image = rules_build.dockerfile_healthcheck(name, svc) if not hc.get("test") else None
            if hc.get("disabled"):
                ev = "service %s disables its healthcheck" % name
            elif image and not image["present"]:
                ev = "service %s has no healthcheck in compose and its image none: %s" % (name, image["evidence"])
            else:
                continue  # compose or the Dockerfile defines one; an image-only one is unknown without a container
        out.append(_finding(ctx, "no-healthcheck", name, ev, service=name,
                            container=cs[0].get("name") if cs else None, fix=None))
    return out


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
