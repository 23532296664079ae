# -*- coding: utf-8 -*-
"""CIS Docker Benchmark section 5 on the compose-file side: Compose's real syntaxes, through the
same normalisers the facts go through (short and long volume and port syntax, capability and
security_opt spellings), severities as data, and the CIS id on every finding."""

import pytest

from ansible.module_utils.compose_doctor.facts import compose_values as cv
from ansible.module_utils.compose_doctor.analysis import rules

import audit_fixtures as fx


def _audit(policy=None, **raw):
    """Findings for one service 'web': the clean fixture with ``raw`` compose values normalised
    as compose_facts does (ports, volumes, and the isolation fields)."""
    c, r = fx.clean_compose(), fx.clean_runtime()
    web = c["services"]["web"]
    problems = []
    if "ports" in raw:
        web["ports"] = cv.normalize_ports(raw.pop("ports"), problems)
    if "volumes" in raw:
        web["mounts"] += cv.normalize_mounts(raw.pop("volumes"), None, "/opt/shop", problems)
    if "network_mode" in raw:  # normalize_service's own field
        web["network_mode"] = raw.pop("network_mode")
    if "cap_add" in raw:
        web["cap_add"] = cv.string_list(raw.pop("cap_add"), "cap_add", problems)
    hardened = {"read_only": True, "security_opt": ["no-new-privileges:true"], "pids_limit": 200, "cpus": 1.0,
                "restart": "unless-stopped"}
    hardened.update(raw)
    web.update(cv.isolation_facts(hardened, problems))
    assert problems == []
    # the running container is what the file says (drift has its own tests)
    for ctr in r["containers"]:
        ctr.update({k: web.get(k) for k in ("cap_add", "cap_drop", "security_opt", "read_only", "pids_limit",
                                            "privileged", "pid", "ipc", "uts", "userns_mode", "network_mode")})
    return rules.evaluate(c, r, policy or {})


def _of(findings, rule):
    return [f for f in findings if f["rule"] == rule]


NEW_RULES = ["apparmor-unconfined", "selinux-disabled", "capability-added", "sensitive-host-mount", "privileged-port",
             "host-network", "cpu-no-limit", "rootfs-writable", "restart-retries", "host-pid", "host-ipc",
             "host-devices", "mount-propagation-shared", "host-uts", "seccomp-unconfined",
             "no-new-privileges-missing", "pids-no-limit", "host-userns"]


def test_hardened_service_has_no_finding():
    assert _audit() == []


def test_every_cis_rule_has_its_id():
    cis = dict((rid, rules.RULES[rid].cis) for rid in NEW_RULES)
    assert all(cis.values()) and len(set(cis.values())) == len(cis)
    assert (rules.RULES["privileged-container"].cis, rules.RULES["docker-socket-mount"].cis,
            rules.RULES["memory-no-limit"].cis) == ("5.5", "5.32", "5.11")
    entries = dict((e["id"], e) for e in rules.catalog())
    assert entries["seccomp-unconfined"]["cis"] == "5.22" and entries["compose-sprawl"]["cis"] is None


# --- security_opt: 5.2, 5.3, 5.22, 5.26 -----------------------------------------------------

@pytest.mark.parametrize("opt, rule", [
    ("seccomp:unconfined", "seccomp-unconfined"), ("seccomp=unconfined", "seccomp-unconfined"),
    ("SECCOMP=Unconfined", "seccomp-unconfined"), ("apparmor:unconfined", "apparmor-unconfined"),
    ("apparmor=unconfined", "apparmor-unconfined"), ("label:disable", "selinux-disabled"),
    ("label=disable", "selinux-disabled"), ("label:type:spc_t", "selinux-disabled"),
])
def test_unconfined_security_opt_any_spelling(opt, rule):
    found = _of(_audit(security_opt=["no-new-privileges:true", opt]), rule)
    assert [f["target"] for f in found] == ["web"] and opt in found[0]["evidence"]
    assert found[0]["cis"] == rules.RULES[rule].cis


