"""compose_values: service values parsed at the edge (ports, mounts, users, sizes, env shapes)."""
import pytest

from ansible.module_utils.compose_doctor.facts import compose_values as cv


def _port(host_ip='', published=None, target=80, protocol='tcp', published_end=None, target_end=None):
    """The full entry normalize_ports returns (single ports unless *_end is given)."""
    return {'host_ip': host_ip, 'published': published,
            'published_end': published_end if published_end is not None else published,
            'target': target, 'target_end': target_end if target_end is not None else target,
            'protocol': protocol, 'all_interfaces': cv.is_unspecified_address(host_ip),
            'ephemeral': published is None}


def _ports(items):
    problems = []
    out = cv.normalize_ports(items, problems)
    assert problems == []
    return out


# --- ports ------------------------------------------------------------------------------------

@pytest.mark.parametrize('spec, expected', [
    ('80', [('', None, 80, 'tcp')]),
    ('8000:80', [('', 8000, 80, 'tcp')]),
    ('127.0.0.1:5432:5432/tcp', [('127.0.0.1', 5432, 5432, 'tcp')]),
    ('127.0.0.1::90', [('127.0.0.1', None, 90, 'tcp')]),
    ('[::1]:53:53/udp', [('::1', 53, 53, 'udp')]),
    ('0.0.0.0:6379:6379', [('0.0.0.0', 6379, 6379, 'tcp')]),
    ('8000-8001:80', [('', 8000, 80, 'tcp')]),
    ('80/UDP', [('', None, 80, 'udp')]),
    (9000, [('', None, 9000, 'tcp')]),
])
def test_normalize_ports_short(spec, expected):
    got = [(p['host_ip'], p['published'], p['target'], p['protocol']) for p in _ports([spec])]
    assert got == expected


def test_container_only_port_is_ephemeral_on_all_interfaces():
    assert _ports(['80']) == [_port(target=80)]
    entry = _ports(['80'])[0]
    assert entry['ephemeral'] is True and entry['all_interfaces'] is True and entry['published'] is None


@pytest.mark.parametrize('items', [
    ['8000-8002'],
    # what `docker compose config` prints for "8000-8002": one entry per port
    [{'mode': 'ingress', 'target': t, 'protocol': 'tcp'} for t in (8000, 8001, 8002)],
])
def test_container_port_range_collapsed(items):
    assert _ports(items) == [_port(target=8000, target_end=8002)]


@pytest.mark.parametrize('items', [
    ['7000-7001:7000-7001'],
    [{'mode': 'ingress', 'target': 7000, 'published': '7000', 'protocol': 'tcp'},
     {'mode': 'ingress', 'target': 7001, 'published': '7001', 'protocol': 'tcp'}],
])
def test_published_range_collapsed(items):
    assert _ports(items) == [_port(published=7000, published_end=7001, target=7000, target_end=7001)]


def test_ranges_not_collapsed_across_gaps_or_interfaces():
    out = _ports(['80', '8000', '127.0.0.1:8001:8001', '8002:8002', '8004:8003'])
    assert [(p['target'], p['target_end']) for p in out] == [(80, 80), (8000, 8000), (8001, 8001), (8002, 8002),
                                                           (8003, 8003)]


def test_duplicates_dropped():
    assert _ports(['8080:80', '8080:80']) == [_port(published=8080, target=80)]


def test_normalize_ports_long_and_cli_shape():
    ports = [{'target': 80, 'published': '8080', 'host_ip': '0.0.0.0', 'protocol': 'udp'},
             {'mode': 'ingress', 'target': 9000, 'protocol': 'tcp'},
             {'target': 80, 'published': 8081}]
    assert _ports(ports) == [
        _port('0.0.0.0', 8080, 80, 'udp'),
        _port('', None, 9000),
        _port('', 8081, 80),
    ]


