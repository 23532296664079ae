import functools
import json
import os
import shutil
import stat
import subprocess

import pytest

import compose_facts

MAIN = """\
name: sample
x-defaults: &defaults
  restart: unless-stopped
  logging:
    driver: json-file
    options: {max-size: 10m, max-file: "3"}
x-unused-field: {anything: [1, 2]}
services:
  api:
    <<: *defaults
    image: api:${TAG:-latest}
    build:
      context: ./api
    user: "1000:1000"
    ports:
      - "8000:8000"
      - "127.0.0.1:5433:5432/tcp"
      - "9000"
      - target: 80
        published: "8080"
        host_ip: 0.0.0.0
        protocol: udp
    mem_limit: 512m
    mem_reservation: 128m
    environment:
      DB_PASSWORD: ${DB_PASSWORD}
      GF_ADMIN_PASSWORD: ${GF_ADMIN_PASSWORD:-admin}
      PLAIN: hello
    env_file: [app.env]
    volumes:
      - ./data:/data:ro
      - pgdata:/var/lib/x
      - /var/run/docker.sock:/var/run/docker.sock
    healthcheck:
      test: curl -f http://localhost:8000/health
    depends_on: [db]
  db:
    <<: *defaults
    image: postgres:16
    deploy:
      resources:
        limits: {memory: 1.5G}
        reservations: {memory: 256M}
    environment:
      - POSTGRES_PASSWORD=postgres
      - POSTGRES_USER
    ports: ["0.0.0.0:5432:5432"]
    volumes: [pgdata:/var/lib/postgresql/data]
  debug:
    image: busybox
    profiles: [debug]
    privileged: true
    group_add: [999]
volumes:
  pgdata: {}
  old_pgdata: {}
  ext: {external: true, name: real-ext}
"""

OVERRIDE = """\
services:
  db:
    ports: ["127.0.0.1:6432:5432"]
    environment:
      EXTRA: "1"
  kong:
    image: kong-standin
    profiles: [mesh]
"""

SECRET_VALUES = ('hunter2secret', 'tok3n-value-xyz', 'postgres')


@pytest.fixture
def project(tmp_path):
    (tmp_path / 'docker-compose.yml').write_text(MAIN)
    (tmp_path / 'docker-compose.override.yml').write_text(OVERRIDE)
    (tmp_path / 'docker-compose.monitoring.yml').write_text('services:\n  prometheus:\n    image: prom\n')
    (tmp_path / 'docker-compose.broken.yml').write_text('services:\n  a:\n    image: x\n   b: 1\n')
    (tmp_path / '.env').write_text('TAG=v1\nDB_PASSWORD=hunter2secret\n')
    os.chmod(str(tmp_path / '.env'), 0o644)
    (tmp_path / 'app.env').write_text('API_TOKEN=tok3n-value-xyz\n')
    (tmp_path / 'secrets').mkdir()
    (tmp_path / 'secrets' / 'db_password').write_text('x')
    os.chmod(str(tmp_path / 'secrets' / 'db_password'), 0o600)
    api = tmp_path / 'api'
    api.mkdir()
    (api / 'Dockerfile').write_text('FROM base\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n')
    (api / 'requirements.txt').write_text('requests>=2\nPyYAML\n')
    (tmp_path / 'data').mkdir()
    return tmp_path


def assert_no_secret(text):
    for value in SECRET_VALUES[:2]:
        assert value not in text


HAS_COMPOSE = shutil.which('docker') is not None


@pytest.fixture
def compose_cli(monkeypatch, tmp_path_factory):
    """compose_facts with ``docker compose config`` run through an injected runner, never against an
    engine: DOCKER_HOST points at a socket that does not exist (``config`` needs no daemon)."""
    sock = tmp_path_factory.mktemp('no-engine') / 'docker.sock'
    calls = []

    def runner(cmd, env, timeout):
        assert cmd[1:2] == ['compose'] and 'config' in cmd
        calls.append(cmd)
        env = dict(env, DOCKER_HOST='unix://%s' % sock)
        env.pop('DOCKER_CONTEXT', None)
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        return proc.returncode, proc.stdout.decode('utf-8', 'replace'), proc.stderr.decode('utf-8', 'replace')

    monkeypatch.setattr(compose_facts.compose_model, 'gather',
                        functools.partial(compose_facts.compose_model.gather, runner=runner))
    return calls


def _port(host_ip, published, target, protocol='tcp'):
    return {'host_ip': host_ip, 'published': published, 'published_end': published, 'target': target,
            'target_end': target, 'protocol': protocol, 'all_interfaces': host_ip in ('', '0.0.0.0'),
            'ephemeral': published is None}


