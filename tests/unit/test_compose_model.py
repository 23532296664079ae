import json
import os

import pytest

from ansible.module_utils.compose_doctor.facts import compose_model as cm
from ansible.module_utils.compose_doctor.redact import MASK, SecretPolicy
from audit_fixtures import COMPOSE_WITH_ANCHORS as GOOD

PATTERNS = ['PASSWORD', 'PASS', 'SECRET', 'TOKEN', 'API_KEY', 'AUTH']
CREDS = ['admin', 'password', 'changeme', 'postgres', 'root']
POL = SecretPolicy(PATTERNS, None, CREDS)


# --- discovery / classification ---------------------------------------------------------------

PATHS = ['docker-compose.yml', 'docker-compose.override.yml', 'docker-compose.dev.yml', 'compose.yaml',
         'deploy/docker-compose.yml', 'agents/a/Dockerfile', 'agents/b/Dockerfile.gpu', 'web/app.dockerfile',
         '.env', 'config/app.env', '.env.example', 'secrets/db_password.txt', 'secrets_secure/jwt',
         'README.md', 'composer.json', 'docker-compose.yml.bak']


def test_compose_candidates():
    assert cm.compose_candidates(PATHS) == ['compose.yaml', 'docker-compose.dev.yml', 'docker-compose.override.yml',
                                            'docker-compose.yml', 'deploy/docker-compose.yml']


def test_dockerfiles_env_and_secret_files():
    assert cm.dockerfiles_in(PATHS) == ['agents/a/Dockerfile', 'agents/b/Dockerfile.gpu', 'web/app.dockerfile']
    assert cm.env_files_in(PATHS) == ['.env', '.env.example', 'config/app.env']
    assert cm.secret_dir_files(PATHS) == ['secrets/db_password.txt', 'secrets_secure/jwt']


def test_default_main_prefers_compose_yaml():
    assert cm.default_main_file(PATHS) == 'compose.yaml'
    assert cm.default_main_file(['docker-compose.yml']) == 'docker-compose.yml'
    assert cm.default_override_file('docker-compose.yml', PATHS) == 'docker-compose.override.yml'
    # Compose pairs the main file with the first default override file, whatever their stems
    assert cm.default_override_file('compose.yaml', PATHS) == 'docker-compose.override.yml'
    assert cm.default_override_file('compose.yaml', PATHS + ['compose.override.yml']) == 'compose.override.yml'
    assert cm.default_override_file(None, PATHS) is None


@pytest.mark.parametrize('present, main', [
    (['compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml'], 'compose.yaml'),
    (['compose.yml', 'docker-compose.yml', 'docker-compose.yaml'], 'compose.yml'),
    (['docker-compose.yaml', 'docker-compose.yml'], 'docker-compose.yml'),
    (['docker-compose.yaml'], 'docker-compose.yaml'),
    (['docker-compose.dev.yml', 'deploy/compose.yaml'], None),
])
def test_default_main_in_composes_order(present, main):
    assert cm.DEFAULT_COMPOSE_FILES == ('compose.yaml', 'compose.yml', 'docker-compose.yml', 'docker-compose.yaml')
    assert cm.default_main_file(present) == main


@pytest.mark.parametrize('files, environ, dotenv, expected, source', [
    (['a.yml', './b.yml'], {'COMPOSE_FILE': 'x.yml'}, {}, ['a.yml', 'b.yml'], 'files'),
    (None, {'COMPOSE_FILE': 'docker-compose.yml:docker-compose.dev.yml'}, {'COMPOSE_FILE': 'z.yml'},
     ['docker-compose.yml', 'docker-compose.dev.yml'], 'environment'),
    (None, {}, {'COMPOSE_FILE': 'docker-compose.yml:docker-compose.dev.yml'},
     ['docker-compose.yml', 'docker-compose.dev.yml'], 'dotenv'),
    (None, {}, {'COMPOSE_FILE': 'a.yml;b.yml', 'COMPOSE_PATH_SEPARATOR': ';'}, ['a.yml', 'b.yml'], 'dotenv'),
    (None, {}, {}, ['docker-compose.yml', 'docker-compose.override.yml'], 'default'),
])
def test_resolve_active_files(files, environ, dotenv, expected, source):
    paths = ['docker-compose.yml', 'docker-compose.override.yml', 'docker-compose.dev.yml']
    assert cm.resolve_active_files('/p', paths, files, dotenv, environ) == (expected, source)


def test_resolve_active_files_none():
    assert cm.resolve_active_files('/p', ['x.yml'], None, {}, {}) == ([], 'none')


