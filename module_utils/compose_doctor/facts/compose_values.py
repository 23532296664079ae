# -*- coding: utf-8 -*-
"""Compose service values parsed at the edge: whatever shape a field holds, never an exception.

Each ``normalize_*`` takes the value as Compose's model (or the fallback) holds it and a
``problems`` list; what cannot be read is appended there as ``{key, shape, message}`` (the
value's *shape*, never the value) and skipped, so one odd field never loses the audit.

Terms follow the Compose specification (``ports``: ``host_ip``, ``published``, ``target``,
``protocol``; ``volumes``: ``type``, ``source``, ``target``, ``read_only``).
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import os
import posixpath
import re

from ansible.module_utils.compose_doctor.sizes import parse_size


def shape(value):
    """A value's shape for messages: type and length, plus the digits/punctuation pattern of short
    scalars (``'127.0.0.1:8080'`` -> ``str '999.9.9.9:9999'``) — never the value itself."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, (int, float)):
        return type(value).__name__
    if isinstance(value, dict):
        return 'mapping with keys %s' % ', '.join(sorted(str(k) for k in value)[:6])
    if isinstance(value, list):
        return 'list of %d' % len(value)
    text = str(value)
    pattern = re.sub(r'[A-Za-z]', 'a', re.sub(r'[0-9]', '9', text))
    return 'str %r' % pattern[:40] if len(text) <= 40 else 'str of %d characters' % len(text)


def _problem(problems, key, value, message):
    problems.append({'key': key, 'shape': shape(value), 'message': message})


# ---------------------------------------------------------------------------------------------
# ports
# ---------------------------------------------------------------------------------------------

def is_unspecified_address(host_ip):
    """True for '' and every spelling of 0.0.0.0 / :: (``::0``, ``[::]``, ``0:0:0:0:0:0:0:0``)."""
    text = str(host_ip or '').strip().strip('[]')
    if text == '':
        return True
    try:
        return ipaddress.ip_address(text).is_unspecified
    except ValueError:
        return False


def _port_range(text):
    """'80' -> (80, 80); '8000-8002' -> (8000, 8002); '' -> None. Raises ValueError."""
    text = str(text).strip()
    if text == '':
        return None
    lo, sep, hi = text.partition('-')
    lo = int(lo)
    hi = int(hi) if sep else lo
    if not (0 <= lo <= hi <= 65535):
        raise ValueError('port out of range')
    return lo, hi


def _split_short_port(spec):
    """'[ip:][published:]target[/proto]' -> (host_ip, published, target, protocol) strings."""
    protocol = 'tcp'
    if '/' in spec:
        spec, protocol = spec.rsplit('/', 1)
    if spec.startswith('['):
        end = spec.index(']')
        host_ip, rest = spec[1:end], spec[end + 1:].lstrip(':')
        published, _, target = rest.rpartition(':')
        return host_ip, published, target, protocol
    parts = spec.split(':')
    if len(parts) == 1:
        return '', '', parts[0], protocol
    if len(parts) == 2:
        return '', parts[0], parts[1], protocol
    return ':'.join(parts[:-2]), parts[-2], parts[-1], protocol


def _port_entry(host_ip, published, target, protocol):
    pub = _port_range(published) if published not in (None, '') else None
    tgt = _port_range(target)
    if tgt is None:
        raise ValueError('no container port')
    return {
        'host_ip': str(host_ip or ''),
        'published': pub[0] if pub else None,
        'published_end': pub[1] if pub else None,
        'target': tgt[0],
        'target_end': tgt[1],
        'protocol': str(protocol or 'tcp').lower(),
        'all_interfaces': is_unspecified_address(host_ip),
        'ephemeral': pub is None,   # Docker picks a random host port
    }


def _one_port(item):
    if isinstance(item, dict):
        published = item.get('published')
        host_ip = item.get('host_ip') or ''
        if isinstance(published, str) and ':' in published:   # Compose passes "127.0.0.1:8080" through
            host_ip, _, published = published.rpartition(':')
            host_ip = host_ip.strip('[]')   # "[::1]:8080" -> '::1', as the short syntax gives it
        return _port_entry(host_ip, published, item.get('target'), item.get('protocol'))
    if isinstance(item, bool) or not isinstance(item, (str, int)):
        raise ValueError('not a port')
    return _port_entry(*_split_short_port(str(item).strip()))


