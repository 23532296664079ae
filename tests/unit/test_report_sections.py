# -*- coding: utf-8 -*-
"""The seed's sections (networks, container uptime/CPU, disk usage, databases): pure logic."""
import os
import socket

import yaml

from ansible.module_utils.compose_doctor.facts import runtime_extras as rx
from ansible.module_utils.compose_doctor.facts.engine_api import EngineError
from ansible.module_utils.compose_doctor.output import report_sections as sections

with open(os.path.join(os.path.dirname(__file__), "..", "..", "roles", "audit", "files", "database_kinds.yml")) as fh:
    KINDS = yaml.safe_load(fh)
KIND = dict((k["kind"], k) for k in KINDS)


def net(name, project="shop", key=None, internal=False, subnet="172.20.0.0/16", gateway="172.20.0.1"):
    labels = {"com.docker.compose.project": project, "com.docker.compose.network": key} if project else {}
    return {"Name": name, "Driver": "bridge", "Scope": "local", "Internal": internal, "Labels": labels,
            "IPAM": {"Config": [{"Subnet": subnet, "Gateway": gateway}]}}


def test_normalize_network_keeps_driver_subnet_gateway_internal():
    n = rx.normalize_network(net("shop_back", key="back", internal=True))
    assert n == {"name": "shop_back", "key": "back", "project": "shop", "driver": "bridge", "scope": "local",
                 "internal": True, "attachable": False,
                 "subnets": [{"subnet": "172.20.0.0/16", "gateway": "172.20.0.1"}]}


def test_select_networks_keeps_the_project_and_what_its_containers_join():
    nets = [net("shop_default", key="default"), net("other_default", project="other"),
            net("ext", project=None), net("bridge", project=None)]
    got = rx.select_networks(nets, "shop", [{"networks": ["ext"]}])
    assert [n["name"] for n in got] == ["ext", "shop_default"]


def _compose():
    return {"project": {"name": "shop"}, "services": {
        "web": {"networks": ["default", "front"], "ports": [{"published": 8080, "target": 80, "host_ip": ""}]},
        "api": {"networks": ["default"], "ports": [{"published": 9000, "target": 9000, "host_ip": "127.0.0.1"}]},
        "db": {"networks": ["back"], "ports": []},
        "agent": {"network_mode": "host", "networks": [], "ports": []},
        "worker": {"networks": ["default"], "ports": []},
    }}


def test_network_section_services_per_network_and_isolation_lists():
    runtime = {"networks": [rx.normalize_network(net("shop_default", key="default")),
                            rx.normalize_network(net("shop_back", key="back", internal=True))]}
    containers = [{"service": "web", "state": "running", "networks": ["shop_default", "shop_front"]},
                  {"service": "agent", "state": "running", "network_mode": "host", "networks": ["host"]}]
    s = sections.network_section(_compose(), runtime, containers)
    by = dict((n["name"], n) for n in s["networks"])
    assert by["shop_default"]["services"] == ["api", "web", "worker"]
    assert by["shop_back"]["internal"] is True and by["shop_back"]["services"] == ["db"]
    # front is declared and joined but the engine list did not have it: shown, not created
    assert by["shop_front"]["created"] is False and by["shop_front"]["services"] == ["web"]
    assert "host" not in by
    assert s["default_only_services"] == ["api", "worker"]
    assert s["host_network_services"] == ["agent"]
    assert s["published_services"] == [
        {"service": "api", "ports": ["127.0.0.1:9000->9000/tcp"], "all_interfaces": False},
        {"service": "web", "ports": ["8080->80/tcp"], "all_interfaces": True}]
    assert s["internal_only_services"] == ["db", "worker"]


def test_container_extras_uptime_and_cpu_average_since_start():
    c = {"state": "running", "started_at": "2026-01-01T00:00:00.5Z", "cpu_usage_ns": 30 * 10 ** 9}
    assert sections.container_extras(c, "2026-01-01T00:01:40Z") == {"uptime_s": 99, "cpu_pct": 30.3}
    assert sections.container_extras({"state": "exited", "started_at": "2026-01-01T00:00:00Z"},
                                     "2026-01-01T00:01:40Z") == {"uptime_s": None, "cpu_pct": None}
    c["cpu_usage_ns"] = None
    assert sections.container_extras(c, "2026-01-01T00:01:40Z")["cpu_pct"] is None