@pytest.mark.parametrize('path, kind', [
    ('docker-compose.yml', 'main'), ('docker-compose.override.yml', 'override'),
    ('docker-compose.dev.yml', 'override'), ('compose.yaml', 'alternate'),
    ('deploy/docker-compose.yml', 'alternate'), ('deploy/docker-compose.override.yml', 'override'),
    ('other/thing.yml', 'override'),
])
def test_classify_file(path, kind):
    assert cm.classify_file(path, 'docker-compose.yml', ['docker-compose.yml', 'other/thing.yml']) == kind


def test_classify_file_pulled_in_by_include_or_extends():
    vias = {'inc/db.yml': 'include', 'common/base.yml': 'extends'}
    assert cm.classify_file('inc/db.yml', 'compose.yaml', ['compose.yaml'], vias) == 'include'
    assert cm.classify_file('common/base.yml', 'compose.yaml', ['compose.yaml'], vias) == 'extends'


def test_no_project_error():
    err = cm.no_project_error(['a/docker-compose.dev.yml'], ['docker-compose.dev.yml'], None)
    assert err['kind'] == 'no-project' and err['file'] is None
    assert 'docker-compose.dev.yml' in err['message'] and 'audit_compose_files' in err['message']
    empty = cm.no_project_error([], [], None)
    assert empty['kind'] == 'no-project' and 'no compose file in this directory' in empty['message']


# --- env files and interpolation --------------------------------------------------------------

ENV_TEXT = """\
# comment
export DB_PASSWORD=hunter2
GF_ADMIN_PASSWORD="admin"
QUOTED='single # not a comment'
INLINE=value # comment
EMPTY=
BARE
URL=postgres://u:p@h/db
not a valid line
"""


def test_parse_env_entries():
    entries = cm.parse_env_entries(ENV_TEXT)
    values = dict((e['key'], e['value']) for e in entries)
    assert values == {'DB_PASSWORD': 'hunter2', 'GF_ADMIN_PASSWORD': 'admin', 'QUOTED': 'single # not a comment',
                      'INLINE': 'value', 'EMPTY': '', 'URL': 'postgres://u:p@h/db'}   # BARE: no value to read
    assert [e['line'] for e in entries][:2] == [2, 3]
    quotes = dict((e['key'], e['quote']) for e in entries)
    assert (quotes['GF_ADMIN_PASSWORD'], quotes['QUOTED'], quotes['INLINE']) == ('"', "'", '')
    assert dict((e['key'], e['quoted']) for e in entries)['QUOTED'] is True


@pytest.mark.parametrize('value, expected', [
    ('${PW}', True), ('$PW', True), ('pre${PW}', True), ('admin', False), ('pa$$word', False), (None, False), (5, False),
])
def test_has_reference(value, expected):
    assert cm.has_reference(value) is expected


@pytest.mark.parametrize('name, expected', [('My Project', 'myproject'), ('_x.y-Z', 'xy-z'), ('lab', 'lab')])
def test_normalize_project_name(name, expected):
    assert cm.normalize_project_name(name) == expected


# --- normalisation ----------------------------------------------------------------------------

@pytest.mark.parametrize('svc, expected', [
    ({'deploy': {'resources': {'limits': {'memory': '1.5G'}, 'reservations': {'memory': '256M'}}}},
     (1610612736, 268435456, 'deploy')),
    ({'mem_limit': '512m', 'mem_reservation': '128m'}, (536870912, 134217728, 'mem_limit')),
    ({'mem_limit': '536870912'}, (536870912, None, 'mem_limit')),
    ({'mem_limit': '1g', 'deploy': {'resources': {'limits': {'memory': '1073741824'}}}}, (1073741824, None, 'deploy')),
    ({}, (None, None, None)),
    ({'mem_limit': 'garbage'}, (None, None, None)),
])
def test_memory_limits(svc, expected):
    assert cm.memory_limits(svc, []) == expected


@pytest.mark.parametrize('svc, keys', [
    ({'mem_limit': 'garbage'}, ['mem_limit']),
    ({'deploy': [1]}, ['deploy']),
    ({'deploy': {'resources': {'limits': {'memory': 'lots'}}}, 'mem_limit': '1g'}, ['deploy.resources.limits.memory']),
    ({'deploy': {'resources': {'limits': 'x', 'reservations': {'memory': True}}}},
     ['deploy.resources.limits', 'deploy.resources.reservations.memory']),
])
def test_memory_limits_problems(svc, keys):
    problems = []
    cm.memory_limits(svc, problems)
    assert [p['key'] for p in problems] == keys


