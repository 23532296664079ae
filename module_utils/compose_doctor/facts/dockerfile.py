# -*- coding: utf-8 -*-
"""Dockerfiles -> what their images are: the Python requirements they install and the image facts
the CIS Docker Benchmark section 4 checks read.

``dockerfile_lines`` is the one parser (directives, ``# escape=``, continuations, heredocs, any
case; with line numbers); ``dockerfile_instructions`` is the same without lines.
``dockerfile_requirement_refs`` finds the requirement files a ``pip install -r`` names and the
``COPY``/``ADD`` that brings them in; ``requirements_for_build_fs`` reads them (with ``-r``
includes, parsed by requirements_file) from a service's build context. Used by the missing-module
diagnosis and the python_deps fix. ``dockerfile_facts`` gives the final stage's USER and
HEALTHCHECK, ADD lines, FROM references (resolved through ARGs, pinned or not) and secret-looking
ENV/ARG keys (classified, never their values); ``build_facts_fs`` reads a service's Dockerfile once
(bounded) and fills both into its build facts.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import shlex

from ansible.module_utils.compose_doctor.facts.compose_fallback import interpolate_string
from ansible.module_utils.compose_doctor.facts.compose_values import (
    environment_to_dict, has_reference, image_reference, is_root_user,
)
from ansible.module_utils.compose_doctor.facts.project_paths import read_text_fs, relpath_in
from ansible.module_utils.compose_doctor.change.requirements_file import parse_requirements
from ansible.module_utils.compose_doctor.redact import SecretPolicy, has_url_credentials, redact_text


_DIRECTIVE_RE = re.compile(r'^#\s*(syntax|escape|check)\s*=\s*(\S*)\s*$', re.IGNORECASE)
_HEREDOC_RE = re.compile(r'(?<!<)<<(-?)(["\']?)([A-Za-z_][A-Za-z0-9_.-]*)\2')
_HEREDOC_INSTRUCTIONS = ('RUN', 'COPY', 'ADD')


def dockerfile_lines(text):
    """The one Dockerfile parser: ``[(line, INSTRUCTION, args)]``, ``line`` 1-based where the
    instruction starts. Follows Docker's reader: parser directives at the top (``# escape=`` with a
    backtick switches the continuation character), continuations joined (comment and blank
    lines inside one skipped), instructions in any case (upper-cased here), heredoc bodies of
    RUN/COPY/ADD (``<<EOF``, ``<<-EOF``, ``<<"EOF"``) skipped so their lines are never read as
    instructions. Any text in, never an exception; an unterminated heredoc runs to the end."""
    lines = (text or '').split('\n')  # Docker's lines: not str.splitlines' \x1e, \x85, \u2028...
    escape, out, i = '\\', [], 0
    while i < len(lines) and _DIRECTIVE_RE.match(lines[i].strip()):
        name, value = _DIRECTIVE_RE.match(lines[i].strip()).groups()
        if name.lower() == 'escape' and value in ('\\', '`'):
            escape = value
        i += 1
    current, start = None, None
    while i < len(lines):
        stripped = lines[i].strip()
        i += 1
        if not stripped or stripped.startswith('#'):
            continue
        if current is None:
            current, start = '', i
        if stripped.endswith(escape):
            current += stripped[:-1] + ' '
            continue
        instr, args = _split_instruction(current + stripped)
        current = None
        out.append((start, instr, args))
        if instr in _HEREDOC_INSTRUCTIONS:
            for _dash, _quote, word in _HEREDOC_RE.findall(args):
                while i < len(lines) and lines[i].strip() != word:
                    i += 1
                i += 1
    if current is not None and current.strip():
        out.append((start,) + _split_instruction(current))
    return out


def _split_instruction(text):
    parts = text.strip().split(None, 1)
    return parts[0].upper(), parts[1] if len(parts) > 1 else ''


def dockerfile_instructions(text):
    """[(INSTRUCTION, args)] with line continuations joined and comments dropped (dockerfile_lines
    without the line numbers)."""
    return [(instr, args) for _line, instr, args in dockerfile_lines(text)]


def _copy_sources(args):
    args = args.strip()
    if args.startswith('['):
        try:
            items = json.loads(args)
        except ValueError:
            return []
        return [str(i) for i in items[:-1]]
    tokens = [t for t in args.split() if not t.startswith('--')]
    return tokens[:-1]


_PIP_R_RE = re.compile(r'(?:^|\s)(?:-r|--requirement)(?:\s+|=)?(?P<path>[^\s;&|]+)')


def dockerfile_requirement_refs(text):
    """Requirement files a Dockerfile installs, as paths to look up in the build context.

    From ``COPY/ADD requirements*.txt <dest>`` sources and ``pip install -r <path>``.
    Returns an ordered, de-duplicated list of candidate relative paths (may contain globs).
    """
    refs = []
    copied = []
    for instr, args in dockerfile_instructions(text):
        if instr in ('COPY', 'ADD'):
            if '--from' in args:
                continue
            copied.extend(_copy_sources(args))
            for src in _copy_sources(args):
                base = os.path.basename(src.rstrip('/'))
                if re.match(r'^requirements.*\.(?:txt|in)$', base, re.IGNORECASE) or \
                        ('*' in base and base.lower().startswith('requirements')):
                    refs.append(src[2:] if src.startswith('./') else src)
        elif instr == 'RUN' and 'pip' in args:
            for match in _PIP_R_RE.finditer(args):
                path = match.group('path').strip('"\'')
                # an in-image path: prefer the COPY source with the same file name
                same = [c for c in copied if os.path.basename(c.rstrip('/')) == os.path.basename(path)]
                refs.append(same[-1] if same else path)
    seen = []
    for r in refs:
        if r not in seen:
            seen.append(r)
    return seen


def candidate_paths(ref):
    """Context-relative candidates for an in-image path: /app/reqs/r.txt -> app/reqs/r.txt, reqs/r.txt, r.txt."""
    parts = [p for p in ref.replace('\\', '/').split('/') if p not in ('', '.')]
    return ['/'.join(parts[i:]) for i in range(len(parts))]


def requirements_for_build_fs(project_dir, build, text=None):
    """Fill build['requirements'] from the Dockerfile in the build context (``text``: the
    Dockerfile when the caller has read it already)."""
    if not build or build.get('remote') or not build.get('dockerfile'):
        return build
    context = os.path.join(project_dir, build['context'])
    if text is None:
        text, _error, _truncated = read_dockerfile_fs(os.path.join(project_dir, build['dockerfile']))
        if text is None:
            return build
    found = []
    for ref in dockerfile_requirement_refs(text):
        for cand in candidate_paths(ref):
            matches = _glob_in(context, cand)
            if matches:
                for m in matches:
                    if m not in found:
                        found.append(m)
                break
    reqs = []
    for full in found:
        packages = _read_requirements_fs(full, set())
        reqs.append({'path': relpath_in(project_dir, full), 'packages': packages})
    build['requirements'] = reqs
    return build


def _glob_in(context, pattern):
    import glob
    full = os.path.join(context, pattern)
    if any(c in pattern for c in '*?['):
        return sorted(p for p in glob.glob(full) if os.path.isfile(p))
    return [os.path.normpath(full)] if os.path.isfile(full) else []


def _read_requirements_fs(path, seen, depth=0):
    if path in seen or depth > 5:
        return []
    seen.add(path)
    try:
        text = read_text_fs(path)
    except (IOError, OSError, ValueError):
        return []
    packages, includes = parse_requirements(text)
    for inc in includes:
        for name in _read_requirements_fs(os.path.normpath(os.path.join(os.path.dirname(path), inc)), seen,
                                          depth + 1):
            if name not in packages:
                packages.append(name)
    return packages


def _copy_flags(args):
    """{'chmod': '755', 'from': 'builder', ...} from COPY/ADD --flag=value options."""
    flags = {}
    for token in args.split():
        if not token.startswith('--'):
            break
        key, _, value = token[2:].partition('=')
        flags[key.lower()] = value
    return flags


def _copy_dest(args):
    args = args.strip()
    if args.startswith('['):
        try:
            return str(json.loads(args)[-1])
        except (ValueError, IndexError):
            return None
    tokens = [t for t in args.split() if not t.startswith('--')]
    return tokens[-1] if len(tokens) >= 2 else None


def _in_image(workdir, dest):
    path = dest if dest.startswith('/') else os.path.join(workdir or '/', dest)
    return os.path.normpath(path), dest.endswith('/') or dest in ('.', './')


def _source_for(src, dest, is_dir_dest, many, image_path):
    """The context-relative source that becomes image_path through one COPY source, or None."""
    src = src.rstrip('/') or '.'
    if not is_dir_dest and not many:
        if dest == image_path:
            return src  # COPY start.sh /app/start.sh (or a directory copied onto dest)
        if image_path.startswith(dest + '/'):
            return os.path.join(src, os.path.relpath(image_path, dest))
        return None
    if (os.path.dirname(image_path) == dest and not any(c in src for c in '*?[')
            and os.path.basename(src) == os.path.basename(image_path)):
        return src
    if image_path.startswith(dest.rstrip('/') + '/'):
        return os.path.join(src, os.path.relpath(image_path, dest))  # a directory's contents
    return None


def copied_from_context(text, image_path):
    """Which build-context file becomes ``image_path`` in the image a Dockerfile builds.

    ``text``: the Dockerfile; ``image_path``: an absolute path in the image (e.g. the entrypoint
    named by a crash log). Follows WORKDIR and COPY/ADD (the last one that writes the path wins; a
    ``--from`` stage copy or a URL source is not from the context). Returns
    ``{'source': context-relative path, 'chmod': the --chmod value or None, 'instruction': line,
    'changed_after': True when a later RUN names the file (chmod, sed, ...)}``, or None when no
    COPY/ADD of the context writes it (the image's own file, or created by RUN)."""
    workdir, found = '/', None
    base = os.path.basename(image_path)
    for instr, args in dockerfile_instructions(text or ''):
        if instr == 'FROM':
            workdir, found = '/', None  # a new stage: only the last stage is the image
        elif instr == 'WORKDIR':
            workdir = os.path.normpath(os.path.join(workdir, args.strip().strip('"\'')))
        elif instr in ('COPY', 'ADD'):
            flags = _copy_flags(args)
            dest_raw, sources = _copy_dest(args), _copy_sources(args)
            if flags.get('from') or not dest_raw:
                continue
            dest, is_dir = _in_image(workdir, dest_raw)
            for src in sources:
                if '://' in src:
                    continue
                hit = _source_for(src, dest, is_dir, len(sources) > 1, image_path)
                if hit is not None:
                    found = {'source': os.path.normpath(hit), 'chmod': flags.get('chmod') or None,
                             'instruction': '%s %s' % (instr, args.strip()), 'changed_after': False}
        elif instr == 'RUN' and found and (image_path in args or re.search(r'(?:^|[\s/])%s\b' % re.escape(base), args)):
            found['changed_after'] = True
    return found


# --------------------------------------------------------------------------------------------
# image facts: what a Dockerfile makes of its image (CIS Docker Benchmark section 4)
# --------------------------------------------------------------------------------------------

DOCKERFILE_READ_LIMIT = 1024 * 1024  # bytes of a Dockerfile read; the rest is left out (truncated)
_ARCHIVE_RE = re.compile(r'\.(?:tar|tar\.gz|tgz|tar\.bz2|tbz2?|tar\.xz|txz)$', re.IGNORECASE)
_REMOTE_RE = re.compile(r'^(?:[A-Za-z][A-Za-z0-9+.-]*://|git@)')
_KEY_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_.-]*$')


