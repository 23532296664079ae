#!/usr/bin/env python3
"""Kong stand-in: the slice of Kong's documented Admin API and proxy the mesh role relies on.

Admin (:8001): GET /, GET /status, /services and /routes (GET list, POST, GET/PATCH/PUT/DELETE one,
/services/{svc}/routes), JSON or form bodies, Kong's JSON shapes ({"data": [...], "next": null}).
Proxy (:8000): matches a route by Host header (plus optional path prefix / method) and forwards
to its service URL; no match -> 404 {"message": "no Route matched with those values"}.
State is in memory (like a fresh DB). KONG_STANDIN_SEED (JSON list of
{"service", "url", "hosts", "paths"}) pre-creates services and routes at start.
"""
import http.client
import json
import os
import signal
import sys
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

VERSION = "3.4.2"
LOCK = threading.Lock()
SERVICES, ROUTES = {}, {}  # id -> entity (insertion ordered)
COUNTERS = {"total_requests": 0, "connections_accepted": 0}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "content-length", "host"}


class ApiError(Exception):
    def __init__(self, status, body):
        super().__init__(body)
        self.status, self.body = status, body


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%S"), msg, flush=True)


def now():
    return int(time.time())


def schema_violation(fields):
    return ApiError(400, {"code": 2, "name": "schema violation", "fields": fields,
                          "message": "schema violation (" + "; ".join(f"{k}: {v}" for k, v in fields.items()) + ")"})


def find(table, key):
    with LOCK:
        if key in table:
            return table[key]
        for ent in table.values():
            if ent.get("name") == key:
                return ent
    return None


def apply_url(data):
    """Kong's `url` shorthand -> protocol/host/port/path."""
    url = data.pop("url", None)
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise schema_violation({"url": "missing host in url"})
        data.update(protocol=parts.scheme, host=parts.hostname,
                    port=parts.port or (443 if parts.scheme == "https" else 80), path=parts.path or None)
    return data


def service_entity(data, old=None):
    ent = dict(old or {"id": str(uuid.uuid4()), "created_at": now(), "protocol": "http", "port": 80,
                       "path": None, "retries": 5, "connect_timeout": 60000, "write_timeout": 60000,
                       "read_timeout": 60000, "tags": None, "client_certificate": None, "tls_verify": None,
                       "tls_verify_depth": None, "ca_certificates": None, "enabled": True, "name": None})
    data = apply_url(dict(data))
    for key in ("name", "protocol", "host", "port", "path", "retries", "connect_timeout", "write_timeout",
                "read_timeout", "tags", "enabled"):
        if key in data:
            ent[key] = data[key]
    if isinstance(ent.get("port"), str):
        ent["port"] = int(ent["port"])
    if not ent.get("host"):
        raise schema_violation({"host": "required field missing"})
    ent["updated_at"] = now()
    return ent


