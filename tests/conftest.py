"""Make project module_utils and library importable the way Ansible sees them."""
import sys
from pathlib import Path

import ansible.module_utils

ROOT = Path(__file__).resolve().parent.parent
# ansible.cfg adds module_utils/ to ansible.module_utils; do the same for pytest.
if str(ROOT / "module_utils") not in ansible.module_utils.__path__:
    ansible.module_utils.__path__.append(str(ROOT / "module_utils"))
sys.path.insert(0, str(ROOT / "library"))
