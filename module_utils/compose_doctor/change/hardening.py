# -*- coding: utf-8 -*-
"""The hardening fix's plan for one service: which keys to write so that it takes
``no-new-privileges:true``, a process limit, ``cap_drop: [ALL]`` (only where asked) and its
database ports bound to 127.0.0.1 (only where asked) -- never adding privilege.

Pure: the raw service mapping of the compose file in, ``{set, changes}`` out. Every list it
returns is the whole new list (the edit replaces the list), built from the one written, so
the other items and their spelling are kept.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.compose_doctor.facts.compose_values import (
    capability_name, normalize_ports, security_options)

LOCALHOST = '127.0.0.1'
NO_NEW_PRIVILEGES = 'no-new-privileges:true'


def _int_or_none(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _has_pids_limit(svc):
    """pids_limit or deploy.resources.limits.pids set to a positive number (0 and -1: unlimited)."""
    limits = (((svc.get('deploy') or {}).get('resources') or {}).get('limits') or {})
    for value in (svc.get('pids_limit'), limits.get('pids')):
        number = _int_or_none(value)
        if number is not None and number > 0:
            return True
        if value is not None and number is None:
            return True  # "${PIDS_LIMIT}" or another value the file resolves: the user chose it
    return False


def _security_opt(svc):
    """The new security_opt, or None when no-new-privileges is already true (the last one counts)."""
    opts = security_options(svc)
    values = [v.lower() for k, v, _t in opts if k == 'no-new-privileges']
    if values and values[-1] in ('true', '1', 'yes'):
        return None
    kept = [t for k, _v, t in opts if k != 'no-new-privileges']
    return kept + [NO_NEW_PRIVILEGES]


def _cap_drop(svc):
    """['ALL'] (kept spelling of the others dropped too) unless ALL is dropped already."""
    dropped = [str(c) for c in svc.get('cap_drop') or []]
    if 'ALL' in [capability_name(c) for c in dropped]:
        return None
    return ['ALL'] + [c for c in dropped if capability_name(c) != 'ALL']


def _is_database(entry, database_ports):
    lo, hi = entry['target'], entry['target_end'] or entry['target']
    plo, phi = entry['published'], entry['published_end'] or entry['published']
    return any(lo <= d <= hi or (plo is not None and plo <= d <= phi) for d in database_ports)


def localhost_port(item, database_ports):
    """One ``ports`` item re-bound to 127.0.0.1 when it publishes a database port on every
    interface; otherwise the item itself. Short syntax stays short, long stays long."""
    entries = normalize_ports([item], [])
    if len(entries) != 1:
        return item  # not readable: left as written (the audit reports it)
    entry = entries[0]
    if not entry['all_interfaces'] or not _is_database(entry, database_ports):
        return item
    if isinstance(item, dict):
        new = dict(item)
        published = new.get('published')
        if isinstance(published, str) and ':' in published:
            new['published'] = published.rpartition(':')[2]
        new['host_ip'] = LOCALHOST
        return new
    text = str(item).strip()
    proto = ''
    if '/' in text:
        text, proto = text.rsplit('/', 1)
        proto = '/' + proto
    if text.startswith('['):
        text = text[text.index(']') + 1:].lstrip(':')
        published, _, target = text.rpartition(':')
    else:
        parts = text.split(':')
        published, target = (parts[-2], parts[-1]) if len(parts) > 1 else ('', parts[0])
    return '%s:%s:%s%s' % (LOCALHOST, published, target, proto)


def _ports(svc, database_ports):
    ports = svc.get('ports')
    if not isinstance(ports, list):
        return None
    new = [localhost_port(p, database_ports) for p in ports]
    return new if new != ports else None


def plan(svc, pids_limit, cap_drop_all=False, localhost_ports=False, database_ports=()):
    """What to write on one service (its raw compose mapping).

    Returns ``{'set': {key: whole new value}, 'changes': [one line per key]}``; an empty ``set``
    means the service has every setting already. Nothing here adds privilege: options are only
    added (no-new-privileges, a pids limit where there is none, capabilities dropped) or ports
    narrowed to the loopback interface.
    """
    svc = svc or {}
    out, changes = {}, []
    opts = _security_opt(svc)
    if opts is not None:
        out['security_opt'] = opts
        changes.append('security_opt: %s' % NO_NEW_PRIVILEGES)
    limit = _int_or_none(pids_limit)
    if limit is not None and limit > 0 and not _has_pids_limit(svc):
        if isinstance(((svc.get('deploy') or {}).get('resources') or {}).get('limits'), dict):
            # Compose refuses pids_limit beside deploy.resources.limits ("can't set distinct values on
            # 'pids_limit' and 'deploy.resources.limits.pids'"): the limit joins the others there.
            out['deploy'] = {'resources': {'limits': {'pids': limit}}}
            changes.append('deploy.resources.limits.pids: %d' % limit)
        else:
            out['pids_limit'] = limit
            changes.append('pids_limit: %d' % limit)
    if cap_drop_all:
        drop = _cap_drop(svc)
        if drop is not None:
            out['cap_drop'] = drop
            changes.append('cap_drop: ALL')
    if localhost_ports:
        ports = _ports(svc, [int(p) for p in database_ports])
        if ports is not None:
            out['ports'] = ports
            changes.append('database ports on %s' % LOCALHOST)
    return {'set': out, 'changes': changes}