def route_entity(data, old=None, service=None):
    ent = dict(old or {"id": str(uuid.uuid4()), "created_at": now(), "name": None, "protocols": ["http", "https"],
                       "methods": None, "hosts": None, "paths": None, "headers": None, "snis": None,
                       "sources": None, "destinations": None, "strip_path": True, "preserve_host": False,
                       "regex_priority": 0, "path_handling": "v0", "https_redirect_status_code": 426,
                       "request_buffering": True, "response_buffering": True, "tags": None, "service": None})
    for key in ("name", "protocols", "methods", "hosts", "paths", "strip_path", "preserve_host", "tags", "headers"):
        if key in data:
            val = data[key]
            if key in ("protocols", "methods", "hosts", "paths", "tags") and isinstance(val, str):
                val = [val]
            ent[key] = val
    ref = service or data.get("service")
    if ref is not None:
        key = ref.get("id") or ref.get("name") if isinstance(ref, dict) else ref
        svc = find(SERVICES, key)
        if not svc:
            raise ApiError(400, {"code": 9, "name": "foreign key violation", "fields": {"service": {"id": key}},
                                 "message": f"the foreign key '{{id=\"{key}\"}}' does not reference an existing 'services' entity."})
        ent["service"] = {"id": svc["id"]}
    if not (ent["hosts"] or ent["paths"] or ent["methods"] or ent["headers"]):
        raise schema_violation({"@entity": ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'http'"]})
    ent["updated_at"] = now()
    return ent


def store(table, ent, replacing=None):
    with LOCK:
        for other in table.values():
            if ent.get("name") and other["name"] == ent["name"] and other["id"] != ent["id"]:
                raise ApiError(409, {"code": 5, "name": "unique constraint violation", "fields": {"name": ent["name"]},
                                     "message": f"UNIQUE violation detected on '{{name=\"{ent['name']}\"}}'"})
        table[ent["id"]] = ent
    return ent


def seed():
    for item in json.loads(os.environ.get("KONG_STANDIN_SEED") or "[]"):
        svc = store(SERVICES, service_entity({"name": item["service"], "url": item["url"]}))
        store(ROUTES, route_entity({"name": item["service"] + "-route", "hosts": item.get("hosts"),
                                    "paths": item.get("paths")}, service={"id": svc["id"]}))
        log(f"seeded service {svc['name']} -> {item['url']} hosts={item.get('hosts')}")


class Base(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"kong/{VERSION}"

    def log_message(self, fmt, *args):
        if self.path not in ("/status",):
            log(f"{self.server.server_port} {self.command} {self.path} {args[1] if len(args) > 1 else ''}")

    def reply(self, status, body=None, headers=None):
        data = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


class Admin(Base):
    def parsed(self):
        raw = self.body()
        if not raw:
            return {}
        ctype = self.headers.get("Content-Type", "")
        if "json" in ctype:
            try:
                return json.loads(raw)
            except ValueError:
                raise ApiError(400, {"message": "Cannot parse JSON body"})
        # Form bodies as curl -d sends them: hosts[]=a&hosts=b, service.id=..., port=80
        out = {}
        for key, vals in parse_qs(raw.decode(), keep_blank_values=True).items():
            key = key.rstrip("[]")
            if key.startswith("service."):
                out.setdefault("service", {})[key.split(".", 1)[1]] = vals[-1]
            elif key in ("hosts", "paths", "methods", "protocols", "tags"):
                out.setdefault(key, []).extend(vals)
            elif key in ("strip_path", "preserve_host", "enabled"):
                out[key] = vals[-1].lower() == "true"
            else:
                out[key] = vals[-1]
        return out

    def handle_any(self):
        try:
            self.route_request()
        except ApiError as err:
            self.reply(err.status, err.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any

    def route_request(self):
        parts = [p for p in urlsplit(self.path).path.split("/") if p]
        m = self.command
        if not parts and m in ("GET", "HEAD"):
            return self.reply(200, {"version": VERSION, "tagline": "Welcome to kong", "hostname": os.uname().nodename,
                                    "lua_version": "LuaJIT 2.1.0 (stand-in)", "node_id": NODE_ID,
                                    "configuration": {"database": "postgres", "admin_listen": ["0.0.0.0:8001"],
                                                      "proxy_listen": ["0.0.0.0:8000"]},
                                    "plugins": {"available_on_server": {}, "enabled_in_cluster": []}})
        if parts == ["status"] and m in ("GET", "HEAD"):
            return self.reply(200, {"database": {"reachable": True},
                                    "memory": {"workers_lua_vms": [], "lua_shared_dicts": {}},
                                    "server": {"connections_accepted": COUNTERS["connections_accepted"],
                                               "connections_active": 1, "connections_handled": COUNTERS["connections_accepted"],
                                               "connections_reading": 0, "connections_waiting": 0,
                                               "connections_writing": 1, "total_requests": COUNTERS["total_requests"]}})
        if parts and parts[0] in ("services", "routes"):
            return self.entities(parts, m)
        raise ApiError(404, {"message": "Not found"})

    def entities(self, parts, m):
        table = SERVICES if parts[0] == "services" else ROUTES
        make = service_entity if table is SERVICES else route_entity
        if len(parts) == 1:
            if m == "GET":
                with LOCK:
                    data = list(table.values())
                return self.reply(200, {"data": data, "next": None})
            if m == "POST":
                return self.reply(201, store(table, make(self.parsed())))
            raise ApiError(405, {"message": "Method not allowed"})
        key = parts[1]
        ent = find(table, key)
        if len(parts) == 3 and table is SERVICES and parts[2] == "routes":
            if not ent:
                raise ApiError(404, {"message": "Not found"})
            if m == "GET":
                with LOCK:
                    data = [r for r in ROUTES.values() if (r.get("service") or {}).get("id") == ent["id"]]
                return self.reply(200, {"data": data, "next": None})
            if m == "POST":
                return self.reply(201, store(ROUTES, route_entity(self.parsed(), service={"id": ent["id"]})))
            raise ApiError(405, {"message": "Method not allowed"})
        if len(parts) != 2:
            raise ApiError(404, {"message": "Not found"})
        if m == "GET":
            if not ent:
                raise ApiError(404, {"message": "Not found"})
            return self.reply(200, ent)
        if m == "PATCH":
            if not ent:
                raise ApiError(404, {"message": "Not found"})
            return self.reply(200, store(table, make(self.parsed(), old=ent)))
        if m == "PUT":  # upsert by id or name, as Kong does
            data = self.parsed()
            if not ent:
                seedent = {"id": key} if UUID_RE.match(key) else {"name": key}
                data = {**data, **({} if UUID_RE.match(key) else {"name": key})}
                new = make(data)
                new.update(seedent)
                return self.reply(200, store(table, new))
            fresh = make(data)
            fresh.update(id=ent["id"], created_at=ent["created_at"])
            if not UUID_RE.match(key):
                fresh["name"] = key
            return self.reply(200, store(table, fresh))
        if m == "DELETE":
            if ent:
                with LOCK:
                    if table is SERVICES and any((r.get("service") or {}).get("id") == ent["id"] for r in ROUTES.values()):
                        raise ApiError(400, {"code": 9, "name": "foreign key violation",
                                             "message": "an existing 'routes' entity references this 'services' entity"})
                    table.pop(ent["id"], None)
            return self.reply(204)
        raise ApiError(405, {"message": "Method not allowed"})


def match_route(host, path, method):
    best = None
    with LOCK:
        routes = list(ROUTES.values())
    for r in routes:
        if r["hosts"] and not any(h == host or (h.startswith("*.") and host.endswith(h[1:])) for h in r["hosts"]):
            continue
        if r["methods"] and method not in r["methods"]:
            continue
        prefix = ""
        if r["paths"]:
            hits = [p for p in r["paths"] if path.startswith(p)]
            if not hits:
                continue
            prefix = max(hits, key=len)
        score = (bool(r["hosts"]), len(prefix))
        if best is None or score > best[0]:
            best = (score, r, prefix)
    return (best[1], best[2]) if best else (None, "")


class Proxy(Base):
    def handle_any(self):
        COUNTERS["total_requests"] += 1
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        split = urlsplit(self.path)
        route, prefix = match_route(host, split.path, self.command)
        if not route or not route.get("service"):
            return self.reply(404, {"message": "no Route matched with those values"})
        svc = find(SERVICES, route["service"]["id"])
        rest = split.path[len(prefix):] if route["strip_path"] and prefix else split.path
        upstream_path = ((svc["path"] or "").rstrip("/") + "/" + rest.lstrip("/")) or "/"
        if split.query:
            upstream_path += "?" + split.query
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Host"] = self.headers.get("Host") if route["preserve_host"] else svc["host"]
        headers.update({"X-Forwarded-For": self.client_address[0], "X-Forwarded-Host": host,
                        "X-Forwarded-Proto": "http", "Via": f"1.1 kong/{VERSION}"})
        conn_cls = http.client.HTTPSConnection if svc["protocol"] == "https" else http.client.HTTPConnection
        started = time.time()
        try:
            conn = conn_cls(svc["host"], svc["port"], timeout=svc["read_timeout"] / 1000)
            conn.request(self.command, upstream_path, body=self.body() or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as err:
            log(f"upstream {svc['host']}:{svc['port']} failed: {err}")
            return self.reply(502, {"message": "An invalid response was received from the upstream server"})
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Via", f"1.1 kong/{VERSION}")
        self.send_header("X-Kong-Upstream-Latency", str(int((time.time() - started) * 1000)))
        self.send_header("X-Kong-Proxy-Latency", "0")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        COUNTERS["connections_accepted"] += 1
        super().process_request(request, client_address)


NODE_ID = str(uuid.uuid4())

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: exit promptly on stop
    seed()
    admin = Server(("0.0.0.0", int(os.environ.get("KONG_STANDIN_ADMIN_PORT", 8001))), Admin)
    proxy = Server(("0.0.0.0", int(os.environ.get("KONG_STANDIN_PROXY_PORT", 8000))), Proxy)
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    log(f"kong stand-in {VERSION}: proxy :8000, admin :8001")
    proxy.serve_forever()