def _collapse(entries):
    """Consecutive single ports Compose expanded from a range ('8000-8002') back into one range."""
    out = []
    for e in entries:
        last = out[-1] if out else None
        if (last and last['host_ip'] == e['host_ip'] and last['protocol'] == e['protocol']
                and last['ephemeral'] and e['ephemeral'] and e['target'] == last['target_end'] + 1
                and e['target'] == e['target_end']):
            last['target_end'] = e['target']
            continue
        if (last and last['host_ip'] == e['host_ip'] and last['protocol'] == e['protocol']
                and not last['ephemeral'] and not e['ephemeral'] and e['target'] == last['target_end'] + 1
                and e['published'] == last['published_end'] + 1 and e['published'] == e['published_end']):
            last['target_end'], last['published_end'] = e['target'], e['published']
            continue
        out.append(dict(e))
    return out


def normalize_ports(ports, problems):
    """Service ``ports`` (short or long syntax, any mix) -> entries
    ``{host_ip, published, published_end, target, target_end, protocol, all_interfaces, ephemeral}``.

    ``published``/``target`` are ints (first port of a range, ``*_end`` the last); ``published`` is
    None when Docker assigns a random host port. Unreadable items go to ``problems``.
    """
    items = ports if isinstance(ports, list) else ([] if ports is None else [ports])
    entries = []
    for item in items:
        try:
            entry = _one_port(item)
        except (ValueError, TypeError, IndexError, AttributeError):
            _problem(problems, 'ports', item, 'not a port mapping Compose can publish')
            continue
        if entry not in entries:
            entries.append(entry)
    return _collapse(entries)


def port_label(entry):
    """'8080', '8000-8002', or 'ephemeral->80' for the report's ``<service>:<port>/<proto>``."""
    if entry.get('published') is None:
        tgt = entry.get('target')
        end = entry.get('target_end')
        return 'ephemeral->%s' % (tgt if end in (None, tgt) else '%s-%s' % (tgt, end))
    pub, end = entry.get('published'), entry.get('published_end')
    return str(pub) if end in (None, pub) else '%s-%s' % (pub, end)


# ---------------------------------------------------------------------------------------------
# volumes / tmpfs
# ---------------------------------------------------------------------------------------------

def clean_host_path(path):
    """'//var/run/./docker.sock' -> '/var/run/docker.sock' (POSIX normalisation, one leading slash)."""
    text = posixpath.normpath(str(path))
    return re.sub(r'^/+', '/', text)


def split_volume_spec(spec):
    """Short volume syntax -> (source|None, target, mode). ``/data`` is an anonymous volume."""
    parts = spec.split(':')
    if len(parts) == 1:
        return None, parts[0], ''
    if len(parts) == 2:
        if parts[1].startswith('/'):
            return parts[0], parts[1], ''
        return None, parts[0], parts[1]
    return ':'.join(parts[:-2]), parts[-2], parts[-1]


def _abs_source(source, base_dir, home=None):
    if source.startswith('~'):
        source = (home or os.path.expanduser('~')) + source[1:]
    if not source.startswith('/'):
        source = os.path.join(base_dir, source)
    return clean_host_path(source)


def _one_mount(item, base_dir, home):
    if isinstance(item, dict):
        mtype = str(item.get('type') or 'volume')
        source = item.get('source')
        if source is not None and not isinstance(source, (str, int)):
            raise ValueError('source')
        source = str(source) if source not in (None, '') else None
        if mtype == 'bind' and source:
            source = _abs_source(source, base_dir, home)
        bind = item.get('bind') if isinstance(item.get('bind'), dict) else {}
        return {'type': mtype, 'source': source, 'target': str(item.get('target') or '') or None,
                'read_only': bool(item.get('read_only', False)), 'propagation': bind.get('propagation')}
    if not isinstance(item, str):
        raise ValueError('not a volume')
    source, target, mode = split_volume_spec(item)
    if source and source.startswith(('/', '.', '~')):
        mtype, source = 'bind', _abs_source(source, base_dir, home)
    else:
        mtype = 'volume'
    flags = mode.split(',')
    propagation = next((f for f in flags if f in ('shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate')),
                       None)
    return {'type': mtype, 'source': source or None, 'target': target, 'read_only': 'ro' in flags,
            'propagation': propagation}


