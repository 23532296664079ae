# -*- coding: utf-8 -*-
"""Ensure a requirement in a pip requirements file, keeping everything else as it was.

``ensure_requirement(text, 'psutil', '>=5.9.0')``:

* no line for the distribution (PEP 503 names: ``PyYAML`` == ``pyyaml`` == ``py_yaml``)
  -> ``psutil>=5.9.0`` is appended at the end (file's newline style kept);
* a line whose specifier already guarantees the wanted one (``psutil==5.9.8``,
  ``psutil>=6``, ``psutil~=5.9.1``; or any line when only presence is wanted) -> unchanged;
* a line that does not (``psutil``, ``psutil==5.8.0``, ``psutil<5``) -> that line's specifier
  is rewritten in place (name spelling, extras, marker and comment kept) -- appending a second,
  conflicting line would make pip fail;
* a URL / VCS / editable requirement for the distribution is left alone (cannot be compared).

Comments, blank lines, options (``-r``, ``--index-url``) and order are never touched. Pure
functions over text; version comparison is a small PEP 440 subset (release, pre/post/dev, exclusive </> as
packaging reads them; tests/unit/test_requirements_versions.py checks it against packaging).
``parse_requirements`` lists a file's distributions and ``-r`` includes (the audit's view); this
is the one requirements parser and ``normalize_name`` the one PEP 503 normaliser.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

NAME_RE = re.compile(r'^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$')
_CLAUSE_RE = re.compile(r'^\s*(===|~=|==|!=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)\s*$')
_REQ_RE = re.compile(
    r'^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)'
    r'(?P<ws1>\s*)(?P<extras>\[[^\]]*\])?'
    r'(?P<ws2>\s*)(?P<rest>.*)$')
_VERSION_RE = re.compile(
    r'^v?(?:(?P<epoch>\d+)!)?(?P<release>\d+(?:\.\d+)*)'
    r'(?:[-_.]?(?P<pre_l>a|alpha|b|beta|rc|c|pre|preview)[-_.]?(?P<pre_n>\d*))?'
    r'(?P<post>(?:-(?P<post_n1>\d+))|(?:[-_.]?(?:post|rev|r)[-_.]?(?P<post_n2>\d*)))?'
    r'(?P<dev>[-_.]?dev[-_.]?(?P<dev_n>\d*))?'
    r'(?:\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?$', re.IGNORECASE)


class RequirementError(ValueError):
    """An invalid distribution name or version specifier."""


def normalize_name(name):
    """PEP 503: lowercase, runs of ``-_.`` become one ``-``."""
    return re.sub(r'[-_.]+', '-', str(name)).lower()


# ------------------------------------------------------------------ versions

def parse_version(text):
    """PEP 440 version -> comparable tuple; RequirementError when it is not one."""
    match = _VERSION_RE.match(str(text).strip())
    if not match:
        raise RequirementError('not a version: %r' % text)
    release = [int(x) for x in match.group('release').split('.')]
    while len(release) > 1 and release[-1] == 0:
        release.pop()
    pre_l = (match.group('pre_l') or '').lower()
    pre = None
    if pre_l:
        pre = ({'alpha': 'a', 'beta': 'b', 'c': 'rc', 'pre': 'rc', 'preview': 'rc'}.get(pre_l, pre_l),
               int(match.group('pre_n') or 0))
    post_n = match.group('post_n1') if match.group('post_n1') is not None else match.group('post_n2')
    post = None if match.group('post') is None else int(post_n or 0)
    dev = None if match.group('dev') is None else int(match.group('dev_n') or 0)
    # ordering: dev-only release < pre < release < post
    if pre is None and post is None and dev is not None:
        pre_key = (-1, '', 0)
    elif pre is None:
        pre_key = (1, '', 0)
    else:
        pre_key = (0, pre[0], pre[1])
    post_key = -1 if post is None else post
    dev_key = float('inf') if dev is None else dev
    return (int(match.group('epoch') or 0), tuple(release), pre_key, post_key, dev_key)


def _bump(release_text, keep):
    """'5.9.1', keep=2 -> upper bound tuple for ~= / ==X.*: (5, 10)."""
    parts = [int(x) for x in release_text.split('.')[:keep]]
    parts[-1] += 1
    return parse_version('.'.join(str(p) for p in parts) + '.dev0')


def _release_text(ver):
    """'1!2.3rc1.post2' -> '2.3' (the release segments of a version)."""
    return _VERSION_RE.match(ver.strip()).group('release')


_INF = float('inf')


def _exclusive_bound(op, key):
    """PEP 440 (as packaging reads it): ``<V`` leaves out V's pre-releases (V.dev0 and up) unless V
    is a pre-release; ``>V`` leaves out V's post-releases unless V is a post or dev release."""
    epoch, release, pre, post, dev = key
    if op == '<':
        if pre[0] == 0 or dev != _INF:
            return key
        return (epoch, release, (-1, '', 0), -1, 0) if post == -1 else (epoch, release, pre, post, 0)
    if post != -1 or dev != _INF:
        return key
    return (epoch, release, pre, _INF, _INF)


