# -*- coding: utf-8 -*-
"""A small Docker Engine API client on the Python standard library only.

A managed host has ``python3`` and the Docker engine, usually not the Docker SDK for Python nor
``requests``; the facts talk to the engine's HTTP API directly (Engine API reference:
https://docs.docker.com/reference/api/engine/). Only the calls the facts make are here, with
the result shapes the Docker SDK's low-level ``APIClient`` gave them.

* ``unix://`` hosts: HTTP over the AF_UNIX socket; ``tcp://`` / ``http://``: plain TCP;
  ``https://`` or ``tcp://`` with ``DOCKER_TLS_VERIFY`` / ``DOCKER_TLS`` set: TLS with the
  ``ca.pem`` / ``cert.pem`` / ``key.pem`` of ``DOCKER_CERT_PATH`` (default ``~/.docker``), as
  the docker CLI does. ``ssh://`` is not supported (EngineError says so).
* The API version is negotiated like the SDK's ``version="auto"``: one unversioned
  ``GET /version`` at connect, then every path is prefixed with ``/v<ApiVersion>``.
* One connection per request: the client is safe to share between the threads of a pool.
* Every failure is an ``EngineError``: ``status`` is the HTTP status (None when the engine was not
  reached) and ``message`` the engine's ``message``; a socket error stays the ``__cause__`` (its
  errno tells "socket missing", "permission denied", "refused" apart).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import http.client as http_client
import json
import os
import socket
import struct
from urllib.parse import quote, urlencode, urlsplit

try:
    import ssl
except ImportError:  # pragma: no cover - Python built without OpenSSL
    ssl = None

DEFAULT_TIMEOUT = 10
# The Engine API streams a non-TTY container's stdout/stderr in frames: 1 byte stream type,
# 3 zero bytes, 4 bytes big-endian payload length, then the payload.
_FRAME_HEADER = struct.Struct(">BxxxL")


class EngineError(Exception):
    """A failed Engine API call: ``status`` (HTTP status or None when the engine was not
    reached), ``message`` (the engine's error message, or the socket error's text)."""

    def __init__(self, message, status=None):
        super(EngineError, self).__init__(message if status is None else "%s (HTTP %s)" % (message, status))
        self.message = message
        self.status = status

    @property
    def timed_out(self):
        return isinstance(self.__cause__, socket.timeout)


def _version_tuple(version):
    try:
        return tuple(int(p) for p in str(version).split("."))
    except ValueError:
        return ()


def convert_filters(filters):
    """{key: value or [values] or bool} -> the JSON ``filters`` query parameter the Engine API
    takes (a map of lists of strings), as the SDK's utils.convert_filters builds it."""
    out = {}
    for key, value in (filters or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, list):
            value = [value]
        out[key] = [str(v) for v in value]
    return json.dumps(out)


def demux(data):
    """A multiplexed stream (8-byte frame headers) -> stdout and stderr payloads joined in order.
    A truncated last frame keeps what arrived."""
    out = []
    pos = 0
    while pos + _FRAME_HEADER.size <= len(data):
        _stream, size = _FRAME_HEADER.unpack_from(data, pos)
        pos += _FRAME_HEADER.size
        out.append(data[pos:pos + size])
        pos += size
    return b"".join(out)


class _UnixHTTPConnection(http_client.HTTPConnection):
    """HTTP over an AF_UNIX socket (the engine ignores the Host header's value)."""

    def __init__(self, path, timeout):
        super(_UnixHTTPConnection, self).__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _tls_context(environ):
    """An ssl context from DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem), verifying the server
    unless DOCKER_TLS_VERIFY is unset (DOCKER_TLS alone: encrypted, not verified, like the CLI)."""
    if ssl is None:
        raise EngineError("TLS to the Docker daemon needs Python's ssl module, which this Python lacks")
    cert_path = environ.get("DOCKER_CERT_PATH") or os.path.join(os.path.expanduser("~"), ".docker")
    ca, cert, key = (os.path.join(cert_path, n) for n in ("ca.pem", "cert.pem", "key.pem"))
    verify = bool(environ.get("DOCKER_TLS_VERIFY"))
    try:
        ctx = ssl.create_default_context(cafile=ca if verify and os.path.exists(ca) else None)
        if not verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if os.path.exists(cert) and os.path.exists(key):
            ctx.load_cert_chain(cert, key)
    except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
        raise EngineError("TLS set-up from %s failed: %s" % (cert_path, exc)) from exc
    return ctx


def parse_host(docker_host, environ=None):
    """docker_host -> (kind, address, tls context): ("unix", path, None) or ("tcp", (host, port), ctx).
    Raises EngineError for a scheme this client does not speak."""
    environ = os.environ if environ is None else environ
    if not docker_host or docker_host.startswith("/"):
        return "unix", docker_host or "/var/run/docker.sock", None
    parts = urlsplit(docker_host)
    if parts.scheme == "unix":
        return "unix", parts.path or "/var/run/docker.sock", None
    if parts.scheme in ("tcp", "http", "https"):
        tls = parts.scheme == "https" or (parts.scheme == "tcp" and bool(
            environ.get("DOCKER_TLS_VERIFY") or environ.get("DOCKER_TLS")))
        port = parts.port or (2376 if tls else 2375)
        return "tcp", (parts.hostname or "localhost", port), _tls_context(environ) if tls else None
    raise EngineError("unsupported Docker host %r: unix://, tcp://, http:// and https:// are supported, %s:// "
                      "is not (audit on the target, through its unix socket)" % (docker_host, parts.scheme))


