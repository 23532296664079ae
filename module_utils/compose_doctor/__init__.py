"""compose-doctor: pure-Python logic shared by the custom modules in library/.

The folders are the layers, in the order data flows through them:

- ``facts/``: what the host shows, read-only (Compose's model and where each thing is written,
  Dockerfiles, the engine's batched runtime facts);
- ``analysis/``: facts + policy -> findings (the rule catalog, crash-loop diagnosis, right-sizing);
- ``output/``: findings -> the audit.json model and its renderings (Markdown, HTML, SARIF, JUnit,
  Prometheus, the remediation summary);
- ``change/``: the safe edits the fixes make (compose/env/requirements files, atomic writes,
  the journal that undoes them).

``redact`` (which values are secrets, and masking them) and ``sizes`` (byte sizes as Docker writes
them) serve every layer and stay at the top, as does ``suppressions`` (ignore entries read with the
facts, applied to the findings, and the baseline comparison).

Modules import ``ansible.module_utils.compose_doctor.<layer>.<name>`` (ansible.cfg points
``module_utils`` here); tests/conftest.py makes the same import path work under pytest.
"""
