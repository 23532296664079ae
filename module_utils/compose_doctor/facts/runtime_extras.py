# -*- coding: utf-8 -*-
"""Runtime facts beyond the containers, for the report's sections: networks, disk usage, CPU
time and read-only database probes. Pure normalisers (dicts in, dicts out) plus the few I/O
edges ``docker_runtime._gather`` submits to its pool: one network list, one ``/system/df``
(bounded by its own timeout), one cgroup read per running container, and one exec per
recognised database container. Never a CLI process.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re
import statistics
import time

from ansible.module_utils.compose_doctor.facts.engine_api import EngineError
from ansible.module_utils.compose_doctor.redact import SecretPolicy, mask_text

PROJECT_LABEL = "com.docker.compose.project"
NETWORK_LABEL = "com.docker.compose.network"
SERVICE_LABEL = "com.docker.compose.service"
DF_TIMEOUT = 8


# ------------------------------------------------------------------------------------------
# networks
# ------------------------------------------------------------------------------------------

def normalize_network(net):
    """GET /networks entry -> {name, key, project, driver, scope, internal, attachable, subnets}."""
    labels = net.get("Labels") or {}
    ipam = (net.get("IPAM") or {}).get("Config") or []
    return {
        "name": net.get("Name"),
        "key": labels.get(NETWORK_LABEL),
        "project": labels.get(PROJECT_LABEL),
        "driver": net.get("Driver"),
        "scope": net.get("Scope"),
        "internal": bool(net.get("Internal")),
        "attachable": bool(net.get("Attachable")),
        "subnets": [{"subnet": c.get("Subnet"), "gateway": c.get("Gateway")} for c in ipam if c.get("Subnet")],
    }


def select_networks(networks, project, containers):
    """The project's networks (label) and any other one a project container is attached to."""
    used = set()
    for c in containers or []:
        used.update(c.get("networks") or [])
    out = [normalize_network(n) for n in networks or []
           if not project or (n.get("Labels") or {}).get(PROJECT_LABEL) == project or n.get("Name") in used]
    return sorted(out, key=lambda n: n["name"] or "")


def fetch_networks(client):
    """One GET /networks (host-wide list; the IPAM config is in it)."""
    try:
        return client.networks()
    except (EngineError, OSError, ValueError):
        return []


# ------------------------------------------------------------------------------------------
# disk usage (/system/df)
# ------------------------------------------------------------------------------------------

def fetch_disk_usage(client, timeout=DF_TIMEOUT):
    """One GET /system/df with its own timeout (it walks every layer and volume: slow on big
    hosts). -> (raw dict or None, {timed_out, error, seconds})."""
    start = time.time()
    try:
        raw = client.df(timeout=timeout)
        return raw, {"timed_out": False, "error": None, "seconds": round(time.time() - start, 2)}
    except (EngineError, OSError, ValueError) as exc:
        text = str(exc)
        timed_out = getattr(exc, "timed_out", False) or "timed out" in text.lower()
        return None, {"timed_out": timed_out, "error": "timed out after %ss" % timeout if timed_out else text[:200],
                      "seconds": round(time.time() - start, 2)}


def _dangling(img):
    tags = [t for t in img.get("RepoTags") or [] if t and t != "<none>:<none>"]
    return not tags


def normalize_disk_usage(raw, meta, image_ids, volume_names):
    """/system/df -> {available, timed_out, error, seconds, volumes: {name: {size_bytes, ref_count}},
    images: [{id, tags, size_bytes, containers}] (the images our containers run),
    dangling_images: [{id, size_bytes, created}] (host-wide), dangling_bytes}."""
    out = {"available": raw is not None, "timed_out": bool((meta or {}).get("timed_out")),
           "error": (meta or {}).get("error"), "seconds": (meta or {}).get("seconds"),
           "volumes": {}, "images": [], "dangling_images": [], "dangling_bytes": 0}
    if raw is None:
        return out
    names = set(volume_names or [])
    for v in raw.get("Volumes") or []:
        if v.get("Name") in names:
            usage = v.get("UsageData") or {}
            size = usage.get("Size")
            out["volumes"][v["Name"]] = {"size_bytes": size if isinstance(size, int) and size >= 0 else None,
                                         "ref_count": usage.get("RefCount")}
    ids = set(image_ids or [])
    for img in raw.get("Images") or []:
        size = img.get("Size")
        if img.get("Id") in ids:
            out["images"].append({"id": img["Id"], "tags": sorted(img.get("RepoTags") or []),
                                  "size_bytes": size, "containers": img.get("Containers")})
        elif _dangling(img) and not img.get("Containers"):
            out["dangling_images"].append({"id": img.get("Id"), "size_bytes": size, "created": img.get("Created")})
    out["images"].sort(key=lambda i: -(i["size_bytes"] or 0))
    out["dangling_images"].sort(key=lambda i: -(i["size_bytes"] or 0))
    out["dangling_bytes"] = sum(i["size_bytes"] or 0 for i in out["dangling_images"])
    return out


