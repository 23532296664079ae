# -*- coding: utf-8 -*-
"""compose-doctor report model: facts + findings -> the versioned ``audit.json`` dict.

``build_report(host, compose, runtime, findings, policy, generated_at)`` returns the per-host
report (schema ``1.0``); ``fleet_report(host_reports, unreachable_hosts)`` aggregates several.
Pure logic, stdlib only. The report never contains environment values: only key names and
``********`` (compose facts are already masked; this module does not copy environments at all).

Score: ``100 * scale / (scale + sum(weight[severity]))`` over all findings (see rules.score).
Default weights (``policy['score_weights']``): critical 20, high 8, medium 3, low 1; scale 100.
"""
from __future__ import absolute_import, division, print_function

import datetime

from ansible.module_utils.compose_doctor.analysis import rightsizing
from ansible.module_utils.compose_doctor.output import report_sections
from ansible.module_utils.compose_doctor.analysis.rules import (
    PRIORITY, SEVERITIES, SEVERITY_RANK, catalog, effective_policy, is_crash_looping,
    name_matches, score as compute_score,
)

SCHEMA_VERSION = "1.0"
FLEET_SCHEMA_VERSION = "1.0"
TOOL = {"name": "compose-doctor", "version": "1.0.0"}
ALL_INTERFACES = ("", "0.0.0.0", "::")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _pct(part, whole, digits=1):
    if not whole:
        return None
    return round(100.0 * part / whole, digits)


def _project_containers(compose, runtime):
    project = ((compose or {}).get("project") or {}).get("name")
    docker = (runtime or {}).get("docker") or {}
    if not docker.get("reachable"):
        return []
    return [c for c in (runtime or {}).get("containers") or []
            if not c.get("project") or not project or c.get("project") == project]


def _is_healthy(c):
    """Running and not failing its healthcheck (no healthcheck counts as healthy)."""
    status = (c.get("health") or {}).get("status")
    return c.get("state") == "running" and status in (None, "healthy")


def _container_row(c):
    usage, limit, pct = rightsizing.container_memory(c)
    return {
        "name": c.get("name"), "id": c.get("id"), "service": c.get("service"), "image": c.get("image"),
        "state": c.get("state"), "status": c.get("status"),
        "health": (c.get("health") or {}).get("status"),
        "healthy": _is_healthy(c),
        "restart_count": c.get("restart_count") or 0, "exit_code": c.get("exit_code"),
        "oom_killed": bool(c.get("oom_killed")), "started_at": c.get("started_at"),
        "user": c.get("user"), "privileged": bool(c.get("privileged")),
        "mem_usage_bytes": usage, "mem_limit_bytes": limit,
        "mem_pct": round(pct, 2) if pct is not None else None,
        "ports": [{"host_ip": p.get("host_ip"), "host_port": p.get("host_port"),
                   "container_port": p.get("container_port"), "protocol": p.get("protocol")}
                  for p in c.get("ports") or []],
    }


def _service_rows(compose, containers, findings):
    services = (compose or {}).get("services") or {}
    by_service = {}
    for c in containers:
        by_service.setdefault(c.get("service"), []).append(c)
    fids = {}
    for f in findings:
        if f.get("service"):
            fids.setdefault(f["service"], []).append(f["id"])
    file_of = {}
    for f in (compose or {}).get("files") or []:
        for s in f.get("services") or []:
            file_of.setdefault(s, f.get("path"))
    names = list(services) + [n for n in (compose or {}).get("services_defined") or [] if n not in services]
    rows = []
    for name in sorted(set(names)):
        svc = services.get(name)
        cs = by_service.get(name, [])
        running = [c for c in cs if c.get("state") == "running"]
        c = (running or cs or [None])[0]
        usage, limit = (None, None)
        if c:
            usage, limit, _ = rightsizing.container_memory(c)
        compose_limit = (svc or {}).get("mem_limit_bytes")
        rows.append({
            "name": name,
            "active": svc is not None,
            "file": (svc or {}).get("file") or file_of.get(name),
            "line": (svc or {}).get("line"),
            "image": (svc or {}).get("image"),
            "build_context": ((svc or {}).get("build") or {}).get("context"),
            "profiles": list((svc or {}).get("profiles") or []),
            "user": (svc or {}).get("user"),
            "privileged": bool((svc or {}).get("privileged")),
            "healthcheck": bool((svc or {}).get("healthcheck")) and not ((svc or {}).get("healthcheck") or {}).get("disabled"),
            "running": bool(running),
            "container": c.get("name") if c else None,
            "state": c.get("state") if c else ("not created" if svc is not None else "inactive file"),
            "health": (c.get("health") or {}).get("status") if c else None,
            "restart_count": (c.get("restart_count") or 0) if c else 0,
            "mem_usage_bytes": usage,
            "mem_limit_bytes": limit if limit is not None else compose_limit,
            "mem_limit_source": "runtime" if limit is not None else ((svc or {}).get("limit_source") if compose_limit else None),
            "mem_reservation_bytes": (svc or {}).get("mem_reservation_bytes"),
            "ports": [{"published": p.get("published"), "target": p.get("target"),
                       "host_ip": p.get("host_ip") or "", "protocol": p.get("protocol") or "tcp"}
                      for p in (svc or {}).get("ports") or []],
            "findings": fids.get(name, []),
        })
    return rows


