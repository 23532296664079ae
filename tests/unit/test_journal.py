# -*- coding: utf-8 -*-
import json
import os
import stat
from pathlib import Path

import pytest

from ansible.module_utils.compose_doctor.change import journal as jr
from ansible.module_utils.compose_doctor.change.safe_write import sha256_file


def _mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


@pytest.fixture
def project(tmp_path):
    proj = tmp_path / 'proj'
    proj.mkdir()
    (proj / 'compose.yaml').write_bytes(b'services:\n  a:\n    image: x   # keep\n')
    (proj / '.env').write_bytes(b'DB_PASSWORD=hunter2\r\nNO_NEWLINE=1')
    os.chmod(str(proj / '.env'), 0o644)
    os.chmod(str(proj / 'compose.yaml'), 0o664)
    return proj


def test_run_ids_are_sortable_and_validated():
    a = jr.new_run_id()
    b = jr.new_run_id()
    assert a[:8].isdigit() and a != b
    for bad in ('', '../x', 'latest', 'a/b', '.hidden'):
        with pytest.raises(jr.JournalError):
            jr.validate_run_id(bad)


def test_start_is_lazy(tmp_path):
    jdir = tmp_path / 'j'
    jr.new_run_id()
    assert not jdir.exists() and jr.latest_run(str(jdir)) is None
    with pytest.raises(jr.JournalError):
        jr.resolve_run(str(jdir), 'latest')


def test_record_file_edit_and_layout(tmp_path, project):
    jdir = str(tmp_path / 'j')
    env = project / '.env'
    original = env.read_bytes()
    entry = jr.record_file_edit(jdir, 'run1', str(env), b'DB_PASSWORD=new\n', tool='test')
    assert env.read_bytes() == b'DB_PASSWORD=new\n' and _mode(env) == 0o644
    assert entry['sha256_before'] != entry['sha256_after'] and entry['mode_before'] == '0644'
    assert Path(entry['backup']).read_bytes() == original and _mode(entry['backup']) == 0o600
    assert _mode(jdir) == 0o700 and _mode(os.path.join(jdir, 'run1')) == 0o700
    jpath = os.path.join(jdir, 'run1', 'journal.json')
    assert _mode(jpath) == 0o600
    data = json.loads(Path(jpath).read_text())
    assert data['run_id'] == 'run1' and data['started'] and data['updated'] and len(data['entries']) == 1
    assert os.readlink(os.path.join(jdir, 'latest')) == 'run1'
    assert 'hunter2' not in Path(jpath).read_text()


def test_record_is_idempotent(tmp_path, project):
    jdir = str(tmp_path / 'j')
    svc = {'type': 'service', 'project_dir': str(project), 'service': 'a', 'action': 'recreated'}
    assert len(jr.record(jdir, 'r', [svc])) == 1
    assert jr.record(jdir, 'r', [svc]) == []
    assert len(jr.record(jdir, 'r', [dict(svc, action='rebuilt')])) == 1  # upgraded, not duplicated
    mode = {'type': 'mode', 'path': str(project / '.env'), 'mode_after': '0600'}
    assert len(jr.record(jdir, 'r', [mode])) == 1
    assert jr.record(jdir, 'r', [mode]) == []
    snap = {'type': 'file', 'path': str(project / 'compose.yaml')}
    assert len(jr.record(jdir, 'r', [snap])) == 1
    assert jr.record(jdir, 'r', [snap]) == []
    entries = jr.load(jdir, 'r')['entries']
    assert [e['type'] for e in entries] == ['service', 'mode', 'file']
    assert entries[0]['action'] == 'rebuilt' and entries[1]['mode_before'] == '0644'


def test_record_dry_run_writes_nothing(tmp_path, project):
    jdir = tmp_path / 'j'
    added = jr.record(str(jdir), 'r', [{'type': 'file', 'path': str(project / '.env')}], dry_run=True)
    assert len(added) == 1 and not jdir.exists()


def test_bad_entries(tmp_path):
    for bad in ({'type': 'nope'}, {'type': 'service', 'service': 'a'}, {'type': 'mode'}, 'x'):
        with pytest.raises(jr.JournalError):
            jr.record(str(tmp_path / 'j'), 'r', [bad])


