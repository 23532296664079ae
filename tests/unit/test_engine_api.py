"""engine_api against a real HTTP server on a temporary unix socket (the protocol is real:
http.client talks to http.server; only the engine's answers are scripted)."""
import base64
import json
import os
import socket
import socketserver
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible.module_utils.compose_doctor.facts import docker_runtime as dr
from ansible.module_utils.compose_doctor.facts import engine_api
from ansible.module_utils.compose_doctor.facts import runtime_extras as rx


def frame(stream, payload):
    return struct.pack(">BxxxL", stream, len(payload)) + payload


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _serve(self):
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append((self.command, url.path, parse_qs(url.query), json.loads(body) if body else None))
        route = self.server.routes.get((self.command, url.path))
        if route is None:
            return self._send(404, {"Content-Type": "application/json"}, b'{"message": "page not found"}')
        status, headers, payload = route(self) if callable(route) else route
        if headers.get("chunked"):
            return self._chunked(status, dict(headers, chunked=None), payload)
        if isinstance(payload, (dict, list)):
            payload, headers = json.dumps(payload).encode(), dict(headers, **{"Content-Type": "application/json"})
        if headers.pop("until-close", None):  # the engine's hijacked exec stream: no length, then EOF
            self.close_connection = True
            self.wfile.write(b"HTTP/1.1 %d OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n" % status)
            self.wfile.write(payload)
            return None
        return self._send(status, headers, payload)

    def _send(self, status, headers, payload):
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _chunked(self, status, headers, pieces):
        self.send_response(status)
        for k, v in headers.items():
            if v is not None:
                self.send_header(k, v)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in pieces:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.wfile.write(b"0\r\n\r\n")

    do_GET = do_POST = _serve


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that timed out and left
        pass


@pytest.fixture
def engine(tmp_path):
    """-> (docker_host, routes dict, seen requests list); /version answers API 1.43."""
    path = str(tmp_path / "engine.sock")
    server = _Server(path, _Handler)
    server.seen = []
    server.routes = {("GET", "/version"): (200, {}, {"Version": "24.0.7", "ApiVersion": "1.43", "Os": "linux"})}
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield "unix://" + path, server.routes, server.seen
    server.shutdown()
    server.server_close()


def test_version_negotiated_then_every_path_prefixed(engine):
    host, routes, seen = engine
    routes[("GET", "/v1.43/info")] = (200, {}, {"MemTotal": 8 << 30, "NCPU": 2})
    client = engine_api.connect(host, timeout=5)
    assert client.api_version == "1.43"
    assert client.info() == {"MemTotal": 8 << 30, "NCPU": 2}
    assert client.version()["Version"] == "24.0.7"
    assert [s[1] for s in seen] == ["/version", "/v1.43/info"]


@pytest.mark.parametrize("api, one_shot", [("1.43", ["1"]), ("1.40", None)])
def test_stats_one_shot_only_from_api_1_41(engine, api, one_shot):
    host, routes, seen = engine
    routes[("GET", "/version")] = (200, {}, {"ApiVersion": api})
    routes[("GET", "/v%s/containers/abc/stats" % api)] = (200, {}, {"memory_stats": {"usage": 42}})
    assert engine_api.connect(host).stats("abc") == {"memory_stats": {"usage": 42}}
    query = seen[-1][2]
    assert query["stream"] == ["0"] and query.get("one-shot") == one_shot


def test_error_status_carries_the_engines_message(engine):
    host, routes, _seen = engine
    routes[("GET", "/v1.43/containers/gone/json")] = (404, {}, {"message": "No such container: gone"})
    routes[("GET", "/v1.43/info")] = (500, {"Content-Type": "text/plain"}, b"daemon exploded\n")
    client = engine_api.connect(host)
    with pytest.raises(engine_api.EngineError) as err:
        client.inspect_container("gone")
    assert err.value.status == 404 and err.value.message == "No such container: gone"
    assert "No such container: gone" in str(err.value)
    with pytest.raises(engine_api.EngineError) as err:
        client.info()
    assert err.value.status == 500 and err.value.message == "daemon exploded"


