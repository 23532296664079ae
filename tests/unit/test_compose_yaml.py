"""compose_yaml: compose YAML as written (line index, Compose's tags, readable errors)."""
import time

import pytest

from ansible.module_utils.compose_doctor.facts import compose_yaml as cy
from ansible.module_utils.compose_doctor.facts.compose_yaml import ComposeFileError, Override, Reset
from audit_fixtures import COMPOSE_WITH_ANCHORS as GOOD



def test_load_compose_text_lines_and_merge_keys():
    data, index = cy.load_compose_text(GOOD, 'docker-compose.yml')
    assert data['services']['api']['environment'] == {'LOG_LEVEL': 'info', 'API_TOKEN': 'abc',
                                                     'DB_PASSWORD': '${DB_PASSWORD}'}
    assert index['services'] == {'api': 5, 'worker': 10}
    assert index['env']['api'] == {'LOG_LEVEL': 2, 'API_TOKEN': 3, 'DB_PASSWORD': 9}
    assert index['env']['worker'] == {'REDIS_PASS': 13}
    assert index['keys'] == {'api': {'image': 6, 'environment': 7}, 'worker': {'image': 11, 'environment': 12}}


def test_index_of_service_merged_from_anchor():
    text = 'x-base: &base\n  image: b\n  restart: always\nservices:\n  a:\n    <<: *base\n    user: "1000"\n'
    _data, index = cy.load_compose_text(text, 'c.yml')
    assert index['keys']['a'] == {'image': 2, 'restart': 3, 'user': 7}


def test_index_without_services():
    assert cy.load_compose_text('name: x\n', 'c.yml')[1] == {'services': {}, 'env': {}, 'keys': {}, 'ignore': {'': []}}


@pytest.mark.parametrize('text, line, column, fragment', [
    ('services:\n  api:\n    image: x\n   bad: 1\n', 4, 4, 'did not find expected key'),
    ('services:\n  api:\n    image: x: y\n', 3, 13, 'mapping values are not allowed'),
    ('services: {a: [1, 2}\n', 1, 20, "expected ',' or ']'"),
    ('- a\n- b\n', 1, 1, 'top-level must be a mapping'),
    ('services:\n  - a\n', 1, 1, "'services' must be a mapping"),
])
def test_load_compose_text_errors(text, line, column, fragment):
    with pytest.raises(ComposeFileError) as exc:
        cy.load_compose_text(text, 'docker-compose.dev.yml')
    err = exc.value.as_dict()
    assert err['file'] == 'docker-compose.dev.yml'
    assert (err['line'], err['column']) == (line, column)
    assert fragment in err['message']
    assert err['message'].startswith('docker-compose.dev.yml line %d, column %d: ' % (line, column))


def test_yaml_error_never_contains_source_text():
    text = 'services:\n  api:\n    environment:\n      DB_PASSWORD: hunter2: x\n'
    with pytest.raises(ComposeFileError) as exc:
        cy.load_compose_text(text, 'c.yml')
    assert 'hunter2' not in str(exc.value)


def test_empty_file_is_empty_model():
    assert cy.load_compose_text('', 'c.yml')[0] == {}


def test_compose_file_error_without_position():
    err = ComposeFileError('c.yml', 'cannot read file')
    assert err.as_dict() == {'file': 'c.yml', 'line': None, 'column': None, 'message': 'c.yml: cannot read file'}
    assert str(ComposeFileError(None, 'x', 3)) == '<compose> line 3: x'


# --- Compose's tags -----------------------------------------------------------------------------

TAGGED = """\
services:
  api:
    image: x
    ports: !reset []
    environment: !override
      A: "1"
    labels: !foo
      b: "2"
    command: !reset
    user: !custom 1000
"""


def test_reset_override_and_unknown_tags_load():
    data, index = cy.load_compose_text(TAGGED, 'c.yml')
    api = data['services']['api']
    assert isinstance(api['ports'], Reset) and api['ports'].value == []
    assert isinstance(api['environment'], Override) and api['environment'].value == {'A': '1'}
    assert isinstance(api['command'], Reset)
    assert api['labels'] == {'b': '2'}     # an unknown local tag loads as its plain value
    assert api['user'] == '1000'
    assert index['env']['api'] == {'A': 6}
    assert index['keys']['api']['labels'] == 7


def test_plain_drops_markers():
    data, _index = cy.load_compose_text(TAGGED, 'c.yml')
    api = cy.plain(data)['services']['api']
    assert api['ports'] == [] and api['environment'] == {'A': '1'} and api['labels'] == {'b': '2'}
    assert cy.plain([Reset(Override({'a': [Reset(1)]}))]) == [{'a': [1]}]


def test_marker_repr():
    assert repr(Reset([])) == 'Reset([])' and repr(Override({'a': 1})) == "Override({'a': 1})"


def test_services_under_a_tag_must_still_be_a_mapping():
    with pytest.raises(ComposeFileError) as exc:
        cy.load_compose_text('services: !override [a, b]\n', 'c.yml')
    assert "'services' must be a mapping" in str(exc.value)


# --- hostile input ------------------------------------------------------------------------------

def _billion_laughs(levels=9, width=9):
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = 'a'
    for name in 'bcdefghijklmnop'[:levels - 1]:
        lines.append('%s: &%s [%s]' % (name, name, ', '.join(['*' + prev] * width)))
        prev = name
    lines.append('services: {x: {image: x, command: *%s}}' % prev)
    return '\n'.join(lines) + '\n'


def test_alias_bomb_refused_quickly():
    start = time.time()
    with pytest.raises(ComposeFileError) as exc:
        cy.load_compose_text(_billion_laughs(), 'bomb.yml')
    assert time.time() - start < 5
    err = exc.value.as_dict()
    assert err['file'] == 'bomb.yml' and 'expands (aliases included) to more than' in err['message']


def test_modest_aliases_still_load():
    data, _index = cy.load_compose_text(_billion_laughs(levels=3, width=3), 'c.yml')
    assert len(data['services']['x']['command']) == 3


def test_self_referencing_alias_is_an_error_not_a_hang():
    # PyYAML cannot build a recursive alias from a safe loader: a ComposeFileError, never a crash
    text = 'a: &a [*a]\nservices: {}\n'
    with pytest.raises(ComposeFileError):
        cy.load_compose_text(text, 'c.yml')
