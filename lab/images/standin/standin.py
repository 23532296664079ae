#!/usr/bin/env python3
"""Tiny HTTP stand-ins for the lab's simple services: `standin.py <role>`.

Each role answers the health endpoint its real counterpart documents, so probes written for the
real service (Grafana /api/health, Prometheus /-/healthy, ...) work unchanged. Stdlib only.
Optional memory ballast (STANDIN_BALLAST_PCT) reproduces a container running near its limit.
"""
import base64
import json
import os
import signal
import socket
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# role -> (default port, {path: (status, content-type, body)})
ROLES = {
    "backend": (8000, {
        "/health": (200, "application/json", {"status": "healthy", "service": "backend"}),
        "/": (200, "application/json", {"service": "sutazai-backend", "version": "lab"}),
    }),
    "grafana": (3000, {
        "/api/health": (200, "application/json", {"commit": "standin", "database": "ok", "version": "10.4.0"}),
    }),
    "prometheus": (9090, {
        "/-/healthy": (200, "text/plain", "Prometheus Server is Healthy.\n"),
        "/-/ready": (200, "text/plain", "Prometheus Server is Ready.\n"),
    }),
    "node-exporter": (9100, {
        "/metrics": (200, "text/plain", "# HELP node_up stand-in\nnode_up 1\n"),
    }),
    "ollama-integration": (8090, {
        "/health": (200, "application/json", {"status": "healthy"}),
    }),
    "loki": (3100, {"/ready": (200, "text/plain", "ready\n")}),
    "alertmanager": (9093, {"/-/healthy": (200, "text/plain", "OK\n")}),
    "cadvisor": (8080, {"/healthz": (200, "text/plain", "ok\n")}),
}


# Prometheus's scrape targets in the lab (job, host:port): health is a real TCP connect, so the
# services the lab leaves down (cadvisor, loki, alertmanager) show "down" as on the seed's host.
PROM_TARGETS = [("prometheus", "localhost:9090"), ("node-exporter", "node-exporter:9100"),
                ("cadvisor", "cadvisor:8080"), ("backend", "backend:8000"), ("loki", "loki:3100"),
                ("alertmanager", "alertmanager:9093")]
PROM_RULES = {"sutazai-alerts": [("InstanceDown", "alerting", "up == 0"),
                                 ("ContainerRestarting", "alerting", "increase(container_restarts_total[15m]) > 3"),
                                 ("HighMemory", "alerting", "container_memory_usage_bytes / container_spec_memory_limit_bytes > 0.8")],
              "sutazai-recording": [("job:up:sum", "recording", "sum by (job) (up)")]}


def prom_target(job, addr):
    host, port = addr.rsplit(":", 1)
    start = time.time()
    try:
        socket.create_connection((host, int(port)), timeout=0.5).close()
        health, error = "up", ""
    except OSError as exc:
        health, error = "down", f'Get "http://{addr}/metrics": {exc.strerror or exc}'
    return {"discoveredLabels": {"__address__": addr, "job": job}, "labels": {"instance": addr, "job": job},
            "scrapePool": job, "scrapeUrl": f"http://{addr}/metrics", "globalUrl": f"http://{addr}/metrics",
            "lastError": error, "lastScrape": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lastScrapeDuration": round(time.time() - start, 4), "health": health,
            "scrapeInterval": "15s", "scrapeTimeout": "10s"}


def prom_api(path):
    """/api/v1/targets and /api/v1/rules in Prometheus's documented shapes."""
    if path == "/api/v1/targets":
        with ThreadPoolExecutor(max_workers=len(PROM_TARGETS)) as pool:
            active = list(pool.map(lambda t: prom_target(*t), PROM_TARGETS))
        return {"status": "success", "data": {"activeTargets": active, "droppedTargets": []}}
    if path == "/api/v1/rules":
        groups = [{"name": name, "file": "/etc/prometheus/rules/sutazai.yml", "interval": 30,
                   "rules": [{"name": n, "type": "recording" if t == "recording" else "alerting", "query": q,
                              "health": "ok", **({"state": "inactive", "alerts": []} if t == "alerting" else {})}
                             for n, t, q in rules]}
                  for name, rules in PROM_RULES.items()]
        return {"status": "success", "data": {"groups": groups}}
    return None


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%S"), msg, flush=True)


