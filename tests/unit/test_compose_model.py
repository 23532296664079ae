import os

import pytest

from ansible.module_utils.compose_doctor import compose_model as cm
from ansible.module_utils.compose_doctor.redact import MASK

PATTERNS = ['PASSWORD', 'PASS', 'SECRET', 'TOKEN', 'API_KEY', 'AUTH']
CREDS = ['admin', 'password', 'changeme', 'postgres', 'root']


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
    assert cm.default_override_file('compose.yaml', PATHS) is None


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


# --- YAML loading -----------------------------------------------------------------------------

GOOD = """\
x-env: &env
  LOG_LEVEL: info
  API_TOKEN: abc
services:
  api:
    image: api
    environment:
      <<: *env
      DB_PASSWORD: ${DB_PASSWORD}
  worker:
    image: w
    environment:
      - REDIS_PASS=literal
"""


def test_load_compose_text_lines_and_merge_keys():
    data, index = cm.load_compose_text(GOOD, 'docker-compose.yml')
    assert data['services']['api']['environment'] == {'LOG_LEVEL': 'info', 'API_TOKEN': 'abc',
                                                     'DB_PASSWORD': '${DB_PASSWORD}'}
    assert index['services'] == {'api': 5, 'worker': 10}
    assert index['env']['api'] == {'LOG_LEVEL': 2, 'API_TOKEN': 3, 'DB_PASSWORD': 9}
    assert index['env']['worker'] == {'REDIS_PASS': 13}


@pytest.mark.parametrize('text, line, column, fragment', [
    ('services:\n  api:\n    image: x\n   bad: 1\n', 4, 4, 'did not find expected key'),
    ('services:\n  api:\n    image: x: y\n', 3, 13, 'mapping values are not allowed'),
    ('services: {a: [1, 2}\n', 1, 20, "expected ',' or ']'"),
    ('- a\n- b\n', 1, 1, 'top-level must be a mapping'),
    ('services:\n  - a\n', 1, 1, "'services' must be a mapping"),
])
def test_load_compose_text_errors(text, line, column, fragment):
    with pytest.raises(cm.ComposeFileError) as exc:
        cm.load_compose_text(text, 'docker-compose.dev.yml')
    err = exc.value.as_dict()
    assert err['file'] == 'docker-compose.dev.yml'
    assert (err['line'], err['column']) == (line, column)
    assert fragment in err['message']
    assert err['message'].startswith('docker-compose.dev.yml line %d, column %d: ' % (line, column))


def test_yaml_error_never_contains_source_text():
    text = 'services:\n  api:\n    environment:\n      DB_PASSWORD: hunter2: x\n'
    with pytest.raises(cm.ComposeFileError) as exc:
        cm.load_compose_text(text, 'c.yml')
    assert 'hunter2' not in str(exc.value)


def test_empty_file_is_empty_model():
    assert cm.load_compose_text('', 'c.yml')[0] == {}


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
                      'INLINE': 'value', 'EMPTY': '', 'BARE': None, 'URL': 'postgres://u:p@h/db'}
    assert [e['line'] for e in entries][:2] == [2, 3]


@pytest.mark.parametrize('text, expected', [
    ('${A}', 'a'), ('$A-x', 'a-x'), ('${UNSET:-def}', 'def'), ('${EMPTY:-def}', 'def'), ('${EMPTY-def}', ''),
    ('${UNSET-def}', 'def'), ('${A:+alt}', 'alt'), ('${UNSET:+alt}', ''), ('$$A', '$A'), ('${UNSET}', ''),
    ('${UNSET:-${A}}', 'a'), ('pre-${A}-post', 'pre-a-post'), ('${UNSET:?must be set}', ''), ('100$', '100$'),
    ('image:${TAG:-latest}', 'image:latest'),
])
def test_interpolate_string(text, expected):
    assert cm.interpolate_string(text, {'A': 'a', 'EMPTY': ''}) == expected


def test_interpolate_structure_reports_missing():
    missing = []
    out = cm.interpolate({'a': ['${X}', 1, {'b': '$Y'}]}, {'Y': 'y'}, missing)
    assert out == {'a': ['', 1, {'b': 'y'}]}
    assert missing == ['X']


@pytest.mark.parametrize('value, expected', [
    ('${PW}', True), ('$PW', True), ('pre${PW}', True), ('admin', False), ('pa$$word', False), (None, False), (5, False),
])
def test_has_reference(value, expected):
    assert cm.has_reference(value) is expected


