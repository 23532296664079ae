# -*- coding: utf-8 -*-
"""The report's sections the seed report has beyond findings: networks, container uptime/CPU and disk
usage, databases. Pure logic over the compose facts and the runtime facts (``container_facts``);
stdlib only. Each builder's docstring gives the exact shape of its ``audit.json`` key.
"""
from __future__ import absolute_import, division, print_function

import datetime

from ansible.module_utils.compose_doctor.analysis.rules.common import name_matches
from ansible.module_utils.compose_doctor.facts.docker_runtime import parse_docker_time
from ansible.module_utils.compose_doctor.facts.runtime_extras import match_database

ALL_INTERFACES = ("", "0.0.0.0", "::")


def _parse_ts(value):
    if not value:
        return None
    if isinstance(value, datetime.datetime):
        return value
    return parse_docker_time(value)


def _by_service(containers):
    out = {}
    for c in containers:
        out.setdefault(c.get("service"), []).append(c)
    for cs in out.values():
        cs.sort(key=lambda c: (c.get("state") != "running", c.get("name") or ""))
    return out


def _port_text(p):
    host_ip = p.get("host_ip") or ""
    return "%s%s->%s/%s" % (host_ip + ":" if host_ip else "", p.get("published"), p.get("target"),
                            p.get("protocol") or "tcp")


def network_section(compose, runtime, containers):
    """``networks`` key:
    {"networks": [{"name": str, "key": str|None (Compose key), "driver": str|None, "internal": bool,
                   "external": bool (not created by this project), "created": bool (exists in the engine),
                   "subnets": [{"subnet": str, "gateway": str|None}], "services": [str]}],
     "default_only_services": [str],   # active services whose only network is the project's default
     "host_network_services": [str],   # network_mode host (file or running container)
     "published_services": [{"service": str, "ports": ["127.0.0.1:10010->8000/tcp"], "all_interfaces": bool}],
     "internal_only_services": [str]}  # active services publishing no port and not on host networking
    """
    services = (compose or {}).get("services") or {}
    project = ((compose or {}).get("project") or {}).get("name")
    rows = {}
    for n in (runtime or {}).get("networks") or []:
        rows[n["name"]] = {"name": n["name"], "key": n.get("key"), "driver": n.get("driver"),
                           "internal": bool(n.get("internal")), "external": n.get("project") != project,
                           "created": True, "subnets": list(n.get("subnets") or []), "services": set()}
    by_key = dict((r["key"], r["name"]) for r in rows.values() if r["key"] and not r["external"])
    by_service = _by_service(containers)
    host_net = set()
    for name, svc in services.items():
        mode = (svc or {}).get("network_mode")
        cs = by_service.get(name) or []
        if mode == "host" or any(c.get("network_mode") == "host" for c in cs):
            host_net.add(name)
            continue
        if mode:  # service:x / container:x / none: no network of its own
            continue
        joined = set()
        for c in cs:
            joined.update(c.get("networks") or [])
        for key in (svc or {}).get("networks") or ["default"]:
            joined.add(by_key.get(key) or ("%s_%s" % (project, key) if project else key))
        for net in joined:
            row = rows.setdefault(net, {"name": net, "key": None, "driver": None, "internal": False,
                                        "external": False, "created": False, "subnets": [], "services": set()})
            row["services"].add(name)
    default_name = by_key.get("default") or ("%s_default" % project if project else "default")
    default_only = sorted(n for n, r in _service_networks(rows).items()
                          if r == {default_name} and n in services)
    published, internal = [], []
    for name in sorted(services):
        ports = [p for p in (services[name] or {}).get("ports") or [] if p.get("published") not in (None, "")]
        if ports:
            published.append({"service": name, "ports": [_port_text(p) for p in ports],
                              "all_interfaces": any((p.get("host_ip") or "") in ALL_INTERFACES for p in ports)})
        elif name not in host_net:
            internal.append(name)
    nets = sorted(rows.values(), key=lambda r: r["name"] or "")
    for r in nets:
        r["services"] = sorted(r["services"])
    return {"networks": nets, "default_only_services": default_only, "host_network_services": sorted(host_net),
            "published_services": published, "internal_only_services": internal}


def _service_networks(rows):
    out = {}
    for r in rows.values():
        for s in r["services"]:
            out.setdefault(s, set()).add(r["name"])
    return out