def test_long_syntax_without_published_is_ephemeral():
    assert _ports([{'target': 5432}]) == [_port(target=5432)]
    assert _ports([{'target': 5432, 'host_ip': '127.0.0.1'}]) == [_port('127.0.0.1', None, 5432)]


@pytest.mark.parametrize('published, host_ip', [
    ('127.0.0.1:8080', '127.0.0.1'),
    ('[::1]:8080', '::1'),      # Compose passes the brackets through; the entry holds the address only
    ('0.0.0.0:8080', '0.0.0.0'),
])
def test_long_syntax_published_with_address(published, host_ip):
    (entry,) = _ports([{'target': 80, 'published': published}])
    assert (entry['host_ip'], entry['published'], entry['target']) == (host_ip, 8080, 80)
    assert entry['all_interfaces'] is (host_ip == '0.0.0.0')


@pytest.mark.parametrize('spec, host_ip', [
    ('::0:8080:80', '::0'), ('[::]:8080:80', '::'), ('0:0:0:0:0:0:0:0:8080:80', '0:0:0:0:0:0:0:0'),
    ('[0:0:0:0:0:0:0:0]:8080:80', '0:0:0:0:0:0:0:0'), ('0.0.0.0:8080:80', '0.0.0.0'), ('8080:80', ''),
])
def test_unspecified_addresses_are_all_interfaces(spec, host_ip):
    (entry,) = _ports([spec])
    assert (entry['host_ip'], entry['published'], entry['target']) == (host_ip, 8080, 80)
    assert entry['all_interfaces'] is True


@pytest.mark.parametrize('spec', ['127.0.0.1::5000', '127.0.0.1:8080:80', '[::1]:8080:80', '10.0.0.5:8080:80'])
def test_specific_addresses_are_not_all_interfaces(spec):
    (entry,) = _ports([spec])
    assert entry['all_interfaces'] is False


def test_loopback_ephemeral():
    assert _ports(['127.0.0.1::5000']) == [_port('127.0.0.1', None, 5000)]


@pytest.mark.parametrize('host_ip, expected', [
    ('', True), (None, True), ('0.0.0.0', True), ('::', True), ('::0', True), ('[::]', True),
    ('0:0:0:0:0:0:0:0', True), ('127.0.0.1', False), ('::1', False), ('[::1]', False), ('localhost', False),
])
def test_is_unspecified_address(host_ip, expected):
    assert cv.is_unspecified_address(host_ip) is expected


@pytest.mark.parametrize('item, shape', [
    ('garbage', "str 'aaaaaaa'"),
    ('a:b:c', "str 'a:a:a'"),
    ('99999', "str '99999'"),
    ('1-2-3', "str '9-9-9'"),
    ('80/tcp/x', "str '99/aaa/a'"),
    ('[::1:80', "str '[::9:99'"),
    ('', "str ''"),
    (None, 'null'),
    (True, 'bool'),
    (3.5, 'float'),
    ([1], 'list of 1'),
    ({'published': 80}, 'mapping with keys published'),
    ({'target': 'x'}, 'mapping with keys target'),
    ({'target': 70000}, 'mapping with keys target'),
])
def test_garbage_port_is_a_problem_never_an_exception(item, shape):
    problems = []
    out = cv.normalize_ports(['8080:80', item], problems)
    assert out == [_port('', 8080, 80)]   # the readable one is kept
    assert problems == [{'key': 'ports', 'shape': shape, 'message': 'not a port mapping Compose can publish'}]


def test_ports_not_a_list():
    problems = []
    assert cv.normalize_ports(None, problems) == [] and problems == []
    assert cv.normalize_ports('80', problems) == [_port(target=80)]
    assert cv.normalize_ports({'x': 1}, problems) == []
    assert problems == [{'key': 'ports', 'shape': 'mapping with keys x',
                         'message': 'not a port mapping Compose can publish'}]


