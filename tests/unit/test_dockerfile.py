"""Dockerfile -> requirements discovery (module_utils/compose_doctor/dockerfile.py)."""
import os

import pytest
from hypothesis import given, settings, strategies as st

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


# --- the parser: line numbers and hostile Dockerfiles -------------------------------------------------

def test_lines_number_each_instruction_where_it_starts():
    text = "# comment\n\nfrom python:3.12 AS base\nRUN apt-get update && \\\n    # a comment in a continuation\n\n" \
           "    apt-get install -y curl\nuser app\n"
    assert df.dockerfile_lines(text) == [
        (3, 'FROM', 'python:3.12 AS base'), (4, 'RUN', 'apt-get update &&  apt-get install -y curl'),
        (8, 'USER', 'app')]


def test_escape_directive_switches_the_continuation_character():
    text = "# syntax=docker/dockerfile:1\n# escape=`\nFROM mcr.microsoft.com/windows/servercore\n" \
           "COPY C:\\app\\ C:\\app\\\nRUN dir `\n    C:\\app\n"
    assert df.dockerfile_lines(text) == [
        (3, 'FROM', 'mcr.microsoft.com/windows/servercore'), (4, 'COPY', 'C:\\app\\ C:\\app\\'),
        (5, 'RUN', 'dir  C:\\app')]


def test_a_directive_after_an_instruction_is_a_comment():
    assert df.dockerfile_lines("FROM alpine\n# escape=`\nRUN a `\nUSER b\n") == [
        (1, 'FROM', 'alpine'), (3, 'RUN', 'a `'), (4, 'USER', 'b')]


def test_heredoc_bodies_are_not_instructions():
    text = "FROM alpine\nRUN <<EOF\nUSER root\nENV API_TOKEN=s3cr3tvalue99\nEOF\nCOPY <<-'A' /a <<B /b\n\tADD x y\n" \
           "\tA\nHEALTHCHECK NONE\nB\nUSER app\nRUN cat <<<here-string\nUSER 1000\n"
    assert [(n, i) for n, i, _a in df.dockerfile_lines(text)] == [
        (1, 'FROM'), (2, 'RUN'), (6, 'COPY'), (11, 'USER'), (12, 'RUN'), (13, 'USER')]


def test_lines_are_split_on_newlines_only():
    assert df.dockerfile_lines("FROM a\r\nRUN x\x1ey\u2028z\r\nUSER app") == [
        (1, 'FROM', 'a'), (2, 'RUN', 'x\x1ey\u2028z'), (3, 'USER', 'app')]


def test_unterminated_heredoc_and_continuation_never_raise():
    assert df.dockerfile_lines("FROM a\nRUN <<EOF\nUSER root\n") == [(1, 'FROM', 'a'), (2, 'RUN', '<<EOF')]
    assert df.dockerfile_lines("FROM a\nRUN x \\") == [(1, 'FROM', 'a'), (2, 'RUN', 'x')]
    assert df.dockerfile_lines(None) == [] and df.dockerfile_lines('\x00\n\\\n`') == [(1, '\x00', ''), (2, '`', '')]


# --- image facts --------------------------------------------------------------------------------------

def test_final_stage_user_is_inherited_from_an_earlier_stage_only():
    facts = df.dockerfile_facts("FROM python:3.12 AS base\nUSER app\nFROM base AS final\nRUN true\n")
    assert facts['user'] == {'line': 2, 'user': 'app', 'root': False}
    facts = df.dockerfile_facts("FROM python:3.12 AS build\nUSER app\nFROM python:3.12-slim\nCOPY --from=build /a /a\n")
    assert facts['user'] is None and facts['base']['line'] == 3


@pytest.mark.parametrize('user, root', [('root', True), ('0', True), ('0:0', True), ('root:staff', True),
                                        ('"1000:0"', False), ('app', False), ('${UNSET}', None), ('$APP', False)])
def test_user_root_spellings(user, root):
    facts = df.dockerfile_facts("ARG APP=svc\nFROM alpine:3.20\nUSER %s\n" % user)
    assert facts['user']['root'] is root and facts['user']['line'] == 3


def test_healthcheck_none_and_cmd():
    assert df.dockerfile_facts("FROM a:1\nHEALTHCHECK --interval=5s CMD [\"curl\", \"-f\", \"x\"]\n")[
        'healthcheck'] == {'line': 2, 'none': False}
    assert df.dockerfile_facts("FROM a:1\nhealthcheck none\n")['healthcheck'] == {'line': 2, 'none': True}
    assert df.dockerfile_facts("FROM a:1 AS b\nHEALTHCHECK CMD x\nFROM c:1\n")['healthcheck'] is None