# --- merge ------------------------------------------------------------------------------------

def test_merge_service_rules():
    base = {'image': 'a', 'environment': ['A=1', 'B=2'], 'ports': ['80:80'], 'volumes': ['d:/data', './x:/x'],
            'command': ['run', 'a'], 'logging': {'driver': 'json-file', 'options': {'max-size': '1m'}},
            'depends_on': ['db'], 'build': './api', 'env_file': '.env'}
    over = {'image': 'b', 'environment': {'B': '3', 'C': '4'}, 'ports': ['81:81', '80:80'],
            'volumes': ['other:/data'], 'command': ['run'], 'logging': {'options': {'max-file': '3'}},
            'depends_on': {'cache': {'condition': 'service_healthy'}}, 'build': {'dockerfile': 'D'},
            'env_file': ['.env', 'b.env']}
    out = cm.merge_service(base, over)
    assert out['image'] == 'b'
    assert out['environment'] == {'A': '1', 'B': '3', 'C': '4'}
    assert out['ports'] == ['80:80', '81:81']
    assert out['volumes'] == ['other:/data', './x:/x']
    assert out['command'] == ['run']
    assert out['logging'] == {'driver': 'json-file', 'options': {'max-size': '1m', 'max-file': '3'}}
    assert sorted(out['depends_on']) == ['cache', 'db']
    assert out['build'] == {'context': './api', 'dockerfile': 'D'}
    assert [e['path'] for e in out['env_file']] == ['.env', 'b.env']


def test_merge_logging_other_driver_replaces():
    out = cm.merge_service({'logging': {'driver': 'json-file', 'options': {'max-size': '1m'}}},
                           {'logging': {'driver': 'syslog'}})
    assert out['logging'] == {'driver': 'syslog'}


def test_merge_documents_ignores_extensions_and_adds_services():
    docs = [{'x-a': {'k': 1}, 'services': {'a': {'image': 'a'}}, 'volumes': {'v': {}}},
            {'services': {'a': {'user': '1000'}, 'b': {'image': 'b'}}, 'volumes': {'w': None}}]
    model = cm.merge_documents(docs)
    assert 'x-a' not in model
    assert model['services'] == {'a': {'image': 'a', 'user': '1000'}, 'b': {'image': 'b'}}
    assert sorted(model['volumes']) == ['v', 'w']


def test_resolve_extends_same_file():
    services = {'base': {'image': 'py', 'environment': {'A': '1'}, 'depends_on': ['db']},
                'agent': {'extends': {'service': 'base'}, 'environment': {'B': '2'}}}
    out = cm.resolve_extends(services)
    assert out['agent']['image'] == 'py'
    assert out['agent']['environment'] == {'A': '1', 'B': '2'}
    assert 'extends' not in out['agent']


@pytest.mark.parametrize('name, expected', [('My Project', 'myproject'), ('_x.y-Z', 'xy-z'), ('lab', 'lab')])
def test_normalize_project_name(name, expected):
    assert cm.normalize_project_name(name) == expected


# --- normalisation ----------------------------------------------------------------------------

@pytest.mark.parametrize('spec, expected', [
    ('80', [('', None, 80, 'tcp')]),
    ('8000:80', [('', 8000, 80, 'tcp')]),
    ('127.0.0.1:5432:5432/tcp', [('127.0.0.1', 5432, 5432, 'tcp')]),
    ('127.0.0.1::90', [('127.0.0.1', None, 90, 'tcp')]),
    ('[::1]:53:53/udp', [('::1', 53, 53, 'udp')]),
    ('0.0.0.0:6379:6379', [('0.0.0.0', 6379, 6379, 'tcp')]),
    ('7000-7001:7000-7001', [('', 7000, 7000, 'tcp'), ('', 7001, 7001, 'tcp')]),
    ('8000-8001:80', [('', 8000, 80, 'tcp')]),
    (9000, [('', None, 9000, 'tcp')]),
])
def test_normalize_ports_short(spec, expected):
    got = [(p['host_ip'], p['published'], p['target'], p['protocol']) for p in cm.normalize_ports([spec])]
    assert got == expected


