# -*- coding: utf-8 -*-
import pytest

from ansible.module_utils.compose_doctor.change.compose_edit import (
    ComposeEditError, ServiceNotFound, get_service, set_service_keys)

COMPOSE = '''---
# SutazAI-like lab (comment kept)
name: lab
x-logging: &default-logging
  driver: json-file

services:
  socket-agent:   # watches the engine
    image: "lab/socket-agent:latest"
    user: '1000:1000'
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock:ro   # read-only socket
    group_add:
      - "999"
    environment:
      AGENT_TOKEN: "s3cr3t-token"   # do not print

  backend:
    build: ./backend
    mem_limit: 512m      # too small?
    logging: *default-logging
    ports:
    - "127.0.0.1:8000:8000"
    deploy:
      resources:
        reservations:
          memory: 128M

  # never started
  legacy:
    image: alpine:3.19
'''


def _unchanged_outside(before, after, added_lines=(), removed_lines=()):
    """Every original line is still there in order; only the expected lines differ."""
    b = before.split('\n')
    a = after.split('\n')
    kept = [line for line in b if line not in removed_lines]
    rest = [line for line in a if line not in added_lines]
    assert rest == kept


def test_group_add_appended_keeping_quotes_and_comments():
    out = set_service_keys(COMPOSE, 'socket-agent', {'group_add': ['105']})
    assert out['changed'] and out['changed_keys'] == ['group_add'] and out['layout'] == 'stitched'
    assert '      - "999"\n      - "105"\n' in out['text']
    _unchanged_outside(COMPOSE, out['text'], added_lines=['      - "105"'])


def test_new_key_lands_inside_the_service_before_the_blank_line():
    out = set_service_keys(COMPOSE, 'legacy', {'profiles': ['sprawl']})
    assert out['text'].endswith('    image: alpine:3.19\n    profiles:\n      - sprawl\n')
    out = set_service_keys(COMPOSE, 'socket-agent', {'mem_limit': '256m'})
    assert '      AGENT_TOKEN: "s3cr3t-token"   # do not print\n    mem_limit: 256m\n\n  backend:' in out['text']
    _unchanged_outside(COMPOSE, out['text'], added_lines=['    mem_limit: 256m'])


def test_new_group_add_is_quoted_like_the_file():
    text = 'services:\n  a:\n    image: "x"\n'
    out = set_service_keys(text, 'a', {'group_add': ['105']})
    assert out['text'] == 'services:\n  a:\n    image: "x"\n    group_add:\n      - "105"\n'


def test_scalar_replaced_comment_column_kept():
    out = set_service_keys(COMPOSE, 'backend', {'mem_limit': '1g'})
    assert '    mem_limit: 1g        # too small?\n' in out['text']
    _unchanged_outside(COMPOSE, out['text'], added_lines=['    mem_limit: 1g        # too small?'],
                       removed_lines=['    mem_limit: 512m      # too small?'])


def test_nested_merge_keeps_siblings():
    out = set_service_keys(COMPOSE, 'backend', {'deploy': {'resources': {'limits': {'memory': '768M'}}}})
    svc = get_service(out['text'], 'backend')
    assert svc['deploy']['resources'] == {'reservations': {'memory': '128M'}, 'limits': {'memory': '768M'}}
    assert out['changed_keys'] == ['deploy.resources.limits']
    _unchanged_outside(COMPOSE, out['text'], added_lines=['        limits:', '          memory: 768M'])


def test_remove_key():
    out = set_service_keys(COMPOSE, 'backend', {}, remove=['mem_limit'])
    assert 'mem_limit' not in out['text'] and out['changed_keys'] == ['mem_limit']
    _unchanged_outside(COMPOSE, out['text'], removed_lines=['    mem_limit: 512m      # too small?'])


def test_shared_anchor_is_copied_not_mutated():
    out = set_service_keys(COMPOSE, 'backend', {'logging': {'options': {'max-size': '10m', 'max-file': '3'}}})
    assert 'x-logging: &default-logging\n  driver: json-file\n' in out['text']
    assert get_service(out['text'], 'backend')['logging'] == {
        'driver': 'json-file', 'options': {'max-size': '10m', 'max-file': '3'}}
    assert any('anchor' in w for w in out['warnings'])