@pytest.mark.parametrize('hc, expected', [
    (None, None),
    ({'test': 'curl -f http://localhost/'}, {'test': ['CMD-SHELL', 'curl -f http://localhost/'], 'disabled': False}),
    ({'test': ['CMD', 'true']}, {'test': ['CMD', 'true'], 'disabled': False}),
    ({'disable': True}, {'test': None, 'disabled': True}),
    ({'test': ['NONE']}, {'test': ['NONE'], 'disabled': True}),
])
def test_normalize_healthcheck(hc, expected):
    problems = []
    assert cm.normalize_healthcheck(hc, problems) == expected
    assert problems == []


def test_healthcheck_not_a_mapping_is_a_problem():
    problems = []
    assert cm.normalize_healthcheck('curl x', problems) is None
    assert problems == [{'key': 'healthcheck', 'shape': "str 'aaaa a'", 'message': 'expected a mapping'}]


def test_healthcheck_secrets_are_masked():
    hc = {'test': ['CMD-SHELL', 'redis-cli -a hunter22 ping && curl http://u:pw99@h/']}
    out = cm.normalize_healthcheck(hc, [], PATTERNS, {'hunter22'})
    assert 'hunter22' not in str(out) and 'pw99' not in str(out)


def test_normalize_logging_masks_options():
    problems = []
    out = cm.normalize_logging({'driver': 'json-file', 'options': {'max-size': '10m', 'max-file': 3,
                                                                   'splunk-token': 'tok99', 'url': 'http://u:pw9@h'}},
                               problems, PATTERNS)
    assert out == {'driver': 'json-file', 'options': {'max-size': '10m', 'max-file': '3', 'splunk-token': MASK,
                                                      'url': 'http://u:********@h'}}
    assert problems == [] and cm.normalize_logging(None, problems) is None
    assert cm.normalize_logging(5, problems) is None and problems[0]['key'] == 'logging'


def test_normalize_service_masks_environment_and_build():
    svc = {'image': 'x', 'user': 1000, 'group_add': [999], 'environment': ['DB_PASSWORD=hunter2', 'PLAIN=1',
                                                                          'DSN=postgres://a:pw@h/d', 'BARE'],
           'build': {'context': './agents/a', 'dockerfile': 'Dockerfile.gpu'}, 'env_file': './a.env',
           'depends_on': {'db': {'condition': 'service_healthy'}}, 'privileged': True}
    svc.update(labels={'b': '1', 'a': '2'}, expose=[80, '81'], network_mode='host', restart='always')
    # env_file comes from the layers (Compose's JSON drops it), not from the service value
    out = cm.normalize_service('x', svc, '/proj', env_files=['a.env'], env_lookup={'BARE': 'b'}, patterns=PATTERNS)
    # never a value, secret or not: per key its class and length
    assert out['environment'] == {'BARE': {'class': 'not-secret', 'length': 1},
                                  'DB_PASSWORD': {'class': 'secret', 'length': 7},
                                  'DSN': {'class': 'secret', 'length': 19},
                                  'PLAIN': {'class': 'not-secret', 'length': 1}}
    assert out['user'] == '1000' and out['group_add'] == ['999'] and out['privileged'] is True
    assert out['build'] == {'context': 'agents/a', 'dockerfile': 'agents/a/Dockerfile.gpu', 'requirements': []}
    assert out['env_file'] == ['a.env']
    assert cm.normalize_service('x', svc, '/proj')['env_file'] == []
    assert out['depends_on'] == ['db']
    assert (out['labels'], out['expose'], out['network_mode'], out['restart']) == (['a', 'b'], ['80', '81'], 'host',
                                                                                   'always')
    assert out['problems'] == []
    assert 'hunter2' not in json.dumps(out)


def test_normalize_service_odd_values_are_problems_never_exceptions():
    svc = {'ports': ['8080:80', 'x'], 'mem_limit': 'lots', 'deploy': [1], 'healthcheck': 'x', 'logging': 5,
           'build': 5, 'cap_add': {'a': 1}, 'volumes': [None], 'privileged': 'TRUE', 'image': ['x']}
    out = cm.normalize_service('x', svc, '/proj')
    assert sorted(p['key'] for p in out['problems']) == ['build', 'cap_add', 'deploy', 'healthcheck', 'logging',
                                                         'mem_limit', 'ports', 'volumes']
    assert [p['published'] for p in out['ports']] == [8080]
    assert out['privileged'] is True and out['image'] is None and out['mem_limit_bytes'] is None
    assert cm.normalize_service('x', 'garbage', '/proj')['problems'] == [
        {'key': '', 'shape': "str 'aaaaaaa'", 'message': 'a service must be a mapping'}]