@pytest.mark.parametrize('entry, label', [
    (_port('', 8080, 80), '8080'),
    (_port('', 8000, 80, published_end=8002, target_end=82), '8000-8002'),
    (_port('', None, 80), 'ephemeral->80'),
    (_port('', None, 8000, target_end=8002), 'ephemeral->8000-8002'),
])
def test_port_label(entry, label):
    assert cv.port_label(entry) == label


# --- shape ------------------------------------------------------------------------------------

@pytest.mark.parametrize('value, expected', [
    (None, 'null'), (True, 'bool'), (5, 'int'), (1.5, 'float'), ({'b': 1, 'a': 2}, 'mapping with keys a, b'),
    ([1, 2], 'list of 2'), ('127.0.0.1:8080', "str '999.9.9.9:9999'"), ('x' * 50, 'str of 50 characters'),
])
def test_shape(value, expected):
    assert cv.shape(value) == expected


def test_shape_never_holds_the_value():
    assert 'hunter' not in cv.shape('hunter2') and '2' not in cv.shape('hunter2')


# --- mounts -----------------------------------------------------------------------------------

def _mount(mtype, source, target, read_only=False, propagation=None):
    return {'type': mtype, 'source': source, 'target': target, 'read_only': read_only, 'propagation': propagation}


def test_normalize_mounts():
    vols = ['./data:/data:ro', 'named:/var/lib', '/anon', '~/x:/y:ro,z', '/abs:/abs', '/h:/c:rshared',
            {'type': 'bind', 'source': './conf', 'target': '/conf', 'read_only': True,
             'bind': {'propagation': 'rslave'}},
            {'type': 'volume', 'source': 'v', 'target': '/v'}, {'type': 'tmpfs', 'target': '/t'}]
    problems = []
    out = cv.normalize_mounts(vols, '/run', '/proj', problems, home='/home/u')
    assert out == [
        _mount('bind', '/proj/data', '/data', True),
        _mount('volume', 'named', '/var/lib'),
        _mount('volume', None, '/anon'),
        _mount('bind', '/home/u/x', '/y', True),
        _mount('bind', '/abs', '/abs'),
        _mount('bind', '/h', '/c', propagation='rshared'),
        _mount('bind', '/proj/conf', '/conf', True, 'rslave'),
        _mount('volume', 'v', '/v'),
        _mount('tmpfs', None, '/t'),
        _mount('tmpfs', None, '/run'),
    ]
    assert problems == []


def test_bind_sources_are_cleaned():
    problems = []
    out = cv.normalize_mounts(['//var/run/./docker.sock:/var/run/docker.sock',
                               {'type': 'bind', 'source': '/var/run/../run/docker.sock', 'target': '/s'}],
                              None, '/proj', problems)
    assert [m['source'] for m in out] == ['/var/run/docker.sock', '/var/run/docker.sock']


def test_garbage_mounts_are_problems():
    problems = []
    out = cv.normalize_mounts(['named:/data', 5, None, {'source': ['x'], 'target': '/x'}], [{'x': 1}, '/tmp:size=1m'],
                              '/proj', problems)
    assert out == [_mount('volume', 'named', '/data'), _mount('tmpfs', None, '/tmp')]
    assert [(p['key'], p['shape']) for p in problems] == [
        ('volumes', 'int'), ('volumes', 'null'), ('volumes', 'mapping with keys source, target'),
        ('tmpfs', 'mapping with keys x')]


@pytest.mark.parametrize('path, expected', [
    ('//var/run/./docker.sock', '/var/run/docker.sock'), ('/a/../b', '/b'), ('/var/run/', '/var/run'), ('/', '/'),
])
def test_clean_host_path(path, expected):
    assert cv.clean_host_path(path) == expected


@pytest.mark.parametrize('spec, expected', [
    ('a:/b:ro', ('a', '/b', 'ro')), ('/b', (None, '/b', '')), ('/b:ro', (None, '/b', 'ro')),
    ('./x:/y', ('./x', '/y', '')),
])
def test_split_volume_spec(spec, expected):
    assert cv.split_volume_spec(spec) == expected