@pytest.mark.parametrize("opt", ["seccomp:/etc/docker/seccomp.json", "apparmor:docker-default", "label:user:USER",
                                 "label=level:s0:c100,c200"])
def test_confined_security_opt_is_quiet(opt):
    found = _audit(security_opt=["no-new-privileges:true", opt])
    assert [f for f in found if f["rule"] in ("seccomp-unconfined", "apparmor-unconfined", "selinux-disabled")] == []


@pytest.mark.parametrize("opts, fires", [
    (["no-new-privileges:true"], False), (["no-new-privileges=true"], False), (["no-new-privileges"], False),
    (["NO-NEW-PRIVILEGES:TRUE"], False), (["no-new-privileges:false"], True), ([], True),
    (["seccomp:unconfined"], True),
])
def test_no_new_privileges(opts, fires):
    found = _of(_audit(security_opt=opts), "no-new-privileges-missing")
    assert bool(found) == fires
    if opts == ["no-new-privileges:false"]:
        assert "it sets no-new-privileges:false" in found[0]["evidence"]


def test_daemon_wide_no_new_privileges_counts_unless_the_service_opts_out():
    c, r = fx.clean_compose(), fx.clean_runtime()
    r["docker"]["no_new_privileges"] = True
    c["services"]["web"]["security_opt"] = []
    assert _of(rules.evaluate(c, r, {}), "no-new-privileges-missing") == []
    c["services"]["web"]["security_opt"] = ["no-new-privileges=false"]
    assert _of(rules.evaluate(c, r, {}), "no-new-privileges-missing")
    c["services"]["web"]["security_opt"] = []
    r["docker"]["reachable"] = False  # daemon facts unknown: the file decides
    assert _of(rules.evaluate(c, r, {}), "no-new-privileges-missing")


# --- capabilities: 5.4 ----------------------------------------------------------------------

@pytest.mark.parametrize("cap_add, severity", [
    (["ALL"], "high"), (["all"], "high"), (["CAP_SYS_ADMIN"], "high"), (["cap_sys_admin"], "high"),
    (["Sys_Admin"], "high"), (["NET_ADMIN"], "medium"), (["CAP_NET_ADMIN", "sys_ptrace"], "medium"),
    (["NET_ADMIN", "DAC_READ_SEARCH"], "high"), ("SYS_MODULE", "high"),
])
def test_capability_added_any_spelling(cap_add, severity):
    found = _of(_audit(cap_add=cap_add), "capability-added")
    assert len(found) == 1 and found[0]["severity"] == severity and found[0]["cis"] == "5.4"


@pytest.mark.parametrize("cap_add", [[], ["CHOWN"], ["NET_BIND_SERVICE", "cap_kill"]])
def test_harmless_capabilities_are_quiet(cap_add):
    assert _of(_audit(cap_add=cap_add, cap_drop=["ALL"]), "capability-added") == []


def test_capability_evidence_names_cap_drop_and_dedupes():
    f = _of(_audit(cap_add=["SYS_ADMIN", "CAP_SYS_ADMIN", "ALL"]), "capability-added")[0]
    assert f["diagnosis"] == {"cap_add": ["SYS_ADMIN", "ALL"], "cap_drop": []}
    assert "cap_drop: none" in f["evidence"] and "close to privileged" in f["evidence"]
    f = _of(_audit(cap_add=["NET_ADMIN"], cap_drop=["all"]), "capability-added")[0]
    assert "cap_drop: ALL" in f["evidence"]


def test_capability_severities_are_policy_data():
    policy = {"dangerous_capabilities": {"cap_net_raw": "low", "NET_ADMIN": "high"}}
    assert _of(_audit(policy, cap_add=["NET_RAW"]), "capability-added")[0]["severity"] == "low"
    assert _of(_audit(policy, cap_add=["NET_ADMIN"]), "capability-added")[0]["severity"] == "high"
    assert _of(_audit(policy, cap_add=["SYS_ADMIN"]), "capability-added")  # merged over the defaults
    with pytest.raises(ValueError, match="dangerous_capabilities"):
        rules.effective_policy({"dangerous_capabilities": {"X": "urgent"}})
    with pytest.raises(ValueError, match="dangerous_capabilities"):
        rules.effective_policy({"dangerous_capabilities": ["SYS_ADMIN"]})