def read_dockerfile_fs(path, limit=None):
    """``(text, error, truncated)`` of a Dockerfile: the first ``limit`` bytes (default
    DOCKERFILE_READ_LIMIT; undecodable bytes replaced), or ``text`` None and ``error`` ``not found`` | ``not a regular file`` (a directory,
    a FIFO: never opened) | ``unreadable (<reason>)``. Never raises."""
    limit = DOCKERFILE_READ_LIMIT if limit is None else limit
    try:
        if not os.path.lexists(path):
            return None, 'not found', False
        if not os.path.isfile(path):
            return None, 'not a regular file', False
        return read_text_fs(path, limit), None, os.path.getsize(path) > limit
    except (IOError, OSError, ValueError) as exc:  # ValueError: a NUL in the path
        return None, 'unreadable (%s)' % (getattr(exc, 'strerror', None) or type(exc).__name__), False


def _words(args):
    """Shell words of an instruction's arguments (whitespace split when the quotes do not balance)."""
    try:
        return shlex.split(args)
    except ValueError:
        return args.split()


def _settings(instr, args):
    """``[(key, value or None)]`` of one ENV/ARG: ``K=V K2="v 2"``, legacy ``ENV K v w``, ``ARG K``."""
    words = _words(args)
    if instr == 'ENV' and words and '=' not in words[0]:
        parts = args.split(None, 1)
        return [(parts[0], ' '.join(_words(parts[1])) if len(parts) > 1 else '')]
    out = []
    for word in words:
        key, eq, value = word.partition('=')
        out.append((key, value if eq else None))
    return [(k, v) for k, v in out if _KEY_RE.match(k)]