def test_normalize_build_absolute_cli_context():
    assert cm.normalize_build({'context': '/proj/api', 'dockerfile': 'Dockerfile'}, '/proj', []) == \
        {'context': 'api', 'dockerfile': 'api/Dockerfile', 'requirements': []}


@pytest.mark.parametrize('build, expected', [
    (None, None),
    ('./api', {'context': 'api', 'dockerfile': 'api/Dockerfile', 'requirements': []}),
    ({'context': 'https://github.com/x/y.git'},
     {'context': 'https://github.com/x/y.git', 'dockerfile': None, 'requirements': [], 'remote': True}),
    ({'context': '.', 'dockerfile_inline': 'FROM x'}, {'context': '.', 'dockerfile': None, 'requirements': []}),
])
def test_normalize_build(build, expected):
    problems = []
    assert cm.normalize_build(build, '/proj', problems) == expected
    assert problems == []


# --- secrets ----------------------------------------------------------------------------------



def _one_file(text, rel='docker-compose.yml'):
    data, index = cm.load_compose_text(text, rel)
    sources = {rel: {'data': data, 'index': index, 'via': 'active'}}
    return sources, cm.service_layers('/p', sources, [rel], {})


def test_service_secret_env():
    sources, layers = _one_file(GOOD)
    api = cm.service_secret_env(layers['api'], sources, {'DB_PASSWORD': 'postgres'}, {}, POL)
    assert api[0]['fingerprint'] == cm.fingerprint('abc') != cm.fingerprint('abd')   # comparable, not the value
    for s in api:
        s.pop('fingerprint')
    assert api == [
        {'key': 'API_TOKEN', 'literal': True, 'class': 'secret', 'default_credential': False, 'empty': False,
         'length': 3, 'file': 'docker-compose.yml', 'line': 3},
        {'key': 'DB_PASSWORD', 'literal': False, 'class': 'default-credential', 'default_credential': True,
         'empty': False, 'length': 8, 'file': 'docker-compose.yml', 'line': 9},
    ]
    worker = cm.service_secret_env(layers['worker'], sources, {}, {}, POL)
    assert worker[0]['key'] == 'REDIS_PASS' and worker[0]['literal'] is True and worker[0]['line'] == 13


def test_service_secret_env_resolves_references_without_effective_value():
    sources, layers = _one_file(GOOD)
    api = cm.service_secret_env(layers['api'], sources, {}, {'DB_PASSWORD': 'changeme'}, POL)
    db = [s for s in api if s['key'] == 'DB_PASSWORD'][0]
    assert db['default_credential'] is True and db['literal'] is False
    unset = cm.service_secret_env(layers['api'], sources, {}, {}, POL)
    assert [s for s in unset if s['key'] == 'DB_PASSWORD'][0]['empty'] is True


def test_service_secret_env_last_layer_wins():
    text = GOOD + """\
  agent:
    extends: api
    environment:
      API_TOKEN: ${TOKEN}
"""
    sources, layers = _one_file(text)
    out = dict((s['key'], s) for s in cm.service_secret_env(layers['agent'], sources, {}, {}, POL))
    assert (out['API_TOKEN']['line'], out['API_TOKEN']['literal']) == (17, False)
    assert out['DB_PASSWORD']['line'] == 9   # from the extends base


def test_env_file_secrets():
    entries = cm.parse_env_entries(ENV_TEXT + 'GF_PASSWORD=${UNSET:-admin}\nDB_PASSWORD_FILE=/run/secrets/x\n')
    out = cm.env_file_secrets(entries, {}, POL)
    by_key = dict((s['key'], s) for s in out)
    assert set(by_key) == {'DB_PASSWORD', 'GF_ADMIN_PASSWORD', 'GF_PASSWORD', 'URL'}  # URL: user:pass@
    assert by_key['GF_ADMIN_PASSWORD']['default_credential'] is True
    assert by_key['GF_PASSWORD'].pop('fingerprint') == cm.fingerprint('admin')
    assert by_key['GF_PASSWORD'] == {'key': 'GF_PASSWORD', 'literal': False, 'class': 'default-credential',
                                     'default_credential': True, 'empty': False, 'length': 5, 'line': 10}
    assert 'hunter2' not in str(out) and 'admin' not in str(out)


