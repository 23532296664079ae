#!/usr/bin/env python3
"""Consul stand-in: the slice of Consul's documented HTTP API (v1) the mesh role relies on.

GET /v1/status/leader -> "127.0.0.1:8300", /v1/status/peers, /v1/agent/self, /v1/agent/members,
/v1/agent/services (dict keyed by service ID), GET /v1/agent/service/{id},
PUT /v1/agent/service/register (Name, ID, Address, Port, Tags, Meta, Check),
PUT /v1/agent/service/deregister/{id}, /v1/catalog/services, /v1/catalog/service/{name},
/v1/health/service/{name}. Single dev agent, state in memory.
"""
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

NODE, DC, ADDR = os.environ.get("CONSUL_NODE", "consul-standin"), "dc1", "127.0.0.1"
LOCK = threading.Lock()
SERVICES = {}  # ID -> agent service record


def log(msg):
    print(time.strftime("%Y-%m-%dT%H:%M:%S"), msg, flush=True)


def agent_record(body):
    name = body.get("Name") or body.get("name")
    sid = body.get("ID") or body.get("id") or name
    return {"ID": sid, "Service": name, "Tags": body.get("Tags") or [], "Meta": body.get("Meta") or {},
            "Port": int(body.get("Port") or 0), "Address": body.get("Address") or "",
            "Weights": {"Passing": 1, "Warning": 1}, "EnableTagOverride": bool(body.get("EnableTagOverride")),
            "Datacenter": DC}


def catalog_record(svc):
    return {"ID": "00000000-0000-0000-0000-000000000001", "Node": NODE, "Address": ADDR, "Datacenter": DC,
            "ServiceID": svc["ID"], "ServiceName": svc["Service"], "ServiceTags": svc["Tags"],
            "ServiceAddress": svc["Address"], "ServicePort": svc["Port"], "ServiceMeta": svc["Meta"]}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "consul-standin"

    def log_message(self, fmt, *args):
        if not self.path.startswith("/v1/status/"):
            log(f"{self.command} {self.path} {args[1] if len(args) > 1 else ''}")

    def reply(self, status, body=None, text=None):
        data = (text if text is not None else ("" if body is None else json.dumps(body))).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8" if text is not None else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Consul-Index", "1")
        self.send_header("X-Consul-Knownleader", "true")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def json_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def do_GET(self):
        path = urlsplit(self.path).path.rstrip("/")
        with LOCK:
            services = dict(SERVICES)
        if path == "/v1/status/leader":
            return self.reply(200, f"{ADDR}:8300")
        if path == "/v1/status/peers":
            return self.reply(200, [f"{ADDR}:8300"])
        if path == "/v1/agent/self":
            return self.reply(200, {"Config": {"Datacenter": DC, "NodeName": NODE, "Server": True, "Version": "1.17.0"},
                                    "Member": {"Name": NODE, "Addr": ADDR, "Port": 8301, "Status": 1}})
        if path == "/v1/agent/members":
            return self.reply(200, [{"Name": NODE, "Addr": ADDR, "Port": 8301, "Status": 1, "Tags": {"role": "consul"}}])
        if path == "/v1/agent/services":
            return self.reply(200, services)
        if path.startswith("/v1/agent/service/"):
            sid = path.rsplit("/", 1)[1]
            if sid in services:
                return self.reply(200, services[sid])
            return self.reply(404, text=f"unknown service ID: {sid}")
        if path == "/v1/catalog/services":
            out = {"consul": []}
            for svc in services.values():
                out.setdefault(svc["Service"], [])
                out[svc["Service"]] = sorted(set(out[svc["Service"]]) | set(svc["Tags"]))
            return self.reply(200, out)
        if path.startswith("/v1/catalog/service/"):
            name = path.rsplit("/", 1)[1]
            return self.reply(200, [catalog_record(s) for s in services.values() if s["Service"] == name])
        if path.startswith("/v1/health/service/"):
            name = path.rsplit("/", 1)[1]
            return self.reply(200, [{"Node": {"Node": NODE, "Address": ADDR, "Datacenter": DC}, "Service": s,
                                     "Checks": [{"Node": NODE, "CheckID": "serfHealth", "Status": "passing"}]}
                                    for s in services.values() if s["Service"] == name])
        return self.reply(404, text="404 page not found")

    do_HEAD = do_GET

    def do_PUT(self):
        path = urlsplit(self.path).path.rstrip("/")
        if path == "/v1/agent/service/register":
            try:
                body = self.json_body()
            except ValueError:
                return self.reply(400, text="Request decode failed: invalid JSON")
            if not isinstance(body, dict) or not (body.get("Name") or body.get("name")):
                return self.reply(400, text="Invalid Service Meta: missing service name")
            rec = agent_record(body)
            with LOCK:
                SERVICES[rec["ID"]] = rec
            log(f"registered {rec['ID']} ({rec['Service']} {rec['Address']}:{rec['Port']})")
            return self.reply(200, text="")
        if path.startswith("/v1/agent/service/deregister/"):
            sid = path.rsplit("/", 1)[1]
            with LOCK:
                found = SERVICES.pop(sid, None)
            if not found:
                return self.reply(404, text=f'Unknown service ID "{sid}". Ensure that the service ID is passed, not the service name.')
            return self.reply(200, text="")
        return self.reply(405, text="method PUT not allowed")

    do_POST = do_PUT


class Server(ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # PID 1: exit promptly on stop
    log(f"consul stand-in: agent {NODE} ({DC}) on :8500")
    Server(("0.0.0.0", int(os.environ.get("CONSUL_STANDIN_PORT", 8500))), Handler).serve_forever()