@pytest.mark.parametrize('line, kind, image, pin', [
    ('FROM python', 'image', 'python', 'untagged'),
    ('FROM python:latest AS x', 'image', 'python:latest', 'latest'),
    ('FROM --platform=$BUILDPLATFORM registry:5000/team/app:1.2', 'image', 'registry:5000/team/app:1.2', 'tag'),
    ('FROM python@sha256:' + 'a' * 64, 'image', 'python@sha256:' + 'a' * 64, 'digest'),
    ('FROM scratch', 'scratch', None, None),
    ('FROM ${BASE}:${TAG}', 'image', 'node:20', 'tag'),
    ('FROM ${BASE}:${NOTAG}', 'unresolved', None, None),
    ('FROM ${BASE}:${DEF:-latest}', 'image', 'node:latest', 'latest'),
])
def test_from_references(line, kind, image, pin):
    facts = df.dockerfile_facts("ARG BASE=node\nARG TAG\nARG NOTAG\n%s\n" % line, build_args={'TAG': '20'})
    got = facts['from'][0]
    assert (got['line'], got['kind'], got['image'], got['pin']) == (4, kind, image, pin)


def test_from_an_earlier_stage_any_case():
    facts = df.dockerfile_facts("FROM golang:1.22 AS Build\nFROM BUILD\nFROM build AS again\n")
    assert [(f['kind'], f['parent']) for f in facts['from']] == [('image', None), ('stage', 0), ('stage', 0)]
    assert facts['base']['line'] == 1


def test_stage_args_do_not_reach_from():
    facts = df.dockerfile_facts("FROM alpine:3\nARG TAG=1\nFROM node:${TAG}\n")
    assert facts['from'][1]['kind'] == 'unresolved'


def test_add_kinds_and_checksum():
    text = ("FROM a:1\nADD app.py /app/\nADD [\"site.tar.gz\", \"/srv/\"]\nADD --chown=1:1 https://x.io/a.bin /a\n"
            "ADD --checksum=sha256:%s https://x.io/b.bin /b\nADD git@github.com:o/r.git /r\nADD $SRC /s\n"
            "add <<EOF /c\nhello\nEOF\n" % ('b' * 64))
    adds = df.dockerfile_facts(text)['add']
    assert [(a['line'], a['checksum'], [s['kind'] for s in a['sources']]) for a in adds] == [
        (2, False, ['local']), (3, False, ['archive']), (4, False, ['remote']), (5, True, ['remote']),
        (6, False, ['remote']), (7, False, ['unresolved']), (8, False, ['local'])]


def test_add_url_credentials_are_masked():
    adds = df.dockerfile_facts("FROM a:1\nADD https://bob:Hunter2pass@x.io/f?token=abcdef123456 /f\n")['add']
    assert 'Hunter2pass' not in str(adds) and 'abcdef123456' not in str(adds)


SECRET = 'Zq8vN2kLmP4xR7tW'


@pytest.mark.parametrize('line, expected', [
    ('ENV API_TOKEN=%s' % SECRET, [('ENV', 'API_TOKEN', True, 'secret')]),
    ('env DB_PASSWORD %s and more' % SECRET, [('ENV', 'DB_PASSWORD', True, 'secret')]),
    ('ENV A=1 SECRET_KEY="%s" B=2' % SECRET, [('ENV', 'SECRET_KEY', True, 'secret')]),
    ('ENV DB_PASSWORD=$DB_PASSWORD', [('ENV', 'DB_PASSWORD', True, 'reference')]),
    ('ARG NPM_TOKEN', [('ARG', 'NPM_TOKEN', False, 'empty')]),
    ('ARG NPM_TOKEN=%s' % SECRET, [('ARG', 'NPM_TOKEN', True, 'secret')]),
    ('ARG ADMIN_PASSWORD=changeme', [('ARG', 'ADMIN_PASSWORD', True, 'default-credential')]),
    ('ENV PASSWORD_MIN_LENGTH=12 DB_USER=app', []),
    ('ENV DATABASE_URL=postgres://u:%s@db/app' % SECRET, [('ENV', 'DATABASE_URL', True, 'secret')]),
])
def test_settings_are_classified_never_valued(line, expected):
    settings = df.dockerfile_facts("FROM a:1\n%s\n" % line)['settings']
    assert [(s['instruction'], s['key'], s['has_value'], s['class']) for s in settings] == expected
    assert all(s['line'] == 2 for s in settings)
    assert SECRET not in str(settings)


