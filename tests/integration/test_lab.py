"""The broken-on-purpose lab, checked on the real Docker state (run after `scripts/lab.sh up`).

Each test pins one failure mode the audit and the fix roles rely on; see lab/README.md. A state
that takes time to show (a restart count, a health status, a log line, an HTTP answer) is polled
with a deadline (conftest.wait_for), never sampled once.
"""
import http.client
import json
import os
import stat
import subprocess
import urllib.error
import urllib.request

import docker
import pytest
import yaml


from conftest import LAB_DIR, PROJECT, PSUTIL_ERROR, container_view, wait_for

LAB_LABEL = "com.compose-doctor.lab=true"
ACTIVE_FILES = ["docker-compose.yml", "docker-compose.override.yml", "docker-compose.monitoring.yml"]
INACTIVE_FILES = ["docker-compose.prod.yml", "docker-compose.dev.yml", "compose.gpu.yml",
                  "docker-compose.agents-extra.yml"]
NOT_STARTED = ["kong", "consul", "cadvisor", "loki", "alertmanager"]


@pytest.fixture(scope="module")
def containers(client):
    """service name -> container, for the lab project."""
    found = client.containers.list(all=True, filters={"label": f"com.docker.compose.project={PROJECT}"})
    return {c.labels["com.docker.compose.service"]: c for c in found}


def compose(*args):
    out = subprocess.run(["docker", "compose", *args], cwd=LAB_DIR, check=True, capture_output=True, text=True,
                         env={k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")})
    return out.stdout


def services_in(path):
    return set((yaml.safe_load(path.read_text()) or {}).get("services") or {})


def wait_until(container, what, until, log_tail=20, **kw):
    """Re-read ``container`` until ``until(container_view)`` holds; the view (attrs reloaded)."""
    return wait_for(lambda: container_view(container, log_tail=log_tail), until=until,
                    what=f"{container.name} {what}", **kw)


def env_value(key):
    for line in (LAB_DIR / ".env").read_text().splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1]
    return None


# 1. sprawl, .env and secrets ----------------------------------------------------------------

def test_env_selects_active_files_and_holds_secrets():
    assert env_value("COMPOSE_FILE") == ":".join(ACTIVE_FILES)
    for key in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "JWT_SECRET"):
        assert env_value(key), key
    assert env_value("GRAFANA_ADMIN_USER") == "admin"
    assert env_value("GRAFANA_ADMIN_PASSWORD") == "admin"


def test_env_world_readable_secrets_protected():
    assert stat.S_IMODE((LAB_DIR / ".env").stat().st_mode) == 0o644
    secrets = LAB_DIR / "secrets"
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700
    files = sorted(secrets.iterdir())
    assert {f.name for f in files} >= {"postgres_password.txt", "grafana_admin_password.txt"}
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_sprawl_defined_gt_active_gt_running(containers):
    for name in ACTIVE_FILES + INACTIVE_FILES:
        assert (LAB_DIR / name).is_file(), name
    defined = set().union(*(services_in(LAB_DIR / n) for n in ACTIVE_FILES + INACTIVE_FILES))
    active = set(compose("config", "--services").split())
    running = {s for s, c in containers.items() if c.status in ("running", "restarting")}
    # the `cis` profile services are written in an active file, active only with --profile cis
    profiled = {"cis-privileges", "cis-isolation", "cis-build"}
    assert active == set().union(*(services_in(LAB_DIR / n) for n in ACTIVE_FILES)) - profiled
    assert set(compose("--profile", "cis", "config", "--services").split()) == active | profiled
    # The extra/alternate files define services that exist nowhere else.
    assert defined - active >= {"nginx", "adminer", "ollama-gpu", "ai-agent-orchestrator"}
    assert len(defined) > len(active) > len(running)


# 2./3. crash-looping agents -------------------------------------------------------------------

@pytest.mark.parametrize("service", ["jarvis-hardware-resource-optimizer", "jarvis-automation-agent"])
def test_agent_crash_loops_on_missing_psutil(containers, service):
    c = containers[service]
    assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    wait_until(c, "crash-looping on ModuleNotFoundError: psutil", log_tail=50,
               until=lambda v: (v["restarts"] > 0 or v["status"] == "restarting")
               and f"ModuleNotFoundError: {PSUTIL_ERROR}" in v["logs"])