def container_extras(c, now):
    """Fields added to each ``containers`` row: {"uptime_s": int|None (running: now - StartedAt),
    "cpu_pct": float|None (CPU time / uptime * 100: percent of ONE core averaged since start,
    not an instant sample)}."""
    if c.get("state") != "running":
        return {"uptime_s": None, "cpu_pct": None}
    started = _parse_ts(c.get("started_at"))
    now = _parse_ts(now) if now else datetime.datetime.now(datetime.timezone.utc)
    if started is None or now is None:
        return {"uptime_s": None, "cpu_pct": None}
    uptime = max(0, int((now - started).total_seconds()))
    cpu = c.get("cpu_usage_ns")
    pct = round(100.0 * cpu / 1e9 / uptime, 2) if isinstance(cpu, int) and uptime > 0 else None
    return {"uptime_s": uptime, "cpu_pct": pct}


def disk_section(runtime, containers):
    """``disk_usage`` key (None when the engine was not reachable):
    {"available": bool, "timed_out": bool, "error": str|None, "seconds": float|None,
     "volumes": [{"name": str, "size_bytes": int|None, "ref_count": int|None, "used_by": [str]}],
     "images": [{"id": str, "tags": [str], "size_bytes": int, "services": [str]}],
     "dangling_images": [{"id": str, "size_bytes": int, "created": int (epoch)}],
     "volumes_bytes": int, "images_bytes": int, "dangling_bytes": int}
    """
    du = (runtime or {}).get("disk_usage")
    if du is None:
        return None
    users = dict((v.get("name"), list(v.get("used_by") or [])) for v in (runtime or {}).get("volumes") or [])
    volumes = [{"name": name, "size_bytes": v.get("size_bytes"), "ref_count": v.get("ref_count"),
                "used_by": users.get(name, [])} for name, v in sorted((du.get("volumes") or {}).items())]
    services_of = {}
    for c in containers:
        services_of.setdefault(c.get("image_id"), set()).add(c.get("service"))
    images = [{"id": i["id"], "tags": list(i.get("tags") or []), "size_bytes": i.get("size_bytes"),
               "services": sorted(s for s in services_of.get(i["id"], ()) if s)} for i in du.get("images") or []]
    return {"available": bool(du.get("available")), "timed_out": bool(du.get("timed_out")), "error": du.get("error"),
            "seconds": du.get("seconds"), "volumes": volumes, "images": images,
            "dangling_images": list(du.get("dangling_images") or []),
            "volumes_bytes": sum(v["size_bytes"] or 0 for v in volumes),
            "images_bytes": sum(i["size_bytes"] or 0 for i in images),
            "dangling_bytes": du.get("dangling_bytes") or 0}


def database_section(compose, containers, disk, kinds):
    """``databases`` key: one row per recognised service (running or not), sorted by service:
    [{"service": str, "kind": str, "container": str|None, "running": bool,
      "ready": bool|None (None: not probed), "probe_error": str|None, "exit_code": int|None,
      "settings": {key: str|None} (e.g. redis maxmemory, maxmemory_policy, save, aof_enabled),
      "output": [str] (scrubbed, <= 5 lines), "user": str|None, "user_source": str|None,
      "volumes": [{"name": str, "destination": str, "size_bytes": int|None}],
      "backup_command": str|None (run from the project directory; never a password)}]
    """
    services = (compose or {}).get("services") or {}
    by_service = _by_service(containers)
    sizes = dict((v["name"], v.get("size_bytes")) for v in (disk or {}).get("volumes") or [])
    kinds_by_name = dict((k.get("kind"), k) for k in kinds or [])
    rows = []
    for name in sorted(set(services) | set(s for s in by_service if s)):
        cs = by_service.get(name) or []
        c = cs[0] if cs else None
        db = (c or {}).get("database")
        kind = kinds_by_name.get(db.get("kind")) if db else match_database(
            name, (services.get(name) or {}).get("image") or (c or {}).get("image"), kinds)
        if not kind:
            continue
        db = db or {}
        user = db.get("user") or kind.get("default_user")
        backup = kind.get("backup")
        rows.append({
            "service": name, "kind": kind.get("kind"), "container": (c or {}).get("name"),
            "running": (c or {}).get("state") == "running", "ready": db.get("ready"),
            "probe_error": db.get("error"), "exit_code": db.get("exit_code"),
            "settings": dict(db.get("settings") or {}), "output": list(db.get("output") or []),
            "user": user, "user_source": db.get("user_source"),
            "volumes": [{"name": m.get("name") or m.get("source"), "destination": m.get("destination"),
                         "size_bytes": sizes.get(m.get("name") or m.get("source"))}
                        for m in (c or {}).get("mounts") or [] if m.get("type") == "volume"],
            "backup_command": backup.replace("{service}", name).replace("{user}", user or "<user>") if backup else None,
        })
    return rows


