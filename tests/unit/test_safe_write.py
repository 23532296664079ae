# -*- coding: utf-8 -*-
import os
import stat
from pathlib import Path

import pytest

from ansible.module_utils.compose_doctor.change.safe_write import (
    SafeWriteError, atomic_write, backup_file, sha256_bytes, sha256_file, snapshot)


def _mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_sha256_helpers(tmp_path):
    f = tmp_path / 'a'
    f.write_bytes(b'hello\n')
    assert sha256_file(str(f)) == sha256_bytes(b'hello\n') == sha256_bytes('hello\n')
    assert sha256_file(str(tmp_path / 'missing')) is None


def test_atomic_write_keeps_mode_and_owner(tmp_path):
    f = tmp_path / 'compose.yaml'
    f.write_text('old\n')
    os.chmod(str(f), 0o640)
    before = os.stat(str(f))
    atomic_write(str(f), 'new\n')
    after = os.stat(str(f))
    assert f.read_text() == 'new\n'
    assert _mode(f) == 0o640 and (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino  # replaced, not rewritten in place
    assert [p.name for p in tmp_path.iterdir()] == ['compose.yaml']  # no temp file left


def test_atomic_write_explicit_mode_and_new_file(tmp_path):
    f = tmp_path / 'new.txt'
    atomic_write(str(f), b'x', mode=0o600)
    assert f.read_bytes() == b'x' and _mode(f) == 0o600
    g = tmp_path / 'default.txt'
    atomic_write(str(g), b'y')
    assert _mode(g) == 0o644


def test_atomic_write_follows_symlink(tmp_path):
    real = tmp_path / 'real.env'
    real.write_text('A=1\n')
    link = tmp_path / 'link.env'
    link.symlink_to(real)
    atomic_write(str(link), 'A=2\n')
    assert link.is_symlink() and real.read_text() == 'A=2\n'


def test_atomic_write_errors_name_the_path(tmp_path):
    with pytest.raises(SafeWriteError) as err:
        atomic_write(str(tmp_path / 'nodir' / 'f'), 'x')
    assert 'nodir' in str(err.value)
    d = tmp_path / 'adir'
    d.mkdir()
    with pytest.raises(SafeWriteError):
        atomic_write(str(d), 'x')


def test_backup_is_private_and_exact(tmp_path):
    f = tmp_path / 'proj' / '.env'
    f.parent.mkdir()
    f.write_bytes(b'DB_PASSWORD=hunter2\n')
    os.chmod(str(f), 0o644)
    backups = tmp_path / 'journal' / 'run' / 'backups'
    snap = backup_file(str(f), str(backups))
    assert snap['exists'] and snap['mode'] == '0644' and snap['sha256'] == sha256_file(str(f))
    assert snap['backup'].startswith(str(backups)) and snap['backup'].endswith('/proj/.env')
    assert Path(snap['backup']).read_bytes() == b'DB_PASSWORD=hunter2\n'
    assert _mode(snap['backup']) == 0o600
    assert _mode(backups) == 0o700 and _mode(os.path.dirname(snap['backup'])) == 0o700
    assert _mode(f) == 0o644  # original untouched
    # same content again -> same backup reused; different content -> a second copy
    assert backup_file(str(f), str(backups))['backup'] == snap['backup']
    f.write_bytes(b'DB_PASSWORD=other\n')
    second = backup_file(str(f), str(backups))
    assert second['backup'] == snap['backup'] + '.1'
    assert Path(snap['backup']).read_bytes() == b'DB_PASSWORD=hunter2\n'


def test_backup_of_missing_file(tmp_path):
    snap = backup_file(str(tmp_path / 'nope'), str(tmp_path / 'b'))
    assert snap['exists'] is False and snap['backup'] is None


def test_snapshot_fields(tmp_path):
    f = tmp_path / 'f'
    f.write_text('x')
    os.chmod(str(f), 0o600)
    snap = snapshot(str(f))
    assert snap['mode'] == '0600' and snap['uid'] == os.getuid() and snap['owner'] and snap['group']


@pytest.fixture
def module():
    from ansible.module_utils.basic import AnsibleModule
    from ansible.module_utils.testing import patch_module_args
    with patch_module_args({}):
        return AnsibleModule(argument_spec={})


def test_atomic_write_through_module_atomic_move(tmp_path, module, monkeypatch):
    moves = []
    real_move = module.atomic_move
    monkeypatch.setattr(module, 'atomic_move', lambda src, dest: moves.append(dest) or real_move(src, dest))
    f = tmp_path / 'compose.yaml'
    f.write_text('old\n')
    os.chmod(str(f), 0o640)
    before = os.stat(str(f))
    atomic_write(str(f), 'new\n', module=module)
    after = os.stat(str(f))
    assert f.read_text() == 'new\n' and moves == [str(f)]
    assert _mode(f) == 0o640 and (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert after.st_ino != before.st_ino
    atomic_write(str(f), 'x', mode=0o600, module=module)  # an explicit mode wins over the old file's
    assert _mode(f) == 0o600
    g = tmp_path / 'report.json'
    atomic_write(str(g), b'{}', mode=0o600, module=module)  # atomic_move would give 0666 & ~umask
    assert g.read_bytes() == b'{}' and _mode(g) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ['compose.yaml', 'report.json']


def test_atomic_write_module_move_failure_names_the_path(tmp_path, module, monkeypatch):
    def refuse(src, dest):
        raise Exception('Could not replace %r' % dest)
    monkeypatch.setattr(module, 'atomic_move', refuse)
    f = tmp_path / 'compose.yaml'
    f.write_text('old\n')
    with pytest.raises(SafeWriteError, match='compose.yaml'):
        atomic_write(str(f), 'new\n', module=module)
    assert f.read_text() == 'old\n' and [p.name for p in tmp_path.iterdir()] == ['compose.yaml']
