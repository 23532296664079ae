"""execution-environment.yml builds: `ansible-builder create` (offline) writes a context that holds
every file its Containerfile COPYs. Building the image itself needs the base image's registry."""
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILDER = Path(sys.executable).parent / "ansible-builder"


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    ctx = tmp_path_factory.mktemp("ee") / "context"
    proc = subprocess.run([str(BUILDER), "create", "-f", str(ROOT / "execution-environment.yml"),
                           "-c", str(ctx), "--output-filename", "Containerfile"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return ctx


def copy_sources(containerfile):
    """Source paths of every COPY that reads the build context (not --from=<stage>)."""
    sources = []
    for line in containerfile.read_text().splitlines():
        words = shlex.split(line)
        if not words or words[0].upper() != "COPY":
            continue
        args = [w for w in words[1:] if not w.startswith("--")]
        if any(w.startswith("--from=") for w in words[1:]):
            continue
        assert len(args) >= 2, line
        sources.extend(args[:-1])
    return sources


def test_every_copy_source_is_in_the_context(context):
    sources = copy_sources(context / "Containerfile")
    assert "_build/library/" in sources and "_build/module_utils/" in sources
    missing = [s for s in sources if not (context / s).exists()]
    assert missing == [], "COPY sources missing from the build context: %s" % missing


def test_the_context_holds_the_project_plugins(context):
    build = context / "_build"
    for src, dest in (("library", "library"), ("module_utils", "module_utils"),
                      ("plugins/doc_fragments", "doc_fragments"), ("plugins/filter", "filter")):
        wanted = sorted(p.relative_to(ROOT / src) for p in (ROOT / src).rglob("*.py"))
        assert wanted, src
        for rel in wanted:
            assert (build / dest / rel).is_file(), (src, rel)