@pytest.mark.parametrize('service,updates,kwargs', [
    ('socket-agent', {'group_add': ['105']}, {}),
    ('socket-agent', {'group_add': [999]}, {}),  # 999 == "999": already there
    ('backend', {'mem_limit': '1g', 'deploy': {'resources': {'limits': {'memory': '1G'}}}}, {}),
    ('legacy', {'profiles': ['sprawl']}, {}),
    ('backend', {'logging': {'driver': 'json-file', 'options': {'max-size': '10m'}}}, {}),
    ('backend', {}, {'remove': ['mem_limit']}),
    ('socket-agent', {'group_add': ['105']}, {'list_merge': 'replace'}),
])
def test_second_apply_is_idempotent(service, updates, kwargs):
    first = set_service_keys(COMPOSE, service, updates, **kwargs)
    second = set_service_keys(first['text'], service, updates, **kwargs)
    assert second['changed'] is False and second['text'] == first['text']


def test_no_op_returns_identical_text():
    out = set_service_keys(COMPOSE, 'socket-agent', {'group_add': ['999'], 'user': '1000:1000'})
    assert out['changed'] is False and out['text'] == COMPOSE


def test_replace_list():
    out = set_service_keys(COMPOSE, 'socket-agent', {'group_add': ['105']}, list_merge='replace')
    assert get_service(out['text'], 'socket-agent')['group_add'] == ['105']


def test_unknown_service_error_names_the_services():
    with pytest.raises(ServiceNotFound) as err:
        set_service_keys(COMPOSE, 'nope', {'mem_limit': '1g'})
    assert "'nope'" in str(err.value) and 'backend' in str(err.value)


@pytest.mark.parametrize('text', ['services: [a, b\n', 'just: text\n', ''])
def test_bad_files(text):
    with pytest.raises(ComposeEditError):
        set_service_keys(text, 'a', {'x': 1})


def test_crlf_and_other_indent_styles_preserved():
    text = 'services:\r\n    web:\r\n        image: nginx   # four spaces\r\n        ports:\r\n        - "80:80"\r\n'
    out = set_service_keys(text, 'web', {'ports': ['443:443']})
    assert out['text'] == text + '        - "443:443"\r\n'


def test_append_to_list_that_ends_the_service():
    text = 'services:\n  a:\n    group_add:\n      - "999"   # docker\n\n  b:\n    image: x\n'
    out = set_service_keys(text, 'a', {'group_add': ['105']})
    assert out['text'] == 'services:\n  a:\n    group_add:\n      - "999"   # docker\n      - "105"\n\n  b:\n    image: x\n'


def test_unrelated_multiline_flow_list_kept_byte_for_byte():
    text = ("services:\n"
            "  redis:\n"
            "    command: [\"redis-server\", \"--appendonly\", \"yes\",\n"
            "              \"--maxmemory\", \"64mb\"]  # keep as written\n"
            "  agent:\n"
            "    image: agent:1\n")
    out = set_service_keys(text, "agent", {"group_add": ["105"]})
    assert out["changed"] and out["layout"] == "stitched"
    assert out["text"].startswith(text)  # every original line untouched, the key appended after
    assert "105" in out["text"][len(text):]


def test_longer_value_keeps_two_spaces_before_its_comment():
    text = ("services:\n"
            "  redis:\n"
            "    deploy:\n"
            "      resources:\n"
            "        limits:\n"
            "          memory: 1G  # sized for the seed\n")
    out = set_service_keys(text, "redis", {"deploy": {"resources": {"limits": {"memory": "256M"}}}})
    assert out["text"].splitlines()[-1] == "          memory: 256M  # sized for the seed"


def test_an_interpolated_value_is_not_overwritten():
    text = 'services:\n  api:\n    image: x\n    mem_limit: "${MEM:-bogus}"\n'
    with pytest.raises(ComposeEditError) as err:
        set_service_keys(text, 'api', {'mem_limit': '80M'})
    assert 'interpolation (${MEM})' in str(err.value) and 'nothing written' in str(err.value)
    assert 'bogus' not in str(err.value)   # a default may hold anything: names only
