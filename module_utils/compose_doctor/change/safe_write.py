# -*- coding: utf-8 -*-
"""Safe file edits: checksums, stat snapshots, private backups and atomic writes.

Every remediation edit goes through here:

* ``snapshot(path)`` records what a file looks like now (exists, sha256, mode, owner, group);
* ``backup_file(path, backup_dir)`` copies it into a private backup directory (dirs 0700,
  file 0600, whatever the original mode was) and returns the snapshot plus the backup path;
* ``atomic_write(path, data)`` writes a temp file in the same directory, fsyncs it, gives it
  the target's mode/owner/group and ``os.replace``-s it over the target, then fsyncs the
  directory, so a reader sees either the old or the new file, never a partial one.

Symlinks are followed: the real file is edited and the link is left alone.
Only the standard library is used (and, given one, the AnsibleModule's atomic_move).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import grp
import hashlib
import os
import pwd
import stat
import tempfile

BACKUP_DIR_MODE = 0o700
BACKUP_FILE_MODE = 0o600


class SafeWriteError(Exception):
    """A file could not be read, backed up or written; the message names the path."""


def sha256_bytes(data):
    if isinstance(data, str):
        data = data.encode('utf-8')
    return hashlib.sha256(data).hexdigest()


def sha256_file(path):
    """Hex sha256 of a file's content, or None when it does not exist."""
    digest = hashlib.sha256()
    try:
        with open(path, 'rb') as handle:
            for chunk in iter(lambda: handle.read(65536), b''):
                digest.update(chunk)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise SafeWriteError('%s: cannot read: %s' % (path, exc.strerror or exc)) from exc
    return digest.hexdigest()


def format_mode(mode):
    """0o100644 -> '0644' (permission bits incl. setuid/setgid/sticky)."""
    if mode is None:
        return None
    return '%04o' % stat.S_IMODE(mode)


def parse_mode(mode):
    """'0644' / '644' / 420 -> 0o644."""
    if mode is None:
        return None
    if isinstance(mode, int):
        return mode
    return int(str(mode), 8)


def _user_name(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid):
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def resolve_uid(owner):
    """User name or numeric id -> uid (None stays None)."""
    if owner is None or owner == '':
        return None
    if isinstance(owner, int) or str(owner).isdigit():
        return int(owner)
    try:
        return pwd.getpwnam(str(owner)).pw_uid
    except KeyError:
        raise SafeWriteError('unknown user %r' % owner) from None


def resolve_gid(group):
    """Group name or numeric id -> gid (None stays None)."""
    if group is None or group == '':
        return None
    if isinstance(group, int) or str(group).isdigit():
        return int(group)
    try:
        return grp.getgrnam(str(group)).gr_gid
    except KeyError:
        raise SafeWriteError('unknown group %r' % group) from None


def real_path(path):
    """Absolute path with symlinks resolved (the file an edit really changes)."""
    return os.path.realpath(os.path.abspath(os.path.expanduser(str(path))))


def snapshot(path, allow_dir=False):
    """What ``path`` looks like now: {path, exists, sha256, mode, uid, gid, owner, group}.

    With ``allow_dir`` a directory is accepted too (sha256 None): its mode/owner can be journaled.
    """
    path = real_path(path)
    try:
        st = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return {'path': path, 'exists': False, 'sha256': None, 'mode': None,
                    'uid': None, 'gid': None, 'owner': None, 'group': None}
        raise SafeWriteError('%s: cannot stat: %s' % (path, exc.strerror or exc)) from exc
    is_dir = stat.S_ISDIR(st.st_mode)
    if not (stat.S_ISREG(st.st_mode) or (allow_dir and is_dir)):
        raise SafeWriteError('%s: not a regular file' % path)
    return {'path': path, 'exists': True, 'sha256': None if is_dir else sha256_file(path), 'mode': format_mode(st.st_mode),
            'uid': st.st_uid, 'gid': st.st_gid, 'owner': _user_name(st.st_uid), 'group': _group_name(st.st_gid)}


