"""compose_fallback (no Compose v2 on the host): interpolation, merge rules, the approximate model."""
import pytest

from ansible.module_utils.compose_doctor.facts import compose_fallback as cf
from ansible.module_utils.compose_doctor.facts.compose_yaml import Override, Reset, load_compose_text

# --- interpolation ----------------------------------------------------------------------------


@pytest.mark.parametrize('text, expected', [
    ('${A}', 'a'), ('$A-x', 'a-x'), ('${UNSET:-def}', 'def'), ('${EMPTY:-def}', 'def'), ('${EMPTY-def}', ''),
    ('${UNSET-def}', 'def'), ('${A:+alt}', 'alt'), ('${UNSET:+alt}', ''), ('$$A', '$A'), ('${UNSET}', ''),
    ('${UNSET:-${A}}', 'a'), ('pre-${A}-post', 'pre-a-post'), ('${UNSET:?must be set}', ''), ('100$', '100$'),
    ('image:${TAG:-latest}', 'image:latest'), ('${A?err}', 'a'), ('${EMPTY+set}', 'set'), ('${unclosed', '${unclosed'),
])
def test_interpolate_string(text, expected):
    assert cf.interpolate_string(text, {'A': 'a', 'EMPTY': ''}) == expected


@pytest.mark.parametrize('text, missing', [
    ('${X}', ['X']), ('$X', ['X']), ('${X:?e}', ['X']), ('${X:-d}', []), ('$$X', []), ('${EMPTY:?e}', ['EMPTY']),
])
def test_interpolate_string_reports_missing(text, missing):
    found = []
    cf.interpolate_string(text, {'EMPTY': ''}, found)
    assert found == missing


def test_interpolate_structure_reports_missing():
    missing = []
    out = cf.interpolate({'a': ['${X}', 1, {'b': '$Y'}]}, {'Y': 'y'}, missing)
    assert out == {'a': ['', 1, {'b': 'y'}]}
    assert missing == ['X']


def test_interpolate_keeps_markers():
    out = cf.interpolate({'ports': Reset([]), 'environment': Override({'A': '${Y}'})}, {'Y': 'y'})
    assert isinstance(out['ports'], Reset) and out['ports'].value == []
    assert isinstance(out['environment'], Override) and out['environment'].value == {'A': 'y'}


# --- merge ------------------------------------------------------------------------------------

def test_merge_service_rules():
    base = {'image': 'a', 'environment': ['A=1', 'B=2'], 'ports': ['80:80'], 'volumes': ['d:/data', './x:/x'],
            'command': ['run', 'a'], 'logging': {'driver': 'json-file', 'options': {'max-size': '1m'}},
            'depends_on': ['db'], 'build': './api', 'env_file': '.env', 'cap_add': ['NET_ADMIN']}
    over = {'image': 'b', 'environment': {'B': '3', 'C': '4'}, 'ports': ['81:81', '80:80'],
            'volumes': ['other:/data'], 'command': ['run'], 'logging': {'options': {'max-file': '3'}},
            'depends_on': {'cache': {'condition': 'service_healthy'}}, 'build': {'dockerfile': 'D'},
            'env_file': ['.env', 'b.env'], 'cap_add': ['SYS_ADMIN', 'NET_ADMIN'], 'extends': 'ignored'}
    out = cf.merge_service(base, over)
    assert out['image'] == 'b'
    assert out['environment'] == {'A': '1', 'B': '3', 'C': '4'}
    assert out['ports'] == ['80:80', '81:81']
    assert out['volumes'] == ['other:/data', './x:/x']
    assert out['command'] == ['run']
    assert out['logging'] == {'driver': 'json-file', 'options': {'max-size': '1m', 'max-file': '3'}}
    assert out['depends_on'] == {'db': {}, 'cache': {'condition': 'service_healthy'}}
    assert out['build'] == {'context': './api', 'dockerfile': 'D'}
    assert [e['path'] for e in out['env_file']] == ['.env', 'b.env']
    assert out['cap_add'] == ['NET_ADMIN', 'SYS_ADMIN']
    assert 'extends' not in out
    assert base['environment'] == ['A=1', 'B=2']   # inputs untouched


def test_merge_logging_other_driver_replaces():
    out = cf.merge_service({'logging': {'driver': 'json-file', 'options': {'max-size': '1m'}}},
                           {'logging': {'driver': 'syslog'}})
    assert out['logging'] == {'driver': 'syslog'}


def test_merge_logging_same_driver_merges_options():
    out = cf.merge_service({'logging': {'driver': 'json-file', 'options': {'max-size': '1m'}}},
                           {'logging': {'driver': 'json-file', 'options': {'max-file': '3'}}})
    assert out['logging'] == {'driver': 'json-file', 'options': {'max-size': '1m', 'max-file': '3'}}


