# -*- coding: utf-8 -*-
"""Remediation journal: what a remediation run changed on a host, and how to undo it.

Layout (``journal_dir`` defaults to ``/var/lib/compose-doctor/journal``)::

    <journal_dir>/<run_id>/journal.json   run id, started/updated, entries, restored
    <journal_dir>/<run_id>/backups/...    0600 copies of every edited file (path mirrored)
    <journal_dir>/latest -> <run_id>      the newest run that recorded something

A run is created lazily: ``new_run_id()`` only names it; the directory appears with the first
recorded entry, so a remediation that changed nothing leaves no empty run behind and never
moves ``latest``.

Entry types (all carry ``type`` and ``time``):

* ``file``    {path, backup, existed_before, sha256_before, sha256_after, mode_before,
               mode_after, owner_before, group_before, uid_before, gid_before, tool}
* ``mode``    {path, mode_before, mode_after, owner_before, owner_after, group_before,
               group_after, uid_before, gid_before}
* ``service`` {project_dir, service, action: recreated|rebuilt|started, project_name, files}
  (``started``: was not running before the run; rollback removes it again)
* ``image``   {project_dir, service, image, previous_id, rollback_tag}: the image a service ran
              before a fix rebuilt it, kept under ``rollback_tag``; rollback tags it back as
              ``image`` and recreates the service from it instead of rebuilding
* ``live``    {project_dir, service, container, memory_before, memory_swap_before}: a limit
              changed with ``docker update`` (bytes; 0 = none); rollback puts it back live

``prune`` keeps the newest N runs and names the rollback image tags of the runs it removed.

Appending is idempotent: an entry equal (by its identity fields) to one already in the run is
not added again. ``restore`` puts every file of the given run -- and of every newer run, newest
first -- back to the content, mode and owner it had before the earliest of those runs touched it,
and returns the compose services to bring back to the restored files.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import errno
import json
import os
import random
import re
import shutil

from ansible.module_utils.compose_doctor.change.safe_write import (
    SafeWriteError, atomic_write, backup_file, ensure_private_dir, parse_mode, read_bytes,
    real_path, resolve_gid, resolve_uid, set_mode_owner, sha256_bytes, snapshot)

try:
    import fcntl
    HAS_FCNTL = True
except ImportError:  # pragma: no cover - posix only
    HAS_FCNTL = False

DEFAULT_JOURNAL_DIR = '/var/lib/compose-doctor/journal'
JOURNAL_FILE = 'journal.json'
BACKUPS = 'backups'
LATEST = 'latest'
FORMAT_VERSION = 1
RUN_ID_RE = re.compile(r'^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$')
ENTRY_TYPES = ('file', 'mode', 'service', 'image', 'live')
SERVICE_ACTIONS = ('recreated', 'rebuilt', 'started')


class JournalError(Exception):
    """Bad input or an unusable journal; the message says which run/path and why."""


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment=None):
    return (moment or _now()).strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def new_run_id(moment=None):
    """Sortable run id: UTC time to the microsecond plus 4 random hex digits."""
    moment = moment or _now()
    return '%s-%04x' % (moment.strftime('%Y%m%dT%H%M%S%fZ'), random.SystemRandom().randrange(0x10000))


def validate_run_id(run_id):
    if not run_id or not RUN_ID_RE.match(str(run_id)) or str(run_id) == LATEST:
        raise JournalError('invalid run id %r (letters, digits, ".", "_", "-"; not "latest")' % (run_id,))
    return str(run_id)


def run_dir(journal_dir, run_id):
    return os.path.join(journal_dir, validate_run_id(run_id))


def backups_dir(journal_dir, run_id):
    return os.path.join(run_dir(journal_dir, run_id), BACKUPS)


def _journal_path(journal_dir, run_id):
    return os.path.join(run_dir(journal_dir, run_id), JOURNAL_FILE)


def load(journal_dir, run_id):
    """The journal dict of a run, or None when the run has not recorded anything."""
    path = _journal_path(journal_dir, run_id)
    try:
        with open(path, 'r') as handle:
            data = json.load(handle)
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise JournalError('%s: cannot read: %s' % (path, exc.strerror or exc)) from exc
    except ValueError as exc:
        raise JournalError('%s: not valid JSON: %s' % (path, exc)) from exc
    if not isinstance(data, dict) or not isinstance(data.get('entries'), list):
        raise JournalError('%s: not a compose-doctor journal' % path)
    return data


def _empty(run_id):
    now = _iso()
    return {'format': FORMAT_VERSION, 'run_id': run_id, 'started': now, 'updated': now,
            'entries': [], 'restored': []}


def _save(journal_dir, run_id, data):
    ensure_private_dir(journal_dir)
    ensure_private_dir(run_dir(journal_dir, run_id))
    data['updated'] = _iso()
    text = json.dumps(data, indent=2, sort_keys=True) + '\n'
    atomic_write(_journal_path(journal_dir, run_id), text, mode=0o600)


def _set_latest(journal_dir, run_id):
    link = os.path.join(journal_dir, LATEST)
    try:
        if os.path.islink(link) and os.readlink(link) == run_id:
            return
        tmp = '%s.%d.tmp' % (link, os.getpid())
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(run_id, tmp)
        os.replace(tmp, link)
    except OSError as exc:
        raise JournalError('%s: cannot update the latest pointer: %s' % (link, exc.strerror or exc)) from exc


class _Lock(object):
    """Exclusive lock on <journal_dir>/.lock while a journal is read-modified-written."""

    def __init__(self, journal_dir):
        self.journal_dir = journal_dir
        self.handle = None

    def __enter__(self):
        ensure_private_dir(self.journal_dir)
        self.handle = open(os.path.join(self.journal_dir, '.lock'), 'a')
        if HAS_FCNTL:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        if HAS_FCNTL:
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_UN)
        self.handle.close()
        return False


def list_runs(journal_dir):
    """Runs that recorded something, oldest first: [{run_id, started, updated, entries, restored}]."""
    runs = []
    try:
        names = os.listdir(journal_dir)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return []
        raise JournalError('%s: cannot list: %s' % (journal_dir, exc.strerror or exc)) from exc
    for name in names:
        if name == LATEST or not RUN_ID_RE.match(name):
            continue
        data = load(journal_dir, name)
        if data is None:
            continue
        runs.append({'run_id': name, 'started': data.get('started'), 'updated': data.get('updated'),
                     'entries': len(data['entries']), 'restored': list(data.get('restored') or [])})
    runs.sort(key=lambda r: (r['started'] or '', r['run_id']))
    return runs


def latest_run(journal_dir):
    """Run id of the newest run (the ``latest`` pointer, else the newest journal), or None."""
    link = os.path.join(journal_dir, LATEST)
    if os.path.islink(link):
        target = os.readlink(link)
        if RUN_ID_RE.match(target) and load(journal_dir, target) is not None:
            return target
    runs = list_runs(journal_dir)
    return runs[-1]['run_id'] if runs else None


def resolve_run(journal_dir, run_id=None):
    """'latest'/None -> the newest run id; a given id must exist. Raises JournalError."""
    if run_id in (None, '', LATEST):
        found = latest_run(journal_dir)
        if found is None:
            raise JournalError('no remediation run recorded in %s' % journal_dir)
        return found
    validate_run_id(run_id)
    if load(journal_dir, run_id) is None:
        raise JournalError('run %s not found in %s' % (run_id, journal_dir))
    return run_id


# ---------------------------------------------------------------- entries

_IDENTITY = {
    'file': ('path', 'sha256_before', 'sha256_after'),
    'mode': ('path', 'mode_before', 'mode_after', 'uid_before', 'gid_before', 'owner_after', 'group_after'),
    'service': ('project_dir', 'service'),
    'image': ('project_dir', 'service'),
    'live': ('container',),
}
_REQUIRED = {
    'service': ('project_dir', 'service'),
    'image': ('project_dir', 'service', 'image', 'previous_id', 'rollback_tag'),
    'live': ('project_dir', 'service', 'container', 'memory_before'),
}


def _identity(entry):
    return (entry['type'],) + tuple(entry.get(k) for k in _IDENTITY[entry['type']])


def normalize_entry(entry, backup_root=None, dry_run=False):
    """Validate an entry and fill what can be read from the host now.

    ``file`` without ``sha256_before``: snapshot now -- back the file up into ``backup_root``
    (unless ``dry_run``) and record its current checksum/mode/owner; ``sha256_after`` stays
    None (the edit is made by another tool). ``mode`` without ``mode_before``: current
    mode/owner/group are recorded as the "before" state.
    """
    if not isinstance(entry, dict):
        raise JournalError('journal entry must be a dict, got %r' % type(entry).__name__)
    etype = entry.get('type')
    if etype not in ENTRY_TYPES:
        raise JournalError('journal entry type must be one of %s, got %r' % (', '.join(ENTRY_TYPES), etype))
    out = dict(entry)
    out.setdefault('time', _iso())
    if etype in ('file', 'mode'):
        if not out.get('path'):
            raise JournalError('%s entry needs a path' % etype)
        out['path'] = real_path(out['path'])
    if etype == 'file' and 'sha256_before' not in out:
        if dry_run:
            snap = snapshot(out['path'])
            snap['backup'] = None
        else:
            if backup_root is None:
                raise JournalError('%s: cannot snapshot without a backup directory' % out['path'])
            snap = backup_file(out['path'], backup_root)
        out.update({'backup': snap['backup'], 'existed_before': snap['exists'], 'sha256_before': snap['sha256'],
                    'mode_before': snap['mode'], 'owner_before': snap['owner'], 'group_before': snap['group'],
                    'uid_before': snap['uid'], 'gid_before': snap['gid']})
        out.setdefault('sha256_after', None)
        out.setdefault('mode_after', snap['mode'])
        out.setdefault('tool', 'snapshot')
    elif etype == 'file':
        out.setdefault('existed_before', out.get('sha256_before') is not None)
        out.setdefault('backup', None)
        if out['existed_before'] and not out['backup']:
            raise JournalError('%s: file entry of an existing file needs a backup' % out['path'])
    elif etype == 'mode' and 'mode_before' not in out:
        snap = snapshot(out['path'], allow_dir=True)
        if not snap['exists']:
            raise JournalError('%s: mode entry for a file that does not exist' % out['path'])
        out.update({'mode_before': snap['mode'], 'owner_before': snap['owner'], 'group_before': snap['group'],
                    'uid_before': snap['uid'], 'gid_before': snap['gid']})
        for key in ('mode_after', 'owner_after', 'group_after'):
            out.setdefault(key, None)
    elif etype == 'mode':
        for key in ('owner_before', 'group_before'):
            out.setdefault(key, None)
        if out.get('uid_before') is None and out.get('owner_before') is not None:
            out['uid_before'] = resolve_uid(out['owner_before'])
        if out.get('gid_before') is None and out.get('group_before') is not None:
            out['gid_before'] = resolve_gid(out['group_before'])
        for key in ('mode_after', 'owner_after', 'group_after'):
            out.setdefault(key, None)
    elif etype in _REQUIRED:
        missing = [k for k in _REQUIRED[etype] if out.get(k) in (None, '')]
        if missing:
            raise JournalError('%s entry needs %s' % (etype, ', '.join(missing)))
        out['project_dir'] = os.path.abspath(str(out['project_dir']))
        out.setdefault('project_name', None)
        out.setdefault('files', None)
    if etype == 'live':
        out['memory_before'] = int(out['memory_before'])
        out['memory_swap_before'] = int(out.get('memory_swap_before') or out['memory_before'])
    elif etype == 'service':
        out['action'] = out.get('action') or 'recreated'
        if out['action'] not in SERVICE_ACTIONS:
            raise JournalError('service entry action must be one of %s, got %r' % (', '.join(SERVICE_ACTIONS), out['action']))
    return out


def _has_path(data, path):
    return any(e.get('type') in ('file', 'mode') and e.get('path') == path for e in data['entries'])


def record(journal_dir, run_id, entries, dry_run=False):
    """Append ``entries`` to a run (created when needed); return the entries really added.

    Idempotent: an entry already in the run (same identity) is skipped; a ``file`` snapshot
    (no checksums given) of a path the run already covers is skipped, the earliest backup
    being the one that matters; a ``service`` entry already there is upgraded from
    ``recreated`` to ``rebuilt`` when needed. ``dry_run`` writes nothing and reports what
    would be added.
    """
    validate_run_id(run_id)
    if dry_run:
        data = load(journal_dir, run_id) or _empty(run_id)
        return _merge(data, entries, None, True)
    with _Lock(journal_dir):
        data = load(journal_dir, run_id) or _empty(run_id)
        added = _merge(data, entries, backups_dir(journal_dir, run_id), False)
        if added:
            _save(journal_dir, run_id, data)
            _set_latest(journal_dir, run_id)
    return added


def _merge(data, entries, backup_root, dry_run):
    added = []
    for raw in entries or []:
        if (isinstance(raw, dict) and raw.get('type') == 'file' and 'sha256_before' not in raw
                and raw.get('path') and _has_path(data, real_path(raw['path']))):
            continue
        entry = normalize_entry(raw, backup_root, dry_run)
        ident = _identity(entry)
        existing = [e for e in data['entries'] if e.get('type') == entry['type'] and _identity(e) == ident]
        if existing:
            if entry['type'] == 'service' and entry['action'] == 'rebuilt' and existing[0].get('action') != 'rebuilt':
                existing[0]['action'] = 'rebuilt'
                added.append(entry)
            continue
        data['entries'].append(entry)
        added.append(entry)
    return added


def record_file_edit(journal_dir, run_id, path, new_data, tool=None, module=None):
    """Back up ``path`` into the run, atomically write ``new_data`` and journal the edit.

    Keeps the file's mode/owner (and, through ``module``'s atomic_move, its SELinux context).
    Returns the journal entry. The backup is taken before the
    write; when the write fails the file is untouched and nothing is journaled.
    """
    validate_run_id(run_id)
    if isinstance(new_data, str):
        new_data = new_data.encode('utf-8')
    with _Lock(journal_dir):
        data = load(journal_dir, run_id) or _empty(run_id)
        ensure_private_dir(run_dir(journal_dir, run_id))
        snap = backup_file(path, backups_dir(journal_dir, run_id))
        written = atomic_write(snap['path'], new_data, module=module)
        after = snapshot(written)
        entry = {'type': 'file', 'time': _iso(), 'path': snap['path'], 'backup': snap['backup'],
                 'existed_before': snap['exists'], 'sha256_before': snap['sha256'],
                 'sha256_after': sha256_bytes(new_data), 'mode_before': snap['mode'], 'mode_after': after['mode'],
                 'owner_before': snap['owner'], 'group_before': snap['group'],
                 'uid_before': snap['uid'], 'gid_before': snap['gid'], 'tool': tool}
        if not any(_identity(e) == _identity(entry) for e in data['entries'] if e.get('type') == 'file'):
            data['entries'].append(entry)
        _save(journal_dir, run_id, data)
        _set_latest(journal_dir, run_id)
    return entry


# ---------------------------------------------------------------- restore

def _runs_to_restore(journal_dir, run_id, cascade):
    """The run and, with cascade, every newer run; newest first."""
    target = resolve_run(journal_dir, run_id)
    runs = list_runs(journal_dir)
    ids = [r['run_id'] for r in runs]
    if not cascade:
        return [target]
    index = ids.index(target)
    return list(reversed(ids[index:]))


def _chronological(journal_dir, run_ids, from_entry=None):
    """(run_id, entry) pairs, oldest first; ``from_entry`` keeps only a single run's entries from
    that index on (what one fix changed, for its own undo)."""
    for rid in reversed(run_ids):
        entries = load(journal_dir, rid)['entries']
        for entry in entries[from_entry or 0:]:
            yield rid, entry


def _project(projects, entry):
    key = (entry['project_dir'], entry.get('project_name'), tuple(entry.get('files') or ()))
    return projects.setdefault(key, {'project_dir': entry['project_dir'], 'project_name': entry.get('project_name'),
                                     'files': list(entry.get('files') or []), 'services': [], 'stop': [],
                                     'build': 'never', 'runs': [], 'images': [], 'live': [], 'rebuilt': []})


def _add_service_entry(proj, entry):
    """service/image/live entries -> what rollback does to the project's containers."""
    etype = entry['type']
    if etype == 'image':
        # the first image journaled for a service is the one it ran before the run(s)
        if entry['service'] not in [i['service'] for i in proj['images']]:
            proj['images'].append({k: entry[k] for k in ('service', 'image', 'previous_id', 'rollback_tag')})
        return
    if etype == 'live':
        if entry['container'] not in [x['container'] for x in proj['live']]:
            proj['live'].append({k: entry[k] for k in ('service', 'container', 'memory_before', 'memory_swap_before')})
        return
    # A service the run started was not running before: rollback removes it again;
    # the others are recreated from the restored files (and images).
    bucket = proj['stop'] if entry.get('action') == 'started' else proj['services']
    if entry['service'] not in bucket:
        bucket.append(entry['service'])
    if entry.get('action') == 'rebuilt' and entry['service'] not in proj['rebuilt']:
        proj['rebuilt'].append(entry['service'])