def test_cgroup_cpu_files_and_parsers():
    text = "12:cpu,cpuacct:/docker/abc123\n0::/system.slice/docker-abc123.scope\n"
    files = rx.cgroup_cpu_files(text, "abc123", "/cg")
    assert ("1", "/cg/cpu,cpuacct/docker/abc123/cpuacct.usage") in files
    assert ("2", "/cg/system.slice/docker-abc123.scope/cpu.stat") in files
    assert rx.cgroup_cpu_files(text, "zzz", "/cg") == []
    assert rx.parse_cpu_usage_ns("1", "123456\n") == 123456
    assert rx.parse_cpu_usage_ns("2", "usage_usec 42\nuser_usec 40\n") == 42000
    assert rx.parse_cpu_usage_ns("2", "garbage") is None
    stats = {"cpu_stats": {"cpu_usage": {"total_usage": 77}}}
    assert rx.read_cpu_usage_ns(None, "abc", stats=stats) == 77


def test_disk_usage_sizes_images_and_dangling():
    raw = {"Volumes": [{"Name": "shop_db", "UsageData": {"Size": 1000, "RefCount": 1}},
                       {"Name": "other", "UsageData": {"Size": 5, "RefCount": 0}},
                       {"Name": "shop_new", "UsageData": {"Size": -1, "RefCount": 0}}],
           "Images": [{"Id": "sha256:a", "RepoTags": ["shop/web:1"], "Size": 300, "Containers": 1},
                      {"Id": "sha256:b", "RepoTags": ["<none>:<none>"], "Size": 200, "Containers": 0, "Created": 1},
                      {"Id": "sha256:c", "RepoTags": None, "Size": 100, "Containers": 0, "Created": 2},
                      {"Id": "sha256:d", "RepoTags": None, "Size": 50, "Containers": 1},
                      {"Id": "sha256:e", "RepoTags": ["x:1"], "Size": 10, "Containers": 0}]}
    du = rx.normalize_disk_usage(raw, {"seconds": 0.2}, {"sha256:a"}, ["shop_db", "shop_new"])
    assert du["volumes"] == {"shop_db": {"size_bytes": 1000, "ref_count": 1},
                             "shop_new": {"size_bytes": None, "ref_count": 0}}
    assert [i["id"] for i in du["images"]] == ["sha256:a"]
    assert [i["id"] for i in du["dangling_images"]] == ["sha256:b", "sha256:c"]
    assert du["dangling_bytes"] == 300 and du["available"] and not du["timed_out"]
    runtime = {"disk_usage": du, "volumes": [{"name": "shop_db", "used_by": ["shop-db-1"]}]}
    s = sections.disk_section(runtime, [{"image_id": "sha256:a", "service": "web"}])
    assert s["volumes"][0] == {"name": "shop_db", "size_bytes": 1000, "ref_count": 1, "used_by": ["shop-db-1"]}
    assert s["images"] == [{"id": "sha256:a", "tags": ["shop/web:1"], "size_bytes": 300, "services": ["web"]}]
    assert s["volumes_bytes"] == 1000 and s["images_bytes"] == 300 and s["dangling_bytes"] == 300


def test_disk_usage_timed_out_is_said_not_raised():
    du = rx.normalize_disk_usage(None, {"timed_out": True, "error": "timed out after 8s", "seconds": 8.0}, [], [])
    assert du["available"] is False and du["timed_out"] is True and du["volumes"] == {}
    assert sections.disk_section({"disk_usage": du}, [])["timed_out"] is True
    assert sections.disk_section({}, []) is None


class _Client(object):
    def df(self, timeout=None):
        try:
            raise socket.timeout("timed out")
        except socket.timeout as exc:
            raise EngineError("timed out") from exc


def test_fetch_disk_usage_reports_a_timeout():
    raw, meta = rx.fetch_disk_usage(_Client(), timeout=3)
    assert raw is None and meta["timed_out"] is True and meta["error"] == "timed out after 3s"


def test_database_recognition_is_data():
    assert rx.match_database("postgres", "sutazai/postgres:lab", KINDS)["kind"] == "postgres"
    assert rx.match_database("cache", "docker.io/library/redis:7@sha256:ab", KINDS)["kind"] == "redis"
    assert rx.match_database("app-mariadb", None, KINDS)["kind"] == "mysql"
    assert rx.match_database("search", "bitnami/elasticsearch:8", KINDS)["kind"] == "elasticsearch"
    assert rx.match_database("graph", "neo4j:5", KINDS)["kind"] == "neo4j"
    assert rx.match_database("docs", "mongo:7", KINDS)["kind"] == "mongodb"
    assert rx.match_database("backend", "sutazai/standin:lab", KINDS) is None
    assert rx.match_database("postgres-exporter", "prometheuscommunity/postgres-exporter", []) is None


