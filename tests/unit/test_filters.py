"""plugins/filter/compose_doctor.py: what a failed Compose action may print."""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("cd_filters", os.path.join(ROOT, "plugins", "filter", "compose_doctor.py"))
filters = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(filters)


def test_error_lines_only_masked_and_bounded():
    result = {"failed": True, "msg": "Error response from daemon: conflict",
              "stderr": "#5 RUN pip install nosuchpkg\nERROR: No matching distribution found for nosuchpkg\n"
                        "step 3/4 DB_PASSWORD=hunter22 failed\nredis-server --requirepass s3cretval failed\n"
                        "postgres://app:pw1234@db/x unable to connect\nok line\n",
              "containers": [{"Command": "redis-server --requirepass s3cretval"}]}
    out = filters.compose_error_lines(result)
    assert "No matching distribution found for nosuchpkg" in out and "Error response from daemon" in out
    for secret in ("hunter22", "s3cretval", "pw1234"):
        assert secret not in out
    assert "ok line" not in out
    assert filters.compose_error_lines(result, limit=2).count(" | ") == 1


def test_loop_results_and_no_error():
    loop = {"results": [{"failed": False, "stderr": "error but not failed"},
                        {"failed": True, "msg": "service web: cannot start"}]}
    assert filters.compose_error_lines(loop) == "service web: cannot start"
    assert filters.compose_error_lines({"failed": True, "msg": "boom"}) == "(Compose printed no error line)"
    assert filters.compose_error_lines({"changed": True}) == "(Compose printed no error line)"


def test_a_failed_build_names_the_package_from_the_build_log():
    """Compose's progress JSON carries the build step's output base64-encoded: pip's line naming
    the missing package comes first, Compose's own error after it; a secret in the log is masked."""
    import base64
    import json as _json

    def log(text):
        return _json.dumps({"logs": [{"vertex": "sha256:1", "stream": 2,
                                      "data": base64.b64encode(text.encode()).decode()}]})

    result = {"failed": True, "msg": "General error: failed to solve: exit code: 1",
              "stderr": '{"error":true,"message":"failed to solve: executor failed running [pip install]"}',
              "stdout": "\n".join([log("Collecting psutil\n"), log("API_TOKEN=hunter2hunter2 failed auth\n"),
                                   log("ERROR: No matching distribution found for cd-no-such-pkg==9.9\n")])}
    lines = filters.compose_error_lines(result)
    assert lines.startswith("API_TOKEN=") and "hunter2hunter2" not in lines
    assert "No matching distribution found for cd-no-such-pkg==9.9 | " in lines
    assert lines.endswith("General error: failed to solve: exit code: 1")