def parse_spec(spec):
    """'>=5.9.0,<7' -> [(op, version_text)]; '' -> []. RequirementError when invalid."""
    clauses = []
    if spec is None or not str(spec).strip():
        return clauses
    for part in str(spec).split(','):
        match = _CLAUSE_RE.match(part)
        if not match:
            raise RequirementError('invalid version specifier %r in %r' % (part.strip(), spec))
        op, ver = match.groups()
        if '*' in ver and (op not in ('==', '!=') or not ver.endswith('.*')):
            raise RequirementError('wildcard only allowed as ==X.* or !=X.* in %r' % spec)
        if op != '===':
            parse_version(ver[:-2] if ver.endswith('.*') else ver)
        if op == '~=' and '.' not in _release_text(ver):
            raise RequirementError('~= needs at least two release segments in %r' % spec)
        clauses.append((op, ver))
    return clauses


class _Interval(object):
    """Set of versions: [lo, hi] bounds (None = unbounded) minus excluded points."""

    def __init__(self):
        self.lo = None
        self.lo_incl = True
        self.hi = None
        self.hi_incl = True
        self.excluded = []
        self.exact_text = None

    def add_lower(self, value, incl):
        if self.lo is None or value > self.lo or (value == self.lo and not incl):
            self.lo, self.lo_incl = value, incl

    def add_upper(self, value, incl):
        if self.hi is None or value < self.hi or (value == self.hi and not incl):
            self.hi, self.hi_incl = value, incl


def _interval(clauses):
    box = _Interval()
    for op, ver in clauses:
        if op == '===':
            box.exact_text = ver
            continue
        if ver.endswith('.*'):
            base = ver[:-2]
            low = parse_version(base + '.dev0')
            high = _bump(base, len(base.split('.')))
            if op == '==':
                box.add_lower(low, True)
                box.add_upper(high, False)
            else:
                box.excluded.append(('range', low, high))
            continue
        value = parse_version(ver)
        if op == '==':
            box.add_lower(value, True)
            box.add_upper(value, True)
        elif op == '>=':
            box.add_lower(value, True)
        elif op == '>':
            box.add_lower(_exclusive_bound(op, value), False)
        elif op == '<=':
            box.add_upper(value, True)
        elif op == '<':
            box.add_upper(_exclusive_bound(op, value), False)
        elif op == '!=':
            box.excluded.append(('point', value, value))
        elif op == '~=':
            box.add_lower(value, True)
            release = _release_text(ver)
            box.add_upper(_bump(release, len(release.split('.')) - 1), False)
    return box