def test_env_user_never_takes_a_secret():
    attrs = {"Config": {"Env": ["POSTGRES_USER=shop", "POSTGRES_PASSWORD=s3cr3t-value"]}}
    assert rx.env_user(attrs, KIND["postgres"]) == ("shop", "POSTGRES_USER")
    assert rx.env_user({"Config": {"Env": []}}, KIND["postgres"]) == ("postgres", "default")
    secret_user = dict(KIND["postgres"], user_env=["POSTGRES_PASSWORD"])
    assert rx.env_user(attrs, secret_user) == ("<user>", "secret")


def test_exec_auth_from_flag_or_env():
    attrs = {"Config": {"Cmd": ["redis-server", "--requirepass", "pw123456"], "Env": []}}
    assert rx.exec_auth_env(attrs, KIND["redis"]) == {"REDISCLI_AUTH": "pw123456"}
    attrs = {"Config": {"Cmd": ["redis-server"], "Env": ["REDIS_PASSWORD=abcdefg"]}}
    assert rx.exec_auth_env(attrs, KIND["redis"]) == {"REDISCLI_AUTH": "abcdefg"}
    assert rx.exec_auth_env(attrs, KIND["postgres"]) is None


def test_redis_settings_parsed_from_info_and_config_get():
    lines = ["# Memory", "maxmemory:0", "maxmemory_policy:allkeys-lru", "# Persistence", "loading:0",
             "aof_enabled:0", "rdb_last_bgsave_status:ok", "save", "3600 1 300 100"]
    r = rx.probe_result(KIND["redis"], 0, lines)
    assert r["ready"] is True and r["output"] == []
    assert r["settings"]["maxmemory_policy"] == "allkeys-lru" and r["settings"]["save"] == "3600 1 300 100"
    assert r["settings"]["aof_enabled"] == "0" and r["settings"]["redis_version"] is None
    noauth = rx.probe_result(KIND["redis"], 0, ["NOAUTH Authentication required."])
    assert noauth["ready"] is False


def test_postgres_probe_and_backup_row():
    probe = rx.probe_result(KIND["postgres"], 0, ["127.0.0.1:5432 - accepting connections"])
    assert probe["ready"] is True and probe["output"] == ["127.0.0.1:5432 - accepting connections"]
    assert rx.probe_result(KIND["postgres"], 2, ["127.0.0.1:5432 - no response"])["ready"] is False
    assert rx.probe_result(KIND["postgres"], None, [], "boom")["ran"] is False
    assert rx.probe_argv(KIND["postgres"], "shop")[-2:] == ["-U", "shop"]
    db = dict(probe, kind="postgres", user="shop", user_source="POSTGRES_USER")
    compose = {"services": {"postgres": {"image": "postgres:16"}, "web": {"image": "nginx"},
                            "cache": {"image": "redis:7"}}}
    containers = [{"service": "postgres", "name": "shop-postgres-1", "state": "running", "database": db,
                   "mounts": [{"type": "volume", "name": "shop_pg", "destination": "/var/lib/postgresql/data"}]}]
    disk = {"volumes": [{"name": "shop_pg", "size_bytes": 4096}]}
    rows = sections.database_section(compose, containers, disk, KINDS)
    assert [r["service"] for r in rows] == ["cache", "postgres"]
    pg = rows[1]
    assert pg["ready"] is True and pg["running"] is True
    assert pg["volumes"] == [{"name": "shop_pg", "destination": "/var/lib/postgresql/data", "size_bytes": 4096}]
    assert pg["backup_command"] == "docker compose exec -T postgres pg_dumpall -U shop > postgres-backup.sql"
    cache = rows[0]
    assert cache["running"] is False and cache["ready"] is None and cache["container"] is None
    assert "<password>" in cache["backup_command"]


def _attrs(test, ports):
    return {"Config": {"Healthcheck": {"Test": ["CMD", "python3", "-c", test]}}, "NetworkSettings": {"Ports": ports}}