def _setting_fact(policy, instr, key, value, line, stage):
    """The classified fact of one secret-looking ENV/ARG (never its value), or None."""
    if not (policy.is_secret_key(key) or (value and has_url_credentials(value))):
        return None
    literal = value is not None and not has_reference(value)
    return {'instruction': instr, 'key': key, 'line': line, 'stage': stage,
            'has_value': value not in (None, ''),
            'class': policy.classify(key, value, literal=literal) if value is not None else 'empty'}


def _from_fact(line, args, stage_names, global_args):
    """One FROM -> ``{line, ref, alias, kind, image, pin, parent}``; ``kind``: ``image`` |
    ``stage`` (an earlier stage, ``parent`` its index) | ``scratch`` | ``unresolved`` (an ARG
    without a value); ``pin`` as compose_values.image_reference for an image."""
    words = [w for w in args.split() if not w.startswith('--')]
    ref = words[0] if words else ''
    alias = words[2].lower() if len(words) >= 3 and words[1].lower() == 'as' else None
    fact = {'line': line, 'ref': ref, 'alias': alias, 'kind': 'unresolved', 'image': None, 'pin': None,
            'parent': None}
    missing = []
    resolved = interpolate_string(ref, global_args, missing) if '$' in ref else ref
    if missing or not resolved:
        return fact
    if resolved.lower() in stage_names:
        fact.update(kind='stage', parent=stage_names[resolved.lower()])
    elif resolved.lower() == 'scratch':
        fact['kind'] = 'scratch'
    else:
        fact.update(kind='image', image=resolved, pin=image_reference(resolved)['pin'])
    return fact


