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