def test_container_list_is_the_inspect_of_each_and_skips_one_removed_meanwhile(engine):
    host, routes, seen = engine
    routes[("GET", "/v1.43/containers/json")] = (200, {}, [{"Id": "a1"}, {"Id": "b2"}])
    routes[("GET", "/v1.43/containers/a1/json")] = (200, {}, {"Id": "a1", "State": {"Status": "running"}})
    routes[("GET", "/v1.43/containers/b2/json")] = (404, {}, {"message": "No such container: b2"})
    client = engine_api.connect(host)
    assert client.list_containers(filters={"label": "com.docker.compose.project=demo"}) == [
        {"Id": "a1", "State": {"Status": "running"}}]
    query = seen[1][2]
    assert query["all"] == ["1"]
    assert json.loads(query["filters"][0]) == {"label": ["com.docker.compose.project=demo"]}


def test_logs_demultiplexed_raw_for_a_tty_and_asked_of_an_old_engine(engine):
    host, routes, _seen = engine
    muxed = frame(1, b"2024-01-01T00:00:00Z out\n") + frame(2, b"2024-01-01T00:00:01Z err\n")
    routes[("GET", "/v1.43/containers/m/logs")] = (200, {"Content-Type": "application/vnd.docker.multiplexed-stream"},
                                                   muxed)
    routes[("GET", "/v1.43/containers/t/logs")] = (200, {"Content-Type": "application/vnd.docker.raw-stream"},
                                                   b"tty line\r\n")
    routes[("GET", "/v1.43/containers/old/logs")] = (200, {}, muxed)
    routes[("GET", "/v1.43/containers/old/json")] = (200, {}, {"Config": {"Tty": False}})
    client = engine_api.connect(host)
    want = b"2024-01-01T00:00:00Z out\n2024-01-01T00:00:01Z err\n"
    assert client.logs("m", tail=40) == want
    assert client.logs("t", tail=40) == b"tty line\r\n"
    assert client.logs("old", tail=40) == want
    assert client.logs("old", tail=40, tty=False) == want


def test_exec_create_start_inspect(engine):
    host, routes, seen = engine
    routes[("POST", "/v1.43/containers/db/exec")] = (201, {}, {"Id": "ex1"})
    routes[("POST", "/v1.43/exec/ex1/start")] = (200, {"until-close": True},
                                                 frame(1, b"PONG\n") + frame(2, b"warning\n"))
    routes[("GET", "/v1.43/exec/ex1/json")] = (200, {}, {"ExitCode": 0, "Running": False})
    code, raw, error = rx.run_probe(engine_api.connect(host), "db", ["redis-cli", "ping"], {"REDISCLI_AUTH": "x"})
    assert (code, raw, error) == (0, b"PONG\nwarning\n", None)
    create, start = seen[1][3], seen[2][3]
    assert create["Cmd"] == ["redis-cli", "ping"] and create["Env"] == ["REDISCLI_AUTH=x"]
    assert create["AttachStdout"] and create["AttachStderr"] and not create["Tty"]
    assert start == {"Detach": False, "Tty": False}


def test_exec_on_a_stopped_container_is_an_error_not_a_crash(engine):
    host, routes, _seen = engine
    routes[("POST", "/v1.43/containers/db/exec")] = (409, {}, {"message": "container db is not running"})
    code, raw, error = rx.run_probe(engine_api.connect(host), "db", ["true"])
    assert code is None and raw == b"" and error.startswith("container db is not running")


def test_archive_body_and_stat_header(engine):
    host, routes, seen = engine
    stat = {"name": "start.sh", "size": 12, "mode": 0o755, "mtime": "2024-01-01T00:00:00Z", "linkTarget": ""}
    routes[("GET", "/v1.43/containers/c/archive")] = (
        200, {"X-Docker-Container-Path-Stat": base64.b64encode(json.dumps(stat).encode()).decode(),
              "Content-Type": "application/x-tar"}, b"tarbytes")
    data, got = engine_api.connect(host).get_archive("c", "/app/start.sh")
    assert data == b"tarbytes" and got == stat
    assert seen[-1][2] == {"path": ["/app/start.sh"]}


def test_events_streamed_until_the_end_of_the_window(engine):
    host, routes, seen = engine
    events = [{"Type": "container", "Action": "die", "id": "c1", "Actor": {"Attributes": {"exitCode": "1"}}},
              {"Type": "container", "Action": "oom", "id": "c1"}]
    routes[("GET", "/v1.43/events")] = (200, {"chunked": True},
                                        [json.dumps(events[0]).encode() + b"\n", json.dumps(events[1]).encode() + b"\n"])
    client = engine_api.connect(host)
    assert client.events(since=100, until=200, filters={"type": "container", "event": ["die", "oom"]}) == events
    query = seen[-1][2]
    assert query["since"] == ["100"] and query["until"] == ["200"]
    assert json.loads(query["filters"][0]) == {"type": ["container"], "event": ["die", "oom"]}
    assert dr.run_history(events)["c1"] == {"last_exit_code": 1, "oom_kills": 1}


