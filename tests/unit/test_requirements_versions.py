# -*- coding: utf-8 -*-
"""requirements_file's PEP 440 subset against ``packaging`` (the test's oracle only: module_utils
runs on targets with the stdlib alone and must not import it)."""
import itertools
import pathlib
import re

import pytest
from hypothesis import given, settings, strategies as st
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from ansible.module_utils.compose_doctor.change import requirements_file as rf

_PRE = ["", "a1", "b2", "rc1"]
_SUFFIX = ["", ".post1", ".dev0", ".dev3", ".post2.dev1"]
_RELEASES = ["0", "1", "1.0", "1.1", "1.0.1", "2", "2.0.0", "2.1", "10.3"]
GRID = sorted(set(r + p + s for r in _RELEASES for p in _PRE for s in _SUFFIX), key=Version)
OPS = ["==", "!=", "<=", ">=", "<", ">", "~="]


releases = st.lists(st.integers(0, 3), min_size=1, max_size=3).map(lambda r: ".".join(map(str, r)))
suffixes = st.tuples(st.sampled_from(_PRE), st.sampled_from(["", ".post0", ".post1", ".post3"]),
                     st.sampled_from(["", ".dev0", ".dev2"])).map("".join)
versions = st.tuples(releases, suffixes).map("".join)


@st.composite
def clauses(draw):
    op = draw(st.sampled_from(OPS + ["==*", "!=*"]))
    release, suffix = draw(releases), draw(suffixes)
    if op.endswith("*"):
        return op[:2] + release + ".*"
    if op == "~=" and "." not in release:
        release = "1." + release
    return op + release + suffix


specs = st.lists(clauses(), min_size=1, max_size=3).map(",".join)


def _allows(spec, version):
    """packaging's answer: is ``version`` in ``spec`` (pre-releases included, as pip's pins do)."""
    return SpecifierSet(spec).contains(version, prereleases=True)


def test_version_order_matches_packaging():
    for a, b in itertools.combinations(GRID, 2):
        assert (rf.parse_version(a) < rf.parse_version(b)) == (Version(a) < Version(b)), (a, b)
        assert (rf.parse_version(a) == rf.parse_version(b)) == (Version(a) == Version(b)), (a, b)


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("bound", ["1.0", "1.1", "2.0.0", "1.0rc1", "1.0.post1", "2.1.dev0"])
def test_pinned_version_satisfies_like_packaging(op, bound):
    """spec_satisfies('==V', spec) is 'V is in spec'; over a grid of versions."""
    if op == "~=" and bound.count(".") == 0:
        pytest.skip("~= needs two release segments")
    spec = op + bound
    for v in GRID:
        assert rf.spec_satisfies("==" + v, spec) is _allows(spec, v), (v, spec)


@settings(max_examples=400, deadline=None)
@given(version=versions, spec=specs)
def test_pinned_version_satisfies_like_packaging_generated(version, spec):
    assert rf.spec_satisfies("==" + version, spec) is _allows(spec, version)


@settings(max_examples=400, deadline=None)
@given(existing=specs, wanted=specs)
def test_satisfied_spec_never_allows_a_version_packaging_rejects(existing, wanted):
    """When our code says ``existing`` guarantees ``wanted``, no version packaging lets through
    ``existing`` is refused by ``wanted`` (the claim the python_deps fix relies on to leave a line)."""
    if not rf.spec_satisfies(existing, wanted):
        return
    for v in GRID:
        if _allows(existing, v):
            assert _allows(wanted, v), (v, existing, wanted)


def test_module_utils_do_not_import_packaging():
    """Targets have the stdlib only: packaging is this test's oracle, never a dependency."""
    root = pathlib.Path(__file__).resolve().parents[2] / "module_utils"
    offenders = [str(p) for p in root.rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+packaging\b", p.read_text(), re.MULTILINE)]
    assert offenders == []
