"""The mesh section on real Kong and Consul stand-ins: what the Admin API serves and what Consul
has registered vs what runs. Throw-away containers labelled as a project of this test's own
(cdsections), published on loopback only, removed afterwards; the lab is not touched."""
import http.client
import json
import urllib.request

import pytest
import yaml

from conftest import ROOT, wait_for
from ansible.module_utils.compose_doctor.facts import docker_runtime, kong_config
from ansible.module_utils.compose_doctor.output import report_sections as sections

PROJECT = "cdsections"
IMAGE = "sutazai/standin:lab"
SEED = '[{"service": "backend", "url": "http://backend:8000", "hosts": ["api.sutazai.local"]}]'


def _run(client, service, command, port, environment=None):
    c = client.containers.run(IMAGE, command, detach=True, environment=environment or {},
                              ports={f"{port}/tcp": ("127.0.0.1", None)},
                              labels={"com.docker.compose.project": PROJECT, "com.docker.compose.service": service,
                                      "com.compose-doctor.lab": "true"})
    c.reload()
    return c, f"http://127.0.0.1:{c.attrs['NetworkSettings']['Ports'][f'{port}/tcp'][0]['HostPort']}"


def _get(url):
    with urllib.request.urlopen(url, timeout=2) as resp:
        return resp.read().decode()


@pytest.fixture(scope="module")
def mesh(client):
    made = []
    try:
        kong, kong_url = _run(client, "kong", ["/app/kong.py"], 8001, {"KONG_STANDIN_SEED": SEED})
        made.append(kong)
        consul, consul_url = _run(client, "consul", ["/app/consul.py"], 8500)
        made.append(consul)
        for url in (kong_url + "/status", consul_url + "/v1/status/leader"):
            wait_for(lambda url=url: _get(url), timeout=30, interval=0.2, what=url,
                     ignore=(OSError, http.client.HTTPException))
        req = urllib.request.Request(consul_url + "/v1/agent/service/register", method="PUT",
                                     data=json.dumps({"Name": "ghost", "ID": "ghost-1", "Port": 1}).encode())
        urllib.request.urlopen(req, timeout=2).close()
        apis = yaml.safe_load((ROOT / "roles/audit/files/http_apis.yml").read_text())
        runtime = docker_runtime.gather_runtime(project=PROJECT, http_apis=apis)
        # the lab's declarative file (backend and grafana); the stand-in serves its seed (backend)
        declared = kong_config.read_declarative(str(ROOT / "lab"), ["config/kong/kong.yml"], {})
        compose = {"project": {"name": PROJECT}, "services": {"kong": {}, "consul": {}}, "kong_declarative": declared}
        yield sections.mesh_section(compose, runtime["containers"]), kong_url, consul_url
    finally:
        for c in made:
            c.remove(force=True)


def test_kong_admin_api_served_services_and_routes(mesh):
    m, kong_url, _ = mesh
    assert m["kong"]["running"] is True and m["kong"]["admin_url"] == kong_url and m["kong"]["error"] is None
    assert [s["name"] for s in m["kong"]["services"]] == ["backend"]
    assert m["kong"]["routes"][0]["service"] == "backend" and m["kong"]["routes"][0]["hosts"] == ["api.sutazai.local"]
    assert m["kong"]["declarative"][0]["file"] == "config/kong/kong.yml"
    assert m["kong"]["declared_not_served"] == {"services": ["grafana"], "routes": ["grafana-route"]}
    assert m["kong"]["served_not_declared"] == {"services": [], "routes": []}


def test_consul_registered_vs_running(mesh):
    m, _, consul_url = mesh
    c = m["consul"]
    assert c["running"] is True and c["api_url"] == consul_url
    assert [r["service"] for r in c["registered"]] == ["ghost"]
    assert c["registered_not_running"] == ["ghost"] and c["running_not_registered"] == ["kong"]