# --- sensitive host paths 5.6 and propagation 5.20 -------------------------------------------

@pytest.mark.parametrize("volumes, severity", [
    (["/etc:/host/etc"], "high"),
    (["/etc:/host/etc:ro"], "medium"),
    (["/:/rootfs:ro"], "medium"),
    (["//proc/./:/host/proc"], "high"),
    (["/var/lib/docker/volumes:/vols:ro,z"], "medium"),
    ([{"type": "bind", "source": "/sys", "target": "/host/sys", "read_only": True}], "medium"),
    ([{"type": "bind", "source": "/usr/lib", "target": "/x"}], "high"),
    (["/etc/localtime:/etc/localtime"], "high"),  # exempt only read-only
    (["/etc/passwd:/etc/passwd:ro", "/dev:/dev"], "high"),  # the worst of the service's binds
])
def test_sensitive_host_mount(volumes, severity):
    found = _of(_audit(volumes=volumes), "sensitive-host-mount")
    assert len(found) == 1 and found[0]["severity"] == severity and found[0]["cis"] == "5.6"


@pytest.mark.parametrize("volumes", [
    ["/etc/localtime:/etc/localtime:ro", "/usr/share/zoneinfo:/usr/share/zoneinfo:ro"],
    ["./data:/data", "/srv/app:/app", "/etcetera:/x", "/home/u/usr:/y"],
    ["data:/var/lib/docker"],  # a named volume, not the host's /var/lib/docker
    [{"type": "volume", "source": "etc", "target": "/etc"}],
    ["/var/run/docker.sock:/var/run/docker.sock"],  # docker-socket-mount's
])
def test_sensitive_host_mount_quiet(volumes):
    assert _of(_audit(volumes=volumes), "sensitive-host-mount") == []


def test_project_files_are_not_sensitive_wherever_the_project_lives():
    c, r = fx.clean_compose(), fx.clean_runtime()
    c["project"]["dir"] = "/root/shop"
    c["services"]["web"]["mounts"] += cv.normalize_mounts(["./data:/data", "/root/.ssh:/ssh:ro"], None,
                                                          "/root/shop", [])
    found = [f for f in rules.evaluate(c, r, {}) if f["rule"] == "sensitive-host-mount"]
    assert len(found) == 1 and "/root/.ssh" in found[0]["evidence"] and "/root/shop" not in found[0]["evidence"]
    c, r = fx.clean_compose(), fx.clean_runtime()
    c["project"]["dir"] = "/etc"  # a project that is itself a sensitive path keeps its binds flagged
    c["services"]["web"]["mounts"] += cv.normalize_mounts(["./app:/app"], None, "/etc", [])
    found = [f for f in rules.evaluate(c, r, {}) if f["rule"] == "sensitive-host-mount"]
    assert len(found) == 1 and "/etc/app" in found[0]["evidence"]


def test_root_bind_is_both_sensitive_and_a_socket_mount():
    found = _audit(volumes=["/:/host"])
    assert sorted(f["rule"] for f in found) == ["docker-socket-mount", "sensitive-host-mount"]
    sock = _audit(volumes=["/run/docker.sock:/run/docker.sock:ro"])
    assert [f["rule"] for f in sock] == ["docker-socket-mount"] and sock[0]["cis"] == "5.32"


def test_read_only_severity_is_policy_data():
    policy = {"sensitive_mount_read_only_severity": "low", "sensitive_host_paths": ["/srv"]}
    assert _of(_audit(policy, volumes=["/srv/x:/x:ro"]), "sensitive-host-mount")[0]["severity"] == "low"
    assert _of(_audit(policy, volumes=["/etc:/etc"]), "sensitive-host-mount") == []
    with pytest.raises(ValueError):
        rules.effective_policy({"sensitive_mount_read_only_severity": "minor"})