def _finish_project(proj):
    proj['services'].sort()
    proj['stop'] = sorted(set(proj['stop']) - set(proj['services']))
    imaged = set(i['service'] for i in proj['images'])
    # rebuilt services come back from their journaled image; only one without it is rebuilt
    proj['build'] = 'always' if set(proj.pop('rebuilt')) - imaged else 'never'
    # a recreated container takes its limits from the restored file: no live update needed
    proj['live'] = [x for x in proj['live'] if x['service'] not in proj['services']]
    return proj


def _plan_file(path, entries):
    """One path's restore: target state, action (none|content|remove|mode) and any conflict."""
    first = entries[0]
    file_entries = [e for e in entries if e['type'] == 'file']
    item = {'path': path, 'mode': first.get('mode_before'), 'uid': first.get('uid_before'),
            'gid': first.get('gid_before'), 'owner': first.get('owner_before'), 'group': first.get('group_before'),
            'content': None, 'remove': False, 'backup': None, 'sha256': None, 'action': 'none'}
    expected_after, known = None, None
    if file_entries:
        fe = file_entries[0]
        item.update({'content': True, 'remove': not fe.get('existed_before', True), 'backup': fe.get('backup'),
                     'sha256': fe.get('sha256_before')})
        # states the journal saw this file in; anything else was changed by someone else
        known = set(e.get('sha256_before') for e in file_entries) | set(e.get('sha256_after') for e in file_entries)
        expected_after = file_entries[-1].get('sha256_after')
        if any(e.get('sha256_after') is None for e in file_entries):
            known = None  # edited by another tool: any content is plausible
    now = snapshot(path, allow_dir=True)
    conflict = None
    if item['content']:
        if item['remove']:
            item['action'] = 'remove' if now['exists'] else 'none'
        elif now['sha256'] != item['sha256']:
            item['action'] = 'content'
            if known is not None and now['sha256'] not in known:
                conflict = 'changed since the remediation run (checksum %s, expected %s)' % (
                    'missing' if now['sha256'] is None else now['sha256'][:12], expected_after[:12])
    if item['action'] == 'none':
        mode_differs = item['mode'] is not None and now['exists'] and now['mode'] != item['mode']
        owner_differs = now['exists'] and ((item['uid'] is not None and now['uid'] != item['uid'])
                                          or (item['gid'] is not None and now['gid'] != item['gid']))
        if not now['exists'] and not item['content']:
            conflict = 'file no longer exists; cannot restore its mode/owner'
        elif mode_differs or owner_differs:
            item['action'] = 'mode'
    item['mode_now'] = now['mode']
    item['sha256_now'] = now['sha256']
    return item, conflict