def test_env_file_single_quoted_value_is_literal():
    entries = cm.parse_env_entries("DB_PASSWORD='Ph$Abc'\nAPI_TOKEN=\"${REAL}\"\n")
    out = dict((s['key'], s) for s in cm.env_file_secrets(entries, {'REAL': 'x'}, POL))
    assert out['DB_PASSWORD']['literal'] is True and out['DB_PASSWORD']['empty'] is False
    assert out['API_TOKEN']['literal'] is False


# --- Dockerfile -> requirements ---------------------------------------------------------------

def test_file_facts_fs(tmp_path):
    f = tmp_path / '.env'
    f.write_text('A=1\n')
    os.chmod(str(f), 0o640)
    facts = cm.file_facts_fs(str(tmp_path), '.env')
    assert facts['mode'] == '0640' and facts['group_readable'] is True and facts['world_readable'] is False
    assert facts['exists'] is True and facts['owner']
    assert cm.file_facts_fs(str(tmp_path), 'missing')['exists'] is False


def test_active_profiles_from_dotenv(tmp_path, monkeypatch):
    from ansible.module_utils.compose_doctor.facts import compose_model

    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: x\n  old:\n    image: y\n    profiles: [parked]\n")
    (tmp_path / ".env").write_text("COMPOSE_PROFILES=debug, parked\n")
    facts = compose_model.gather(str(tmp_path), use_cli=False)
    assert facts["active_profiles"] == ["debug", "parked"]


# --- include: / extends: sources and layers -----------------------------------------------------

INCLUDE_MAIN = """\
include:
  - inc/db.yml
services:
  api:
    extends:
      file: common/base.yml
      service: base
    environment:
      API_TOKEN: literal-token
    ports: ["8000:8000"]
"""
INCLUDED = """\
services:
  db:
    image: postgres:16
    environment:
      POSTGRES_PASSWORD: postgres
    env_file: db.env
"""
EXTENDED = """\
services:
  base:
    image: py:${PY:-3.12}
    environment:
      DB_PASSWORD: ${DB_PASSWORD}
      LOG_LEVEL: info
    mem_limit: 256m
"""


@pytest.fixture
def layered(tmp_path):
    (tmp_path / 'compose.yaml').write_text(INCLUDE_MAIN)
    (tmp_path / 'inc').mkdir()
    (tmp_path / 'inc' / 'db.yml').write_text(INCLUDED)
    (tmp_path / 'inc' / 'db.env').write_text('POSTGRES_USER=app\n')
    (tmp_path / 'common').mkdir()
    (tmp_path / 'common' / 'base.yml').write_text(EXTENDED)
    return tmp_path


def _sources(project):
    return cm.load_sources(str(project), ['compose.yaml'], {},
                           lambda rel: cm.load_compose_file_fs(str(project), rel))


def test_load_sources_follows_include_and_extends(layered):
    sources = _sources(layered)
    assert [(rel, e['via']) for rel, e in sources.items()] == [
        ('compose.yaml', 'active'), ('inc/db.yml', 'include'), ('common/base.yml', 'extends')]
    assert all(e['error'] is None for e in sources.values())


def test_service_layers_with_include_and_extends(layered):
    sources = _sources(layered)
    layers = cm.service_layers(str(layered), sources, ['compose.yaml'], {})
    shape = dict((name, [(layer['file'], layer['name'], layer['base']) for layer in stack])
                 for name, stack in layers.items())
    assert shape == {'db': [('inc/db.yml', 'db', False)],
                     'api': [('common/base.yml', 'base', True), ('compose.yaml', 'api', False)]}
    assert list(layers) == ['db', 'api']   # included files first, as Compose merges them
    assert cm.definition_of(layers['api']) == ('compose.yaml', None)
    assert cm.layer_env_files(str(layered), layers['db'], {}) == ['inc/db.env']   # relative to the included file


def test_secret_env_file_and_line_from_included_and_extended_files(layered):
    sources = _sources(layered)
    layers = cm.service_layers(str(layered), sources, ['compose.yaml'], {})
    api = dict((s['key'], s) for s in cm.service_secret_env(layers['api'], sources, {}, {}, POL))
    assert (api['DB_PASSWORD']['file'], api['DB_PASSWORD']['line'], api['DB_PASSWORD']['literal']) == \
        ('common/base.yml', 5, False)
    assert (api['API_TOKEN']['file'], api['API_TOKEN']['line'], api['API_TOKEN']['literal']) == \
        ('compose.yaml', 9, True)
    db = cm.service_secret_env(layers['db'], sources, {}, {}, POL)
    assert [(s['key'], s['file'], s['line'], s['default_credential']) for s in db] == [
        ('POSTGRES_PASSWORD', 'inc/db.yml', 5, True)]