def normalize_mounts(volumes, tmpfs, base_dir, problems, home=None):
    """``volumes`` + ``tmpfs`` -> [{type, source, target, read_only, propagation}]; bind sources absolute."""
    out = []
    items = volumes if isinstance(volumes, list) else ([] if volumes is None else [volumes])
    for item in items:
        try:
            out.append(_one_mount(item, base_dir, home))
        except (ValueError, TypeError, AttributeError):
            _problem(problems, 'volumes', item, 'not a volume or bind mount')
    tmp = tmpfs if isinstance(tmpfs, list) else ([] if tmpfs is None else [tmpfs])
    for item in tmp:
        if isinstance(item, (str, int)) and not isinstance(item, bool):
            out.append({'type': 'tmpfs', 'source': None, 'target': str(item).split(':', 1)[0], 'read_only': False,
                        'propagation': None})
        else:
            _problem(problems, 'tmpfs', item, 'not a tmpfs path')
    return out


# ---------------------------------------------------------------------------------------------
# user, image references, sizes, lists
# ---------------------------------------------------------------------------------------------

def name_matches(service, names):
    """The name of ``names`` that service name ``service`` is (case-insensitive), or None: 'kong'
    matches 'kong', 'sutazai-kong', 'sutazai_kong'; not 'kong-database'."""
    s = service.lower()
    for n in names:
        n = n.lower()
        if s == n or s.endswith("-" + n) or s.endswith("_" + n):
            return n
    return None


def is_root_user(user):
    """True when ``user`` (``name|uid[:group|gid]``) runs as root: ``root``, ``0``, ``0:1000``,
    ``root:docker``. The group does not matter (``1000:0`` is not root); '' / None is unknown -> False."""
    if user is None or isinstance(user, bool):
        return False
    name = str(user).strip().split(':', 1)[0].strip()
    return name == 'root' or (name.isdecimal() and int(name) == 0)


def image_reference(ref):
    """An image reference (service ``image:``, Dockerfile ``FROM``) -> ``{name, tag, digest, pin}``.

    ``registry:5000/team/app:1.2@sha256:ab..`` -> name ``registry:5000/team/app``, tag ``1.2``,
    digest ``sha256:ab..``. ``pin``: ``digest`` (``@sha256:``, the strong form: the bytes cannot
    change), ``tag`` (a tag other than latest: the publisher can still move it), ``latest`` or
    ``untagged`` (both mean whatever latest is today; CIS Docker Benchmark 4.x image hygiene).
    Never raises: any value is read as a string."""
    text = str(ref).strip()
    name, _at, digest = text.partition('@')
    tag = None
    if name.rfind(':') > name.rfind('/'):
        name, tag = name.rsplit(':', 1)
    if digest:
        pin = 'digest'
    elif not tag:
        pin = 'untagged'
    else:
        pin = 'latest' if tag.lower() == 'latest' else 'tag'
    return {'name': name, 'tag': tag or None, 'digest': digest or None, 'pin': pin}


def size_or_problem(value, key, problems):
    """Bytes of a Compose size (``mem_limit``, ``deploy.resources.limits.memory``) or None + problem."""
    try:
        return parse_size(value)
    except (ValueError, TypeError):
        _problem(problems, key, value, 'not a size Compose accepts (e.g. 512m, 2g)')
        return None


def string_list(value, key, problems):
    """A list of strings from a scalar or a list (``cap_add``, ``profiles``, ``group_add``)."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            out.append(str(item))
        else:
            _problem(problems, key, item, 'expected a string')
    return out


def mapping(value, key, problems):
    """A dict, or {} + problem when the field holds something else."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    _problem(problems, key, value, 'expected a mapping')
    return {}