def plan_restore(journal_dir, run_id=None, cascade=True, from_entry=None):
    """Work out what restoring ``run_id`` (default latest) means, without changing anything.

    Returns {run_ids (newest first), files: [...], projects: [...], conflicts: [...]}.
    For each path the target is the state before the OLDEST of those runs touched it; the
    expected current state is what the NEWEST run left (its sha256_after). A file whose current
    checksum is neither is a conflict (changed by someone else since the remediation).
    ``from_entry`` (an index into the run's entries) restores only what the run recorded from
    there on, in that run alone: how a failed fix undoes its own changes.
    """
    run_ids = [resolve_run(journal_dir, run_id)] if from_entry is not None \
        else _runs_to_restore(journal_dir, run_id, cascade)
    per_path, projects = {}, {}
    for rid, entry in _chronological(journal_dir, run_ids, from_entry):
        if entry.get('type') in ('file', 'mode'):
            per_path.setdefault(entry['path'], []).append(entry)
        elif entry.get('type') in ('service', 'image', 'live'):
            proj = _project(projects, entry)
            _add_service_entry(proj, entry)
            if rid not in proj['runs']:
                proj['runs'].append(rid)
    files, conflicts = [], []
    for path, entries in per_path.items():  # insertion order: first touched first
        item, conflict = _plan_file(path, entries)
        files.append(item)
        if conflict:
            conflicts.append({'path': path, 'reason': conflict})
    projects = [_finish_project(p) for p in sorted(projects.values(), key=lambda p: p['project_dir'])]
    return {'run_ids': run_ids, 'files': files, 'projects': projects, 'conflicts': conflicts}


