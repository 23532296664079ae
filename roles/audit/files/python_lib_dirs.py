"""Prints (JSON) the package directories of the YAML libraries importable by this Python: what
audit_bootstrap copies to a host that lacks them. Run on the controller by the audit role."""
import importlib.util
import json
import os

found = []
for name in ("yaml", "ruamel.yaml"):
    try:
        spec = importlib.util.find_spec(name)
    except ImportError:
        spec = None
    if spec is not None and spec.origin:
        found.append(os.path.dirname(spec.origin))
print(json.dumps(found))