def _add_fact(line, args, stage, patterns):
    """One ADD -> ``{line, stage, checksum, sources: [{source, kind}]}``; ``kind``: ``remote``
    (URL or git), ``archive`` (a local tar ADD unpacks), ``local`` (COPY would do), ``unresolved``
    (a variable). Sources are shown with URL credentials and secret-looking pairs masked."""
    sources = []
    for src in _copy_sources(args):
        if _REMOTE_RE.match(src):
            kind = 'remote'
        elif '$' in src:
            kind = 'unresolved'
        else:
            kind = 'archive' if _ARCHIVE_RE.search(src) else 'local'
        sources.append({'source': redact_text(src, patterns), 'kind': kind})
    return {'line': line, 'stage': stage, 'checksum': bool(_copy_flags(args).get('checksum')), 'sources': sources}


def _inherited(stages, key):
    """The final stage's ``key`` fact, else the one of the earlier stage it is built FROM."""
    idx, seen = len(stages) - 1, set()
    while idx is not None and idx >= 0 and idx not in seen:
        seen.add(idx)
        if stages[idx][key] is not None:
            return stages[idx][key]
        idx = stages[idx]['parent']
    return None


def _base_image(froms, stages):
    """The FROM (fact) the final stage's chain of stages starts from, or None."""
    idx, seen = len(stages) - 1, set()
    while idx is not None and idx >= 0 and idx not in seen:
        seen.add(idx)
        if stages[idx]['parent'] is None:
            return froms[idx]
        idx = stages[idx]['parent']
    return None


def _user_fact(line, args, known_args):
    """USER -> ``{line, user, root}``; ``root`` None when a variable cannot be resolved."""
    user = (_words(args) or [''])[0]
    missing = []
    resolved = interpolate_string(user, known_args, missing) if '$' in user else user
    return {'line': line, 'user': user, 'root': None if missing else is_root_user(resolved or 'root')}