def kpi_section(compose, containers, summary, policy):
    """``kpis`` key (the seed's KPI table; None values where the engine was not reachable):
    {"availability": {"available": int, "defined": int, "pct": float|None,  # running and healthy / defined
                      "active": int, "active_pct": float|None},             # ... / services of the active files
     "health_pct": float|None,                                               # healthy / containers
     "response_target_ms": int,
     "response_times": [{"service": str, "container": str, "url": str, "status": int|None,
                         "samples_ms": [float], "median_ms": float|None, "error": str|None,
                         "within_target": bool}],                            # published HTTP health checks
     "memory": {"utilisation_pct": float|None, "target_pct": int,
                "over_target": [{"container": str, "pct": float}]},
     "restarts": {"total": int, "containers": [{"container": str, "restarts": int}]},
     "oom_kills": {"total": int, "containers": [str]}}                      # OOMKilled now or oom events (1 h)
    """
    services = (compose or {}).get("services") or {}
    defined = set((compose or {}).get("services_defined") or services)
    target_ms = int(policy.get("kpi_response_target_ms") or 200)
    mem_target = policy.get("memory_pressure_pct") or 80
    available = set(c.get("service") for c in containers if c.get("state") == "running"
                    and (c.get("health") or {}).get("status") in (None, "healthy"))
    times = []
    for c in sorted(containers, key=lambda c: c.get("name") or ""):
        p = c.get("http_probe")
        if p:
            times.append({"service": c.get("service"), "container": c.get("name"), "url": p.get("url"),
                          "status": p.get("status"), "samples_ms": list(p.get("samples_ms") or []),
                          "median_ms": p.get("median_ms"), "error": p.get("error"),
                          "within_target": p.get("median_ms") is not None and not p.get("error")
                          and p.get("status") is not None and p["status"] < 400 and p["median_ms"] <= target_ms})
    over = [{"container": c.get("name"), "pct": (c.get("memory") or {}).get("percent")} for c in containers
            if ((c.get("memory") or {}).get("percent") or 0) >= mem_target]
    restarts = [{"container": c.get("name"), "restarts": c.get("restart_count") or 0} for c in containers
                if c.get("restart_count")]
    oom = sorted(c.get("name") for c in containers
                 if c.get("oom_killed") or ((c.get("history") or {}).get("oom_kills") or 0) > 0)
    return {
        "availability": {"available": len(available & defined), "defined": len(defined),
                         "pct": round(100.0 * len(available & defined) / len(defined), 1) if defined else None,
                         "active": len(services),
                         "active_pct": round(100.0 * len(available & set(services)) / len(services), 1)
                         if services else None},
        "health_pct": (summary or {}).get("health_pct"),
        "response_target_ms": target_ms, "response_times": times,
        "memory": {"utilisation_pct": (summary or {}).get("memory_utilisation_pct"), "target_pct": mem_target,
                   "over_target": sorted(over, key=lambda o: -(o["pct"] or 0))},
        "restarts": {"total": sum(r["restarts"] for r in restarts),
                     "containers": sorted(restarts, key=lambda r: -r["restarts"])},
        "oom_kills": {"total": sum(max(1 if c.get("oom_killed") else 0, (c.get("history") or {}).get("oom_kills") or 0)
                                   for c in containers), "containers": oom},
    }


def _api_of(containers, kind):
    """(container, api fact) of the first running container whose API fact is of ``kind``."""
    for c in sorted(containers, key=lambda c: c.get("name") or ""):
        api = c.get("api")
        if api and api.get("kind") == kind:
            return c, api
    return None, None


def _first_error(api):
    errors = (api or {}).get("errors") or {}
    return "; ".join("%s: %s" % (k, v) for k, v in sorted(errors.items())) or None


def _defined_services(compose, name):
    services = (compose or {}).get("services") or {}
    defined = set((compose or {}).get("services_defined") or []) | set(services)
    return sorted(n for n in defined if name_matches(n, [name]))


def monitoring_section(compose, containers, policy):
    """``monitoring_depth`` key:
    {"components": [{"component": str, "services": [str], "defined": bool, "running": bool}],
     "defined_not_running": [str],          # monitoring services the project defines but does not run
     "prometheus": None (not defined) | {"service": str, "running": bool, "api_url": str|None,
        "error": str|None, "targets_up": int|None, "targets_down": int|None,
        "targets": [{"job": str, "instance": str, "health": "up"|"down"|..., "last_error": str|None}],
        "rule_groups": int|None, "rules": int|None, "alerting_rules": int|None, "recording_rules": int|None}}
    """
    running = set(c.get("service") for c in containers if c.get("state") == "running")
    comps, not_running = [], []
    for comp in policy.get("monitoring_services") or []:
        names = _defined_services(compose, comp)
        comps.append({"component": comp, "services": names, "defined": bool(names),
                      "running": any(n in running for n in names)})
        not_running.extend(n for n in names if n not in running)
    prom = None
    prom_services = _defined_services(compose, "prometheus")
    if prom_services:
        c, api = _api_of(containers, "prometheus")
        res = (api or {}).get("results") or {}
        targets, rules = res.get("targets") or {}, res.get("rules") or {}
        prom = {"service": (c or {}).get("service") or prom_services[0], "running": bool(c),
                "api_url": (api or {}).get("base_url"),
                "error": _first_error(api) if c else "not running",
                "targets_up": targets.get("up"), "targets_down": targets.get("down"),
                "targets": list(targets.get("targets") or []),
                "rule_groups": rules.get("groups"), "rules": rules.get("rules"),
                "alerting_rules": rules.get("alerting"), "recording_rules": rules.get("recording")}
    return {"components": comps, "defined_not_running": sorted(set(not_running)), "prometheus": prom}


