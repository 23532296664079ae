# -*- coding: utf-8 -*-
import pytest

from ansible.module_utils.compose_doctor.change.requirements_file import (
    RequirementError, ensure_requirement, normalize_name, parse_version, spec_satisfies)


@pytest.mark.parametrize('name,expected', [
    ('PyYAML', 'pyyaml'), ('py_yaml', 'py-yaml'), ('Foo.Bar__baz', 'foo-bar-baz'), ('psutil', 'psutil'),
])
def test_normalize_name(name, expected):
    assert normalize_name(name) == expected


@pytest.mark.parametrize('existing,wanted,ok', [
    ('', '', True),
    ('==1.0', '', True),
    ('', '>=5.9.0', False),
    ('==5.9.8', '>=5.9.0', True),
    ('==5.9.0', '>=5.9.0', True),
    ('>=5.9', '>=5.9.0', True),
    ('>=6,<7', '>=5.9.0', True),
    ('~=5.9.1', '>=5.9.0', True),
    ('>5.9.0', '>=5.9.0', True),
    ('==5.8.0', '>=5.9.0', False),
    ('<5', '>=5.9.0', False),
    ('>=5.0', '>=5.9.0', False),
    ('==5.9.0rc1', '>=5.9.0', False),
    ('==5.9.0.post1', '>=5.9.0', True),
    ('>=5.9.0,<7', '>=5.9.0,<8', True),
    ('>=5.9.0', '>=5.9.0,<8', False),
    ('==2.0', '!=2.0', False),
    ('>=2.1', '!=2.0', True),
])
def test_spec_satisfies(existing, wanted, ok):
    assert spec_satisfies(existing, wanted) is ok


def test_version_order():
    assert parse_version('1.0.dev1') < parse_version('1.0a1') < parse_version('1.0rc1') \
        < parse_version('1.0') < parse_version('1.0.post1') < parse_version('1.0.1')
    assert parse_version('1.0') == parse_version('1.0.0')


SEED = '# agent deps\nrequests==2.31.0\n\n# metrics\nprometheus-client>=0.17  # exporter\n'


def test_append_keeps_everything_else():
    out = ensure_requirement(SEED, 'psutil', '>=5.9.0')
    assert out['changed'] and out['action'] == 'appended'
    assert out['text'] == SEED + 'psutil>=5.9.0\n'
    assert 'appended' in out['reason']


def test_idempotent_second_apply():
    first = ensure_requirement(SEED, 'psutil', '>=5.9.0')
    second = ensure_requirement(first['text'], 'psutil', '>=5.9.0')
    assert second['changed'] is False and second['text'] == first['text'] and second['action'] == 'none'


@pytest.mark.parametrize('text,expected', [
    ('', 'psutil>=5.9.0\n'),
    ('flask', 'flask\npsutil>=5.9.0'),
    ('flask\r\n', 'flask\r\npsutil>=5.9.0\r\n'),
])
def test_newline_conventions(text, expected):
    assert ensure_requirement(text, 'psutil', '>=5.9.0')['text'] == expected


@pytest.mark.parametrize('line', ['psutil==5.9.8', 'PSUTIL>=6.0', 'psutil ~= 5.9.4  # pinned', 'psutil[test]>=5.9.0'])
def test_existing_line_already_satisfies(line):
    text = 'a\n' + line + '\nb\n'
    out = ensure_requirement(text, 'psutil', '>=5.9.0')
    assert out['changed'] is False and out['text'] == text
    assert 'already satisfies' in out['reason']


def test_presence_only_any_line_counts():
    out = ensure_requirement('PyYAML\n', 'pyyaml', '')
    assert out['changed'] is False and out['reason'].endswith('is present')


def test_pep503_match_on_other_spelling():
    out = ensure_requirement('Ruamel_YAML==0.18.6\n', 'ruamel.yaml', '>=0.17')
    assert out['changed'] is False


@pytest.mark.parametrize('line,expected', [
    ('psutil', 'psutil>=5.9.0'),
    ('psutil==5.8.0  # old', 'psutil>=5.9.0  # old'),
    ('PSUTIL[x]<5 ; python_version >= "3.8"', 'PSUTIL[x]>=5.9.0 ; python_version >= "3.8"'),
])
def test_unsatisfying_line_rewritten_in_place(line, expected):
    text = '# top\n' + line + '\nzzz==1\n'
    out = ensure_requirement(text, 'psutil', '>=5.9.0')
    assert out['changed'] and out['action'] == 'updated'
    assert out['text'] == '# top\n' + expected + '\nzzz==1\n'
    assert out['text'].count('psutil') + out['text'].count('PSUTIL') == 1


@pytest.mark.parametrize('line', ['git+https://example.org/psutil.git#egg=psutil', 'psutil @ https://example.org/p.whl',
                                  '-e git+https://example.org/psutil.git#egg=psutil'])
def test_url_requirements_left_alone(line):
    out = ensure_requirement(line + '\n', 'psutil', '>=5.9.0')
    assert out['changed'] is False and out['action'] == 'unverifiable'


def test_options_and_includes_not_mistaken_for_requirements():
    text = '-r base.txt\n--index-url https://pypi.example/simple\n'
    out = ensure_requirement(text, 'psutil', '>=5.9.0')
    assert out['text'] == text + 'psutil>=5.9.0\n'


def test_continuation_lines():
    text = 'psutil==5.8.0 \\\n    ; python_version >= "3"\nx\n'
    out = ensure_requirement(text, 'psutil', '>=5.9.0')
    assert out['action'] == 'updated' and out['text'].endswith('\nx\n')
    assert out['text'].startswith('psutil>=5.9.0') and '\\' not in out['text']


@pytest.mark.parametrize('text', ['psutil==5.8.0 \\\n    --hash=sha256:abc\n', 'flask==2.0 --hash=sha256:abc\n'])
def test_hash_checking_mode_is_left_alone(text):
    out = ensure_requirement(text, 'psutil', '>=5.9.0')
    assert out['changed'] is False and out['action'] == 'unverifiable' and 'hash' in out['reason']


def test_hashed_line_that_satisfies_is_fine():
    text = 'psutil==5.9.8 \\\n    --hash=sha256:abc\n'
    assert ensure_requirement(text, 'psutil', '>=5.9.0')['action'] == 'none'


@pytest.mark.parametrize('name,spec', [('bad name', ''), ('psutil', '>>5'), ('psutil', '>=5.*'), ('psutil', '~=5')])
def test_invalid_input(name, spec):
    with pytest.raises(RequirementError):
        ensure_requirement('', name, spec)