def test_first_agent_requirements_lack_psutil():
    agent = LAB_DIR / "agents" / "jarvis-hardware-resource-optimizer"
    assert "import psutil" in (agent / "app.py").read_text()
    assert "psutil" not in (agent / "requirements.txt").read_text()


def test_stale_agent_image_predates_requirement(client, containers):
    agent = LAB_DIR / "agents" / "jarvis-automation-agent"
    assert "psutil>=5.9.0" in (agent / "requirements.txt").read_text()
    image = containers["jarvis-automation-agent"].attrs["Config"]["Image"]
    with pytest.raises(docker.errors.ContainerError) as err:
        client.containers.run(image, ["-c", "import psutil"], entrypoint="python3", remove=True,
                              labels={"com.compose-doctor.lab": "true"})
    assert "No module named 'psutil'" in err.value.stderr.decode(errors="replace")


# 4. non-root docker socket agent ------------------------------------------------------------

def test_socket_agent_unhealthy_permission_denied(containers):
    c = containers["hardware-resource-optimizer"]
    assert c.attrs["Config"]["User"] == "10001"
    assert not c.attrs["HostConfig"].get("GroupAdd")
    assert any(m["Destination"] == "/var/run/docker.sock" for m in c.attrs["Mounts"])
    wait_until(c, "running, unhealthy with Permission denied (healthcheck and log)",
               until=lambda v: v["status"] == "running" and v["health"] == "unhealthy"
               and any("Permission denied" in out for out in v["health_log"])
               and "Docker client unavailable: Permission denied" in v["logs"])


def test_socket_group_add_is_the_fix(client, containers):
    """Same image with the socket's gid added: the healthcheck passes (what socket_access does)."""
    image = containers["hardware-resource-optimizer"].attrs["Config"]["Image"]
    gid = os.stat("/var/run/docker.sock").st_gid
    out = client.containers.run(image, ["python3", "/app/healthcheck.py"], remove=True, group_add=[str(gid)],
                                volumes={"/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"}},
                                labels={"com.compose-doctor.lab": "true"})
    assert b"healthy" in out


# 5. service mesh defined, not running; stand-ins answer -------------------------------------

def test_mesh_defined_not_running(containers):
    config = json.loads(compose("config", "--format", "json"))
    for svc in ("kong", "consul"):
        assert svc in config["services"]
        assert svc not in containers or containers[svc].status != "running"
        assert config["services"][svc].get("healthcheck")
    kong_ports = {(p.get("host_ip", ""), p["published"], p["target"]) for p in config["services"]["kong"]["ports"]}
    assert kong_ports == {("", "10005", 8000), ("127.0.0.1", "10015", 8001)}
    consul_ports = [(p.get("host_ip"), p["published"], p["target"]) for p in config["services"]["consul"]["ports"]]
    assert consul_ports == [("127.0.0.1", "10006", 8500)]


