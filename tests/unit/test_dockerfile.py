"""Dockerfile -> requirements discovery (module_utils/compose_doctor/dockerfile.py)."""
import pytest

from ansible.module_utils.compose_doctor.facts import compose_model, dockerfile as df
from ansible.module_utils.compose_doctor.change.requirements_file import normalize_name, parse_requirements


DOCKERFILE = """\
FROM python:3.11-slim AS base
WORKDIR /app
# COPY requirements-commented.txt .
COPY --chown=app:app requirements.txt requirements-dev.txt ./
COPY ["requirements/prod.txt", "/app/reqs/"]
COPY --from=builder /wheels /wheels
RUN pip install --no-cache-dir \\
    -r /app/requirements.txt && \\
    python -m pip install --requirement=/app/reqs/prod.txt
COPY . .
"""


def test_dockerfile_requirement_refs():
    assert df.dockerfile_requirement_refs(DOCKERFILE) == [
        'requirements.txt', 'requirements-dev.txt', 'requirements/prod.txt']


def test_candidate_paths():
    assert df.candidate_paths('/app/reqs/prod.txt') == ['app/reqs/prod.txt', 'reqs/prod.txt', 'prod.txt']


REQS = """\
# core
requests>=2.31  # http
PyYAML==6.0.1
Flask[async]>=2.0 ; python_version >= "3.8"
python_dateutil
zope.interface
-r base.txt
--index-url https://pypi.org/simple
-e git+https://github.com/x/y.git#egg=My_Pkg
mylib @ https://example.com/mylib.whl
opencv-python-headless \\
    --hash=sha256:abc
requests
"""


def test_parse_requirements():
    packages, includes = parse_requirements(REQS)
    assert packages == ['requests', 'pyyaml', 'flask', 'python-dateutil', 'zope-interface', 'my-pkg', 'mylib',
                        'opencv-python-headless']
    assert includes == ['base.txt']


@pytest.mark.parametrize('name, expected', [('PyYAML', 'pyyaml'), ('python_dateutil', 'python-dateutil'),
                                            ('zope.interface', 'zope-interface'), ('A__b--C', 'a-b-c')])
def test_normalize_dist_name(name, expected):
    assert normalize_name(name) == expected


def test_requirements_for_build_fs(tmp_path):
    ctx = tmp_path / 'agents' / 'a'
    (ctx / 'requirements').mkdir(parents=True)
    (ctx / 'Dockerfile').write_text(DOCKERFILE)
    (ctx / 'requirements.txt').write_text('requests\n-r base.txt\n')
    (ctx / 'base.txt').write_text('PyYAML\n')
    (ctx / 'requirements' / 'prod.txt').write_text('psutil>=5.9\n')
    build = compose_model.normalize_build({'context': 'agents/a'}, str(tmp_path), [])
    out = df.requirements_for_build_fs(str(tmp_path), build)
    assert out['requirements'] == [
        {'path': 'agents/a/requirements.txt', 'packages': ['requests', 'pyyaml']},
        {'path': 'agents/a/requirements/prod.txt', 'packages': ['psutil']},
    ]


@pytest.mark.parametrize("text,image_path,source", [
    ("FROM x\nWORKDIR /app\nCOPY start.sh .\n", "/app/start.sh", "start.sh"),
    ("FROM x\nCOPY docker/entrypoint.sh /entrypoint.sh\n", "/entrypoint.sh", "docker/entrypoint.sh"),
    ("FROM x\nCOPY ./docker/entrypoint.sh /usr/local/bin/\n", "/usr/local/bin/entrypoint.sh", "docker/entrypoint.sh"),
    ("FROM x\nCOPY a.sh b.sh /usr/local/bin/\n", "/usr/local/bin/b.sh", "b.sh"),
    ("FROM x\nCOPY . /app\n", "/app/bin/run.sh", "bin/run.sh"),
    ("FROM x\nWORKDIR /srv\nWORKDIR app\nCOPY [\"scripts/run.sh\", \"run.sh\"]\n", "/srv/app/run.sh", "scripts/run.sh"),
    ("FROM x\nADD --chown=app:app start.sh /start.sh\n", "/start.sh", "start.sh"),
    ("FROM x\nCOPY old.sh /start.sh\nCOPY new.sh /start.sh\n", "/start.sh", "new.sh"),
])
def test_copied_from_context_finds_the_source(text, image_path, source):
    found = df.copied_from_context(text, image_path)
    assert found["source"] == source and found["changed_after"] is False


@pytest.mark.parametrize("text", [
    "FROM x\nRUN printf '#!/bin/sh' > /start.sh\n",                    # created by RUN
    "FROM x AS build\nCOPY start.sh /start.sh\nFROM y\nCOPY --from=build /start.sh /start.sh\n",  # another stage
    "FROM x\nADD https://example.com/start.sh /start.sh\n",             # a URL
    "FROM x\nCOPY other.sh /srv/\n",                                     # another file
    "",
])
def test_copied_from_context_none_when_not_from_the_context(text):
    assert df.copied_from_context(text, "/start.sh") is None


def test_copied_from_context_reports_chmod_and_later_changes():
    found = df.copied_from_context("FROM x\nCOPY --chmod=644 start.sh /start.sh\n", "/start.sh")
    assert found["chmod"] == "644"
    later = df.copied_from_context("FROM x\nCOPY start.sh /start.sh\nRUN chmod 644 /start.sh\n", "/start.sh")
    assert later["changed_after"] is True and later["chmod"] is None
