# -*- coding: utf-8 -*-
"""main() of requirement_line, compose_service_edit and remediation_journal on real files."""
import json
import os
import stat
from pathlib import Path

import pytest

import compose_service_edit
import line_endings
import remediation_journal
import requirement_line

REQS = b'# agent\nrequests==2.31.0\n'
COMPOSE = (b'services:\n  agent:   # socket agent\n    image: "lab/agent"\n    environment:\n'
           b'      AGENT_TOKEN: "s3cr3t-value"\n    group_add:\n      - "999"\n\n  web:\n    image: nginx\n')


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def _tree(path):
    found = {}
    for root, _dirs, files in os.walk(str(path)):
        for name in files:
            full = os.path.join(root, name)
            found[full] = Path(full).read_bytes()
    return found


@pytest.fixture
def proj(tmp_path):
    d = tmp_path / 'proj'
    d.mkdir()
    (d / 'requirements.txt').write_bytes(REQS)
    (d / 'compose.yaml').write_bytes(COMPOSE)
    os.chmod(str(d / 'compose.yaml'), 0o640)
    return d


@pytest.fixture
def jdir(tmp_path):
    return str(tmp_path / 'journal')


def test_requirement_line_check_apply_idempotent(proj, jdir, run_module):
    path = str(proj / 'requirements.txt')
    args = dict(path=path, name='psutil', spec='>=5.9.0', journal_dir=jdir, journal_run_id='run-1')
    before = _tree(proj.parent)
    res = run_module(requirement_line, args, check=True, diff=True)
    assert res['changed'] is True and res['action'] == 'appended' and res['backup'] is None
    assert res['diff']['after'].endswith('psutil>=5.9.0\n') and res['diff']['before'] == REQS.decode()
    assert _tree(proj.parent) == before and not os.path.exists(jdir)
    res = run_module(requirement_line, args, diff=True)
    assert res['changed'] is True and res['journal_run_id'] == 'run-1'
    assert Path(path).read_bytes() == REQS + b'psutil>=5.9.0\n'
    assert Path(res['backup']).read_bytes() == REQS and _mode(res['backup']) == 0o600
    assert 'diff' in res
    res = run_module(requirement_line, args)
    assert res['changed'] is False and res['action'] == 'none' and 'already satisfies' in res['reason']
    res = run_module(requirement_line, args, check=True)
    assert res['changed'] is False


def test_requirement_line_errors(proj, jdir, run_module):
    res = run_module(requirement_line, dict(path=str(proj / 'missing.txt'), name='psutil', journal_dir=jdir))
    assert res['failed'] and 'missing.txt' in res['msg'] and 'not found' in res['msg']
    res = run_module(requirement_line, dict(path=str(proj / 'requirements.txt'), name='psutil', spec='>>1',
                                            journal_dir=jdir))
    assert res['failed'] and 'requirements.txt' in res['msg']


def test_requirement_line_create_and_auto_run(proj, jdir, run_module):
    path = str(proj / 'new-reqs.txt')
    res = run_module(requirement_line, dict(path=path, name='psutil', spec='>=5.9.0', create=True, journal_dir=jdir))
    assert res['changed'] and res['journal_run_id'] and Path(path).read_text() == 'psutil>=5.9.0\n'
    assert os.readlink(os.path.join(jdir, 'latest')) == res['journal_run_id']


def test_compose_service_edit_check_apply_idempotent(proj, jdir, run_module):
    path = str(proj / 'compose.yaml')
    args = dict(path=path, service='agent', set={'group_add': ['105']}, journal_dir=jdir, journal_run_id='run-1')
    before = _tree(proj.parent)
    res = run_module(compose_service_edit, args, check=True, diff=True)
    assert res['changed'] is True and res['changed_keys'] == ['group_add'] and res['layout'] == 'stitched'
    assert _tree(proj.parent) == before
    assert '- "105"' in res['diff']['after']
    assert 's3cr3t-value' not in json.dumps(res)  # diff is masked
    res = run_module(compose_service_edit, args, diff=True)
    assert res['changed'] is True and 's3cr3t-value' not in json.dumps(res)
    text = Path(path).read_bytes()
    assert text == COMPOSE.replace(b'      - "999"\n', b'      - "999"\n      - "105"\n')
    assert _mode(path) == 0o640
    assert Path(res['backup']).read_bytes() == COMPOSE and _mode(res['backup']) == 0o600
    res = run_module(compose_service_edit, args, diff=True)
    assert res['changed'] is False and 'diff' not in res and Path(path).read_bytes() == text


def test_compose_service_edit_unknown_service(proj, jdir, run_module):
    res = run_module(compose_service_edit, dict(path=str(proj / 'compose.yaml'), service='nope',
                                                set={'mem_limit': '1g'}, journal_dir=jdir))
    assert res['failed'] and "'nope'" in res['msg'] and 'compose.yaml' in res['msg']
    assert Path(str(proj / 'compose.yaml')).read_bytes() == COMPOSE and not os.path.exists(jdir)