# --- user, sizes, lists -----------------------------------------------------------------------

@pytest.mark.parametrize('user, expected', [
    ('root', True), ('0', True), (0, True), ('0:1000', True), ('root:docker', True), (' root ', True), ('00', True),
    ('1000:0', False), ('1000', False), ('app', False), ('rootless', False), ('', False), (None, False),
    (False, False), ('\u00b9', False),  # a superscript one: isdigit() is true, int() refuses it
])
def test_is_root_user(user, expected):
    assert cv.is_root_user(user) is expected


@pytest.mark.parametrize('value, expected', [
    ('512m', 512 * 1024 ** 2), ('1.5G', 1610612736), (536870912, 536870912), ('536870912', 536870912), (None, None),
])
def test_size_or_problem(value, expected):
    problems = []
    assert cv.size_or_problem(value, 'mem_limit', problems) == expected
    assert problems == []


@pytest.mark.parametrize('value, shape', [('garbage', "str 'aaaaaaa'"), (True, 'bool'), ([1], 'list of 1')])
def test_size_problem(value, shape):
    problems = []
    assert cv.size_or_problem(value, 'mem_limit', problems) is None
    assert problems == [{'key': 'mem_limit', 'shape': shape, 'message': 'not a size Compose accepts (e.g. 512m, 2g)'}]


def test_string_list_and_mapping():
    problems = []
    assert cv.string_list('NET_ADMIN', 'cap_add', problems) == ['NET_ADMIN']
    assert cv.string_list([999, 'docker', {'x': 1}], 'group_add', problems) == ['999', 'docker']
    assert cv.string_list(None, 'profiles', problems) == []
    assert cv.mapping({'a': 1}, 'deploy', problems) == {'a': 1}
    assert cv.mapping('x', 'deploy', problems) == {}
    assert [(p['key'], p['message']) for p in problems] == [('group_add', 'expected a string'),
                                                            ('deploy', 'expected a mapping')]


# --- environment and env_file -----------------------------------------------------------------

def test_environment_to_dict():
    assert cv.environment_to_dict(['A=1', 'B', 'C=a=b', {'x': 1}, None], {'B': 'b'}) == {'A': '1', 'B': 'b',
                                                                                        'C': 'a=b'}
    assert cv.environment_to_dict({'A': True, 'B': None, 'C': [1], 'D': 5}, {'B': 'bb'}) == {
        'A': 'true', 'B': 'bb', 'C': None, 'D': '5'}
    assert cv.environment_to_dict('not env') == {} and cv.environment_to_dict(None) == {}


def test_env_file_entries():
    assert cv.env_file_entries('.env') == [{'path': '.env', 'required': True}]
    assert cv.env_file_entries(['a.env', {'path': 'b.env', 'required': False}, {'path': ''}, True]) == [
        {'path': 'a.env', 'required': True}, {'path': 'b.env', 'required': False}]
    assert cv.env_file_entries({'path': 'c.env'}) == [{'path': 'c.env', 'required': True}]
    assert cv.env_file_entries(None) == [] and cv.env_file_entries(5) == []


@pytest.mark.parametrize('value, expected', [(True, 'true'), (False, 'false'), (None, None), (5, '5'), ('x', 'x')])
def test_scalar_str(value, expected):
    assert cv.scalar_str(value) == expected


# --- isolation, privileges and limits (CIS container runtime checks) --------------------------