def spec_satisfies(existing, wanted):
    """True when every version allowed by ``existing`` is allowed by ``wanted``.

    Both are specifier strings; an empty ``wanted`` (presence only) is always satisfied; an
    empty ``existing`` (any version) satisfies only an empty ``wanted``.
    """
    want = parse_spec(wanted)
    if not want:
        return True
    have = _interval(parse_spec(existing))
    if have.exact_text is not None:
        try:
            point = parse_version(have.exact_text)
        except RequirementError:
            return False
        have.lo = have.hi = point
        have.lo_incl = have.hi_incl = True
    for op, ver in want:
        if op == '===':
            if have.exact_text != ver:
                return False
            continue
        clause = _interval([(op, ver)])
        if clause.lo is not None:
            if have.lo is None or have.lo < clause.lo:
                return False
            if have.lo == clause.lo and have.lo_incl and not clause.lo_incl:
                return False
        if clause.hi is not None:
            if have.hi is None or have.hi > clause.hi:
                return False
            if have.hi == clause.hi and have.hi_incl and not clause.hi_incl:
                return False
        for kind, low, high in clause.excluded:
            if any(ek == kind and el == low and eh == high for ek, el, eh in have.excluded):
                continue
            if kind == 'point':
                inside_lo = have.lo is None or have.lo < low or (have.lo == low and have.lo_incl)
                inside_hi = have.hi is None or have.hi > low or (have.hi == low and have.hi_incl)
                if inside_lo and inside_hi:
                    return False
            else:
                below = have.hi is not None and (have.hi < low or (have.hi == low and not have.hi_incl))
                above = have.lo is not None and have.lo >= high
                if not (below or above):
                    return False
    return True


# ------------------------------------------------------------------ lines

def _split_comment(line):
    """'psutil>=5  # note' -> ('psutil>=5', '  # note'); a '#' must follow whitespace or start."""
    match = re.search(r'(^|\s)#', line)
    if not match:
        return line, ''
    body = line[:match.start()]
    stripped = body.rstrip()
    return stripped, line[len(stripped):]


def parse_line(line):
    """Classify one logical line -> dict(kind=blank|comment|option|url|requirement, ...)."""
    body, comment = _split_comment(line)
    text = body.strip()
    if not text:
        return {'kind': 'comment' if comment.strip() else 'blank'}
    egg = re.search(r'[#&]egg=([A-Za-z0-9._-]+)', line)
    if text.startswith('-'):
        return {'kind': 'url' if egg else 'option', 'name': normalize_name(egg.group(1)) if egg else None}
    if '://' in text or text.startswith(('.', '/')):
        named = re.match(r'^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@', text)
        name = named.group(1) if named else (egg.group(1) if egg else None)
        return {'kind': 'url', 'name': normalize_name(name) if name else None}
    match = _REQ_RE.match(text)
    if not match:
        return {'kind': 'option', 'name': None}
    rest = match.group('rest')
    options = ''
    opt = re.search(r'(^|\s)--?[A-Za-z]', rest)
    if opt:
        rest, options = rest[:opt.start()], rest[opt.start():].strip()
    marker = ''
    if ';' in rest:
        rest, marker = rest.split(';', 1)
        marker = ';' + marker
    if rest.strip().startswith('@') or '://' in rest:
        return {'kind': 'url', 'name': normalize_name(match.group('name'))}
    spec = rest.strip()
    if spec.startswith('(') and spec.endswith(')'):
        spec = spec[1:-1]
    return {'kind': 'requirement', 'name': normalize_name(match.group('name')), 'raw_name': match.group('name'),
            'extras': match.group('extras') or '', 'spec': spec.replace(' ', ''), 'marker': marker.strip(),
            'comment': comment, 'indent': body[:len(body) - len(body.lstrip())], 'options': options}


def _logical_lines(lines):
    """Join backslash continuations: yields (first_index, last_index, joined_text)."""
    i = 0
    while i < len(lines):
        start, parts = i, []
        while True:
            raw = lines[i].rstrip('\r\n')
            if raw.endswith('\\') and i + 1 < len(lines):
                parts.append(raw[:-1])
                i += 1
                continue
            parts.append(raw)
            break
        yield start, i, ' '.join(p.strip() for p in parts) if len(parts) > 1 else parts[0]
        i += 1