def test_service_layers_extends_cycle_is_bounded():
    text = 'services:\n  a: {extends: b, image: x}\n  b: {extends: a}\n'
    sources, layers = _one_file(text)
    assert [layer['name'] for layer in layers['a']] == ['b', 'a']
    assert [layer['name'] for layer in layers['b']] == ['a', 'b']


def test_gather_fallback_with_include_and_extends(layered):
    facts = cm.gather(str(layered), use_cli=False, environ={'DB_PASSWORD': 'hunter2secret'},
                      secret_key_patterns=PATTERNS, default_credentials=CREDS)
    assert facts['model_source'] == 'yaml' and facts['errors'] == []
    api, db = facts['services']['api'], facts['services']['db']
    assert (api['file'], api['line'], api['image'], api['mem_limit_bytes']) == ('compose.yaml', 4, 'py:3.12',
                                                                              256 * 1024 ** 2)
    assert dict((k, v['class']) for k, v in api['environment'].items()) == {
        'API_TOKEN': 'secret', 'DB_PASSWORD': 'secret', 'LOG_LEVEL': 'not-secret'}
    assert (db['file'], db['line'], db['env_file']) == ('inc/db.yml', 2, ['inc/db.env'])
    assert db['environment']['POSTGRES_USER'] == {'class': 'not-secret', 'length': 3}
    secret = dict((s['key'], s) for s in api['secret_env'])
    assert (secret['DB_PASSWORD']['file'], secret['DB_PASSWORD']['line']) == ('common/base.yml', 5)
    kinds = dict((f['path'], (f['kind'], f['active'])) for f in facts['files'])
    assert kinds == {'compose.yaml': ('main', True), 'inc/db.yml': ('include', True),
                     'common/base.yml': ('extends', True)}
    assert 'hunter2secret' not in json.dumps(facts)


def test_gather_value_problem_names_file_and_line(tmp_path):
    (tmp_path / 'compose.yaml').write_text('services:\n  api:\n    image: x\n    ports: ["8080:80"]\n')
    (tmp_path / 'compose.override.yaml').write_text('services:\n  api:\n    mem_limit: lots\n    ports:\n'
                                                    '      - "not-a-port"\n')
    facts = cm.gather(str(tmp_path), use_cli=False, environ={})
    problems = facts['services']['api']['problems']
    assert sorted((p['key'], p['file'], p['line']) for p in problems) == [
        ('mem_limit', 'compose.override.yaml', 3), ('ports', 'compose.override.yaml', 4)]
    assert [p['published'] for p in facts['services']['api']['ports']] == [8080]
    assert 'not-a-port' not in json.dumps(problems)


def test_gather_without_project_reports_no_project(tmp_path):
    (tmp_path / 'docker-compose.dev.yml').write_text('services:\n  a:\n    image: x\n')
    facts = cm.gather(str(tmp_path), use_cli=False, environ={})
    assert facts['active_files'] == [] and facts['services'] == {}
    (err,) = facts['errors']
    assert err['kind'] == 'no-project' and 'docker-compose.dev.yml' in err['message']


def test_walk_project_fs_skips_vendored_dirs(tmp_path):
    for d in ('.git', 'node_modules/pkg', 'app'):
        (tmp_path / d).mkdir(parents=True)
    (tmp_path / '.git' / 'config').write_text('x')
    (tmp_path / 'node_modules' / 'pkg' / 'docker-compose.yml').write_text('services: {}\n')
    (tmp_path / 'app' / 'Dockerfile').write_text('FROM x\n')
    (tmp_path / 'compose.yaml').write_text('services: {}\n')
    paths, skipped = cm.walk_project_fs(str(tmp_path))
    assert sorted(paths) == ['app/Dockerfile', 'compose.yaml']
    assert sorted(skipped) == ['.git', 'node_modules']


def test_gather_lists_skipped_and_data_dirs(tmp_path):
    (tmp_path / '.git').mkdir()
    (tmp_path / 'data' / 'x').mkdir(parents=True)
    (tmp_path / 'data' / 'x' / 'docker-compose.yml').write_text('services: {}\n')   # a container's data
    (tmp_path / 'compose.yaml').write_text('services:\n  a:\n    image: x\n    volumes: [./data:/data]\n')
    facts = cm.gather(str(tmp_path), use_cli=False, environ={})
    assert facts['skipped_dirs'] == ['.git', 'data']
    assert [f['path'] for f in facts['files']] == ['compose.yaml']


