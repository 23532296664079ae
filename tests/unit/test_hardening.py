"""The hardening fix's plan (module_utils/compose_doctor/change/hardening.py): hermetic."""
from ansible.module_utils.compose_doctor.change.hardening import localhost_port, plan

DB = [5432, 3306, 6379]


def test_bare_service_gets_no_new_privileges_and_pids_limit_only():
    out = plan({'image': 'x'}, 200)
    assert out['set'] == {'security_opt': ['no-new-privileges:true'], 'pids_limit': 200}
    assert out['changes'] == ['security_opt: no-new-privileges:true', 'pids_limit: 200']


def test_hardened_service_needs_nothing_idempotent():
    svc = {'security_opt': ['no-new-privileges:true'], 'pids_limit': 100, 'cap_drop': ['all'],
           'ports': ['127.0.0.1:5432:5432']}
    assert plan(svc, 200, cap_drop_all=True, localhost_ports=True, database_ports=DB)['set'] == {}


def test_security_opt_keeps_other_options_and_replaces_a_false():
    svc = {'security_opt': ['seccomp:profile.json', 'no-new-privileges:false']}
    assert plan(svc, 0)['set'] == {'security_opt': ['seccomp:profile.json', 'no-new-privileges:true']}
    assert plan({'security_opt': ['no-new-privileges']}, 0)['set'] == {}


def test_an_existing_pids_limit_is_never_raised_or_replaced():
    assert 'pids_limit' not in plan({'pids_limit': 50}, 200)['set']
    assert 'pids_limit' not in plan({'deploy': {'resources': {'limits': {'pids': 20}}}}, 200)['set']
    assert 'pids_limit' not in plan({'pids_limit': '${PIDS}'}, 200)['set']
    assert plan({'pids_limit': -1}, 200)['set']['pids_limit'] == 200
    assert plan({'pids_limit': 0}, 200)['set']['pids_limit'] == 200


def test_cap_drop_only_when_asked_and_kept_spelling():
    assert 'cap_drop' not in plan({}, 200)['set']
    assert plan({'cap_drop': ['NET_RAW']}, 0, cap_drop_all=True)['set']['cap_drop'] == ['ALL', 'NET_RAW']
    assert 'cap_drop' not in plan({'cap_drop': ['CAP_ALL']}, 0, cap_drop_all=True)['set']


def test_cap_add_is_never_written():
    out = plan({'cap_add': ['NET_ADMIN']}, 200, cap_drop_all=True)
    assert 'cap_add' not in out['set'] and 'privileged' not in out['set']


def test_database_ports_rebound_short_and_long_syntax():
    assert localhost_port('5432:5432', DB) == '127.0.0.1:5432:5432'
    assert localhost_port('0.0.0.0:15432:5432/tcp', DB) == '127.0.0.1:15432:5432/tcp'
    assert localhost_port('[::]:6379:6379', DB) == '127.0.0.1:6379:6379'
    assert localhost_port('3306', DB) == '127.0.0.1::3306'
    assert localhost_port({'target': 5432, 'published': '5432'}, DB) == {
        'target': 5432, 'published': '5432', 'host_ip': '127.0.0.1'}
    assert localhost_port({'target': 5432, 'published': '0.0.0.0:5432'}, DB) == {
        'target': 5432, 'published': '5432', 'host_ip': '127.0.0.1'}


def test_other_ports_and_bound_ports_are_left_as_written():
    for item in ('8080:80', '10.0.0.5:5432:5432', '127.0.0.1:6379:6379', 'not-a-port', 80):
        assert localhost_port(item, DB) == item


def test_ports_only_when_asked_whole_list_kept_in_order():
    svc = {'ports': ['8080:80', '5432:5432']}
    assert 'ports' not in plan(svc, 0, database_ports=DB)['set']
    out = plan(svc, 0, localhost_ports=True, database_ports=DB)
    assert out['set']['ports'] == ['8080:80', '127.0.0.1:5432:5432']
    assert 'ports' not in plan({'ports': ['8080:80']}, 0, localhost_ports=True, database_ports=DB)['set']


def test_plan_applied_twice_is_empty():
    svc = {'security_opt': ['label:disable'], 'cap_drop': [], 'ports': ['5432:5432', {'target': 3306}]}
    first = plan(svc, 200, cap_drop_all=True, localhost_ports=True, database_ports=DB)
    after = dict(svc, **first['set'])
    assert plan(after, 200, cap_drop_all=True, localhost_ports=True, database_ports=DB)['set'] == {}


def test_pids_limit_joins_deploy_limits_when_the_service_has_them():
    """Compose refuses pids_limit beside deploy.resources.limits unless both agree (seen on the lab's
    prometheus): the limit is written as deploy.resources.limits.pids, the other limits kept."""
    from ansible.module_utils.compose_doctor.change.compose_edit import set_service_keys
    text = "services:\n  prom:\n    image: p\n    deploy:\n      resources:\n        limits:\n          memory: 256M\n"
    out = plan({'deploy': {'resources': {'limits': {'memory': '256M'}}}}, 200)
    assert out['set'].get('pids_limit') is None
    assert out['set']['deploy'] == {'resources': {'limits': {'pids': 200}}}
    assert 'deploy.resources.limits.pids: 200' in out['changes']
    written = set_service_keys(text, 'prom', {'deploy': out['set']['deploy']})['text']
    assert 'memory: 256M' in written and 'pids: 200' in written
    assert 'deploy' not in plan({'deploy': {'resources': {'limits': {'memory': '256M', 'pids': 200}}}}, 200)['set']
