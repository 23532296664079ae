"""Shared runner for Ansible module main() in unit tests."""
import json

import pytest

from ansible.module_utils.testing import patch_module_args


@pytest.fixture
def run_module(capsys):
    """Return run(module, args, check=False, diff=False) -> the module's JSON result.

    exit_json and fail_json both print JSON and raise SystemExit; a failure has
    ``failed: true`` (and exits 1, a success exits 0 - checked here).
    """
    def run(module, args, check=False, diff=False):
        args = dict(args)
        args['_ansible_check_mode'] = check
        args['_ansible_diff'] = diff
        with patch_module_args(args):
            with pytest.raises(SystemExit) as exc:
                module.main()
        result = json.loads(capsys.readouterr().out)
        assert exc.value.code == (1 if result.get('failed', False) else 0), (exc.value.code, result)
        return result

    return run


@pytest.fixture(autouse=True)
def _compose_only_through_a_runner(monkeypatch):
    """Hermetic unit tests: ``docker compose`` never runs unless a test injects its own runner."""
    from ansible.module_utils.compose_doctor import compose_model

    def refuse(cmd, env, timeout):
        raise AssertionError('unit tests run docker compose only through an injected runner: %r' % (cmd,))

    monkeypatch.setattr(compose_model, '_run', refuse)