# --- volumes ------------------------------------------------------------------------------------

def test_top_level_volumes_keeps_declared_ones_the_model_dropped():
    declared = {'pgdata': {}, 'old': None, 'ext': {'external': True, 'name': 'real-ext'}}
    model = {'volumes': {'pgdata': {'name': 'proj_pgdata'}}}   # Compose's model: only mounted volumes
    assert cm.top_level_volumes(model, 'proj', declared) == {
        'pgdata': {'external': False, 'name': 'proj_pgdata'}, 'old': {'external': False, 'name': 'proj_old'},
        'ext': {'external': True, 'name': 'real-ext'}}
    assert cm.top_level_volumes({}, 'proj') == {}


def test_declared_volumes_from_sources_interpolated(tmp_path):
    (tmp_path / 'compose.yaml').write_text('include: [inc.yml]\nservices: {}\nvolumes:\n  a: {name: "${VOL}"}\n')
    (tmp_path / 'inc.yml').write_text('services: {}\nvolumes:\n  b: {}\n')
    sources = cm.load_sources(str(tmp_path), ['compose.yaml'], {},
                              lambda rel: cm.load_compose_file_fs(str(tmp_path), rel))
    assert cm.declared_volumes(sources, {'VOL': 'real-a'}) == {'a': {'name': 'real-a'}, 'b': {}}


# --- docker compose config (through an injected runner) --------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('time="2024-01-01T00:00:00Z" level=warning msg="The \\"X\\" variable is not set. Defaulting to a blank '
     'string."\nservice "a" refers to undefined volume x: invalid compose project\n',
     'service "a" refers to undefined volume x: invalid compose project'),
    ('time="t" level=warning msg="w"\ntime="t" level=fatal msg="boom"\n', 'boom'),
    ('first error\n\ntime="t" level=info msg="later info"\n', 'first error'),
    ('time="t" level=warning msg="only a warning"\n', 'time="t" level=warning msg="only a warning"'),
    ('', ''),
    (None, ''),
])
def test_compose_error_line(text, expected):
    assert cm.compose_error_line(text) == expected


@pytest.fixture
def docker_bin(tmp_path):
    path = tmp_path / 'bin' / 'docker'
    path.parent.mkdir()
    path.write_text('#!/bin/sh\nexit 99\n')   # never run: every test injects its runner
    return str(path)


def test_run_compose_config_with_runner(docker_bin):
    calls = []

    def runner(cmd, env, timeout):
        calls.append((cmd, env))
        return 0, json.dumps({'name': 'p', 'services': {'a': {'image': 'x'}}}), ''

    model, err = cm.run_compose_config('/p', ['/p/compose.yaml', '/p/o.yml'], {'COMPOSE_PROFILES': 'x'},
                                       docker_bin=docker_bin, runner=runner)
    assert err is None and model['services'] == {'a': {'image': 'x'}}
    cmd, env = calls[0]
    assert cmd == [docker_bin, 'compose', '--project-directory', '/p', '-f', '/p/compose.yaml', '-f', '/p/o.yml',
                   '--profile', '*', 'config', '--format', 'json']
    assert env['COMPOSE_FILE'] == os.pathsep.join(['/p/compose.yaml', '/p/o.yml']) and 'COMPOSE_PROFILES' not in env
    assert env['GOGC'] == '400'     # the short-lived Go CLI collects less often (a third less CPU)
    cm.run_compose_config('/p', [], {'GOGC': '100'}, docker_bin=docker_bin, runner=runner)
    assert calls[1][1]['GOGC'] == '100'     # the user's own setting is kept


@pytest.mark.parametrize('result, expected', [
    ((1, '', 'time="t" level=warning msg="w"\nyaml: line 3: did not find expected key\n'),
     'yaml: line 3: did not find expected key'),
    ((1, '', "docker: 'compose' is not a docker command.\n"), 'docker CLI not found'),
    ((0, 'not json', ''), 'docker compose config returned invalid JSON'),
    ((0, '[1]', ''), 'docker compose config returned no model'),
    ((3, '', ''), 'exit code 3'),
])
def test_run_compose_config_errors(docker_bin, result, expected):
    model, err = cm.run_compose_config('/p', ['/p/compose.yaml'], {}, docker_bin=docker_bin,
                                       runner=lambda cmd, env, timeout: result)
    assert model is None and err == expected


def test_run_compose_config_runner_oserror(docker_bin):
    def runner(cmd, env, timeout):
        raise OSError('exec format error')
    assert cm.run_compose_config('/p', [], {}, docker_bin=docker_bin, runner=runner) == (
        None, 'docker compose config could not run: OSError')