@pytest.mark.skipif(not HAS_COMPOSE, reason='docker CLI not installed')
def test_cli_model(project, run_module, compose_cli):
    out = run_module(compose_facts, {'project_dir': str(project)})
    assert not out.get('failed', False)
    assert out['changed'] is False
    compose = out['compose']
    assert compose['model_source'] == 'cli', compose['cli_error']
    assert compose_cli, 'the runner was not used'
    check_sample(compose, project)
    assert_no_secret(json.dumps(out))


def test_yaml_fallback_model(project, run_module):
    out = run_module(compose_facts, {'project_dir': str(project), 'use_cli': False})
    assert not out.get('failed', False)
    compose = out['compose']
    assert compose['model_source'] == 'yaml'
    check_sample(compose, project)
    assert_no_secret(json.dumps(out))


def check_sample(compose, project):
    assert compose['project'] == {'name': 'sample', 'dir': str(project)}
    assert compose['active_files'] == ['docker-compose.yml', 'docker-compose.override.yml']
    kinds = dict((f['path'], (f['kind'], f['active'])) for f in compose['files'])
    assert kinds == {'docker-compose.yml': ('main', True), 'docker-compose.override.yml': ('override', True),
                     'docker-compose.monitoring.yml': ('override', False),
                     'docker-compose.broken.yml': ('override', False)}
    assert compose['services_defined'] == ['api', 'db', 'debug', 'kong', 'prometheus']
    assert sorted(compose['services']) == ['api', 'db', 'debug', 'kong']
    api = compose['services']['api']
    assert (api['file'], api['line']) == ('docker-compose.yml', 9)
    assert api['image'] == 'api:v1'
    assert api['ports'] == [
        _port('', 8000, 8000),
        _port('127.0.0.1', 5433, 5432),
        _port('', None, 9000),
        _port('0.0.0.0', 8080, 80, 'udp')]
    assert api['problems'] == []
    assert (api['mem_limit_bytes'], api['mem_reservation_bytes'], api['limit_source']) == \
        (512 * 1024 ** 2, 128 * 1024 ** 2, 'mem_limit')
    assert api['environment']['DB_PASSWORD']['class'] == 'secret'
    assert api['environment']['API_TOKEN']['class'] == 'secret'  # from env_file
    assert api['environment']['PLAIN'] == {'class': 'not-secret', 'length': 5}   # never a value
    assert api['restart'] == 'unless-stopped'
    assert api['logging'] == {'driver': 'json-file', 'options': {'max-size': '10m', 'max-file': '3'}}
    assert api['healthcheck'] == {'test': ['CMD-SHELL', 'curl -f http://localhost:8000/health'], 'disabled': False}
    assert api['build']['requirements'] == [{'path': 'api/requirements.txt', 'packages': ['requests', 'pyyaml']}]
    assert api['env_file'] == ['app.env']
    assert {'type': 'bind', 'source': '/var/run/docker.sock', 'target': '/var/run/docker.sock',
            'read_only': False, 'propagation': None} in api['mounts']
    assert {'type': 'bind', 'source': str(project / 'data'), 'target': '/data', 'read_only': True,
            'propagation': None} in api['mounts']
    secret_env = dict((s['key'], s) for s in api['secret_env'])
    assert secret_env['DB_PASSWORD']['literal'] is False
    assert secret_env['GF_ADMIN_PASSWORD']['default_credential'] is True
    db = compose['services']['db']
    assert (db['mem_limit_bytes'], db['mem_reservation_bytes'], db['limit_source']) == (1610612736, 268435456, 'deploy')
    assert [p['published'] for p in db['ports']] == [5432, 6432]
    assert db['environment']['POSTGRES_PASSWORD']['class'] == 'default-credential'
    assert db['environment']['EXTRA'] == {'class': 'not-secret', 'length': 1}
    assert db['secret_env'][0]['literal'] is True and db['secret_env'][0]['default_credential'] is True
    debug = compose['services']['debug']
    assert debug['profiles'] == ['debug'] and debug['privileged'] is True and debug['group_add'] == ['999']
    assert compose['volumes'] == {'pgdata': {'external': False, 'name': 'sample_pgdata'},
                                  'old_pgdata': {'external': False, 'name': 'sample_old_pgdata'},
                                  'ext': {'external': True, 'name': 'real-ext'}}
    assert compose['dockerfiles'] == ['api/Dockerfile']
    envs = dict((e['path'], e) for e in compose['env_files'])
    assert envs['.env']['mode'] == '0644' and envs['.env']['world_readable'] is True
    assert [s['key'] for s in envs['.env']['secrets']] == ['DB_PASSWORD']
    assert [s['key'] for s in envs['app.env']['secrets']] == ['API_TOKEN']
    assert compose['secret_files'][0]['path'] == 'secrets/db_password'
    assert compose['secret_files'][0]['mode'] == '0600'
    assert compose['errors'] == [{'file': 'docker-compose.broken.yml', 'line': 4, 'column': 4,
                                  'message': 'docker-compose.broken.yml line 4, column 4: did not find expected key'
                                             ' (while parsing a block mapping)'}]