def test_normalize_ports_long_and_cli_shape():
    ports = [{'target': 80, 'published': '8080', 'host_ip': '0.0.0.0', 'protocol': 'udp'},
             {'mode': 'ingress', 'target': 9000, 'protocol': 'tcp'},
             {'target': 80, 'published': 8081}]
    assert cm.normalize_ports(ports) == [
        {'host_ip': '0.0.0.0', 'published': 8080, 'target': 80, 'protocol': 'udp'},
        {'host_ip': '', 'published': None, 'target': 9000, 'protocol': 'tcp'},
        {'host_ip': '', 'published': 8081, 'target': 80, 'protocol': 'tcp'},
    ]


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
    assert cm.memory_limits(svc) == expected


def test_normalize_mounts():
    vols = ['./data:/data:ro', 'named:/var/lib', '/anon', '~/x:/y:ro,z', '/abs:/abs',
            {'type': 'bind', 'source': './conf', 'target': '/conf', 'read_only': True},
            {'type': 'volume', 'source': 'v', 'target': '/v'}, {'type': 'tmpfs', 'target': '/t'}]
    out = cm.normalize_mounts(vols, '/run', '/proj', home='/home/u')
    assert out == [
        {'type': 'bind', 'source': '/proj/data', 'target': '/data', 'read_only': True},
        {'type': 'volume', 'source': 'named', 'target': '/var/lib', 'read_only': False},
        {'type': 'volume', 'source': None, 'target': '/anon', 'read_only': False},
        {'type': 'bind', 'source': '/home/u/x', 'target': '/y', 'read_only': True},
        {'type': 'bind', 'source': '/abs', 'target': '/abs', 'read_only': False},
        {'type': 'bind', 'source': '/proj/conf', 'target': '/conf', 'read_only': True},
        {'type': 'volume', 'source': 'v', 'target': '/v', 'read_only': False},
        {'type': 'tmpfs', 'source': None, 'target': '/t', 'read_only': False},
        {'type': 'tmpfs', 'source': None, 'target': '/run', 'read_only': False},
    ]


@pytest.mark.parametrize('hc, expected', [
    (None, None),
    ({'test': 'curl -f http://localhost/'}, {'test': ['CMD-SHELL', 'curl -f http://localhost/'], 'disabled': False}),
    ({'test': ['CMD', 'true']}, {'test': ['CMD', 'true'], 'disabled': False}),
    ({'disable': True}, {'test': None, 'disabled': True}),
    ({'test': ['NONE']}, {'test': ['NONE'], 'disabled': True}),
])
def test_normalize_healthcheck(hc, expected):
    assert cm.normalize_healthcheck(hc) == expected


def test_healthcheck_secrets_are_masked():
    hc = {'test': ['CMD-SHELL', 'redis-cli -a hunter22 ping && curl http://u:pw99@h/']}
    out = cm.normalize_healthcheck(hc, PATTERNS, {'hunter22'})
    assert 'hunter22' not in str(out) and 'pw99' not in str(out)


def test_normalize_service_masks_environment_and_build():
    svc = {'image': 'x', 'user': 1000, 'group_add': [999], 'environment': ['DB_PASSWORD=hunter2', 'PLAIN=1',
                                                                          'DSN=postgres://a:pw@h/d', 'BARE'],
           'build': {'context': './agents/a', 'dockerfile': 'Dockerfile.gpu'}, 'env_file': './a.env',
           'depends_on': {'db': {'condition': 'service_healthy'}}, 'privileged': True}
    out = cm.normalize_service('x', svc, '/proj', env_lookup={'BARE': 'b'}, patterns=PATTERNS)
    assert out['environment'] == {'BARE': 'b', 'DB_PASSWORD': MASK, 'DSN': 'postgres://a:********@h/d', 'PLAIN': '1'}
    assert out['user'] == '1000' and out['group_add'] == ['999'] and out['privileged'] is True
    assert out['build'] == {'context': 'agents/a', 'dockerfile': 'agents/a/Dockerfile.gpu', 'requirements': []}
    assert out['env_file'] == ['a.env']
    assert out['depends_on'] == ['db']


def test_normalize_build_absolute_cli_context():
    assert cm.normalize_build({'context': '/proj/api', 'dockerfile': 'Dockerfile'}, '/proj') == \
        {'context': 'api', 'dockerfile': 'api/Dockerfile', 'requirements': []}


# --- secrets ----------------------------------------------------------------------------------

