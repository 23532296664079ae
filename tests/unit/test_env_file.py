# -*- coding: utf-8 -*-
"""env_file helpers (pure) and the env_file_set module on real files."""
import json
import os
import stat
from pathlib import Path

import pytest
from ansible.module_utils.compose_doctor.change.env_file import (
    EnvFileError, generate_secret, get_value, mask_env_text, parse, quote_value, set_values)

import env_file_set

ENV = ('# lab env\n'
       'COMPOSE_FILE=docker-compose.yml:docker-compose.monitoring.yml\n'
       '\n'
       'POSTGRES_PASSWORD=s3cr3t-literal-value   # keep me\n'
       "export GRAFANA_ADMIN_PASSWORD='admin'\n"
       'REDIS_PASSWORD = "changeme"\n'
       'GRAFANA_ADMIN_USER=admin\n')


@pytest.mark.parametrize('line,key,value,quote', [
    ('A=b\n', 'A', 'b', ''),
    ('A=b # c\n', 'A', 'b', ''),
    ('A=b#c\n', 'A', 'b#c', ''),
    ("export A='x y'\n", 'A', 'x y', "'"),
    ('A="q\\"x"\n', 'A', 'q"x', '"'),
    ('A=\n', 'A', '', ''),
    ('A = spaced \n', 'A', 'spaced', ''),
])
def test_parse(line, key, value, quote):
    entry = parse(line)[0]
    assert (entry['key'], entry['value'], entry['quote']) == (key, value, quote)


def test_parse_skips_comments_and_blanks():
    assert [e['key'] for e in parse(ENV)] == ['COMPOSE_FILE', 'POSTGRES_PASSWORD', 'GRAFANA_ADMIN_PASSWORD',
                                               'REDIS_PASSWORD', 'GRAFANA_ADMIN_USER']


def test_get_value_last_wins():
    assert get_value('A=1\nA=2\n', 'A') == '2'
    assert get_value(ENV, 'MISSING') is None


def test_set_values_keeps_everything_else():
    out = set_values(ENV, {'GRAFANA_ADMIN_PASSWORD': 'NewValue_123', 'POSTGRES_PASSWORD': 'other'})
    assert out['changed'] and sorted(out['changed_keys']) == ['GRAFANA_ADMIN_PASSWORD', 'POSTGRES_PASSWORD']
    lines = out['text'].splitlines(True)
    assert lines[0] == '# lab env\n' and lines[2] == '\n'
    assert lines[3] == 'POSTGRES_PASSWORD=other   # keep me\n'
    assert lines[4] == "export GRAFANA_ADMIN_PASSWORD='NewValue_123'\n"
    assert lines[5:] == ENV.splitlines(True)[5:]


def test_only_if_current_in_is_idempotent():
    defaults = ['admin', 'changeme', 'password']
    out = set_values(ENV, {'GRAFANA_ADMIN_PASSWORD': 'x1', 'REDIS_PASSWORD': 'x2', 'POSTGRES_PASSWORD': 'x3'},
                     only_if_current_in=defaults)
    assert sorted(out['changed_keys']) == ['GRAFANA_ADMIN_PASSWORD', 'REDIS_PASSWORD']
    assert 'POSTGRES_PASSWORD' in out['skipped']
    assert 'REDIS_PASSWORD = "x2"\n' in out['text']
    again = set_values(out['text'], {'GRAFANA_ADMIN_PASSWORD': 'y1', 'REDIS_PASSWORD': 'y2'}, only_if_current_in=defaults)
    assert not again['changed'] and again['text'] == out['text']


def test_case_insensitive_defaults():
    assert set_values('P=ADMIN\n', {'P': 'z'}, only_if_current_in=['admin'])['changed']
    assert not set_values('P=ADMIN\n', {'P': 'z'}, only_if_current_in=['admin'], casefold=False)['changed']


@pytest.mark.parametrize('missing,expect', [('skip', 'A=1\n'), ('append', 'A=1\nB=2\n')])
def test_missing(missing, expect):
    out = set_values('A=1\n', {'B': '2'}, missing=missing)
    assert out['text'] == expect
    assert ('B' in out['skipped']) == (missing == 'skip')