@pytest.mark.skipif(not HAS_COMPOSE, reason='docker CLI not installed')
def test_cli_and_fallback_agree(project, run_module, compose_cli):
    cli = run_module(compose_facts, {'project_dir': str(project)})
    fallback = run_module(compose_facts, {'project_dir': str(project), 'use_cli': False})
    assert cli['compose']['model_source'] == 'cli'
    assert fallback['compose']['model_source'] == 'yaml'
    for key in ('services', 'volumes', 'project', 'files', 'active_files', 'env_files', 'secret_files', 'errors',
                'skipped_dirs', 'services_defined', 'active_profiles'):
        assert cli['compose'][key] == fallback['compose'][key], key


def test_broken_active_file_falls_back(project, run_module, compose_cli):
    out = run_module(compose_facts, {'project_dir': str(project),
                                     'files': ['docker-compose.yml', 'docker-compose.broken.yml']})
    assert not out.get('failed', False)
    compose = out['compose']
    assert compose['model_source'] == 'yaml'
    assert sorted(compose['services']) == ['api', 'db', 'debug']
    assert compose['errors'][0]['file'] == 'docker-compose.broken.yml'
    assert_no_secret(json.dumps(out))


def test_compose_file_from_dotenv(project, run_module):
    with open(str(project / '.env'), 'a') as handle:
        handle.write('COMPOSE_FILE=docker-compose.yml:docker-compose.monitoring.yml\n')
    env_backup = os.environ.pop('COMPOSE_FILE', None)
    try:
        out = run_module(compose_facts, {'project_dir': str(project), 'use_cli': False})
    finally:
        if env_backup is not None:
            os.environ['COMPOSE_FILE'] = env_backup
    assert out['compose']['active_files'] == ['docker-compose.yml', 'docker-compose.monitoring.yml']
    assert 'prometheus' in out['compose']['services']


def test_missing_docker_falls_back(project, run_module, monkeypatch):
    monkeypatch.setenv('PATH', '/nonexistent')
    monkeypatch.setattr(compose_facts.compose_model, 'find_docker_fs', lambda docker_bin=None: None)
    out = run_module(compose_facts, {'project_dir': str(project)})
    assert out['compose']['model_source'] == 'yaml'
    assert out['compose']['cli_error'] == 'docker CLI not found'


def test_missing_project_dir_fails_clearly(tmp_path, run_module):
    out = run_module(compose_facts, {'project_dir': str(tmp_path / 'nope')})
    assert out.get('failed', False)
    assert out['failed'] is True
    assert 'does not exist' in out['msg'] and str(tmp_path / 'nope') in out['msg']


def test_project_dir_is_a_file(tmp_path, run_module):
    f = tmp_path / 'f'
    f.write_text('')
    out = run_module(compose_facts, {'project_dir': str(f)})
    assert out.get('failed', False) and 'not a directory' in out['msg']


def test_check_mode_is_read_only(project, run_module):
    before = sorted((p, os.stat(os.path.join(r, p)).st_mtime) for r, _d, fs in os.walk(str(project)) for p in fs)
    out = run_module(compose_facts, {'project_dir': str(project), 'use_cli': False}, check=True)
    after = sorted((p, os.stat(os.path.join(r, p)).st_mtime) for r, _d, fs in os.walk(str(project)) for p in fs)
    assert not out.get('failed', False) and out['changed'] is False and before == after


def test_empty_project(tmp_path, run_module):
    out = run_module(compose_facts, {'project_dir': str(tmp_path)})
    assert not out.get('failed', False)
    compose = out['compose']
    assert compose['files'] == [] and compose['services'] == {} and compose['active_files'] == []
    assert [e['kind'] for e in compose['errors']] == ['no-project']
    assert compose['project']['name'] == tmp_path.name.lower().replace('.', '') or compose['project']['name']


def test_world_readable_flag_changes_with_mode(project, run_module):
    os.chmod(str(project / '.env'), stat.S_IRUSR | stat.S_IWUSR)
    out = run_module(compose_facts, {'project_dir': str(project), 'use_cli': False})
    env = [e for e in out['compose']['env_files'] if e['path'] == '.env'][0]
    assert env['mode'] == '0600' and env['world_readable'] is False and env['group_readable'] is False