def test_merge_healthcheck_test_replaced_not_appended():
    out = cf.merge_service({'healthcheck': {'test': ['CMD', 'a', 'b'], 'interval': '5s'}},
                           {'healthcheck': {'test': ['CMD', 'c']}})
    assert out['healthcheck'] == {'test': ['CMD', 'c'], 'interval': '5s'}


def test_merge_reset_and_override():
    base = {'image': 'a', 'ports': ['80:80'], 'environment': {'A': '1', 'B': '2'}, 'cap_add': ['X'],
            'deploy': {'resources': {'limits': {'memory': '1g', 'cpus': '1'}}}}
    over = {'ports': Reset([]), 'environment': {'B': Reset(None), 'C': '3'}, 'cap_add': Override(['Y']),
            'deploy': {'resources': {'limits': {'memory': Reset(None)}}}}
    out = cf.merge_service(base, over)
    assert 'ports' not in out
    assert out['environment'] == {'A': '1', 'C': '3'}   # the documented `FOO: !reset null`
    assert out['cap_add'] == ['Y']
    assert out['deploy'] == {'resources': {'limits': {'cpus': '1'}}}


def test_merge_override_of_mapping_replaces():
    out = cf.merge_service({'environment': {'A': '1', 'B': '2'}, 'logging': {'driver': 'json-file'}},
                           {'environment': Override({'C': '3'}),
                            'logging': {'options': Override({'max-size': '5m'})}})
    assert out['environment'] == {'C': '3'}
    assert out['logging'] == {'driver': 'json-file', 'options': {'max-size': '5m'}}


def test_merge_env_file_mappings():
    out = cf.merge_service({'env_file': {'path': 'a.env'}}, {'env_file': {'path': 'b.env', 'required': False}})
    assert out['env_file'] == [{'path': 'a.env', 'required': True}, {'path': 'b.env', 'required': False}]


def test_deep_merge():
    assert cf.deep_merge({'a': {'b': 1, 'c': 2}}, {'a': {'c': 3, 'd': Reset(None)}, 'e': [1]}) == \
        {'a': {'b': 1, 'c': 3}, 'e': [1]}
    assert cf.deep_merge({'a': 1}, Override({'b': 2})) == {'b': 2}
    assert cf.deep_merge([1], [2]) == [2]


# --- the approximate model -----------------------------------------------------------------------

def test_build_model_ignores_extensions_and_adds_services():
    docs = [{'x-a': {'k': 1}, 'name': 'first', 'services': {'a': {'image': 'a'}}, 'volumes': {'v': {}}},
            {'name': 'second', 'services': {'a': {'user': '1000'}, 'b': {'image': 'b'}}, 'volumes': {'w': None}}]
    layers = {'a': [('c.yml', docs[0]['services']['a']), ('o.yml', docs[1]['services']['a'])],
              'b': [('o.yml', docs[1]['services']['b'])]}
    model = cf.build_model(layers, docs, {})
    assert 'x-a' not in model
    assert model['name'] == 'second'
    assert model['services'] == {'a': {'image': 'a', 'user': '1000'}, 'b': {'image': 'b'}}
    assert sorted(model['volumes']) == ['v', 'w']


def test_build_model_interpolates_and_applies_tags():
    base, _ = load_compose_text('services:\n  api:\n    image: api:${TAG:-latest}\n    ports: ["80:80"]\n'
                                'volumes:\n  data: {name: "${VOL}"}\n', 'c.yml')
    over, _ = load_compose_text('services:\n  api:\n    ports: !reset []\n    environment: !override {A: "$A"}\n',
                                'o.yml')
    layers = {'api': [('c.yml', base['services']['api']), ('o.yml', over['services']['api'])]}
    model = cf.build_model(layers, [base, over], {'TAG': 'v1', 'A': 'a', 'VOL': 'real'})
    assert model['services'] == {'api': {'image': 'api:v1', 'environment': {'A': 'a'}}}
    assert model['volumes'] == {'data': {'name': 'real'}}


def test_build_model_extends_layers():
    # what compose_model.service_layers yields for `agent: {extends: base}` in one file: the base first
    services = {'base': {'image': 'py', 'environment': {'A': '1'}, 'depends_on': ['db']},
                'agent': {'extends': {'service': 'base'}, 'environment': {'B': '2'}}}
    layers = {'agent': [('c.yml', services['base']), ('c.yml', services['agent'])]}
    out = cf.build_model(layers, [], {})['services']['agent']
    assert out['image'] == 'py'
    assert out['environment'] == {'A': '1', 'B': '2'}
    assert out['depends_on'] == ['db']
    assert 'extends' not in out