# ---------------------------------------------------------------------------------------------
# references (${VAR}) in raw values
# ---------------------------------------------------------------------------------------------

def has_reference(value):
    """True when a raw value refers to a variable ($VAR / ${VAR}) rather than being a literal."""
    if not isinstance(value, str):
        return False
    return bool(re.search(r'(?<!\$)\$(?:\{|[A-Za-z_])', value.replace('$$', '')))


_REF_NAME_RE = re.compile(r'\$\{?([A-Za-z_][A-Za-z0-9_]*)')


def referenced_names(value):
    """Variable names a raw value refers to (``${A:-x}$B`` -> ['A', 'B']); ``$$`` is not a reference."""
    if not isinstance(value, str):
        return []
    return _REF_NAME_RE.findall(value.replace('$$', ''))


# ---------------------------------------------------------------------------------------------
# environment and env_file (shapes shared by the model, the fallback and the secrets view)
# ---------------------------------------------------------------------------------------------

def scalar_str(value):
    """YAML scalar as Compose writes it into the environment (``true``/``false`` for booleans)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if value is None:
        return None
    return str(value)


def environment_to_dict(env, lookup=None):
    """Service ``environment`` (list or mapping) -> dict; bare keys resolved from ``lookup``."""
    lookup = lookup or {}
    out = {}
    if isinstance(env, dict):
        for key, value in env.items():
            if isinstance(value, (dict, list)):
                value = None
            out[str(key)] = scalar_str(value) if value is not None else lookup.get(str(key))
    elif isinstance(env, list):
        for item in env:
            if isinstance(item, (dict, list)) or item is None:
                continue
            item = str(item)
            if '=' in item:
                key, value = item.split('=', 1)
                out[key] = value
            else:
                out[item] = lookup.get(item)
    return out


def env_file_entries(value):
    """Service ``env_file`` (str, list of str, list of {path, required}) -> [{path, required}]."""
    if value is None:
        return []
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, dict):
            if isinstance(item.get('path'), str) and item['path']:
                out.append({'path': item['path'], 'required': bool(item.get('required', True))})
        elif isinstance(item, (str, int)) and not isinstance(item, bool):
            out.append({'path': str(item), 'required': True})
    return out


# ---------------------------------------------------------------------------------------------
# isolation, privileges and limits (the CIS Docker Benchmark's container runtime section)
# ---------------------------------------------------------------------------------------------

def _silent_mapping(value):
    """A dict, or {} without a problem (the key's shape is reported where it is read first)."""
    return value if isinstance(value, dict) else {}


def compose_flag(value):
    """Compose booleans: True, 'true' (any case); everything else is False."""
    return value is True or (isinstance(value, str) and value.strip().lower() == 'true')


def number_or_problem(value, key, problems):
    """A Compose number (``cpus: 0.5``, ``"0.5"``, ``pids_limit: 100``) -> float, or None (+ problem)."""
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        _problem(problems, key, value, 'expected a number')
        return None
    try:
        return float(str(value).strip())
    except ValueError:
        _problem(problems, key, value, 'expected a number')
        return None


def normalize_devices(devices, problems):
    """Service ``devices``: short (``/dev/x[:/dev/y[:rwm]]``) or long ({source, target, permissions},
    as newer Compose writes them) -> [{source, target, permissions}]."""
    items = devices if isinstance(devices, list) else ([] if devices is None else [devices])
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get('source'), str) and item.get('source'):
            out.append({'source': item['source'], 'target': str(item.get('target') or item['source']),
                        'permissions': str(item.get('permissions') or 'rwm')})
        elif isinstance(item, str) and item.strip():
            parts = item.strip().split(':')
            out.append({'source': parts[0], 'target': parts[1] if len(parts) > 1 and parts[1] else parts[0],
                        'permissions': parts[2] if len(parts) > 2 and parts[2] else 'rwm'})
        else:
            _problem(problems, 'devices', item, 'not a device mapping')
    return out