def test_missing_fail_and_append_without_final_newline():
    with pytest.raises(EnvFileError):
        set_values('A=1\n', {'B': '2'}, missing='fail')
    assert set_values('A=1', {'B': '2'}, missing='append')['text'] == 'A=1\nB=2\n'


def test_crlf_kept():
    assert set_values('A=1\r\nB=2\r\n', {'A': 'x'})['text'] == 'A=x\r\nB=2\r\n'


def test_unterminated_quote_is_an_error():
    with pytest.raises(EnvFileError):
        set_values('A="open\n', {'A': 'x'})


@pytest.mark.parametrize('value,quote,expect', [
    ('abc-_1', '', 'abc-_1'),
    ('a b', '', "'a b'"),
    ("it's", "'", '"it\'s"'),
    ('a$b', '"', '"a$$b"'),
    ('x', '"', '"x"'),
])
def test_quote_value(value, quote, expect):
    assert quote_value(value, quote) == expect


def test_mask_env_text_hides_values():
    masked = mask_env_text(ENV, ['GRAFANA_ADMIN_USER'])
    for secret in ('s3cr3t-literal-value', "'admin'", 'changeme', 'USER=admin'):
        assert secret not in masked
    assert 'COMPOSE_FILE=docker-compose.yml:docker-compose.monitoring.yml' in masked
    assert '# keep me' in masked and "GRAFANA_ADMIN_PASSWORD='********'" in masked


def test_generate_secret_strength():
    values = {generate_secret() for _ in range(20)}
    assert len(values) == 20 and all(len(v) >= 32 for v in values)


# ---------------------------------------------------------------- module

@pytest.fixture
def envfile(tmp_path):
    path = tmp_path / 'proj' / '.env'
    path.parent.mkdir()
    path.write_text(ENV)
    os.chmod(str(path), 0o600)
    return path


def test_module_check_apply_idempotent_rollbackable(envfile, tmp_path, run_module):
    jdir = str(tmp_path / 'journal')
    args = dict(path=str(envfile), generate=['GRAFANA_ADMIN_PASSWORD', 'POSTGRES_PASSWORD'],
                only_if_current_in=['admin', 'changeme'], journal_dir=jdir, journal_run_id='run-1')
    checked = run_module(env_file_set, args, check=True, diff=True)
    assert checked['changed'] and checked['changed_keys'] == ['GRAFANA_ADMIN_PASSWORD']
    assert envfile.read_text() == ENV and not os.path.exists(jdir)
    assert 's3cr3t-literal-value' not in json.dumps(checked)

    applied = run_module(env_file_set, args, diff=True)
    assert applied['changed'] and applied['backup'] and applied['journal_run_id'] == 'run-1'
    new = get_value(envfile.read_text(), 'GRAFANA_ADMIN_PASSWORD')
    assert new != 'admin' and len(new) >= 32 and new not in json.dumps(applied)
    assert stat.S_IMODE(os.stat(str(envfile)).st_mode) == 0o600
    assert Path(applied['backup']).read_text() == ENV
    assert stat.S_IMODE(os.stat(applied['backup']).st_mode) == 0o600

    again = run_module(env_file_set, args)
    assert not again['changed'] and again['changed_keys'] == []

    from ansible.module_utils.compose_doctor.change.journal import restore
    restore(jdir, 'run-1')
    assert envfile.read_text() == ENV


def test_module_values_not_returned(envfile, tmp_path, run_module):
    out = run_module(env_file_set, dict(path=str(envfile), values={'REDIS_PASSWORD': 'given-secret-9'},
                                        journal_dir=str(tmp_path / 'j')), diff=True)
    assert out['changed'] and 'given-secret-9' not in json.dumps(out)
    assert get_value(envfile.read_text(), 'REDIS_PASSWORD') == 'given-secret-9'


def test_module_missing_file(tmp_path, run_module):
    out = run_module(env_file_set, dict(path=str(tmp_path / 'nope.env'), generate=['A']))
    assert out['failed'] and 'not found' in out['msg']