@pytest.mark.parametrize("volumes, fires", [
    (["/srv/data:/data:rshared"], True),
    (["/srv/data:/data:ro,shared"], True),
    ([{"type": "bind", "source": "/srv/data", "target": "/data", "bind": {"propagation": "rshared"}}], True),
    ([{"type": "bind", "source": "/srv/data", "target": "/data", "bind": {"propagation": "shared"}}], True),
    (["/srv/data:/data:rslave"], False),
    ([{"type": "bind", "source": "/srv/data", "target": "/data", "bind": {"propagation": "rprivate"}}], False),
    (["/srv/data:/data"], False),
])
def test_mount_propagation_shared(volumes, fires):
    found = _of(_audit(volumes=volumes), "mount-propagation-shared")
    assert bool(found) == fires
    if fires:
        assert found[0]["cis"] == "5.20" and "/srv/data" in found[0]["evidence"]


# --- privileged ports 5.8 -------------------------------------------------------------------

@pytest.mark.parametrize("ports, targets", [
    (["80:80"], ["web:80/tcp"]),
    ([443], []),  # container port only: a random host port
    (["127.0.0.1:80:80"], ["web:80/tcp"]),
    (["[::1]:443:443"], ["web:443/tcp"]),
    (["80-81:80-81"], ["web:80-81/tcp"]),
    (["1000-1030:1000-1030"], ["web:1000-1030/tcp"]),
    (["53:53/udp"], ["web:53/udp"]),
    ([{"target": 80, "published": "80", "host_ip": "127.0.0.1", "protocol": "tcp"}], ["web:80/tcp"]),
    ([{"target": 80, "published": "127.0.0.1:80"}], ["web:80/tcp"]),
    ([{"target": 80}], []),
    (["8080:80", "1024:22", "0:80"], []),
])
def test_privileged_port(ports, targets):
    found = _of(_audit(ports=ports), "privileged-port")
    assert sorted(f["target"] for f in found) == targets
    assert all(f["cis"] == "5.8" and f["severity"] == "low" for f in found)


def test_privileged_port_max_is_policy_data():
    assert _of(_audit({"privileged_port_max": 8080}, ports=["8080:80"]), "privileged-port")


# --- namespaces 5.10 / 5.16 / 5.17 / 5.21 / 5.31 and devices 5.18 ------------------------------

@pytest.mark.parametrize("key, rule, cis", [
    ("network_mode", "host-network", "5.10"), ("pid", "host-pid", "5.16"), ("ipc", "host-ipc", "5.17"),
    ("uts", "host-uts", "5.21"), ("userns_mode", "host-userns", "5.31"),
])
def test_host_namespaces(key, rule, cis):
    found = _of(_audit(**{key: "host"}), rule)
    assert len(found) == 1 and found[0]["cis"] == cis and "%s: host" % key in found[0]["evidence"]
    assert _of(_audit(**{key: "HOST"}), rule)
    for other in ("service:db", "container:abc", "private", "shareable", "bridge", ""):
        assert _of(_audit(**{key: other}), rule) == []


@pytest.mark.parametrize("devices", [
    ["/dev/ttyUSB0"], ["/dev/sda:/dev/xvda:r"], [{"source": "/dev/dri", "target": "/dev/dri", "permissions": "rwm"}],
])
def test_host_devices(devices):
    found = _of(_audit(devices=devices), "host-devices")
    assert len(found) == 1 and found[0]["cis"] == "5.18" and "/dev/" in found[0]["evidence"]


# --- restart 5.15 ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw, fires", [
    ({"restart": "on-failure:6"}, True), ({"restart": "on-failure"}, True), ({"restart": "on-failure:5"}, False),
    ({"restart": "always"}, False), ({"restart": "no"}, False),
    ({"restart": None, "deploy": {"restart_policy": {"condition": "on-failure", "max_attempts": 9}}}, True),
    ({"restart": None, "deploy": {"restart_policy": {"condition": "on-failure", "max_attempts": 3}}}, False),
    ({"restart": "on-failure:2", "deploy": {"restart_policy": {"condition": "on-failure"}}}, False),
])
def test_restart_retries(raw, fires):
    found = _of(_audit(**raw), "restart-retries")
    assert bool(found) == fires
    if fires:
        assert found[0]["cis"] == "5.15"
    assert bool(_of(_audit({"restart_max_retries": 10}, **raw), "restart-retries")) == (
        fires and raw.get("restart") == "on-failure")


