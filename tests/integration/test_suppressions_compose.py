"""The x-compose-doctor extension against the real Compose CLI (`docker compose config` needs no
engine and no lab): Compose accepts it, its JSON model drops a service's x- keys (so compose-doctor
reads the suppressions from the files as written), and the facts carry them with their lines."""
import json
import shutil

import pytest

from ansible.module_utils.compose_doctor.facts import compose_model

from conftest import compose_in

COMPOSE = """\
x-compose-doctor:
  ignore:
    - rule: memory-no-limit
      service: worker
      reason: batch job
services:
  web:
    image: nginx:1.27
    x-compose-doctor:
      ignore:
        - rule: root-user
          reason: binds port 80
          until: 2099-12-31
  worker:
    image: busybox:1.36
"""

pytestmark = pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI with Compose v2")


@pytest.fixture
def project(tmp_path):
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    return tmp_path




def test_compose_accepts_the_extension(project):
    proc = compose_in(project, "config", "-q")
    assert proc.returncode == 0, proc.stderr


def test_compose_json_keeps_the_top_level_extension(project):
    model = json.loads(compose_in(project, "config", "--format", "json").stdout)
    assert model["x-compose-doctor"]["ignore"][0]["rule"] == "memory-no-limit"
    # Compose v2.40 drops a service's x- keys from its JSON model (its YAML output keeps them), which
    # is why compose-doctor reads suppressions from the files as written; the facts do not depend on it.


def test_facts_from_compose_carry_the_suppressions_with_lines(project):
    facts = compose_model.gather(str(project), use_cli=True)
    assert facts["model_source"] == "cli", facts["cli_error"]
    lines = {(e["key"], e["line"]) for e in facts["suppressions"]}
    assert lines == {("x-compose-doctor.ignore[0]", 3), ("services.web.x-compose-doctor.ignore[0]", 11)}