def mesh_section(compose, containers):
    """``mesh_depth`` key:
    {"kong": None (not defined) | {"service": str, "running": bool, "admin_url": str|None, "error": str|None,
        "services": [{"name": str|None, "host": str, "port": int, "protocol": str}],   # what the Admin API serves
        "routes": [{"name": str|None, "service": str|None, "hosts": [str], "paths": [str]}],
        "declarative": [{"file": str, "format_version": str|None, "services": [{"name", "host", "port"}],
                         "routes": [{"name", "service", "hosts", "paths"}], "error": str|None}],
        "declared_not_served": {"services": [str], "routes": [str]}|None,  # None: Admin API not read
        "served_not_declared": {"services": [str], "routes": [str]}|None},  # routes named, else hosts+paths
     "consul": None (not defined) | {"service": str, "running": bool, "api_url": str|None, "error": str|None,
        "registered": [{"id": str, "service": str, "port": int|None, "tags": [str]}],
        "running_services": [str],           # Compose services running now
        "running_not_registered": [str],     # running Compose services Consul does not know
        "registered_not_running": [str]}}    # Consul registrations with no running Compose service
    """
    out = {"kong": None, "consul": None}
    kong = _defined_services(compose, "kong")
    if kong or (compose or {}).get("kong_declarative"):
        c, api = _api_of(containers, "kong")
        res = (api or {}).get("results") or {}
        svc_names = dict((s.get("id"), s.get("name") or s.get("host")) for s in res.get("services") or [])
        out["kong"] = {"service": (c or {}).get("service") or (kong or [None])[0], "running": bool(c),
                       "admin_url": (api or {}).get("base_url"), "error": _first_error(api) if c else "not running",
                       "services": [dict((k, s.get(k)) for k in ("name", "host", "port", "protocol"))
                                    for s in res.get("services") or []],
                       "routes": [{"name": r.get("name"), "service": svc_names.get(r.get("service_id")),
                                   "hosts": list(r.get("hosts") or []), "paths": list(r.get("paths") or [])}
                                  for r in res.get("routes") or []]}
        out["kong"].update(_kong_declared_vs_served(compose, out["kong"], bool(api and not (api.get("errors")))))
    consul = _defined_services(compose, "consul")
    if consul:
        c, api = _api_of(containers, "consul")
        registered = list(((api or {}).get("results") or {}).get("services") or [])
        running = sorted(set(c2.get("service") for c2 in containers if c2.get("state") == "running") - {None})
        names = set(r.get("service") for r in registered)
        out["consul"] = {"service": (c or {}).get("service") or consul[0], "running": bool(c),
                         "api_url": (api or {}).get("base_url"), "error": _first_error(api) if c else "not running",
                         "registered": registered, "running_services": running,
                         # Consul itself is never in its own agent's service list
                         "running_not_registered": [s for s in running if s not in names and s not in consul]
                         if c else [],
                         "registered_not_running": sorted(n for n in names if n and n not in running and n != "consul")}
    return out


def _route_key(r):
    return r.get("name") or ",".join(list(r.get("hosts") or []) + list(r.get("paths") or [])) or "(unnamed)"


def _kong_declared_vs_served(compose, kong, served_ok):
    """The declarative files' services and routes set against the Admin API's (by name)."""
    files = list((compose or {}).get("kong_declarative") or [])
    out = {"declarative": files, "declared_not_served": None, "served_not_declared": None}
    if not files or not served_ok:
        return out
    d_svc = set(s.get("name") or s.get("host") for f in files for s in f.get("services") or [])
    d_rt = set(_route_key(r) for f in files for r in f.get("routes") or [])
    s_svc = set(s.get("name") or s.get("host") for s in kong.get("services") or [])
    s_rt = set(_route_key(r) for r in kong.get("routes") or [])
    out["declared_not_served"] = {"services": sorted(d_svc - s_svc), "routes": sorted(d_rt - s_rt)}
    out["served_not_declared"] = {"services": sorted(s_svc - d_svc), "routes": sorted(s_rt - d_rt)}
    return out