def dockerfile_facts(text, policy=None, build_args=None):
    """What a Dockerfile makes of its image, with 1-based line numbers (CIS Docker Benchmark 4.1,
    4.6, 4.9, 4.10 and base-image pinning)::

        {from: [_from_fact], stages: int, base: the final stage's base FROM or None,
         user: {line, user, root} | None,        # the final stage's USER (inherited from an earlier stage)
         healthcheck: {line, none} | None,       # its HEALTHCHECK; none=True for HEALTHCHECK NONE
         add: [_add_fact], settings: [{instruction, key, line, stage, has_value, class}]}

    ``settings`` lists secret-looking ENV/ARG keys (redact.SecretPolicy ``policy``) with their
    class (redact.classify_value), never a value. ``build_args`` (Compose ``build.args``, mapping
    or list) override global ARG defaults when FROM names a variable. Any text, never raises."""
    policy = policy or SecretPolicy()
    args = environment_to_dict(build_args) if isinstance(build_args, (dict, list)) else {}
    froms, stages, adds, settings, known, global_args = [], [], [], [], {}, None
    for line, instr, raw in dockerfile_lines(text):
        stage = len(stages) - 1 if stages else None
        if instr == 'FROM':
            global_args = dict(known) if global_args is None else global_args  # FROM sees only these
            names = dict((f['alias'], i) for i, f in enumerate(froms) if f['alias'])
            froms.append(_from_fact(line, raw, names, global_args))
            stages.append({'parent': froms[-1]['parent'], 'user': None, 'healthcheck': None})
        elif instr in ('ENV', 'ARG'):
            for key, value in _settings(instr, raw):
                if instr == 'ARG':
                    value_now = args.get(key) if args.get(key) is not None else value
                    if value_now is not None:
                        known[key] = value_now
                fact = _setting_fact(policy, instr, key, value, line, stage)
                if fact:
                    settings.append(fact)
        elif instr == 'USER' and stages:
            stages[-1]['user'] = _user_fact(line, raw, known)
        elif instr == 'HEALTHCHECK' and stages:
            stages[-1]['healthcheck'] = {'line': line, 'none': (_words(raw) or [''])[0].upper() == 'NONE'}
        elif instr == 'ADD':
            adds.append(_add_fact(line, raw, stage, policy.patterns))
    return {'from': froms, 'stages': len(stages), 'base': _base_image(froms, stages),
            'user': _inherited(stages, 'user'), 'healthcheck': _inherited(stages, 'healthcheck'),
            'add': adds, 'settings': settings}


def build_facts_fs(project_dir, build, raw_build=None, policy=None):
    """A service's build facts from its Dockerfile, read once (at most DOCKERFILE_READ_LIMIT bytes):
    ``build['requirements']`` (requirements_for_build_fs) and ``build['dockerfile_facts']``
    (dockerfile_facts plus ``{path, inline, error, truncated}``: ``path`` project-relative, None for
    Compose's ``dockerfile_inline``; ``error`` as read_dockerfile_fs). ``raw_build``: the service's
    ``build`` as Compose holds it (``args``, ``dockerfile_inline``); ``policy``: redact.SecretPolicy.
    A missing or unreadable Dockerfile is an ``error``, never an exception; a remote build context
    (git URL) gets no Dockerfile facts."""
    if not build or build.get('remote'):
        return build
    raw = raw_build if isinstance(raw_build, dict) else {}
    inline = raw.get('dockerfile_inline') if isinstance(raw.get('dockerfile_inline'), str) else None
    if build.get('dockerfile'):
        text, error, truncated = read_dockerfile_fs(os.path.join(project_dir, build['dockerfile']))
    elif inline is not None:
        text, error, truncated = inline[:DOCKERFILE_READ_LIMIT], None, len(inline) > DOCKERFILE_READ_LIMIT
    else:
        return build
    facts = dockerfile_facts(text or '', policy, raw.get('args'))
    facts.update({'path': build.get('dockerfile'), 'inline': not build.get('dockerfile'), 'error': error,
                  'truncated': truncated})
    build['dockerfile_facts'] = facts
    if text is not None and build.get('dockerfile'):
        requirements_for_build_fs(project_dir, build, text)
    return build
