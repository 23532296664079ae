# -*- coding: utf-8 -*-
"""The crash-loop doctor's evidence, gathered in the batched pass (docker_runtime): key names
only (never values), the command with secret flags scrubbed, the exec'd file read out of the
container, host facts readable without privileges."""
import io
import tarfile

from ansible.module_utils.compose_doctor.facts import docker_runtime as dr


def _attrs(**config):
    base = {"Id": "abc", "Name": "/p-app-1", "State": {"Status": "exited", "ExitCode": 126,
                                                      "Error": 'exec: "/entrypoint.sh": permission denied'},
            "Config": {"Env": ["DB_HOST=localhost", "API_URL=http://127.0.0.1:8000/x", "REMOTE=db:5432",
                               "DB_PASSWORD=s3cr3tvalue"],
                       "Cmd": ["redis-server", "--requirepass", "s3cr3tvalue"], "WorkingDir": "/app",
                       "Healthcheck": {"Test": ["CMD", "curl", "-f", "http://localhost/"], "StartPeriod": 5 * 10 ** 9}},
            "HostConfig": {}, "NetworkSettings": {"Networks": {"p_back": {}, "p_front": {}}}}
    base["Config"].update(config)
    return base


def test_evidence_names_keys_never_values():
    attrs = _attrs()
    secrets = dr.secret_values_of_containers([attrs])
    fact = dr.normalize_container(attrs, secret_values=secrets)
    assert fact["env_local_keys"] == ["API_URL", "DB_HOST"]
    assert fact["state_error"].startswith('exec: "/entrypoint.sh"')
    assert "s3cr3tvalue" not in repr(fact)
    assert fact["working_dir"] == "/app" and fact["networks"] == ["p_back", "p_front"]
    assert fact["healthcheck_test"][1] == "curl" and fact["healthcheck_start_period_s"] == 5


def test_exec_paths_from_the_log_and_the_start_error():
    fact = {"state": "restarting", "log_tail": ["sh: 1: /app/start.sh: Permission denied"],
            "state_error": 'exec: "/entrypoint.sh": permission denied'}
    assert dr.exec_paths(fact) == ["/app/start.sh", "/entrypoint.sh"]
    assert dr.exec_paths({"state": "running", "restart_count": 0, "log_tail": []}) == []


class _Client(object):
    """The archive call read_file_head makes (engine_api.EngineClient.get_archive)."""

    def __init__(self, content, mode=0o644, missing=False):
        self.content, self.mode, self.missing = content, mode, missing

    def get_archive(self, cid, path):
        if self.missing:
            raise OSError("no such file")
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            info = tarfile.TarInfo(path.rsplit("/", 1)[-1])
            info.size, info.mode = len(self.content), self.mode
            tar.addfile(info, io.BytesIO(self.content))
        return buf.getvalue(), {"mode": self.mode}


def test_read_file_head_tells_crlf_mode_elf_and_missing():
    crlf = dr.read_file_head(_Client(b"#!/bin/sh\r\necho hi\r\n", 0o755), "abc", "/entrypoint.sh")
    assert crlf == {"exists": True, "mode": 0o755, "shebang": "#!/bin/sh", "crlf": True, "elf": False}
    plain = dr.read_file_head(_Client(b"#!/bin/sh\necho hi\n", 0o644), "abc", "/app/start.sh")
    assert plain["mode"] == 0o644 and not plain["crlf"]
    elf = dr.read_file_head(_Client(b"\x7fELF\x02\x01\x01" + b"\0" * 50, 0o755), "abc", "/app/server")
    assert elf["elf"] and elf["shebang"] is None
    assert dr.read_file_head(_Client(b"", missing=True), "abc", "/nope") == {"exists": False}


def test_host_facts_read_without_privileges(tmp_path):
    (tmp_path / "sys" / "vm").mkdir(parents=True)
    (tmp_path / "cpuinfo").write_text("processor\t: 0\nflags\t\t: fpu sse sse2 avx avx2\n")
    (tmp_path / "sys" / "vm" / "max_map_count").write_text("65530\n")
    assert dr.host_facts(str(tmp_path)) == {"cpu_avx": True, "max_map_count": 65530}
    (tmp_path / "cpuinfo").write_text("flags\t\t: fpu sse sse2\n")
    assert dr.host_facts(str(tmp_path))["cpu_avx"] is False
    assert dr.host_facts(None) == {"cpu_avx": None, "max_map_count": None}


def test_run_history_from_die_and_oom_events():
    events = [{"Type": "container", "Action": "oom", "Actor": {"ID": "a" * 64}, "timeNano": 1},
              {"Type": "container", "Action": "die", "Actor": {"ID": "a" * 64, "Attributes": {"exitCode": "137"}},
               "timeNano": 2},
              {"Type": "container", "Action": "die", "Actor": {"ID": "b" * 64, "Attributes": {"exitCode": "1"}},
               "timeNano": 3}]
    hist = dr.run_history(events)
    assert hist["a" * 12] == {"last_exit_code": 137, "oom_kills": 1}
    assert hist["b" * 12] == {"last_exit_code": 1, "oom_kills": 0}