def _port_registry(compose, containers, policy):
    services = (compose or {}).get("services") or {}
    dbports = set(int(p) for p in policy["database_ports"])
    bound = {}
    for c in containers:
        if c.get("state") != "running":
            continue
        for p in c.get("ports") or []:
            if p.get("host_port") in (None, ""):
                continue
            bound.setdefault((int(p["host_port"]), (p.get("protocol") or "tcp")), set()).add(c.get("service"))
    rows = []
    for name in sorted(services):
        for p in (services[name] or {}).get("ports") or []:
            if p.get("published") in (None, ""):
                continue
            port = int(p["published"])
            proto = p.get("protocol") or "tcp"
            host_ip = p.get("host_ip") or ""
            rows.append({
                "port": port, "protocol": proto, "service": name, "target": p.get("target"),
                "host_ip": host_ip, "all_interfaces": host_ip in ALL_INTERFACES,
                "database": port in dbports or int(p.get("target") or 0) in dbports,
                "listening": name in bound.get((port, proto), set()),
            })
    rows.sort(key=lambda r: (r["port"], r["protocol"], r["service"]))
    # the same host port claimed by two services is a conflict worth showing
    seen = {}
    for r in rows:
        seen.setdefault((r["port"], r["protocol"], r["host_ip"]), []).append(r["service"])
    for r in rows:
        r["conflict"] = len(seen[(r["port"], r["protocol"], r["host_ip"])]) > 1
    return rows


def _volume_rows(compose, runtime, findings):
    status = {}
    for f in findings:
        if f["rule"] == "volume-unused":
            status[f["target"]] = "unused"
        elif f["rule"] == "volume-duplicate":
            status[f["target"]] = "duplicate"
    declared = {}
    project = ((compose or {}).get("project") or {}).get("name")
    for key, v in ((compose or {}).get("volumes") or {}).items():
        v = v or {}
        name = v.get("name") or ("%s_%s" % (project, key) if project and not v.get("external") else key)
        declared[name] = key
    rows, seen = [], set()
    docker = (runtime or {}).get("docker") or {}
    for v in ((runtime or {}).get("volumes") or []) if docker.get("reachable") else []:
        name = v.get("name")
        seen.add(name)
        rows.append({"name": name, "declared": declared.get(name), "driver": v.get("driver"),
                     "project": v.get("project"), "in_use": bool(v.get("in_use")),
                     "used_by": list(v.get("used_by") or []),
                     "status": status.get(name) or ("in-use" if v.get("in_use") else "unrelated")})
    for name, key in sorted(declared.items()):
        if name in seen:
            continue
        rows.append({"name": name, "declared": key, "driver": None, "project": project, "in_use": None,
                     "used_by": [], "status": status.get(name) or "declared"})
    rows.sort(key=lambda r: r["name"])
    return rows