def test_compose_service_edit_bad_yaml_no_secret_in_error(proj, jdir, run_module):
    bad = proj / 'broken.yaml'
    bad.write_text('services:\n  a:\n    environment:\n      PASSWORD: "hunter2\n')
    res = run_module(compose_service_edit, dict(path=str(bad), service='a', set={'mem_limit': '1g'}, journal_dir=jdir))
    assert res['failed'] and 'broken.yaml' in res['msg'] and 'hunter2' not in res['msg']


def test_journal_module_start_record_show_restore(proj, jdir, run_module):
    res = run_module(remediation_journal, dict(action='start', journal_dir=jdir))
    run_id = res['run_id']
    assert res['changed'] is False and not os.path.exists(jdir)
    env = proj / '.env'
    env.write_text('DB_PASSWORD=hunter2\n')
    os.chmod(str(env), 0o644)
    entries = [{'type': 'mode', 'path': str(env), 'mode_after': '0600'},
               {'type': 'service', 'project_dir': str(proj), 'service': 'agent', 'action': 'rebuilt'}]
    res = run_module(remediation_journal, dict(action='record', run_id=run_id, entries=entries, journal_dir=jdir),
                     check=True)
    assert res['changed'] is True and not os.path.exists(jdir)
    res = run_module(remediation_journal, dict(action='record', run_id=run_id, entries=entries, journal_dir=jdir))
    assert res['changed'] is True and len(res['recorded']) == 2
    res = run_module(remediation_journal, dict(action='record', run_id=run_id, entries=entries, journal_dir=jdir))
    assert res['changed'] is False
    os.chmod(str(env), 0o600)
    run_module(compose_service_edit, dict(path=str(proj / 'compose.yaml'), service='agent', set={'group_add': ['105']},
                                          journal_dir=jdir, journal_run_id=run_id))
    res = run_module(remediation_journal, dict(action='show', journal_dir=jdir))
    assert res['latest'] == run_id and len(res['journal']['entries']) == 3 and 'hunter2' not in json.dumps(res)
    before = _tree(proj)
    res = run_module(remediation_journal, dict(action='restore', journal_dir=jdir), check=True)
    assert res['changed'] is True and _tree(proj) == before and _mode(str(env)) == 0o600
    res = run_module(remediation_journal, dict(action='restore', journal_dir=jdir))
    assert res['changed'] is True and res['run_ids'] == [run_id]
    assert _mode(str(env)) == 0o644 and Path(str(proj / 'compose.yaml')).read_bytes() == COMPOSE
    assert res['projects'][0]['services'] == ['agent'] and res['projects'][0]['build'] == 'always'
    res = run_module(remediation_journal, dict(action='restore', journal_dir=jdir))
    assert res['changed'] is False and res['projects']


def test_journal_module_errors(jdir, run_module):
    res = run_module(remediation_journal, dict(action='restore', journal_dir=jdir))
    assert res['failed'] and 'no remediation run' in res['msg']
    res = run_module(remediation_journal, dict(action='record', run_id='../evil', entries=[], journal_dir=jdir))
    assert res['failed'] and 'invalid run id' in res['msg']


def test_line_endings_check_apply_idempotent_and_restore(proj, jdir, run_module):
    script = proj / 'entrypoint.sh'
    crlf = b'#!/bin/sh\r\nexport TOKEN=s3cr3t-value\r\necho "a\rb"\r\nexec app\r'
    script.write_bytes(crlf)
    os.chmod(str(script), 0o755)
    args = dict(path=str(script), journal_dir=jdir, journal_run_id='run-1')
    before = _tree(proj.parent)
    res = run_module(line_endings, args, check=True, diff=True)
    assert res['changed'] is True and res['crlf_lines'] == 4 and res['backup'] is None
    assert 's3cr3t-value' not in json.dumps(res)  # the masked diff
    assert _tree(proj.parent) == before and not os.path.exists(jdir)
    res = run_module(line_endings, args)
    assert res['changed'] is True and script.read_bytes() == b'#!/bin/sh\nexport TOKEN=s3cr3t-value\necho "a\rb"\nexec app\n'
    assert _mode(str(script)) == 0o755 and Path(res['backup']).read_bytes() == crlf
    again = run_module(line_endings, args)
    assert again['changed'] is False and again['crlf_lines'] == 0
    restored = run_module(remediation_journal, dict(action='restore', journal_dir=jdir))
    assert restored['changed'] is True and script.read_bytes() == crlf


def test_line_endings_refuses_what_is_not_a_file(proj, jdir, run_module):
    res = run_module(line_endings, dict(path=str(proj), journal_dir=jdir))
    assert res['failed'] and 'not a regular file' in res['msg']