def test_restore_byte_identical_with_mode_and_services(tmp_path, project):
    jdir = str(tmp_path / 'j')
    env, compose = project / '.env', project / 'compose.yaml'
    env_before, compose_before = env.read_bytes(), compose.read_bytes()
    jr.record(jdir, 'r1', [{'type': 'mode', 'path': str(env), 'mode_after': '0600'}])
    os.chmod(str(env), 0o600)
    jr.record_file_edit(jdir, 'r1', str(env), b'DB_PASSWORD=strong\n')
    jr.record_file_edit(jdir, 'r1', str(compose), b'services:\n  a:\n    image: x\n    group_add: ["105"]\n')
    jr.record_file_edit(jdir, 'r1', str(compose), b'services:\n  a:\n    image: y\n')  # second edit, same run
    jr.record(jdir, 'r1', [{'type': 'service', 'project_dir': str(project), 'service': 'a', 'action': 'rebuilt'},
                           {'type': 'service', 'project_dir': str(project), 'service': 'b'}])
    plan = jr.restore(jdir, 'latest', dry_run=True)
    assert plan['changed'] and env.read_bytes() == b'DB_PASSWORD=strong\n'  # dry run wrote nothing
    out = jr.restore(jdir)
    assert out['changed'] and out['run_ids'] == ['r1']
    assert env.read_bytes() == env_before and _mode(env) == 0o644
    assert compose.read_bytes() == compose_before and _mode(compose) == 0o664
    assert sorted(r['path'] for r in out['restored']) == sorted([str(env), str(compose)])
    assert out['projects'] == [{'project_dir': str(project), 'project_name': None, 'files': [],
                                'services': ['a', 'b'], 'stop': [], 'build': 'always', 'runs': ['r1'],
                                    'images': [], 'live': []}]
    again = jr.restore(jdir)
    assert again['changed'] is False and sorted(again['unchanged']) == sorted([str(env), str(compose)])
    assert jr.load(jdir, 'r1')['restored']


def test_restore_removes_created_file(tmp_path, project):
    jdir = str(tmp_path / 'j')
    new = project / 'requirements.txt'
    jr.record_file_edit(jdir, 'r1', str(new), b'psutil>=5.9.0\n')
    assert jr.load(jdir, 'r1')['entries'][0]['existed_before'] is False
    out = jr.restore(jdir, 'r1')
    assert not new.exists() and out['restored'][0]['action'] == 'remove'


def test_two_runs_latest_and_cascade(tmp_path, project):
    jdir = str(tmp_path / 'j')
    compose = project / 'compose.yaml'
    original = compose.read_bytes()
    jr.record_file_edit(jdir, '20250101T000000000000Z-0001', str(compose), b'v1\n')
    jr.record_file_edit(jdir, '20250102T000000000000Z-0002', str(compose), b'v2\n')
    assert jr.latest_run(jdir) == '20250102T000000000000Z-0002'
    assert [r['run_id'] for r in jr.list_runs(jdir)] == ['20250101T000000000000Z-0001', '20250102T000000000000Z-0002']
    # latest only -> back to v1
    out = jr.restore(jdir, 'latest')
    assert out['run_ids'] == ['20250102T000000000000Z-0002'] and compose.read_bytes() == b'v1\n'
    # the older run: cascades newest first -> original
    out = jr.restore(jdir, '20250101T000000000000Z-0001')
    assert out['run_ids'] == ['20250102T000000000000Z-0002', '20250101T000000000000Z-0001']
    assert compose.read_bytes() == original
    shown = jr.show(jdir)
    assert shown['latest'] == '20250102T000000000000Z-0002' and len(shown['runs']) == 2


def test_restore_refuses_when_file_changed_since(tmp_path, project):
    jdir = str(tmp_path / 'j')
    compose = project / 'compose.yaml'
    jr.record_file_edit(jdir, 'r1', str(compose), b'ours\n')
    compose.write_bytes(b'someone else\n')
    with pytest.raises(jr.JournalError) as err:
        jr.restore(jdir)
    assert str(compose) in str(err.value) and compose.read_bytes() == b'someone else\n'
    jr.restore(jdir, force=True)
    assert b'image: x' in compose.read_bytes()


def test_restore_refuses_corrupt_backup(tmp_path, project):
    jdir = str(tmp_path / 'j')
    compose = project / 'compose.yaml'
    entry = jr.record_file_edit(jdir, 'r1', str(compose), b'ours\n')
    with open(entry['backup'], 'wb') as handle:
        handle.write(b'tampered')
    with pytest.raises(jr.JournalError) as err:
        jr.restore(jdir)
    assert 'checksum' in str(err.value) and compose.read_bytes() == b'ours\n'


def test_unknown_run(tmp_path, project):
    jdir = str(tmp_path / 'j')
    jr.record_file_edit(jdir, 'r1', str(project / '.env'), b'x')
    with pytest.raises(jr.JournalError) as err:
        jr.restore(jdir, 'r9')
    assert 'r9' in str(err.value)
    assert sha256_file(str(project / '.env')) is not None