def test_service_secret_env():
    data, index = cm.load_compose_text(GOOD, 'docker-compose.yml')
    docs = [('docker-compose.yml', data, index)]
    api = cm.service_secret_env(docs, 'api', {'DB_PASSWORD': 'postgres'}, PATTERNS, CREDS)
    assert api == [
        {'key': 'API_TOKEN', 'literal': True, 'default_credential': False, 'empty': False, 'masked': MASK,
         'file': 'docker-compose.yml', 'line': 3},
        {'key': 'DB_PASSWORD', 'literal': False, 'default_credential': True, 'empty': False, 'masked': MASK,
         'file': 'docker-compose.yml', 'line': 9},
    ]
    worker = cm.service_secret_env(docs, 'worker', {}, PATTERNS, CREDS)
    assert worker[0]['key'] == 'REDIS_PASS' and worker[0]['literal'] is True and worker[0]['line'] == 13


def test_env_file_secrets():
    entries = cm.parse_env_entries(ENV_TEXT + 'GF_PASSWORD=${UNSET:-admin}\nDB_PASSWORD_FILE=/run/secrets/x\n')
    out = cm.env_file_secrets(entries, {}, PATTERNS, CREDS)
    by_key = dict((s['key'], s) for s in out)
    assert set(by_key) == {'DB_PASSWORD', 'GF_ADMIN_PASSWORD', 'GF_PASSWORD'}
    assert by_key['GF_ADMIN_PASSWORD']['default_credential'] is True
    assert by_key['GF_PASSWORD'] == {'key': 'GF_PASSWORD', 'literal': False, 'default_credential': True,
                                     'empty': False, 'masked': MASK, 'line': 10}
    assert 'hunter2' not in str(out) and 'admin' not in str([s['masked'] for s in out])


# --- Dockerfile -> requirements ---------------------------------------------------------------

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
    assert cm.dockerfile_requirement_refs(DOCKERFILE) == [
        'requirements.txt', 'requirements-dev.txt', 'requirements/prod.txt']


def test_candidate_paths():
    assert cm.candidate_paths('/app/reqs/prod.txt') == ['app/reqs/prod.txt', 'reqs/prod.txt', 'prod.txt']


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
    packages, includes = cm.parse_requirements(REQS)
    assert packages == ['requests', 'pyyaml', 'flask', 'python-dateutil', 'zope-interface', 'my-pkg', 'mylib',
                        'opencv-python-headless']
    assert includes == ['base.txt']


@pytest.mark.parametrize('name, expected', [('PyYAML', 'pyyaml'), ('python_dateutil', 'python-dateutil'),
                                            ('zope.interface', 'zope-interface'), ('A__b--C', 'a-b-c')])
def test_normalize_dist_name(name, expected):
    assert cm.normalize_dist_name(name) == expected


def test_requirements_for_build_fs(tmp_path):
    ctx = tmp_path / 'agents' / 'a'
    (ctx / 'requirements').mkdir(parents=True)
    (ctx / 'Dockerfile').write_text(DOCKERFILE)
    (ctx / 'requirements.txt').write_text('requests\n-r base.txt\n')
    (ctx / 'base.txt').write_text('PyYAML\n')
    (ctx / 'requirements' / 'prod.txt').write_text('psutil>=5.9\n')
    build = cm.normalize_build({'context': 'agents/a'}, str(tmp_path))
    out = cm.requirements_for_build_fs(str(tmp_path), build)
    assert out['requirements'] == [
        {'path': 'agents/a/requirements.txt', 'packages': ['requests', 'pyyaml']},
        {'path': 'agents/a/requirements/prod.txt', 'packages': ['psutil']},
    ]


def test_file_facts_fs(tmp_path):
    f = tmp_path / '.env'
    f.write_text('A=1\n')
    os.chmod(str(f), 0o640)
    facts = cm.file_facts_fs(str(tmp_path), '.env')
    assert facts['mode'] == '0640' and facts['group_readable'] is True and facts['world_readable'] is False
    assert facts['exists'] is True and facts['owner']
    assert cm.file_facts_fs(str(tmp_path), 'missing')['exists'] is False


def test_active_profiles_from_dotenv(tmp_path, monkeypatch):
    from ansible.module_utils.compose_doctor import compose_model

    monkeypatch.delenv("COMPOSE_PROFILES", raising=False)
    (tmp_path / "compose.yaml").write_text("services:\n  web:\n    image: x\n  old:\n    image: y\n    profiles: [parked]\n")
    (tmp_path / ".env").write_text("COMPOSE_PROFILES=debug, parked\n")
    facts = compose_model.gather(str(tmp_path), use_cli=False)
    assert facts["active_profiles"] == ["debug", "parked"]