def test_run_compose_config_without_docker(tmp_path):
    assert cm.run_compose_config('/p', [], {}, docker_bin=str(tmp_path / 'nope')) == (None, 'docker CLI not found')


def test_cli_error_location():
    rels = ['compose.yaml', 'inc/db.yml']
    assert cm.cli_error_location('yaml: line 3: bad', '/p', rels) == (None, 3)
    assert cm.cli_error_location('/p/inc/db.yml: yaml: line 7: bad', '/p', rels) == ('inc/db.yml', 7)
    assert cm.cli_error_location('validating compose.yaml: services.a additional property', '/p', rels) == \
        ('compose.yaml', None)


def test_gather_uses_composes_model_through_runner(tmp_path, docker_bin):
    (tmp_path / 'compose.yaml').write_text('name: proj\nservices:\n  api:\n    image: x\n    volumes: [used:/d]\n'
                                           'volumes:\n  used: {}\n  unused: {}\n')
    model = {'name': 'proj', 'services': {'api': {'image': 'from-cli', 'ports': [
        {'mode': 'ingress', 'target': 8000, 'protocol': 'tcp'},
        {'mode': 'ingress', 'target': 8001, 'protocol': 'tcp'}],
        'volumes': [{'type': 'volume', 'source': 'used', 'target': '/d'}]}},
        'volumes': {'used': {'name': 'proj_used'}}}
    facts = cm.gather(str(tmp_path), environ={}, docker_bin=docker_bin,
                      runner=lambda cmd, env, timeout: (0, json.dumps(model), ''))
    assert facts['model_source'] == 'cli' and facts['cli_error'] is None
    api = facts['services']['api']
    assert api['image'] == 'from-cli' and (api['file'], api['line']) == ('compose.yaml', 3)
    assert [(p['target'], p['target_end'], p['ephemeral']) for p in api['ports']] == [(8000, 8001, True)]
    assert facts['volumes'] == {'used': {'external': False, 'name': 'proj_used'},
                                'unused': {'external': False, 'name': 'proj_unused'}}


def test_gather_cli_error_is_redacted_and_located(tmp_path, docker_bin):
    (tmp_path / 'compose.yaml').write_text('services:\n  api:\n    image: x\n')
    (tmp_path / '.env').write_text('DB_PASSWORD=hunter2secret\n')
    err = ('time="t" level=warning msg="w"\n%s/compose.yaml: line 2: service api: password hunter2secret '
           'refused\n' % tmp_path)
    facts = cm.gather(str(tmp_path), environ={}, docker_bin=docker_bin,
                      runner=lambda cmd, env, timeout: (1, '', err))
    assert facts['model_source'] == 'yaml'
    assert 'hunter2secret' not in json.dumps(facts)
    (e,) = facts['errors']
    assert (e['file'], e['line']) == ('compose.yaml', 2) and e['message'].startswith('docker compose config: ')


def test_oversized_file_is_refused_and_compose_not_run(tmp_path):
    (tmp_path / 'compose.yaml').write_text('services:\n  web:\n    image: x\n' + '# pad\n' * 100)
    calls = []

    def runner(cmd, env, timeout):
        calls.append(cmd)
        return 0, '{"services": {}}', ''
    facts = cm.gather(str(tmp_path), environ={}, runner=runner, docker_bin='/bin/true', limits={'max_bytes': 64})
    assert calls == []   # Compose is not started on a file we refused
    assert 'refused:' in facts['errors'][0]['message'] and facts['errors'][0]['file'] == 'compose.yaml'
    assert facts['cli_error'].startswith('not run:')


def test_normalize_service_carries_the_isolation_facts():
    svc = {'image': 'x', 'security_opt': ['apparmor:unconfined'], 'cap_drop': ['ALL'], 'pid': 'host',
           'devices': ['/dev/fuse'], 'read_only': 'true', 'pids_limit': 64, 'restart': 'on-failure:3'}
    out = cm.normalize_service('x', svc, '/proj')
    assert out['problems'] == []
    assert (out['security_opt'], out['cap_drop'], out['pid'], out['read_only'], out['pids_limit']) == (
        ['apparmor:unconfined'], ['ALL'], 'host', True, 64)
    assert out['devices'] == [{'source': '/dev/fuse', 'target': '/dev/fuse', 'permissions': 'rwm'}]
    assert out['restart_policy'] == {'name': 'on-failure', 'max_retries': 3, 'source': 'restart'}