def restore(journal_dir, run_id=None, cascade=True, force=False, dry_run=False, from_entry=None, module=None):
    """Restore the files of ``run_id`` (default: latest; with cascade also newer runs, newest first).

    Content comes back byte-for-byte from the backups (checksum verified first), then mode and
    owner. Files that already match are left alone, so restoring twice changes nothing.
    Returns {run_ids, restored: [{path, action}], unchanged: [paths], projects, changed}.
    Raises JournalError on conflicts (unless ``force``) or on a missing/corrupt backup --
    before anything is written.
    """
    if from_entry is not None and load(journal_dir, validate_run_id(run_id)) is None:
        # the fix failed before it recorded anything: nothing of it to undo
        return {'run_ids': [run_id], 'restored': [], 'unchanged': [], 'projects': [], 'conflicts': [],
                'changed': False}
    plan = plan_restore(journal_dir, run_id, cascade, from_entry)
    if plan['conflicts'] and not force:
        raise JournalError('refusing to restore run %s: %s (use force to overwrite)' % (
            plan['run_ids'][-1], '; '.join('%s %s' % (c['path'], c['reason']) for c in plan['conflicts'])))
    payloads = {}
    for item in plan['files']:
        if item['action'] == 'content':
            if not item['backup']:
                raise JournalError('%s: no backup recorded; cannot restore its content' % item['path'])
            try:
                data = read_bytes(item['backup'])
            except SafeWriteError as exc:
                raise JournalError('%s: backup unreadable: %s' % (item['path'], exc)) from exc
            if sha256_bytes(data) != item['sha256']:
                raise JournalError('%s: backup %s does not match its recorded checksum' % (item['path'], item['backup']))
            payloads[item['path']] = data
    restored, unchanged = [], []
    for item in plan['files']:
        action = item['action']
        if action == 'none':
            unchanged.append(item['path'])
            continue
        if not dry_run:
            mode = parse_mode(item['mode']) if item['mode'] else None
            if action == 'content':
                atomic_write(item['path'], payloads[item['path']], mode=mode, uid=item['uid'], gid=item['gid'],
                             module=module)
            elif action == 'remove':
                os.unlink(item['path'])
            elif action == 'mode':
                set_mode_owner(item['path'], mode=mode, uid=item['uid'], gid=item['gid'])
        restored.append({'path': item['path'], 'action': action, 'mode': item['mode'],
                         'owner': item['owner'], 'group': item['group']})
    if restored and not dry_run:
        with _Lock(journal_dir):
            stamp = _iso()
            for rid in plan['run_ids']:
                data = load(journal_dir, rid)
                data.setdefault('restored', []).append(stamp)
                _save(journal_dir, rid, data)
    return {'run_ids': plan['run_ids'], 'restored': restored, 'unchanged': unchanged,
            'projects': plan['projects'], 'conflicts': plan['conflicts'], 'changed': bool(restored)}


