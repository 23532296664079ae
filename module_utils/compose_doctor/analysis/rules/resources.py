# -*- coding: utf-8 -*-
"""Resources (CIS 5.11, 5.12, 5.15, 5.29): memory pressure and limits, CPU and process limits, restart policies, volumes, log rotation."""
from __future__ import absolute_import, division, print_function

from ansible.module_utils.compose_doctor.analysis import rightsizing
from ansible.module_utils.compose_doctor.sizes import format_size, parse_size
from ansible.module_utils.compose_doctor.analysis.rules.common import (
    _finding, _services, is_crash_looping,
)


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------

def _recommended(ctx, current, usage, rule, oom=False):
    """The limit the resource_limits fix would write (rightsizing.recommend), or None."""
    return rightsizing.recommend(current, usage, oom, [rule], ctx.rightsizing)["recommended"]


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
    """A rule that fires for each service where ``is_set(ctx, svc)`` is false; its fix is the
    rule's (the hardening role's for no-new-privileges and pids, none for the others)."""
    def check(ctx):
        return [_finding(ctx, rule, name, "service %s: %s" % (name, what(svc)), service=name, fix=True)
                for name, svc in _services(ctx) if not is_set(ctx, svc)]
    check.__name__ = "rule_" + rule.replace("-", "_")
    return check
rule_pids_no_limit = _unset_rule(
    "pids-no-limit", lambda ctx, svc: (svc.get("pids_limit") or 0) > 0,
    lambda svc: "no process limit (pids_limit / deploy.resources.limits.pids)%s" % (
        " (%s: unlimited)" % svc.get("pids_limit") if svc.get("pids_limit") is not None else ""))
rule_cpu_no_limit = _unset_rule(
    "cpu-no-limit", lambda ctx, svc: any(svc.get(k) for k in ("cpus", "cpu_quota", "cpu_shares", "cpuset")),
    lambda svc: "no CPU limit or share (cpus / deploy.resources.limits.cpus, cpu_quota, cpu_shares, cpuset)")