def _http(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def _standin(client, image, command, ports, probe, environment=None):
    """Run a throw-away copy of a mesh stand-in on the lab network, published on loopback only.

    Returns (container, {container_port: "http://127.0.0.1:<host port>"}) once probe = (port, path) answers.
    """
    c = client.containers.run(image, command, detach=True, network=f"{PROJECT}_default",
                              environment=environment or {},
                              ports={f"{p}/tcp": ("127.0.0.1", None) for p in ports},
                              labels={"com.compose-doctor.lab": "true"})
    c.reload()
    urls = {p: f"http://127.0.0.1:{c.attrs['NetworkSettings']['Ports'][f'{p}/tcp'][0]['HostPort']}" for p in ports}
    try:
        # Any HTTP answer will do; refused/reset connections mean "not listening yet".
        wait_for(lambda: _http("GET", urls[probe[0]] + probe[1]), timeout=30, interval=0.2,
                 what=f"{image} {command} answering GET {probe[1]} on {urls[probe[0]]}",
                 ignore=(OSError, http.client.HTTPException))
    except BaseException:
        c.remove(force=True)
        raise
    return c, urls


def _http_until(method, url, status, what, body=None, headers=None):
    """(status, body) of a request repeated until it answers ``status``: a proxied upstream that
    is still starting answers 502/refused first."""
    return wait_for(lambda: _http(method, url, body, headers), timeout=60, interval=0.5, what=what,
                    until=lambda answer: answer[0] == status, ignore=(OSError, http.client.HTTPException))


def test_kong_standin_answers_admin_and_proxies(client):
    config = json.loads(compose("config", "--format", "json"))["services"]["kong"]
    c, urls = _standin(client, config["image"], config["command"], [8000, 8001], (8001, "/status"),
                       environment={"KONG_STANDIN_SEED": config["environment"]["KONG_STANDIN_SEED"]})
    proxy, admin = urls[8000], urls[8001]
    try:
        status, body = _http("GET", admin + "/status")
        assert status == 200 and {"database", "server"} <= set(json.loads(body))
        status, body = _http("GET", admin + "/services")
        assert status == 200 and [s["name"] for s in json.loads(body)["data"]] == ["backend"]
        status, body = _http("GET", admin + "/routes")
        assert json.loads(body)["data"][0]["hosts"] == ["api.sutazai.local"]
        # seeded route: Host api.sutazai.local -> backend (the running lab backend)
        status, body = _http_until("GET", proxy + "/health", 200, "backend's /health through the kong stand-in",
                                   headers={"Host": "api.sutazai.local"})
        assert json.loads(body)["status"] == "healthy"
        assert _http("GET", proxy + "/health", headers={"Host": "unknown.local"})[0] == 404
        status, body = _http("POST", admin + "/services", {"name": "grafana", "url": "http://grafana:3000"})
        assert status == 201 and json.loads(body)["host"] == "grafana"
        status, body = _http("POST", admin + "/routes", {"name": "grafana", "hosts": ["grafana.sutazai.local"],
                                                         "service": {"name": "grafana"}})
        assert status == 201
        status, body = _http_until("GET", proxy + "/api/health", 200, "grafana's /api/health through the new route",
                                   headers={"Host": "grafana.sutazai.local"})
        assert json.loads(body)["database"] == "ok"
        assert _http("POST", admin + "/services", {"name": "grafana", "url": "http://x:1"})[0] == 409
    finally:
        c.remove(force=True)


def test_consul_standin_leader_and_registration(client):
    config = json.loads(compose("config", "--format", "json"))["services"]["consul"]
    c, urls = _standin(client, config["image"], config["command"], [8500], (8500, "/v1/status/leader"))
    base = urls[8500]
    try:
        assert _http("GET", base + "/v1/status/leader") == (200, '"127.0.0.1:8300"')
        assert json.loads(_http("GET", base + "/v1/agent/services")[1]) == {}
        status, _ = _http("PUT", base + "/v1/agent/service/register",
                          {"Name": "backend", "ID": "backend-1", "Address": "backend", "Port": 8000})
        assert status == 200
        services = json.loads(_http("GET", base + "/v1/agent/services")[1])
        assert services["backend-1"]["Service"] == "backend" and services["backend-1"]["Port"] == 8000
    finally:
        c.remove(force=True)


# 6. stateful services ----------------------------------------------------------------------

def test_postgres_all_interfaces_no_limit_healthy(containers):
    c = containers["postgres"]
    bindings = c.attrs["HostConfig"]["PortBindings"]["5432/tcp"]
    assert [(b["HostIp"], b["HostPort"]) for b in bindings] == [("", "10000")]
    assert any(p["HostIp"] == "0.0.0.0" for p in c.ports["5432/tcp"])
    assert c.attrs["HostConfig"]["Memory"] == 0
    wait_until(c, "running and healthy", until=lambda v: v["status"] == "running" and v["health"] == "healthy")
    assert any(m["Name"] == f"{PROJECT}_postgres_data" for m in c.attrs["Mounts"] if m["Type"] == "volume")
    rc, out = c.exec_run(["psql", "-h", "127.0.0.1", "-U", env_value("POSTGRES_USER"), "-d", "sutazai",
                          "-tAc", "select 1"], environment={"PGPASSWORD": env_value("POSTGRES_PASSWORD")})
    assert rc == 0 and out.strip() == b"1"


def test_redis_overprovisioned_loopback_no_healthcheck(containers):
    c = containers["redis"]
    wait_until(c, "running", until=lambda v: v["status"] == "running")
    assert "Healthcheck" not in c.attrs["Config"] or not c.attrs["Config"]["Healthcheck"]
    assert c.attrs["HostConfig"]["Memory"] == 2 * 1024 ** 3
    bindings = c.attrs["HostConfig"]["PortBindings"]["6379/tcp"]
    assert [(b["HostIp"], b["HostPort"]) for b in bindings] == [("127.0.0.1", "10001")]
    assert any(m["Name"] == f"{PROJECT}_redis_data" for m in c.attrs["Mounts"] if m["Type"] == "volume")
    password = env_value("REDIS_PASSWORD")
    # Redis answers LOADING / refuses connections while it starts.
    wait_for(lambda: c.exec_run(["redis-cli", "-a", password, "--no-auth-warning", "ping"]).output.strip(),
             until=lambda out: out == b"PONG", what="redis answering PING with the password")
    assert b"NOAUTH" in c.exec_run(["redis-cli", "set", "k", "v"]).output


# 7. memory pressure ------------------------------------------------------------------------

def test_service_near_memory_limit_not_oom(containers):
    c = containers["ollama-integration"]
    assert c.attrs["HostConfig"]["Memory"] == 64 * 1024 ** 2

    def percent():
        mem = c.stats(stream=False)["memory_stats"]
        cache = mem.get("stats", {}).get("total_inactive_file", mem.get("stats", {}).get("inactive_file", 0))
        return 100.0 * (mem["usage"] - cache) / mem["limit"]

    # The stand-in fills its ballast after it starts: wait for the pressure, then it must not reach the limit.
    wait_until(c, "running with its ballast held", log_tail="all",
               until=lambda v: v["status"] == "running" and "ballast: holding" in v["logs"])
    pct = wait_for(percent, until=lambda p: p >= 80, what="ollama-integration at >= 80 % of its memory limit")
    assert pct < 100
    assert not container_view(c, log_tail=0)["oom_killed"]


# 8. the rest of the cast -------------------------------------------------------------------

def test_monitoring_and_privileged(containers):
    for svc in ("backend", "grafana", "prometheus", "node-exporter"):
        wait_until(containers[svc], "running", until=lambda v: v["status"] == "running")
    env = dict(e.split("=", 1) for e in containers["grafana"].attrs["Config"]["Env"])
    assert env["GF_SECURITY_ADMIN_USER"] == "admin" and env["GF_SECURITY_ADMIN_PASSWORD"] == "admin"
    caps = containers["node-exporter"].attrs["HostConfig"]["CapAdd"] or []
    assert {"NET_ADMIN", "CAP_NET_ADMIN"} & set(caps)
    config = json.loads(compose("config", "--format", "json"))["services"]
    assert config["cadvisor"].get("privileged") is True
    for svc in NOT_STARTED:
        assert svc in config
        assert svc not in containers or containers[svc].status != "running", svc


def test_kong_upstream_backend_healthy(containers):
    # The first healthcheck runs 10 s after the start: "starting" until then.
    wait_until(containers["backend"], "healthy", until=lambda v: v["health"] == "healthy")


# 9./10. volumes and restart policies ---------------------------------------------------------

def test_unused_and_duplicate_volumes(client):
    volumes = {v.name: v for v in client.volumes.list()}
    for name in ("sutazai_postgres_data", "sutazai_redis_data"):
        assert name in volumes
    for name, project in (("sutazai_old_chromadb_data", "sutazai"), ("sutazaiapp_postgres_data", "sutazaiapp")):
        labels = volumes[name].attrs["Labels"] or {}
        assert labels.get("com.compose-doctor.lab") == "true"
        assert labels.get("com.docker.compose.project") == project
        assert not client.containers.list(all=True, filters={"volume": name}), f"{name} must be unused"


def test_restart_policies_and_small_footprint(containers):
    running = [c for c in containers.values() if c.status in ("running", "restarting")]
    for c in running:
        assert c.attrs["HostConfig"]["RestartPolicy"]["Name"] in ("unless-stopped", "always"), c.name
    total = 0
    for c in running:
        if c.status == "running":
            mem = c.stats(stream=False)["memory_stats"]
            total += mem.get("usage", 0)
    assert total < 512 * 1024 ** 2  # the whole lab stays small