def _format(raw_name, extras, spec, marker='', comment='', indent=''):
    out = indent + raw_name + extras + spec
    if marker:
        out += ' ' + marker.lstrip() if not marker.startswith(' ') else marker
    return out + comment


_INCLUDE_RE = re.compile(r'^(?:-r|--requirement)(?:\s+|=)?(\S+)')


def parse_requirements(text):
    """(packages, includes) of a requirements file: normalised distribution names (first
    spelling, no repeats) and ``-r`` files. URL/VCS lines count by ``#egg=`` or ``name @``."""
    packages = []
    includes = []
    for _first, _last, joined in _logical_lines((text or '').splitlines(True)):
        info = parse_line(joined)
        body = _split_comment(joined)[0].strip()
        if info['kind'] == 'option' or (body.startswith('-') and not body.startswith(('-e', '--editable'))):
            inc = _INCLUDE_RE.match(body)
            if inc:
                includes.append(inc.group(1))
            continue
        name = info.get('name')
        if name and name not in packages:
            packages.append(name)
    return packages, includes


def ensure_requirement(text, name, spec=''):
    """Ensure ``name`` + ``spec`` in requirements ``text``.

    Returns {text, changed, action: none|appended|updated|unverifiable, reason, line,
    previous (the old line, when updated)}.
    """
    name = str(name).strip()
    if not NAME_RE.match(name):
        raise RequirementError('invalid distribution name %r' % name)
    spec = (spec or '').replace(' ', '')
    parse_spec(spec)
    wanted_line = name + spec
    key = normalize_name(name)
    text = text or ''
    lines = text.splitlines(True)
    newline = '\r\n' if '\r\n' in text else '\n'
    found = []
    for first, last, joined in _logical_lines(lines):
        info = parse_line(joined)
        if info.get('name') == key:
            found.append((first, last, joined, info))
    for first, _last, joined, info in found:
        if info['kind'] == 'url':
            return {'text': text, 'changed': False, 'action': 'unverifiable', 'line': joined.strip(),
                    'reason': '%s is installed from a URL/VCS reference (line %d); left unchanged' % (name, first + 1)}
        try:
            ok = spec_satisfies(info['spec'], spec)
        except RequirementError:
            return {'text': text, 'changed': False, 'action': 'unverifiable', 'line': joined.strip(),
                    'reason': 'line %d %r has a specifier that cannot be evaluated; left unchanged' % (first + 1, joined.strip())}
        if ok:
            how = 'is present' if not spec else 'already satisfies %s' % spec
            return {'text': text, 'changed': False, 'action': 'none', 'line': joined.strip(),
                    'reason': 'line %d %r %s' % (first + 1, joined.strip(), how)}
    hashed = re.search(r'(^|\s)--hash[=\s]', text) is not None
    if hashed:
        return {'text': text, 'changed': False, 'action': 'unverifiable', 'line': '',
                'reason': 'the file uses pip hash-checking mode (--hash); add %s%s with its hashes by hand'
                          % (name, spec)}
    if found:
        first, last, joined, info = found[0]
        new_line = _format(info['raw_name'], info['extras'], spec, info['marker'], info['comment'], info['indent'])
        ending = ''
        if lines[last].endswith('\r\n'):
            ending = '\r\n'
        elif lines[last].endswith('\n'):
            ending = '\n'
        new_lines = lines[:first] + [new_line + ending] + lines[last + 1:]
        return {'text': ''.join(new_lines), 'changed': True, 'action': 'updated', 'line': new_line.strip(),
                'previous': joined.strip(),
                'reason': 'line %d %r does not guarantee %s; specifier set to %r'
                          % (first + 1, joined.strip(), spec, spec)}
    if text and not text.endswith('\n'):
        new_text = text + newline + wanted_line
    else:
        new_text = text + wanted_line + newline
    return {'text': new_text, 'changed': True, 'action': 'appended', 'line': wanted_line,
            'reason': '%s not listed; appended %r' % (name, wanted_line)}