def test_isolation_facts_from_compose_json():
    """Compose's JSON shapes: numbers as numbers, devices in the long form, deploy limits."""
    svc = {'cap_drop': ['ALL'], 'security_opt': ['no-new-privileges:true', 'seccomp=unconfined'], 'pid': 'host',
           'ipc': 'host', 'uts': 'host', 'userns_mode': 'host', 'read_only': True, 'pids_limit': 100,
           'devices': [{'source': '/dev/fuse', 'target': '/dev/fuse', 'permissions': 'rwm'}],
           'deploy': {'resources': {'limits': {'cpus': 0.5}}, 'restart_policy': {'condition': 'on-failure'}},
           'restart': 'on-failure:10', 'cpu_shares': 512, 'cpuset': '0-1'}
    problems = []
    out = cv.isolation_facts(svc, problems)
    assert problems == []
    assert out == {'cap_drop': ['ALL'], 'security_opt': ['no-new-privileges:true', 'seccomp=unconfined'],
                   'pid': 'host', 'ipc': 'host', 'uts': 'host', 'userns_mode': 'host',
                   'devices': [{'source': '/dev/fuse', 'target': '/dev/fuse', 'permissions': 'rwm'}],
                   'read_only': True, 'pids_limit': 100, 'cpus': 0.5, 'cpu_quota': None, 'cpu_shares': 512.0,
                   'cpuset': '0-1', 'restart_policy': {'name': 'on-failure', 'max_retries': 10, 'source': 'restart'}}


def test_isolation_facts_defaults_and_odd_values():
    problems = []
    out = cv.isolation_facts({}, problems)
    assert problems == [] and out['devices'] == [] and out['security_opt'] == [] and out['read_only'] is False
    assert (out['pid'], out['pids_limit'], out['cpus'], out['restart_policy']) == (None, None, None, None)
    out = cv.isolation_facts({'pids_limit': 'lots', 'cpus': True, 'devices': [5], 'read_only': 'TRUE',
                              'deploy': [1], 'pid': ''}, problems)
    assert sorted(p['key'] for p in problems) == ['cpus', 'devices', 'pids_limit']  # deploy: memory_limits' own
    assert out['read_only'] is True and out['pid'] is None and out['pids_limit'] is None


def test_isolation_facts_deploy_pids_and_string_numbers():
    out = cv.isolation_facts({'deploy': {'resources': {'limits': {'pids': '200', 'cpus': '1.5'}}}}, [])
    assert (out['pids_limit'], out['cpus']) == (200, 1.5)


@pytest.mark.parametrize('item, expected', [
    ('/dev/ttyUSB0', {'source': '/dev/ttyUSB0', 'target': '/dev/ttyUSB0', 'permissions': 'rwm'}),
    ('/dev/sda:/dev/xvda:r', {'source': '/dev/sda', 'target': '/dev/xvda', 'permissions': 'r'}),
    ({'source': '/dev/dri'}, {'source': '/dev/dri', 'target': '/dev/dri', 'permissions': 'rwm'}),
])
def test_normalize_devices(item, expected):
    assert cv.normalize_devices([item], []) == [expected]


@pytest.mark.parametrize('restart, deploy, expected', [
    ('on-failure:6', None, {'name': 'on-failure', 'max_retries': 6, 'source': 'restart'}),
    ('on-failure', None, {'name': 'on-failure', 'max_retries': 0, 'source': 'restart'}),
    ('always', {'restart_policy': {'condition': 'on-failure', 'max_attempts': 9}},
     {'name': 'always', 'max_retries': 0, 'source': 'restart'}),
    (None, {'restart_policy': {'condition': 'on-failure', 'max_attempts': 9}},
     {'name': 'on-failure', 'max_retries': 9, 'source': 'deploy.restart_policy'}),
    (None, {'restart_policy': {'condition': 'any'}}, {'name': 'always', 'max_retries': 0,
                                                      'source': 'deploy.restart_policy'}),
    (None, {'restart_policy': {'condition': 'on-failure', 'max_attempts': '3'}},
     {'name': 'on-failure', 'max_retries': 3, 'source': 'deploy.restart_policy'}),
    (None, {'restart_policy': {'condition': 'on-failure', 'max_attempts': 'x'}},
     {'name': 'on-failure', 'max_retries': 0, 'source': 'deploy.restart_policy'}),
    (None, {'restart_policy': {}}, None),
    (None, None, None),
])
def test_restart_policy(restart, deploy, expected):
    assert cv.restart_policy(restart, deploy) == expected