def _resources(compose, containers, findings, policy):
    by_container = {}
    for f in findings:
        if f["rule"] in ("memory-pressure", "memory-overprovisioned") and f.get("container"):
            by_container[f["container"]] = f
    services = (compose or {}).get("services") or {}
    rows = []
    used = limits = reclaim = 0
    for c in containers:
        if c.get("state") != "running":
            continue
        usage, limit, pct = rightsizing.container_memory(c)
        f = by_container.get(c.get("name"))
        if f and f["rule"] == "memory-pressure":
            status = "under-provisioned"
        elif f and f["rule"] == "memory-overprovisioned":
            status = "over-provisioned"
        elif limit is None:
            status = "no limit"
        else:
            status = "ok"
        rec = (f or {}).get("diagnosis", {}).get("recommended_limit_bytes") if f else None
        if rec is None and usage is not None and limit is None:
            rec = rightsizing.recommend(None, usage, policy=rightsizing.audit_policy(policy))["recommended"]
        rc = (f or {}).get("diagnosis", {}).get("reclaimable_bytes") if f else None
        used += usage or 0
        limits += limit or 0
        reclaim += rc or 0
        rows.append({"container": c.get("name"), "service": c.get("service"), "usage_bytes": usage,
                     "limit_bytes": limit, "percent": round(pct, 2) if pct is not None else None,
                     "reservation_bytes": (services.get(c.get("service")) or {}).get("mem_reservation_bytes"),
                     "status": status, "recommended_limit_bytes": rec, "reclaimable_bytes": rc})
    rows.sort(key=lambda r: -(r["usage_bytes"] or 0))
    reserved = sum((s or {}).get("mem_reservation_bytes") or 0 for s in services.values())
    return {"containers": rows, "used_bytes": used, "limit_bytes": limits, "reserved_bytes": reserved,
            "utilisation_pct": _pct(used, limits), "reclaimable_bytes": reclaim,
            "unlimited_containers": len([r for r in rows if r["limit_bytes"] is None])}


def _components(compose, containers, names):
    services = (compose or {}).get("services") or {}
    defined = set((compose or {}).get("services_defined") or []) | set(services)
    rows = []
    for comp in names:
        matched = sorted(n for n in defined if name_matches(n, [comp]))
        if not matched:
            rows.append({"component": comp, "service": None, "defined": False, "active": False,
                         "running": False, "state": None, "health": None, "ports": []})
            continue
        for name in matched:
            cs = [c for c in containers if c.get("service") == name]
            run = [c for c in cs if c.get("state") == "running"]
            c = (run or cs or [None])[0]
            rows.append({"component": comp, "service": name, "defined": True, "active": name in services,
                         "running": bool(run), "state": c.get("state") if c else None,
                         "health": (c.get("health") or {}).get("status") if c else None,
                         "ports": [p.get("published") for p in (services.get(name) or {}).get("ports") or []
                                   if p.get("published")]})
    return rows


def _file_rows(compose):
    out = []
    for f in (compose or {}).get("files") or []:
        out.append({"path": f.get("path"), "kind": f.get("kind"), "active": bool(f.get("active")),
                    "services": len(f.get("services") or []), "lines": f.get("lines"),
                    "error": f.get("error")})
    return out


def _secret_file_rows(entries):
    out = []
    for f in entries or []:
        out.append({"path": f.get("path"), "mode": f.get("mode"), "owner": f.get("owner"), "group": f.get("group"),
                    "group_readable": bool(f.get("group_readable")), "world_readable": bool(f.get("world_readable")),
                    "secret_keys": [s.get("key") for s in f.get("secrets") or []]})
    return out


def _model_note(compose):
    """None when Compose built the model; else what the approximate fallback does not resolve."""
    if compose.get("model_source") != "yaml":
        return None
    why = compose.get("cli_error") or "Compose v2 was not used (audit_use_compose_cli=false)"
    return ("Approximate model: `docker compose config` did not provide it (%s). compose-doctor merged the "
            "files itself; it does not resolve include: env_file/project_directory, cross-file extends limits "
            "or Compose's validation, so a value Compose would reject may be missing here." % why)