def prune(journal_dir, keep, dry_run=False):
    """Remove the oldest runs beyond the newest ``keep`` (never the latest one).

    Returns [{run_id, rollback_tags}] of the runs removed: the caller removes those image tags
    (the images kept for rollback live as long as the runs that can restore them).
    """
    if int(keep) < 1:
        raise JournalError('keep must be at least 1 (the latest run is never pruned), got %r' % (keep,))
    runs = list_runs(journal_dir)
    latest = latest_run(journal_dir)
    old = [r['run_id'] for r in runs[:max(len(runs) - int(keep), 0)] if r['run_id'] != latest]
    pruned = []
    with _Lock(journal_dir) if (old and not dry_run) else contextlib.nullcontext():
        for rid in old:
            data = load(journal_dir, rid) or {'entries': []}
            tags = sorted(set(e['rollback_tag'] for e in data['entries'] if e.get('type') == 'image'))
            if not dry_run:
                shutil.rmtree(run_dir(journal_dir, rid))
            pruned.append({'run_id': rid, 'rollback_tags': tags})
    return pruned


def show(journal_dir, run_id=None):
    """{latest, runs, run (the journal of run_id or latest, or None)} -- checksums, no content."""
    runs = list_runs(journal_dir)
    latest = latest_run(journal_dir)
    journal = None
    if runs:
        journal = load(journal_dir, resolve_run(journal_dir, run_id))
    elif run_id not in (None, '', LATEST):
        resolve_run(journal_dir, run_id)
    return {'latest': latest, 'runs': runs, 'journal': journal}
