"""Make project module_utils and library importable the way Ansible sees them; run a module's main()."""
import json
import sys
from pathlib import Path

import ansible.module_utils
import pytest
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parent.parent
# ansible.cfg adds module_utils/ to ansible.module_utils; do the same for pytest.
if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(ROOT / "module_utils"))
sys.path.insert(0, str(ROOT / "library"))


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
        with patch_module_args(args), pytest.raises(SystemExit) as exc:
            module.main()
        result = json.loads(capsys.readouterr().out)
        assert exc.value.code == (1 if result.get('failed', False) else 0), (exc.value.code, result)
        return result

    return run