def restart_policy(restart, deploy):
    """The restart policy Compose gives the container: ``restart`` (``no``, ``always``,
    ``unless-stopped``, ``on-failure[:N]``) wins over ``deploy.restart_policy`` ({condition,
    max_attempts}) -> {name, max_retries (0: unlimited), source} or None."""
    if isinstance(restart, str) and restart.strip():
        name, _, count = restart.strip().partition(':')
        try:
            retries = int(count) if count.strip() else 0
        except ValueError:
            retries = 0
        return {'name': name, 'max_retries': retries, 'source': 'restart'}
    policy = _silent_mapping(_silent_mapping(deploy).get('restart_policy'))
    condition = policy.get('condition')
    if not isinstance(condition, str) or not condition:
        return None
    name = {'none': 'no', 'any': 'always'}.get(condition, condition)
    attempts = policy.get('max_attempts')
    try:   # a number, or the string the YAML fallback interpolates ("${RETRIES:-3}" -> "3")
        retries = int(str(attempts).strip()) if not isinstance(attempts, bool) and attempts is not None else 0
    except ValueError:
        retries = 0
    return {'name': name, 'max_retries': retries, 'source': 'deploy.restart_policy'}


def _namespace(value):
    return value.strip() if isinstance(value, str) and value.strip() else None


def isolation_facts(svc, problems):
    """The fields the CIS container checks read: options, namespaces, devices and limits.

    ``cap_drop``/``security_opt`` as written (spelling is the rules' business), namespaces
    (``pid``, ``ipc``, ``uts``, ``userns_mode``) as strings, ``pids_limit`` (service or
    ``deploy.resources.limits.pids``), CPU settings (``cpus`` or ``deploy.resources.limits.cpus``,
    ``cpu_quota``, ``cpu_shares``, ``cpuset``) and the effective restart policy."""
    limits = _silent_mapping(_silent_mapping(_silent_mapping(svc.get('deploy')).get('resources')).get('limits'))
    pids = number_or_problem(svc.get('pids_limit'), 'pids_limit', problems)
    if pids is None:
        pids = number_or_problem(limits.get('pids'), 'deploy.resources.limits.pids', problems)
    cpus = number_or_problem(svc.get('cpus'), 'cpus', problems)
    if not cpus:
        cpus = number_or_problem(limits.get('cpus'), 'deploy.resources.limits.cpus', problems)
    cpuset = svc.get('cpuset')
    return {
        'cap_drop': string_list(svc.get('cap_drop'), 'cap_drop', problems),
        'security_opt': string_list(svc.get('security_opt'), 'security_opt', problems),
        'pid': _namespace(svc.get('pid')),
        'ipc': _namespace(svc.get('ipc')),
        'uts': _namespace(svc.get('uts')),
        'userns_mode': _namespace(svc.get('userns_mode')),
        'devices': normalize_devices(svc.get('devices'), problems),
        'read_only': compose_flag(svc.get('read_only')),
        'pids_limit': int(pids) if pids is not None else None,
        'cpus': cpus,
        'cpu_quota': number_or_problem(svc.get('cpu_quota'), 'cpu_quota', problems),
        'cpu_shares': number_or_problem(svc.get('cpu_shares'), 'cpu_shares', problems),
        'cpuset': str(cpuset) if isinstance(cpuset, (str, int)) and not isinstance(cpuset, bool) and cpuset != ''
        else None,
        'restart_policy': restart_policy(svc.get('restart'), svc.get('deploy')),
    }


def security_options(svc):
    """A service's ``security_opt`` -> [(key, value, as written)], key lower-cased: Compose and the
    engine accept ``seccomp:unconfined`` and ``seccomp=unconfined`` alike; a bare
    ``no-new-privileges`` means ``true``."""
    out = []
    for opt in svc.get("security_opt") or []:
        text = str(opt).strip()
        m = re.match(r"^([A-Za-z][A-Za-z0-9_-]*)\s*[:=]\s*(.*)$", text)
        key, value = (m.group(1), m.group(2).strip()) if m else (text, "true")
        out.append((key.lower(), value, text))
    return out


def capability_name(cap):
    """'cap_sys_admin', 'CAP_SYS_ADMIN', 'sys_admin' -> 'SYS_ADMIN' (the engine takes any of them)."""
    name = str(cap).strip().upper()
    return name[4:] if name.startswith("CAP_") else name