class EngineClient(object):
    """The Engine API calls the facts make. Build it with ``connect``; share it between threads."""

    def __init__(self, docker_host, timeout=DEFAULT_TIMEOUT, environ=None):
        self.base_url = docker_host
        self.timeout = timeout
        self._kind, self._address, self._tls = parse_host(docker_host, environ)
        self.api_version = None
        self._version = None

    # -- transport ------------------------------------------------------------------------

    def _connection(self, timeout):
        if self._kind == "unix":
            return _UnixHTTPConnection(self._address, timeout)
        host, port = self._address
        if self._tls is not None:
            return http_client.HTTPSConnection(host, port, timeout=timeout, context=self._tls)
        return http_client.HTTPConnection(host, port, timeout=timeout)

    def _path(self, path, params=None, versioned=True):
        url = ("/v%s%s" % (self.api_version, path)) if versioned and self.api_version else path
        query = dict((k, v) for k, v in (params or {}).items() if v is not None)
        return url + ("?" + urlencode(query) if query else "")

    def request(self, method, path, params=None, body=None, timeout=None, versioned=True):
        """One HTTP request on its own connection -> (status, headers, body bytes).
        Raises EngineError: status >= 400 (with the engine's message) or a socket / protocol error
        (the OSError as ``__cause__``). ``timeout`` (seconds) bounds the connect and each read."""
        conn = self._connection(self.timeout if timeout is None else timeout)
        headers = {"Host": "docker"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            conn.request(method, self._path(path, params, versioned), body=payload, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http_client.HTTPException) as exc:
            raise EngineError(str(exc) or type(exc).__name__) from exc
        finally:
            conn.close()
        if resp.status >= 400:
            raise EngineError(_error_message(data, resp.reason), resp.status)
        return resp.status, resp.headers, data

    def _json(self, method, path, params=None, body=None, timeout=None, versioned=True):
        _status, _headers, data = self.request(method, path, params, body, timeout, versioned)
        try:
            return json.loads(data.decode("utf-8")) if data else None
        except ValueError as exc:
            raise EngineError("invalid JSON from the engine on %s: %s" % (path, exc)) from exc

    def negotiate(self):
        """GET /version (unversioned) and use its ApiVersion from then on, like the SDK's
        version="auto". -> the version dict."""
        self._version = self._json("GET", "/version", versioned=False) or {}
        self.api_version = self._version.get("ApiVersion")
        return self._version

    def api_at_least(self, version):
        return bool(self.api_version) and _version_tuple(self.api_version) >= _version_tuple(version)

    def close(self):
        """Nothing held between requests; kept for the callers' try/finally."""

    # -- system -----------------------------------------------------------------------------

    def version(self):
        """GET /version -> {Version, ApiVersion, Os, KernelVersion, ...} (the negotiated answer)."""
        return dict(self._version) if self._version is not None else self.negotiate()

    def info(self):
        """GET /info -> {MemTotal (bytes), NCPU, LoggingDriver, CgroupDriver, CgroupVersion, ...}."""
        return self._json("GET", "/info")

    def df(self, timeout=None):
        """GET /system/df -> {Images, Containers, Volumes, BuildCache, LayersSize}; sizes in bytes.
        ``timeout`` (s) of its own: the engine walks every layer and volume."""
        return self._json("GET", "/system/df", timeout=timeout)

    def events(self, since, until, filters=None):
        """GET /events?since&until&filters -> the event dicts ({Type, Action, Actor: {ID,
        Attributes}, time, timeNano}) between two Unix times (s). The engine streams JSON
        objects and ends the response at ``until``; an ``until`` in the future waits for it."""
        _s, _h, data = self.request("GET", "/events", {"since": int(since), "until": int(until),
                                                        "filters": convert_filters(filters) if filters else None})
        out = []
        decoder = json.JSONDecoder()
        text = data.decode("utf-8", "replace")
        pos = 0
        while True:
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                return out
            try:
                obj, pos = decoder.raw_decode(text, pos)
            except ValueError as exc:
                raise EngineError("invalid event stream from the engine: %s" % exc) from exc
            out.append(obj)

    # -- images, volumes, networks ------------------------------------------------------------

    def images(self):
        """GET /images/json -> [{Id, RepoTags, Created (Unix s), Size (bytes), ...}]."""
        return self._json("GET", "/images/json") or []

    def volumes(self, filters=None):
        """GET /volumes?filters -> {Volumes: [{Name, Driver, Mountpoint, Labels, CreatedAt, ...}],
        Warnings}. ``filters``, e.g. {"dangling": True}."""
        return self._json("GET", "/volumes", {"filters": convert_filters(filters) if filters else None})

    def networks(self):
        """GET /networks -> [{Name, Id, Driver, Scope, Internal, Attachable, IPAM, Labels, ...}]."""
        return self._json("GET", "/networks") or []

    # -- containers -----------------------------------------------------------------------------

    def containers(self, all=True, filters=None):
        """GET /containers/json?all&filters -> the list summaries ([{Id, Names, State, ...}])."""
        return self._json("GET", "/containers/json", {"all": "1" if all else "0",
                                                       "filters": convert_filters(filters) if filters else None}) or []

    def inspect_container(self, cid):
        """GET /containers/{id}/json -> the inspect dict. EngineError status 404: no such container."""
        return self._json("GET", "/containers/%s/json" % quote(cid, safe=""))

    def list_containers(self, filters=None):
        """All containers (running or not) matching ``filters`` (e.g. {"label": "k=v"}), each as
        its inspect dict; one removed between the list and its inspect is skipped (what the SDK's
        containers.list(all=True, sparse=False, ignore_removed=True) gave)."""
        out = []
        for summary in self.containers(all=True, filters=filters):
            try:
                out.append(self.inspect_container(summary["Id"]))
            except EngineError as exc:
                if exc.status != 404:
                    raise
        return out

    def stats(self, cid):
        """GET /containers/{id}/stats?stream=0 (one-shot=1 from API 1.41: no second sample, no
        1 s wait) -> {memory_stats: {usage, limit, stats}, cpu_stats, read, ...}; bytes, ns."""
        params = {"stream": "0"}
        if self.api_at_least("1.41"):
            params["one-shot"] = "1"
        return self._json("GET", "/containers/%s/stats" % quote(cid, safe=""), params)

    def logs(self, cid, tail=40, timestamps=True, tty=None):
        """GET /containers/{id}/logs?stdout&stderr&tail&timestamps -> bytes: stdout and stderr in
        order, frame headers removed (raw for a TTY container; ``tty`` None = ask the engine)."""
        _s, headers, data = self.request("GET", "/containers/%s/logs" % quote(cid, safe=""), {
            "stdout": "1", "stderr": "1", "follow": "0", "tail": str(tail), "timestamps": "1" if timestamps else "0"})
        kind = (headers.get("Content-Type") or "").lower()
        if tty is None:
            if "multiplexed-stream" in kind:
                tty = False
            elif "raw-stream" in kind:
                tty = True
            else:  # engines before API 1.42 do not say: the container's Config.Tty does
                tty = bool(((self.inspect_container(cid) or {}).get("Config") or {}).get("Tty"))
        return data if tty else demux(data)

    def get_archive(self, cid, path):
        """GET /containers/{id}/archive?path -> (tar bytes, stat dict {name, size, mode (Go
        os.FileMode bits), mtime, linkTarget} decoded from X-Docker-Container-Path-Stat, or None).
        EngineError status 404: no such file or container."""
        _s, headers, data = self.request("GET", "/containers/%s/archive" % quote(cid, safe=""), {"path": path})
        encoded = headers.get("X-Docker-Container-Path-Stat")
        stat = None
        if encoded:
            try:
                stat = json.loads(base64.b64decode(encoded).decode("utf-8"))
            except (ValueError, TypeError):
                stat = None
        return data, stat

    # -- exec -------------------------------------------------------------------------------------

    def exec_create(self, cid, cmd, environment=None, tty=False):
        """POST /containers/{id}/exec (stdout and stderr attached) -> {Id}. ``environment``:
        {name: value} or ["NAME=value"]."""
        env = environment
        if isinstance(env, dict):
            env = ["%s=%s" % (k, v) for k, v in env.items()]
        body = {"AttachStdin": False, "AttachStdout": True, "AttachStderr": True, "Tty": bool(tty),
                "Cmd": list(cmd), "Env": env or None}
        return self._json("POST", "/containers/%s/exec" % quote(cid, safe=""), body=body)

    def exec_start(self, exec_id, tty=False):
        """POST /exec/{id}/start {Detach: false} -> the combined output bytes once the command
        ends (the engine closes the stream); frame headers removed unless ``tty``."""
        _s, _h, data = self.request("POST", "/exec/%s/start" % quote(exec_id, safe=""),
                                    body={"Detach": False, "Tty": bool(tty)})
        return data if tty else demux(data)

    def exec_inspect(self, exec_id):
        """GET /exec/{id}/json -> {ExitCode (None while running), Running, Pid, ...}."""
        return self._json("GET", "/exec/%s/json" % quote(exec_id, safe=""))


def _error_message(data, reason):
    try:
        message = json.loads(data.decode("utf-8")).get("message")
    except (ValueError, AttributeError, UnicodeDecodeError):
        message = data.decode("utf-8", "replace").strip()[:300] if data else None
    return message or reason or "engine error"


def connect(docker_host, timeout=DEFAULT_TIMEOUT, environ=None):
    """An EngineClient with the API version negotiated (one GET /version). Raises EngineError."""
    client = EngineClient(docker_host, timeout=timeout, environ=environ)
    client.negotiate()
    return client