# --- the low-value hardening checks: 5.13, 5.29, 5.12 -----------------------------------------

@pytest.mark.parametrize("raw, rule", [
    ({"read_only": False}, "rootfs-writable"), ({"read_only": "false"}, "rootfs-writable"),
    ({"pids_limit": None}, "pids-no-limit"), ({"pids_limit": -1}, "pids-no-limit"), ({"pids_limit": 0}, "pids-no-limit"),
    ({"cpus": None}, "cpu-no-limit"), ({"cpus": 0}, "cpu-no-limit"),
])
def test_noisy_checks_fire_as_info(raw, rule):
    found = _of(_audit(**raw), rule)
    assert len(found) == 1 and found[0]["severity"] == "info" and found[0]["cis"] == rules.RULES[rule].cis


@pytest.mark.parametrize("raw", [
    {"read_only": "true"}, {"pids_limit": None, "deploy": {"resources": {"limits": {"pids": 100}}}},
    {"cpus": None, "deploy": {"resources": {"limits": {"cpus": "0.5"}}}}, {"cpus": None, "cpu_quota": 50000},
    {"cpus": None, "cpuset": "0"}, {"cpus": None, "cpu_shares": 256},
])
def test_noisy_checks_quiet_when_set(raw):
    assert [f["rule"] for f in _audit(**raw)] == []


def test_noisy_checks_can_be_raised_or_disabled():
    raw = {"read_only": False}
    assert _of(_audit({"rule_severity": {"rootfs-writable": "medium"}}, **raw), "rootfs-writable")[0][
        "severity"] == "medium"
    assert _audit({"disabled_rules": ["rootfs-writable"]}, **raw) == []


def test_info_findings_weigh_nothing_in_the_score():
    """Advice most files do not follow yet must not lower the score; raised by policy, it counts."""
    bare = {"read_only": None, "security_opt": [], "pids_limit": None, "cpus": None}
    noisy = _audit(**bare)
    assert sorted(f["rule"] for f in noisy) == ["cpu-no-limit", "no-new-privileges-missing", "pids-no-limit",
                                                "rootfs-writable"]
    assert {f["severity"] for f in noisy} == {"info"}
    assert rules.score(noisy, rules.effective_policy({})) == 100
    raised = rules.effective_policy({"rule_severity": {"pids-no-limit": "low"}})
    assert rules.score(_audit(raised, **bare), raised) < 100


def test_restart_always_on_a_crash_looping_service_loops_forever():
    c, r = fx.clean_compose(), fx.clean_runtime()
    r["containers"][0].update(state="restarting", restart_count=12, exit_code=1)
    found = _of(rules.evaluate(c, r, {}), "restart-retries")
    assert len(found) == 1 and "will restart it forever" in found[0]["evidence"]
    assert found[0]["diagnosis"] == {"policy": "unless-stopped", "crash_looping": True}
    healthy = _of(rules.evaluate(fx.clean_compose(), fx.clean_runtime(), {}), "restart-retries")
    assert healthy == []


def test_the_hardening_fix_is_offered_for_no_new_privileges_pids_and_database_ports_only():
    hardening = {"role": "hardening", "tag": "hardening"}
    found = _audit(security_opt=[], pids_limit=None, read_only=False, ports=["5432:5432", "8080:80"])
    for rule in ("no-new-privileges-missing", "pids-no-limit"):
        assert [f["fix"] for f in _of(found, rule)] == [hardening]
    ports = {f["target"]: f["fix"] for f in _of(found, "port-all-interfaces")}
    assert ports == {"web:5432/tcp": hardening, "web:8080/tcp": None}
    assert [f["fix"] for f in _of(found, "rootfs-writable")] == [None]