# ------------------------------------------------------------------------------------------
# CPU time
# ------------------------------------------------------------------------------------------

def cgroup_cpu_files(proc_cgroup_text, container_id, root="/sys/fs/cgroup"):
    """Candidate files holding a container's total CPU time, as (version, path): v1
    cpuacct.usage (ns), v2 cpu.stat (usage_usec). Paths must name the container id."""
    out = []
    for line in (proc_cgroup_text or "").splitlines():
        parts = line.strip().split(":", 2)
        if len(parts) != 3 or container_id not in parts[2]:
            continue
        hid, controllers, path = parts
        if hid == "0" and controllers == "":
            out.append(("2", root.rstrip("/") + path + "/cpu.stat"))
        elif "cpuacct" in controllers.split(","):
            out.append(("1", root.rstrip("/") + "/" + controllers + path + "/cpuacct.usage"))
            out.append(("1", root.rstrip("/") + "/cpuacct" + path + "/cpuacct.usage"))
    return out


def parse_cpu_usage_ns(version, text):
    """Contents of cpuacct.usage (v1) or cpu.stat (v2) -> total CPU time in ns, or None."""
    try:
        if version == "1":
            return int(text.strip())
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) * 1000
    except (AttributeError, ValueError):
        return None
    return None


def read_cpu_usage_ns(pid, container_id, root="/sys/fs/cgroup", proc="/proc", stats=None):
    """Total CPU time of a running container: from the stats the memory read already fetched
    (API source) else from its cgroup files. None when not readable here."""
    total = (((stats or {}).get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
    if isinstance(total, int):
        return total
    if not pid:
        return None
    try:
        with open(os.path.join(proc, str(int(pid)), "cgroup")) as fh:
            text = fh.read()
    except (OSError, IOError, ValueError):
        return None
    for version, path in cgroup_cpu_files(text, container_id, root):
        try:
            with open(path) as fh:
                value = parse_cpu_usage_ns(version, fh.read())
        except (OSError, IOError):
            continue
        if value is not None:
            return value
    return None


# ------------------------------------------------------------------------------------------
# databases: recognition (data: audit_database_kinds) and one read-only probe each
# ------------------------------------------------------------------------------------------

def _words(text):
    return [w for w in re.split(r"[^a-z0-9]+", (text or "").lower()) if w]


def image_base(image):
    """'docker.io/library/postgres:16@sha256:..' -> 'postgres'."""
    name = (image or "").split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[0].lower()


def match_database(service, image, kinds):
    """The first kind whose image or service patterns match: the image's base name (or one of
    its words), or a word of the service name. -> kind dict or None."""
    base = image_base(image)
    image_words = set([base] + _words(base))
    service_words = set([(service or "").lower()] + _words(service))
    for kind in kinds or []:
        if image_words & set(p.lower() for p in kind.get("images") or []):
            return kind
        if service_words & set(p.lower() for p in kind.get("services") or []):
            return kind
    return None


def env_user(attrs, kind, patterns=None):
    """(user, source) from the container's environment: the first of kind.user_env that is set
    and that the classifier does not call secret; else kind.default_user. A secret-looking one
    gives ('<user>', 'secret') so the command never carries it."""
    env = {}
    for item in ((attrs or {}).get("Config") or {}).get("Env") or []:
        key, sep, value = str(item).partition("=")
        if sep:
            env[key] = value
    policy = SecretPolicy(patterns)
    for key in kind.get("user_env") or []:
        if env.get(key):
            if policy.classify(key, env[key]) in ("secret", "default-credential"):
                return "<user>", "secret"
            return env[key], key
    return kind.get("default_user"), "default" if kind.get("default_user") else None


def exec_auth_env(attrs, kind):
    """The auth variable a client in the container needs (e.g. REDISCLI_AUTH), taken from the
    container's own command flag or environment (kind.auth_from). It goes to the engine's exec
    only, never into the facts."""
    name = kind.get("auth_env")
    if not name:
        return None
    config = (attrs or {}).get("Config") or {}
    args = [str(a) for a in (config.get("Entrypoint") or []) + (config.get("Cmd") or [])]
    env = dict(str(i).partition("=")[::2] for i in config.get("Env") or [])
    for src in kind.get("auth_from") or []:
        if src.startswith("-"):
            for i, arg in enumerate(args):
                if arg == src and i + 1 < len(args):
                    return {name: args[i + 1]}
                if arg.startswith(src + "="):
                    return {name: arg.split("=", 1)[1]}
        elif env.get(src):
            return {name: env[src]}
    return None


def probe_argv(kind, user):
    return [str(a).replace("{user}", user or "") for a in kind.get("probe") or []]


def run_probe(client, cid, argv, environment=None):
    """One exec (create, start, inspect) -> (exit code or None, raw output bytes, error)."""
    try:
        ex = client.exec_create(cid, argv, environment=environment)
        raw = client.exec_start(ex["Id"])
        code = client.exec_inspect(ex["Id"]).get("ExitCode")
        return code, raw, None
    except (EngineError, OSError, ValueError) as exc:
        return None, b"", str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def parse_settings(lines):
    """Redis INFO / CONFIG GET output (as lines) -> {key: value}: 'key:value' lines, and a
    CONFIG GET pair (a bare key line followed by its value)."""
    out = {}
    pending = None
    for line in lines or []:
        line = line.strip()
        if not line or line.startswith("#"):
            pending = None
            continue
        if pending is not None:
            out[pending] = line
            pending = None
            continue
        key, sep, value = line.partition(":")
        if sep and re.match(r"^[a-z_][a-z0-9_]*$", key):
            out[key] = value
        elif re.match(r"^[a-z_-]+$", line):
            pending = line
    return out


def probe_result(kind, code, lines, error=None):
    """{ran, exit_code, ready, output (scrubbed, up to 5 lines), settings (kind.settings keys)}."""
    text = "\n".join(lines or [])
    pattern = kind.get("ready_pattern")
    ready = None
    if code is not None:
        ready = code == 0 and (not pattern or re.search(pattern, text, re.MULTILINE) is not None)
    wanted = kind.get("settings") or []
    parsed = parse_settings(lines) if wanted else {}
    return {"ran": code is not None, "exit_code": code, "ready": ready, "error": error,
            "output": [ln for ln in lines or [] if ln.strip()][:5] if not wanted else [],
            "settings": dict((k, parsed.get(k)) for k in wanted)}


# ------------------------------------------------------------------------------------------
# response time of published HTTP health endpoints
# ------------------------------------------------------------------------------------------

_HEALTH_URL_RE = re.compile(r"https?://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])(?::(\d+))?(/[^\s'\"?#,)]*)?")
PROBE_TIMEOUT = 2.0
PROBE_SAMPLES = 3


def health_endpoint(attrs):
    """The host URL of a container's HTTP health check when its port is published:
    'http://127.0.0.1:10010/health' from a test calling http://127.0.0.1:8000/health and the
    binding 127.0.0.1:10010->8000. A binding on all interfaces is probed on 127.0.0.1. None when
    the check is not HTTP or its port is not published. The query string is never kept."""
    test = " ".join(str(a) for a in (((attrs or {}).get("Config") or {}).get("Healthcheck") or {}).get("Test") or [])
    m = _HEALTH_URL_RE.search(test)
    if not m:
        return None
    port = m.group(1) or ("443" if test[m.start():].startswith("https") else "80")
    bindings = (((attrs.get("NetworkSettings") or {}).get("Ports") or {}).get("%s/tcp" % port)) or []
    for b in bindings:
        if b.get("HostPort"):
            host = b.get("HostIp") or ""
            host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else ("[%s]" % host if ":" in host else host)
            scheme = "https" if test[m.start():].startswith("https") else "http"
            return "%s://%s:%s%s" % (scheme, host, b["HostPort"], m.group(2) or "/")
    return None


def median(values):
    """statistics.median, or None for no values."""
    return statistics.median(values) if values else None


def probe_http(url, timeout=PROBE_TIMEOUT, samples=PROBE_SAMPLES, opener=None):
    """GET url ``samples`` times (stops at the first failure) -> {url, status, samples_ms,
    median_ms, error}. Any HTTP answer is timed (a 500 is slow or fast too); status is the last."""
    import urllib.request
    import urllib.error
    opener = opener or urllib.request.build_opener(urllib.request.ProxyHandler({}))
    out = {"url": url, "status": None, "samples_ms": [], "median_ms": None, "error": None}
    for _ in range(samples):
        start = time.monotonic()
        try:
            with opener.open(url, timeout=timeout) as resp:
                resp.read(65536)
                out["status"] = resp.status
        except urllib.error.HTTPError as exc:
            out["status"] = exc.code
        except (OSError, ValueError) as exc:
            out["error"] = "timed out after %ss" % timeout if "timed out" in str(exc) else str(exc)[:120]
            break
        out["samples_ms"].append(round((time.monotonic() - start) * 1000.0, 1))
    out["median_ms"] = median(out["samples_ms"])
    return out


# ------------------------------------------------------------------------------------------
# HTTP APIs of monitoring and mesh services (data: audit_http_apis), GET only
# ------------------------------------------------------------------------------------------

def published_url(attrs, port):
    """'http://127.0.0.1:<host port>' for a container port published on the host, else None."""
    bindings = (((attrs or {}).get("NetworkSettings") or {}).get("Ports") or {}).get("%s/tcp" % port) or []
    for b in bindings:
        if b.get("HostPort"):
            host = b.get("HostIp") or ""
            host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else ("[%s]" % host if ":" in host else host)
            return "http://%s:%s" % (host, b["HostPort"])
    return None


def get_json(url, timeout=PROBE_TIMEOUT, opener=None):
    """GET url -> (parsed JSON or None, error or None)."""
    import json
    import urllib.request
    opener = opener or urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as resp:
            return json.loads(resp.read(4 * 1024 * 1024).decode("utf-8", "replace")), None
    except (OSError, ValueError) as exc:
        return None, "timed out after %ss" % timeout if "timed out" in str(exc) else str(exc)[:160]


def _prom_targets(body):
    active = ((body or {}).get("data") or {}).get("activeTargets") or []
    targets = [{"job": (t.get("labels") or {}).get("job"), "instance": (t.get("labels") or {}).get("instance"),
                # free text from the API: URL credentials and KEY=value pairs masked
                "health": t.get("health"), "last_error": mask_text((t.get("lastError") or "")[:200]) or None}
               for t in active]
    return {"up": len([t for t in targets if t["health"] == "up"]),
            "down": len([t for t in targets if t["health"] != "up"]), "targets": targets}


def _prom_rules(body):
    rules = [r for g in ((body or {}).get("data") or {}).get("groups") or [] for r in g.get("rules") or []]
    return {"groups": len(((body or {}).get("data") or {}).get("groups") or []), "rules": len(rules),
            "alerting": len([r for r in rules if r.get("type") == "alerting"]),
            "recording": len([r for r in rules if r.get("type") == "recording"])}


def _kong_services(body):
    return [{"id": s.get("id"), "name": s.get("name"), "host": s.get("host"), "port": s.get("port"),
             "protocol": s.get("protocol")} for s in (body or {}).get("data") or []]


def _kong_routes(body):
    return [{"name": r.get("name"), "service_id": (r.get("service") or {}).get("id"), "hosts": r.get("hosts") or [],
             "paths": r.get("paths") or []} for r in (body or {}).get("data") or []]


def _consul_services(body):
    return [{"id": k, "service": (v or {}).get("Service"), "port": (v or {}).get("Port"),
             "tags": list((v or {}).get("Tags") or [])} for k, v in sorted((body or {}).items())]


API_PARSERS = {("prometheus", "targets"): _prom_targets, ("prometheus", "rules"): _prom_rules,
               ("kong", "services"): _kong_services, ("kong", "routes"): _kong_routes,
               ("consul", "services"): _consul_services}


def read_api(attrs, kind, opener=None):
    """One GET per path of ``kind`` on the container's published port -> {kind, base_url,
    results: {name: parsed or None}, errors: {name: str}}; base_url None when not published."""
    base = published_url(attrs, kind.get("port"))
    out = {"kind": kind.get("kind"), "base_url": base, "results": {}, "errors": {}}
    if not base:
        out["errors"]["api"] = "port %s is not published on the host" % kind.get("port")
        return out
    for name, path in sorted((kind.get("paths") or {}).items()):
        body, error = get_json(base + path, opener=opener)
        parser = API_PARSERS.get((kind.get("kind"), name))
        out["results"][name] = parser(body) if parser and body is not None else None
        if error:
            out["errors"][name] = error
    return out