def _summary(compose, containers, findings, policy, reachable):
    """The summary block: counts (None where runtime facts are missing), score, worst severity."""
    services = compose.get("services") or {}
    files = compose.get("files") or []
    running_services = set(c.get("service") for c in containers if c.get("state") == "running")
    defined = list(compose.get("services_defined") or services.keys())
    counts = dict((s, 0) for s in SEVERITIES)
    for f in findings:
        counts[f["severity"]] = counts.get(f["severity"], 0) + 1
    healthy = [c for c in containers if _is_healthy(c)]
    mem_used = sum(rightsizing.container_memory(c)[0] or 0 for c in containers) if reachable else None
    mem_limit = sum(rightsizing.container_memory(c)[1] or 0 for c in containers) if reachable else None
    summary = {
        "compose_files": len(files),
        "active_files": len(compose.get("active_files") or []),
        "override_files": len([f for f in files if f.get("kind") == "override"]),
        "services_defined": len(set(defined)),
        "services_active": len(services),
        "services_running": len(running_services & (set(defined) | set(services))) if reachable else None,
        "containers_total": len(containers) if reachable else None,
        "containers_running": len([c for c in containers if c.get("state") == "running"]) if reachable else None,
        "containers_healthy": len(healthy) if reachable else None,
        "containers_unhealthy": len([c for c in containers if (c.get("health") or {}).get("status") == "unhealthy"])
        if reachable else None,
        # crash-looping, as the restart-loop rule counts it (not the instant's state)
        "containers_restarting": len([c for c in containers if is_crash_looping(c, policy["restart_threshold"])])
        if reachable else None,
        "dockerfiles": len(compose.get("dockerfiles") or []),
        "memory_used_bytes": mem_used,
        "memory_limit_bytes": mem_limit,
        "memory_utilisation_pct": _pct(mem_used, mem_limit) if reachable else None,
        "health_pct": _pct(len(healthy), len(containers)) if reachable else None,
        "running_pct": _pct(len(running_services), len(set(defined))) if reachable else None,
        "findings": counts,
        "findings_total": len(findings),
        "score": compute_score(findings, policy),
        "score_weights": dict(policy["score_weights"]),
    }
    worst = None
    for s in SEVERITIES:
        if counts.get(s):
            worst = s
            break
    summary["worst_severity"] = worst
    summary["worst_priority"] = PRIORITY[worst] if worst else None
    return summary


def build_report(host, compose, runtime, findings, policy=None, generated_at=None):
    """Assemble the audit.json dict (schema 1.0) from facts and evaluated findings."""
    policy = effective_policy(policy)
    compose = compose or {}
    runtime = runtime or {}
    docker = runtime.get("docker") or {}
    reachable = bool(docker.get("reachable"))
    if not runtime:
        docker = {"reachable": False, "error": "runtime facts were not gathered"}
    containers = _project_containers(compose, runtime)
    summary = _summary(compose, containers, findings, policy, reachable)
    generated_at = generated_at or utc_now()
    disk = report_sections.disk_section(runtime, containers) if reachable else None
    report = {
        "schema_version": SCHEMA_VERSION,
        "tool": dict(TOOL),
        "host": host,
        "generated_at": generated_at,
        "project": {"name": (compose.get("project") or {}).get("name"),
                    "dir": (compose.get("project") or {}).get("dir")},
        "model_source": compose.get("model_source"),
        "model_note": _model_note(compose),
        "docker": {"reachable": reachable, "error": docker.get("error"), "version": docker.get("version"),
                   "api_version": docker.get("api_version"), "logging_driver": docker.get("logging_driver"),
                   "log_opts": dict(docker.get("log_opts") or {}),
                   "socket": dict(docker.get("socket") or {}) or None},
        "summary": summary,
        "compose": {"files": _file_rows(compose), "active_files": list(compose.get("active_files") or []),
                    "skipped_dirs": list(compose.get("skipped_dirs") or []),
                    "dockerfiles": list(compose.get("dockerfiles") or []),
                    "env_files": _secret_file_rows(compose.get("env_files")),
                    "secret_files": _secret_file_rows(compose.get("secret_files")),
                    "errors": list(compose.get("errors") or []),
                    "devops_files": dict(compose.get("devops_files") or {})},
        "services": _service_rows(compose, containers, findings),
        # each row also has uptime_s and cpu_pct (report_sections.container_extras)
        "containers": [dict(_container_row(c), **report_sections.container_extras(c, generated_at))
                       for c in sorted(containers, key=lambda c: c.get("name") or "")],
        "ports": _port_registry(compose, containers, policy),
        "volumes": _volume_rows(compose, runtime, findings),
        "resources": _resources(compose, containers, findings, policy) if reachable else None,
        "mesh": _components(compose, containers, policy["mesh_services"]),
        "monitoring": _components(compose, containers, policy["monitoring_services"]),
        "rules": catalog(runtime, policy),
        # fix tags this installation ships (null: all); the others are shown as planned
        "available_fixes": policy.get("available_fixes"),
        "findings": list(findings),
        # the seed's sections; shapes in output/report_sections.py
        "networks": report_sections.network_section(compose, runtime if reachable else {}, containers),
        "disk_usage": disk,
        "databases": report_sections.database_section(compose, containers, disk, policy.get("database_kinds") or []),
        "kpis": report_sections.kpi_section(compose, containers, summary, policy),
        "monitoring_depth": report_sections.monitoring_section(compose, containers, policy),
        "mesh_depth": report_sections.mesh_section(compose, containers),
    }
    return report