def test_directory_mode_is_journaled_and_restored(tmp_path):
    import os
    from ansible.module_utils.compose_doctor.change import journal as jr

    secrets = tmp_path / "secrets"
    secrets.mkdir()
    os.chmod(secrets, 0o755)
    jdir = tmp_path / "journal"
    run = jr.new_run_id()
    jr.record(str(jdir), run, [{"type": "mode", "path": str(secrets)}])
    os.chmod(secrets, 0o700)
    jr.restore(str(jdir), run)
    assert oct(secrets.stat().st_mode & 0o777) == "0o755"


def test_started_services_are_removed_not_recreated_on_rollback(tmp_path):
    from ansible.module_utils.compose_doctor.change import journal as jr

    jdir, run = str(tmp_path / "journal"), jr.new_run_id()
    jr.record(jdir, run, [{"type": "service", "project_dir": str(tmp_path), "service": "kong", "action": "started"},
                          {"type": "service", "project_dir": str(tmp_path), "service": "agent", "action": "rebuilt"}])
    (project,) = jr.restore(jdir, run)["projects"]
    assert project["stop"] == ["kong"] and project["services"] == ["agent"] and project["build"] == "always"


def test_failed_fix_undoes_only_its_own_entries(project, tmp_path):
    """from_entry: a fix that fails restores what it recorded, the earlier fixes stay."""
    jdir = str(tmp_path / 'j')
    env, compose = project / '.env', project / 'compose.yaml'
    jr.record(jdir, 'r1', [{'type': 'mode', 'path': str(env), 'mode_after': '0600'}])
    os.chmod(str(env), 0o600)  # first fix: done and kept
    mark = len(jr.load(jdir, 'r1')['entries'])
    before = compose.read_bytes()
    jr.record_file_edit(jdir, 'r1', str(compose), b'services:\n  a:\n    image: y\n', tool='test')
    jr.record(jdir, 'r1', [{'type': 'service', 'project_dir': str(project), 'service': 'a', 'action': 'rebuilt'},
                           {'type': 'image', 'project_dir': str(project), 'service': 'a', 'image': 'proj-a',
                            'previous_id': 'sha256:0ld', 'rollback_tag': 'compose-doctor/rollback:r1.a'}])
    out = jr.restore(jdir, 'r1', from_entry=mark)
    assert compose.read_bytes() == before
    assert _mode(env) == 0o600, "the earlier fix of the run was undone too"
    assert [r['path'] for r in out['restored']] == [str(compose)]
    (proj,) = out['projects']
    assert proj['services'] == ['a'] and proj['build'] == 'never'
    assert proj['images'] == [{'service': 'a', 'image': 'proj-a', 'previous_id': 'sha256:0ld',
                               'rollback_tag': 'compose-doctor/rollback:r1.a'}]
    assert jr.restore(jdir, 'nothing-yet', from_entry=0)['changed'] is False


def test_live_limits_come_back_unless_the_service_is_recreated(project, tmp_path):
    jdir = str(tmp_path / 'j')
    live = {'type': 'live', 'project_dir': str(project), 'container': 'proj-b-1', 'memory_before': 104857600}
    jr.record(jdir, 'r1', [dict(live, service='b'), dict(live, service='c', container='proj-c-1', memory_before=0),
                           {'type': 'service', 'project_dir': str(project), 'service': 'c'}])
    (proj,) = jr.plan_restore(jdir, 'r1')['projects']
    assert proj['live'] == [{'service': 'b', 'container': 'proj-b-1', 'memory_before': 104857600,
                             'memory_swap_before': 104857600}]
    assert proj['services'] == ['c'] and proj['build'] == 'never'
    with pytest.raises(jr.JournalError, match='image entry needs previous_id'):
        jr.record(jdir, 'r1', [{'type': 'image', 'project_dir': str(project), 'service': 'a', 'image': 'x',
                                'rollback_tag': 't'}])


def test_prune_keeps_the_newest_runs_and_names_their_rollback_images(project, tmp_path):
    jdir = str(tmp_path / 'j')
    for i in range(4):
        jr.record(jdir, 'r%d' % i, [{'type': 'image', 'project_dir': str(project), 'service': 'a', 'image': 'p-a',
                                     'previous_id': 'sha256:%d' % i, 'rollback_tag': 'compose-doctor/rollback:r%d.a' % i}])
    assert [p['run_id'] for p in jr.prune(jdir, 2, dry_run=True)] == ['r0', 'r1']
    assert len(jr.list_runs(jdir)) == 4, "dry run removed something"
    assert jr.prune(jdir, 2) == [{'run_id': 'r0', 'rollback_tags': ['compose-doctor/rollback:r0.a']},
                                 {'run_id': 'r1', 'rollback_tags': ['compose-doctor/rollback:r1.a']}]
    assert [r['run_id'] for r in jr.list_runs(jdir)] == ['r2', 'r3'] and jr.latest_run(jdir) == 'r3'
    assert jr.prune(jdir, 2) == []
    with pytest.raises(jr.JournalError):
        jr.prune(jdir, 0)
