"""The audit cases (one folder per kind of failure seen on real projects) as tests.

Each folder holds the input files and ``expected.json`` (format in README.md). ``check.py``
(the cases' own runner, shared with the team that collects them) runs the real
``playbooks/audit.yml`` on a copy of each case, in each mode it names (``cli``: Compose's own
model; ``nocli``: the fallback), with the daemon unreachable on purpose (a static audit), and
compares audit.json, the play output (also at ``-v``) and every report file with the expectation.
"""
import json
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import check  # noqa: E402

CASES = [(check.case_name(d, HERE), d) for d in check.find_cases(HERE)]


def _plan():
    out = []
    for name, d in CASES:
        with open(os.path.join(d, "expected.json")) as fh:
            modes = json.load(fh).get("modes") or ["cli"]
        out.extend((name, m) for m in modes)
    return out


@pytest.fixture(scope="session")
def results():
    """Every case and mode, audited two at a time (one playbook run each)."""
    rows = check.run_cases(CASES, ROOT, os.path.join(ROOT, ".venv"), jobs=2, log=None)
    return dict(((r["case"], r["mode"]), r) for r in rows)


def test_there_are_cases():
    assert len(CASES) >= 10


@pytest.mark.parametrize("case, mode", _plan())
def test_case(results, case, mode):
    row = results[(case, mode)]
    assert row["ok"], "%s (%s): %s" % (case, mode, "; ".join(row["diffs"]))