def fleet_report(host_reports, unreachable_hosts=None, generated_at=None, outcomes=None):
    """Aggregate per-host reports; ``unreachable_hosts``: the hosts without a report, names or
    {host, error|msg, state} dicts (state: 'unreachable', the default, or 'failed': reached, but the
    audit stopped before its report); ``outcomes``: remediation's [{host, state, detail}] per host (empty for an audit)."""
    hosts, unreachable = [], []
    totals = {"findings": dict((s, 0) for s in SEVERITIES), "containers_total": 0, "containers_unhealthy": 0,
              "containers_restarting": 0, "services_defined": 0, "services_running": 0}
    rules = {}
    for r in sorted(host_reports or [], key=lambda r: str(r.get("host"))):
        s = r.get("summary") or {}
        hosts.append({
            "host": r.get("host"), "project": (r.get("project") or {}).get("name"),
            "generated_at": r.get("generated_at"),
            "docker_reachable": bool((r.get("docker") or {}).get("reachable")),
            "docker_error": (r.get("docker") or {}).get("error"),
            "score": s.get("score"), "findings": dict(s.get("findings") or {}),
            "worst_priority": s.get("worst_priority"),
            "services_defined": s.get("services_defined"), "services_running": s.get("services_running"),
            "containers_total": s.get("containers_total"), "containers_unhealthy": s.get("containers_unhealthy"),
            "containers_restarting": s.get("containers_restarting"), "health_pct": s.get("health_pct"),
        })
        for sev in SEVERITIES:
            totals["findings"][sev] += (s.get("findings") or {}).get(sev, 0)
        for k in ("containers_total", "containers_unhealthy", "containers_restarting", "services_defined",
                  "services_running"):
            totals[k] += s.get(k) or 0
        titles = {x.get("id"): x.get("title") for x in r.get("rules") or []}   # the rule's, not one finding's
        for f in r.get("findings") or []:
            e = rules.setdefault(f["rule"], {"rule": f["rule"], "title": titles.get(f["rule"]) or f.get("title"),
                                             "severity": f["severity"],
                                             "findings": 0, "hosts": set()})
            e["findings"] += 1
            e["hosts"].add(r.get("host"))
            if SEVERITY_RANK[f["severity"]] < SEVERITY_RANK[e["severity"]]:
                e["severity"] = f["severity"]
    for u in unreachable_hosts or []:
        if isinstance(u, dict):
            state = "failed" if u.get("state") == "failed" else "unreachable"
            unreachable.append({"host": u.get("host") or u.get("name"), "state": state,
                                "error": u.get("error") or u.get("msg") or u.get("detail") or state})
        else:
            unreachable.append({"host": str(u), "state": "unreachable", "error": "unreachable"})
    unreachable.sort(key=lambda u: str(u["host"]))
    scores = [h["score"] for h in hosts if h["score"] is not None]
    rule_rows = []
    for e in rules.values():
        e["hosts"] = sorted(str(h) for h in e["hosts"])
        e["priority"] = PRIORITY[e["severity"]]
        rule_rows.append(e)
    rule_rows.sort(key=lambda e: (SEVERITY_RANK[e["severity"]], -len(e["hosts"]), e["rule"]))
    totals.update({
        "hosts": len(hosts) + len(unreachable), "hosts_audited": len(hosts),
        "hosts_unreachable": sum(1 for u in unreachable if u["state"] == "unreachable"),
        "hosts_failed": sum(1 for u in unreachable if u["state"] == "failed"),
        "score_min": min(scores) if scores else None,
        "score_avg": round(sum(scores) / float(len(scores)), 1) if scores else None,
    })
    return {"schema_version": FLEET_SCHEMA_VERSION, "tool": dict(TOOL), "generated_at": generated_at or utc_now(),
            "totals": totals, "hosts": hosts, "unreachable": unreachable, "rules": rule_rows,
            "outcomes": sorted(({"host": o.get("host"), "state": o.get("state"), "detail": o.get("detail")}
                                for o in outcomes or []), key=lambda o: str(o["host"]))}