def test_volumes_filters_images_networks(engine):
    host, routes, seen = engine
    routes[("GET", "/v1.43/volumes")] = (200, {}, {"Volumes": [{"Name": "v"}], "Warnings": None})
    routes[("GET", "/v1.43/images/json")] = (200, {}, [{"Id": "sha256:1", "Created": 1}])
    routes[("GET", "/v1.43/networks")] = (200, {}, [{"Name": "bridge"}])
    client = engine_api.connect(host)
    assert client.volumes(filters={"dangling": True})["Volumes"] == [{"Name": "v"}]
    assert json.loads(seen[-1][2]["filters"][0]) == {"dangling": ["true"]}
    assert client.images() == [{"Id": "sha256:1", "Created": 1}]
    assert rx.fetch_networks(client) == [{"Name": "bridge"}]


def test_disk_usage_has_its_own_timeout(engine):
    host, routes, _seen = engine

    def slow(_req):
        time.sleep(1.0)
        return 200, {}, {"Volumes": []}
    routes[("GET", "/v1.43/system/df")] = slow
    raw, meta = rx.fetch_disk_usage(engine_api.connect(host, timeout=10), timeout=0.2)
    assert raw is None and meta["timed_out"] is True and meta["error"] == "timed out after 0.2s"
    assert meta["seconds"] < 1.0


def _connect_error(docker_host):
    with pytest.raises(engine_api.EngineError) as err:
        engine_api.connect(docker_host, timeout=2)
    return dr.unreachable_error(docker_host, err.value)


def test_socket_missing_and_refused_messages(tmp_path):
    missing = "unix://%s/none.sock" % tmp_path
    assert _connect_error(missing) == ("Cannot connect to the Docker daemon at %s: socket not found (no such file "
                                       "or directory); is the docker daemon running?" % missing)
    dead = str(tmp_path / "dead.sock")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(dead)  # bound, never listening: the file is there, nobody answers
    try:
        assert _connect_error("unix://" + dead).endswith(": connection refused; is the docker daemon running?")
    finally:
        sock.close()


def test_socket_permission_denied_message(engine, tmp_path):
    host = engine[0]
    os.chmod(host[len("unix://"):], 0)
    if os.geteuid() != 0:
        message = _connect_error(host)
    else:  # root passes any mode: ask from a child that dropped to nobody (outside the socket's group)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                os.setgid(65534)
                os.setuid(65534)
                text = _connect_error(host)
            except BaseException as exc:
                text = "child failed: %r" % (exc,)
            os.write(write_end, text.encode())
            os._exit(0)
        os.close(write_end)
        os.waitpid(pid, 0)
        with os.fdopen(read_end) as fh:
            message = fh.read()
    assert message == ("Cannot connect to the Docker daemon at %s: permission denied (permission denied); run as "
                       "root or as a member of the socket's group" % host)


def test_hosts_it_speaks_and_the_one_it_does_not(tmp_path):
    assert engine_api.parse_host("unix:///run/docker.sock") == ("unix", "/run/docker.sock", None)
    assert engine_api.parse_host("tcp://10.0.0.5:2375", environ={}) == ("tcp", ("10.0.0.5", 2375), None)
    assert engine_api.parse_host("tcp://10.0.0.5", environ={}) == ("tcp", ("10.0.0.5", 2375), None)
    kind, address, tls = engine_api.parse_host("tcp://10.0.0.5:2376", environ={"DOCKER_TLS": "1",
                                                                               "DOCKER_CERT_PATH": "/nonexistent"})
    assert (kind, address) == ("tcp", ("10.0.0.5", 2376)) and tls is not None
    bad = tmp_path / "certs"
    bad.mkdir()
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (bad / name).write_text("not a certificate\n")
    with pytest.raises(engine_api.EngineError) as err:
        engine_api.parse_host("tcp://10.0.0.5:2376", environ={"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(bad)})
    assert "TLS set-up from %s failed" % bad in str(err.value)
    with pytest.raises(engine_api.EngineError) as err:
        engine_api.parse_host("ssh://me@host")
    assert "ssh:// is not" in str(err.value)


def test_demux_keeps_a_truncated_last_frame():
    assert engine_api.demux(frame(1, b"a") + frame(2, b"bc") + struct.pack(">BxxxL", 1, 10) + b"xyz") == b"abcxyz"