def test_health_endpoint_maps_the_check_to_the_published_port():
    check = "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/health?token=x', timeout=3)"
    a = _attrs(check, {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10010"}]})
    assert rx.health_endpoint(a) == "http://127.0.0.1:10010/health"
    a = _attrs(check, {"8000/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]})
    assert rx.health_endpoint(a) == "http://127.0.0.1:8080/health"
    assert rx.health_endpoint(_attrs(check, {"8000/tcp": None})) is None  # not published
    assert rx.health_endpoint(_attrs("pg_isready -h 127.0.0.1", {})) is None
    a = _attrs("curl -f http://localhost/", {"80/tcp": [{"HostIp": "", "HostPort": "81"}]})
    assert rx.health_endpoint(a) == "http://127.0.0.1:81/"


class _Resp(object):
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def read(self, n):
        return b"ok"


class _Opener(object):
    def __init__(self, fail_at=None):
        self.calls, self.fail_at = 0, fail_at

    def open(self, url, timeout=None):
        self.calls += 1
        if self.calls == self.fail_at:
            raise OSError("timed out")
        return _Resp()


def test_probe_http_median_of_three_and_stops_at_a_failure():
    out = rx.probe_http("http://127.0.0.1:1/h", opener=_Opener())
    assert out["status"] == 200 and len(out["samples_ms"]) == 3 and out["median_ms"] == sorted(out["samples_ms"])[1]
    opener = _Opener(fail_at=1)
    out = rx.probe_http("http://127.0.0.1:1/h", timeout=2, opener=opener)
    assert opener.calls == 1 and out["error"] == "timed out after 2s" and out["median_ms"] is None
    assert rx.median([3, 1, 2, 10]) == 2.5 and rx.median([]) is None


def test_kpis_availability_response_memory_restarts_oom():
    compose = {"services": {"web": {}, "db": {}, "api": {}}, "services_defined": ["web", "db", "api", "old"]}
    containers = [
        {"name": "web-1", "service": "web", "state": "running", "health": {"status": "healthy"}, "restart_count": 0,
         "memory": {"percent": 85.0}, "http_probe": {"url": "http://127.0.0.1:1/", "status": 200,
                                                     "samples_ms": [10, 12, 300], "median_ms": 12, "error": None}},
        {"name": "db-1", "service": "db", "state": "running", "health": None, "restart_count": 0,
         "memory": {"percent": 10.0}, "history": {"oom_kills": 2}},
        {"name": "api-1", "service": "api", "state": "restarting", "restart_count": 7, "oom_killed": True,
         "http_probe": None},
    ]
    k = sections.kpi_section(compose, containers, {"health_pct": 66.7, "memory_utilisation_pct": 40.0},
                             {"kpi_response_target_ms": "200", "memory_pressure_pct": 80})
    assert k["availability"] == {"available": 2, "defined": 4, "pct": 50.0, "active": 3, "active_pct": 66.7}
    assert k["health_pct"] == 66.7 and k["response_target_ms"] == 200
    assert k["response_times"][0]["within_target"] is True and k["response_times"][0]["median_ms"] == 12
    assert k["memory"]["over_target"] == [{"container": "web-1", "pct": 85.0}]
    assert k["restarts"] == {"total": 7, "containers": [{"container": "api-1", "restarts": 7}]}
    assert k["oom_kills"] == {"total": 3, "containers": ["api-1", "db-1"]}
    slow = dict(containers[0], http_probe=dict(containers[0]["http_probe"], median_ms=250))
    assert sections.kpi_section(compose, [slow], {}, {})["response_times"][0]["within_target"] is False


with open(os.path.join(os.path.dirname(__file__), "..", "..", "roles", "audit", "files", "http_apis.yml")) as fh:
    APIS = dict((k["kind"], k) for k in yaml.safe_load(fh))


class _JsonOpener(object):
    def __init__(self, bodies):
        self.bodies, self.urls = bodies, []

    def open(self, url, timeout=None):
        import io
        import json
        self.urls.append(url)
        path = url.split("://", 1)[1].split("/", 1)[1]
        if "/" + path not in self.bodies:
            raise OSError("Connection refused")
        return io.BytesIO(json.dumps(self.bodies["/" + path]).encode())


def test_read_api_parses_prometheus_targets_and_rules():
    bodies = {
        "/api/v1/targets": {"data": {"activeTargets": [
            {"labels": {"job": "node", "instance": "node:9100"}, "health": "up", "lastError": ""},
            {"labels": {"job": "loki", "instance": "loki:3100"}, "health": "down",
             "lastError": "Get \"http://admin:hunter22@loki:3100/metrics\": no such host"}]}},
        "/api/v1/rules": {"data": {"groups": [{"rules": [{"type": "alerting"}, {"type": "recording"},
                                                         {"type": "alerting"}]}]}}}
    attrs = {"NetworkSettings": {"Ports": {"9090/tcp": [{"HostIp": "127.0.0.1", "HostPort": "10200"}]}}}
    opener = _JsonOpener(bodies)
    api = rx.read_api(attrs, APIS["prometheus"], opener=opener)
    assert api["base_url"] == "http://127.0.0.1:10200" and api["errors"] == {}
    assert sorted(opener.urls) == ["http://127.0.0.1:10200/api/v1/rules", "http://127.0.0.1:10200/api/v1/targets"]
    t = api["results"]["targets"]
    assert (t["up"], t["down"]) == (1, 1) and "hunter22" not in t["targets"][1]["last_error"]
    assert api["results"]["rules"] == {"groups": 1, "rules": 3, "alerting": 2, "recording": 1}
    unpublished = rx.read_api({"NetworkSettings": {"Ports": {}}}, APIS["prometheus"], opener=opener)
    assert unpublished["base_url"] is None and "not published" in unpublished["errors"]["api"]
    failed = rx.read_api(attrs, APIS["prometheus"], opener=_JsonOpener({}))
    assert failed["results"]["targets"] is None and "refused" in failed["errors"]["targets"]


def test_monitoring_section_prometheus_and_defined_not_running():
    compose = {"services": {"prometheus": {}, "grafana": {}, "loki": {}}, "services_defined": ["alertmanager"]}
    api = {"kind": "prometheus", "base_url": "http://127.0.0.1:1", "errors": {},
           "results": {"targets": {"up": 2, "down": 1, "targets": [{"job": "loki", "health": "down"}]},
                       "rules": {"groups": 1, "rules": 4, "alerting": 3, "recording": 1}}}
    containers = [{"name": "p-1", "service": "prometheus", "state": "running", "api": api},
                  {"name": "g-1", "service": "grafana", "state": "running"}]
    m = sections.monitoring_section(compose, containers, {"monitoring_services": ["prometheus", "grafana", "loki",
                                                                                 "alertmanager"]})
    assert m["defined_not_running"] == ["alertmanager", "loki"]
    assert [c["running"] for c in m["components"]] == [True, True, False, False]
    p = m["prometheus"]
    assert (p["targets_up"], p["targets_down"], p["rules"], p["alerting_rules"]) == (2, 1, 4, 3)
    assert p["error"] is None and p["api_url"] == "http://127.0.0.1:1"
    down = sections.monitoring_section(compose, containers[1:], {"monitoring_services": ["prometheus"]})
    assert down["prometheus"]["running"] is False and down["prometheus"]["error"] == "not running"
    assert sections.monitoring_section({"services": {"web": {}}}, [], {})["prometheus"] is None


def test_mesh_section_kong_routes_and_consul_registrations():
    compose = {"services": {"kong": {}, "consul": {}, "backend": {}, "worker": {}}}
    kong_api = {"kind": "kong", "base_url": "http://127.0.0.1:2", "errors": {}, "results": {
        "services": rx._kong_services({"data": [{"id": "s1", "name": "backend", "host": "backend", "port": 8000,
                                                 "protocol": "http"}]}),
        "routes": rx._kong_routes({"data": [{"name": None, "service": {"id": "s1"}, "hosts": ["api.local"]}]})}}
    consul_api = {"kind": "consul", "base_url": "http://127.0.0.1:3", "errors": {}, "results": {
        "services": rx._consul_services({"backend-1": {"Service": "backend", "Port": 8000, "Tags": []},
                                         "ghost-1": {"Service": "ghost", "Port": 1}})}}
    containers = [{"name": "k", "service": "kong", "state": "running", "api": kong_api},
                  {"name": "c", "service": "consul", "state": "running", "api": consul_api},
                  {"name": "b", "service": "backend", "state": "running"},
                  {"name": "w", "service": "worker", "state": "exited"}]
    m = sections.mesh_section(compose, containers)
    assert m["kong"]["services"] == [{"name": "backend", "host": "backend", "port": 8000, "protocol": "http"}]
    assert m["kong"]["routes"] == [{"name": None, "service": "backend", "hosts": ["api.local"], "paths": []}]
    c = m["consul"]
    assert [r["service"] for r in c["registered"]] == ["backend", "ghost"]
    assert c["running_not_registered"] == ["kong"] and c["registered_not_running"] == ["ghost"]
    off = sections.mesh_section(compose, containers[2:])
    assert off["kong"]["running"] is False and off["consul"]["error"] == "not running"
    assert sections.mesh_section({"services": {"web": {}}}, []) == {"kong": None, "consul": None}


def test_kong_declarative_parse_keeps_names_hosts_routes_only():
    from ansible.module_utils.compose_doctor.facts import kong_config
    doc = {"_format_version": "3.0",
           "services": [{"name": "api", "url": "http://user:pw-secret@api:8000/v1",
                         "routes": [{"name": "api-route", "hosts": ["api.local"], "paths": ["/v1"]}],
                         "plugins": [{"name": "key-auth", "config": {"key": "plugin-secret"}}]},
                        {"name": "web", "host": "web", "port": 80}],
           "routes": [{"name": "top", "service": {"name": "web"}, "paths": ["/"]}],
           "consumers": [{"username": "bob", "keyauth_credentials": [{"key": "consumer-secret"}]}]}
    got = kong_config.parse(doc)
    assert got == {"format_version": "3.0",
                   "services": [{"name": "api", "host": "api", "port": 8000}, {"name": "web", "host": "web", "port": 80}],
                   "routes": [{"name": "api-route", "service": "api", "hosts": ["api.local"], "paths": ["/v1"]},
                              {"name": "top", "service": "web", "hosts": [], "paths": ["/"]}]}
    assert "secret" not in repr(got)
    assert kong_config.parse({"services": []}) is None  # not a declarative file


def test_kong_declarative_found_in_the_project_and_in_bind_mounts(tmp_path):
    from ansible.module_utils.compose_doctor.facts import kong_config
    (tmp_path / "config" / "kong").mkdir(parents=True)
    (tmp_path / "config" / "kong" / "kong.yml").write_text("_format_version: '3.0'\nservices:\n  - name: a\n    url: http://a:1\n")
    (tmp_path / "kong.yaml").write_text("services: [oops\n")
    outside = tmp_path.parent / ("kong-%s.json" % tmp_path.name)
    outside.write_text('{"_format_version": "3.0", "routes": [{"name": "r", "hosts": ["h"]}]}')
    services = {"kong": {"mounts": [{"type": "bind", "source": str(outside), "target": "/kong.json"}]},
                "web": {"mounts": [{"type": "bind", "source": "/etc/kong.yml", "target": "/x"}]}}
    got = kong_config.read_declarative(str(tmp_path), ["config/kong/kong.yml", "kong.yaml", "README.md"], services)
    assert [g["file"] for g in got] == ["config/kong/kong.yml", "kong.yaml", str(outside)]
    assert got[0]["services"] == [{"name": "a", "host": "a", "port": 1}] and got[0]["error"] is None
    assert got[1]["error"].startswith("not valid YAML")
    assert got[2]["routes"][0]["name"] == "r"


def test_mesh_kong_declared_vs_served():
    declared = [{"file": "config/kong/kong.yml", "format_version": "3.0", "error": None,
                 "services": [{"name": "backend"}, {"name": "grafana"}],
                 "routes": [{"name": "backend-route"}, {"name": "grafana-route"}]}]
    api = {"kind": "kong", "base_url": "http://127.0.0.1:2", "errors": {}, "results": {
        "services": [{"id": "s1", "name": "backend"}, {"id": "s2", "name": "extra"}],
        "routes": [{"name": "backend-route", "service_id": "s1"}, {"name": None, "hosts": ["x.local"]}]}}
    compose = {"services": {"kong": {}}, "kong_declarative": declared}
    m = sections.mesh_section(compose, [{"name": "k", "service": "kong", "state": "running", "api": api}])["kong"]
    assert m["declared_not_served"] == {"services": ["grafana"], "routes": ["grafana-route"]}
    assert m["served_not_declared"] == {"services": ["extra"], "routes": ["x.local"]}
    off = sections.mesh_section(compose, [])["kong"]
    assert off["declarative"] == declared and off["declared_not_served"] is None