def test_a_project_that_cannot_be_read_is_a_finding_not_a_crash(project, run_module, monkeypatch):
    """Last resort: gather itself raises; the module still returns facts, with the (masked) reason."""
    def boom(*args, **kwargs):
        raise RuntimeError('unexpected state near API_TOKEN=s3cr3tvalue')
    monkeypatch.setattr(compose_facts.compose_model, 'gather', boom)
    out = run_module(compose_facts, {'project_dir': str(project), 'use_cli': False})
    assert not out.get('failed', False), out
    errors = out['compose']['errors']
    assert len(errors) == 1 and 'could not read the project: RuntimeError' in errors[0]['message']
    assert 's3cr3tvalue' not in str(out) and out['compose']['services'] == {}
    from ansible.module_utils.compose_doctor.analysis import rules
    from ansible.module_utils.compose_doctor.facts.docker_runtime import empty_runtime
    found = rules.evaluate(out['compose'], empty_runtime(None), {})
    assert 'compose-invalid' in {f['rule'] for f in found}


def test_without_pyyaml_says_what_is_missing_and_returns_empty_facts(tmp_path, run_module, monkeypatch):
    """A host whose Python lacks PyYAML: no failure, the library named, the interpreter named,
    the bootstrap offered, and the facts' shape kept so the audit goes on with the engine."""
    (tmp_path / 'compose.yaml').write_text('name: shop\nservices:\n  web:\n    image: nginx\n')
    monkeypatch.setattr(compose_facts.compose_model, 'HAS_YAML', False)
    # the project's name still comes from Compose (its JSON needs no YAML library), so the engine's
    # facts are those of the right project
    calls = []

    def compose(cmd, env, timeout, cwd=None):
        calls.append((cmd, cwd))
        return 0, '{"name": "shop", "services": {}}', ''
    monkeypatch.setattr(compose_facts.compose_model, 'find_docker_fs', lambda docker_bin=None: '/usr/bin/docker')
    monkeypatch.setattr(compose_facts.compose_model, '_run', compose)
    result = run_module(compose_facts, {'project_dir': str(tmp_path)})
    assert not result.get('failed')
    assert result['missing_libraries'] == ['PyYAML']
    facts = result['compose']
    assert facts['services'] == {} and facts['project']['name'] == 'shop'
    (cmd, cwd), = calls
    assert cmd[1:4] == ['compose', '--project-directory', str(tmp_path)] and cmd[-3:] == ['config', '--format', 'json']
    assert cwd == str(tmp_path)   # run from the project dir: .env's COMPOSE_FILE is relative to it
    message = facts['errors'][0]['message']
    assert 'PyYAML is not installed' in message and 'audit_bootstrap=true' in message


def test_without_pyyaml_or_compose_the_directory_names_the_project(tmp_path, run_module, monkeypatch):
    monkeypatch.setattr(compose_facts.compose_model, 'HAS_YAML', False)
    monkeypatch.setattr(compose_facts.compose_model, 'find_docker_fs', lambda docker_bin=None: None)
    (tmp_path / 'My.App').mkdir()
    result = run_module(compose_facts, {'project_dir': str(tmp_path / 'My.App')})
    assert result['compose']['project']['name'] == 'myapp'


def test_runtime_option_gathers_the_engine_of_the_project_found_in_the_same_call(tmp_path, run_module):
    """One module call per host: the runtime facts come back beside the compose facts, for the
    project this module found (its name, not the directory's), and a daemon that is not there is
    said plainly instead of failing the call."""
    (tmp_path / 'compose.yaml').write_text('name: shop\nservices:\n  web:\n    image: nginx\n')
    sock = tmp_path / 'no-such.sock'
    result = run_module(compose_facts, {'project_dir': str(tmp_path), 'use_cli': False,
                                        'runtime': {'docker_host': 'unix://%s' % sock}})
    assert result['compose']['project']['name'] == 'shop'
    docker = result['runtime']['docker']
    assert docker['reachable'] is False and 'socket not found' in docker['error']
    assert result['runtime']['containers'] == []


def test_runtime_option_refuses_out_of_range_values(tmp_path, run_module):
    (tmp_path / 'compose.yaml').write_text('services:\n  web:\n    image: nginx\n')
    result = run_module(compose_facts, {'project_dir': str(tmp_path), 'use_cli': False,
                                        'runtime': {'stats_workers': 0}})
    assert result['failed'] and result['msg'] == 'runtime: stats_workers must be >= 1, got 0'