def cgroup_memory():
    """(limit, rss) of this container in bytes from cgroup v1, or v2 as a fallback."""
    try:
        limit = int(open("/sys/fs/cgroup/memory/memory.limit_in_bytes").read())
        stat = dict(l.split() for l in open("/sys/fs/cgroup/memory/memory.stat"))
        return limit, int(stat["rss"])
    except (OSError, KeyError, ValueError):
        pass
    try:
        raw = open("/sys/fs/cgroup/memory.max").read().strip()
        stat = dict(l.split() for l in open("/sys/fs/cgroup/memory.stat"))
        return (None if raw == "max" else int(raw)), int(stat["anon"])
    except (OSError, KeyError, ValueError):
        return None, 0


def fill_ballast(pct):
    """Hold real (touched) memory until resident usage reaches pct % of the cgroup limit.

    bytearray(b"\\x01" * n) writes every page, so the kernel cannot leave it lazily unmapped the
    way a calloc'd zero buffer can. Grows in 1 MiB steps and stops short of the limit: the point
    is pressure, not an OOM kill.
    """
    limit, rss = cgroup_memory()
    if not limit or limit > 1 << 40:
        log("ballast: no memory limit, nothing to do")
        return []
    target = limit * pct // 100
    chunks = []
    while rss + (1 << 20) <= target:
        chunks.append(bytearray(b"\x01" * (1 << 20)))
        _, rss = cgroup_memory()
    log(f"ballast: holding {len(chunks)} MiB, rss {rss >> 20} MiB of {limit >> 20} MiB limit")
    return chunks


def make_handler(role, routes):
    admin = (os.environ.get("GF_SECURITY_ADMIN_USER", "admin"), os.environ.get("GF_SECURITY_ADMIN_PASSWORD", "admin"))

    class Handler(BaseHTTPRequestHandler):
        server_version = f"sutazai-standin-{role}"

        def log_message(self, fmt, *args):  # keep logs short: health probes are noisy
            if not self.path.startswith(("/health", "/api/health", "/-/", "/ready", "/healthz")):
                log(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}")

        def send(self, status, ctype, body):
            data = (json.dumps(body) if ctype == "application/json" else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in routes:
                return self.send(*routes[path])
            if role == "grafana" and path == "/api/org":
                # Basic auth against GF_SECURITY_ADMIN_*: proves the default credential works.
                want = "Basic " + base64.b64encode(f"{admin[0]}:{admin[1]}".encode()).decode()
                if self.headers.get("Authorization") == want:
                    return self.send(200, "application/json", {"id": 1, "name": "Main Org."})
                return self.send(401, "application/json", {"message": "invalid username or password"})
            if role == "prometheus" and path.startswith("/api/v1/"):
                body = prom_api(path)
                if body is not None:
                    return self.send(200, "application/json", body)
            if role == "backend":
                # Echo what arrived, so a proxy in front (Kong) can be verified end to end.
                return self.send(200, "application/json", {
                    "service": "sutazai-backend", "path": self.path, "method": self.command,
                    "host": self.headers.get("Host"), "via": self.headers.get("Via")})
            self.send(404, "application/json", {"message": "not found"})

        do_HEAD = do_GET

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode(errors="replace") if length else ""
            if role == "backend":
                return self.send(200, "application/json", {"service": "sutazai-backend", "path": self.path,
                                                           "method": "POST", "body": body})
            self.send(405, "application/json", {"message": "method not allowed"})

    return Handler


def main():
    role = sys.argv[1] if len(sys.argv) > 1 else "backend"
    if role not in ROLES:
        sys.exit(f"unknown role {role!r}; one of {', '.join(sorted(ROLES))}")
    port, routes = ROLES[role]
    # PID 1 ignores SIGTERM unless handled: exit at once so `compose down` does not wait 10 s.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    port = int(os.environ.get("STANDIN_PORT", port))
    ballast = fill_ballast(int(os.environ["STANDIN_BALLAST_PCT"])) if os.environ.get("STANDIN_BALLAST_PCT") else []
    log(f"{role} stand-in listening on :{port}")
    try:
        ThreadingHTTPServer(("0.0.0.0", port), make_handler(role, routes)).serve_forever()
    finally:
        del ballast


if __name__ == "__main__":
    main()