def read_bytes(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise SafeWriteError('%s: cannot read: %s' % (path, exc.strerror or exc)) from exc


def read_text(path):
    data = read_bytes(path)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise SafeWriteError('%s: not UTF-8 text' % path) from None


def ensure_private_dir(path):
    """Create ``path`` (and parents) with mode 0700; tighten it if it exists."""
    try:
        if not os.path.isdir(path):
            os.makedirs(path, BACKUP_DIR_MODE)
        os.chmod(path, BACKUP_DIR_MODE)
    except OSError as exc:
        raise SafeWriteError('%s: cannot create directory: %s' % (path, exc.strerror or exc)) from exc
    return path


def _fsync_dir(dirname):
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _module_move(module, tmp, path, mode, uid, gid):
    """``module.atomic_move`` (SELinux context, file systems where a rename is refused), then
    the mode/owner we chose: it copies the old file's, or gives a new one 0666 & ~umask."""
    umask = os.umask(0o077)  # a new file is never readable by others, not even for a moment
    try:
        module.atomic_move(tmp, path)
    except OSError:
        raise
    except Exception as exc:  # atomic_move's own failures are plain Exceptions
        raise SafeWriteError('%s: atomic write failed: %s' % (path, exc)) from exc
    finally:
        os.umask(umask)
    st = os.stat(path)
    if stat.S_IMODE(st.st_mode) != mode:
        os.chmod(path, mode)
    want = (st.st_uid if uid is None else uid, st.st_gid if gid is None else gid)
    if want != (st.st_uid, st.st_gid):
        os.chown(path, want[0], want[1])


def atomic_write(path, data, mode=None, uid=None, gid=None, module=None):
    """Atomically replace ``path`` with ``data`` (bytes or str, str is UTF-8 encoded).

    The new file keeps the target's current mode, owner and group unless ``mode``/``uid``/
    ``gid`` are given; a new file defaults to 0644 (minus nothing: we never widen to
    group/world-writable) owned by the caller. With an AnsibleModule ``module`` the temp file
    is moved into place by ``module.atomic_move``. Returns the real path written.
    """
    if isinstance(data, str):
        data = data.encode('utf-8')
    path = real_path(path)
    dirname = os.path.dirname(path)
    if not os.path.isdir(dirname):
        raise SafeWriteError('%s: directory %s does not exist' % (path, dirname))
    current = None
    try:
        current = os.stat(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise SafeWriteError('%s: cannot stat: %s' % (path, exc.strerror or exc)) from exc
    if current is not None and not stat.S_ISREG(current.st_mode):
        raise SafeWriteError('%s: not a regular file' % path)
    if mode is None:
        mode = stat.S_IMODE(current.st_mode) if current is not None else 0o644
    if uid is None and current is not None:
        uid = current.st_uid
    if gid is None and current is not None:
        gid = current.st_gid
    fd, tmp = None, None
    try:
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.cd-tmp', dir=dirname)
        os.fchmod(fd, 0o600)
        offset = 0
        while offset < len(data):
            offset += os.write(fd, data[offset:])
        os.fsync(fd)
        if uid is not None or gid is not None:
            st = os.fstat(fd)
            want_uid = st.st_uid if uid is None else uid
            want_gid = st.st_gid if gid is None else gid
            if (want_uid, want_gid) != (st.st_uid, st.st_gid):
                os.fchown(fd, want_uid, want_gid)
        os.fchmod(fd, mode)
        os.close(fd)
        fd = None
        if module is None:
            os.replace(tmp, path)
        else:
            _module_move(module, tmp, path, mode, uid, gid)
        tmp = None
        _fsync_dir(dirname)
    except OSError as exc:
        raise SafeWriteError('%s: atomic write failed: %s' % (path, exc.strerror or exc)) from exc
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return path


def _backup_name(backup_dir, path, sha):
    """Mirror the absolute path under backup_dir; add .1, .2 ... when a different copy exists."""
    rel = path.lstrip(os.sep)
    base = os.path.join(backup_dir, rel)
    candidate, n = base, 0
    while os.path.exists(candidate):
        if sha256_file(candidate) == sha:
            return candidate, True
        n += 1
        candidate = '%s.%d' % (base, n)
    return candidate, False


def backup_file(path, backup_dir):
    """Copy ``path`` into ``backup_dir`` (0700 dirs, 0600 file); return the snapshot + backup.

    Returns ``{path, exists, sha256, mode, uid, gid, owner, group, backup}``; ``backup`` is
    None when the file does not exist (nothing to copy). A backup with identical content that
    is already there is reused, so repeating a backup is a no-op.
    """
    snap = snapshot(path)
    snap['backup'] = None
    if not snap['exists']:
        return snap
    ensure_private_dir(backup_dir)
    data = read_bytes(snap['path'])
    if sha256_bytes(data) != snap['sha256']:
        raise SafeWriteError('%s: file changed while it was being backed up' % snap['path'])
    target, reused = _backup_name(backup_dir, snap['path'], snap['sha256'])
    if not reused:
        parent = os.path.dirname(target)
        # every directory between backup_dir and the file is private too
        rel_parts = os.path.relpath(parent, backup_dir).split(os.sep)
        current = backup_dir
        for part in rel_parts:
            if part in ('', '.'):
                continue
            current = os.path.join(current, part)
            ensure_private_dir(current)
        atomic_write(target, data, mode=BACKUP_FILE_MODE)
    os.chmod(target, BACKUP_FILE_MODE)
    snap['backup'] = target
    return snap


def set_mode_owner(path, mode=None, uid=None, gid=None):
    """chmod/chown ``path`` to the given values; return True when something changed."""
    path = real_path(path)
    try:
        st = os.stat(path)
        changed = False
        if mode is not None and stat.S_IMODE(st.st_mode) != parse_mode(mode):
            os.chmod(path, parse_mode(mode))
            changed = True
        want_uid = st.st_uid if uid is None else uid
        want_gid = st.st_gid if gid is None else gid
        if (want_uid, want_gid) != (st.st_uid, st.st_gid):
            os.chown(path, want_uid, want_gid)
            changed = True
    except OSError as exc:
        raise SafeWriteError('%s: cannot set mode/owner: %s' % (path, exc.strerror or exc)) from exc
    return changed