def test_build_facts_fs_missing_and_odd_dockerfiles(tmp_path):
    (tmp_path / 'dir').mkdir()
    (tmp_path / 'dir' / 'Dockerfile').mkdir()
    build = df.build_facts_fs(str(tmp_path), {'context': '.', 'dockerfile': 'Dockerfile', 'requirements': []})
    assert build['dockerfile_facts']['error'] == 'not found' and build['dockerfile_facts']['user'] is None
    build = df.build_facts_fs(str(tmp_path), {'context': 'dir', 'dockerfile': 'dir/Dockerfile', 'requirements': []})
    assert build['dockerfile_facts']['error'] == 'not a regular file'
    assert df.build_facts_fs(str(tmp_path), {'context': 'git@x:y', 'dockerfile': None, 'remote': True}) == {
        'context': 'git@x:y', 'dockerfile': None, 'remote': True}


def test_read_dockerfile_fs_odd_paths(tmp_path):
    assert df.read_dockerfile_fs(str(tmp_path / 'a\x00b'))[1] in ('not found', 'unreadable (ValueError)')
    os.mkfifo(str(tmp_path / 'fifo'))  # never opened: a read would block
    assert df.read_dockerfile_fs(str(tmp_path / 'fifo')) == (None, 'not a regular file', False)
    (tmp_path / 'Dockerfile').write_bytes(b'FROM a:1\nUSER \xff\xfe\n')
    text, error, truncated = df.read_dockerfile_fs(str(tmp_path / 'Dockerfile'))
    assert error is None and truncated is False and text.startswith('FROM a:1')


def test_build_facts_fs_huge_dockerfile_is_read_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(df, 'DOCKERFILE_READ_LIMIT', 64)
    (tmp_path / 'Dockerfile').write_text("FROM a:1\nUSER app\n" + "RUN true\n" * 100 + "USER root\n")
    facts = df.build_facts_fs(str(tmp_path), {'context': '.', 'dockerfile': 'Dockerfile', 'requirements': []})[
        'dockerfile_facts']
    assert facts['truncated'] is True and facts['user']['user'] == 'app' and facts['error'] is None


def test_build_facts_fs_inline_and_build_args(tmp_path):
    build = df.build_facts_fs(str(tmp_path), {'context': '.', 'dockerfile': None, 'requirements': []},
                              {'dockerfile_inline': 'ARG V\nFROM alpine:${V}\nUSER 0\n', 'args': ['V=3.20']})
    facts = build['dockerfile_facts']
    assert facts['inline'] is True and facts['path'] is None
    assert facts['from'][0]['image'] == 'alpine:3.20' and facts['user']['root'] is True


def test_compose_model_carries_dockerfile_facts(tmp_path):
    (tmp_path / 'app').mkdir()
    (tmp_path / 'app' / 'Dockerfile').write_text("FROM python:3.12-slim\nENV API_TOKEN=%s\nUSER app\n" % SECRET)
    (tmp_path / 'compose.yaml').write_text("services:\n  web:\n    build: ./app\n")
    compose = compose_model.gather(str(tmp_path), use_cli=False, environ={})
    facts = compose['services']['web']['build']['dockerfile_facts']
    assert facts['path'] == 'app/Dockerfile' and facts['user']['user'] == 'app'
    assert [s['key'] for s in facts['settings']] == ['API_TOKEN'] and SECRET not in str(compose)


LINES = ["FROM python", "from ${BASE:-alpine}:${TAG} AS b", "FROM b", "FROM scratch", "ARG BASE=node", "ARG TAG",
         "USER root", "user 0:0", "USER ${UID}", "HEALTHCHECK NONE", "HEALTHCHECK CMD [\"x\"]", "ADD a b",
         "ADD [\"https://x/y\", \"/z\"", "ENV A=\"b", "ENV PASSWORD hunter2x", "RUN <<EOF", "RUN <<-'X' <<Y", "EOF",
         "X", "# escape=`", "# syntax=x", "\\", "`", "", "  # c", "COPY --from=b /a /a", "\x00", "ENV =x", "ARG ==",
         "ONBUILD USER root", "FROM --platform=$P"]


@settings(max_examples=int(os.environ.get("PROPERTY_EXAMPLES", "300")), deadline=None)
@given(lines=st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=40)), max_size=25),
       build_args=st.one_of(st.none(), st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.text(max_size=8))),
                            st.lists(st.text(max_size=10), max_size=3), st.text(max_size=5)))
def test_any_dockerfile_gives_facts(lines, build_args):
    """Whatever a Dockerfile holds, the parser and the facts never raise and keep their shape."""
    text = "\n".join(lines)
    facts = df.dockerfile_facts(text, build_args=build_args)
    assert set(facts) == {'from', 'stages', 'base', 'user', 'healthcheck', 'add', 'settings'}
    assert facts['stages'] == len(facts['from'])
    for entry in facts['settings'] + facts['add'] + facts['from']:
        assert isinstance(entry['line'], int) and 1 <= entry['line'] <= text.count('\n') + 1
