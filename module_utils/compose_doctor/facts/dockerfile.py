# -*- coding: utf-8 -*-
"""Dockerfiles -> the Python requirements their images install.

``dockerfile_instructions`` splits a Dockerfile into instructions (continuations joined, comments
dropped); ``dockerfile_requirement_refs`` finds the requirement files a ``pip install -r`` names
and the ``COPY``/``ADD`` that brings them in; ``requirements_for_build_fs`` reads them (with
``-r`` includes, parsed by requirements_file) from a service's build context. Used by the missing-module diagnosis and the
python_deps fix.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re

from ansible.module_utils.compose_doctor.facts.project_paths import read_text_fs, relpath_in
from ansible.module_utils.compose_doctor.change.requirements_file import parse_requirements



def dockerfile_instructions(text):
    """[(INSTRUCTION, args)] with line continuations joined and comments dropped."""
    out = []
    current = ''
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith('#')):
            continue
        if current and stripped.startswith('#'):
            continue
        if stripped.endswith('\\'):
            current += stripped[:-1] + ' '
            continue
        current += stripped
        parts = current.split(None, 1)
        if parts:
            out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ''))
        current = ''
    if current.strip():
        parts = current.split(None, 1)
        out.append((parts[0].upper(), parts[1] if len(parts) > 1 else ''))
    return out


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


def requirements_for_build_fs(project_dir, build):
    """Fill build['requirements'] from the Dockerfile in the build context."""
    if not build or build.get('remote') or not build.get('dockerfile'):
        return build
    dockerfile = os.path.join(project_dir, build['dockerfile'])
    context = os.path.join(project_dir, build['context'])
    try:
        text = read_text_fs(dockerfile)
    except (IOError, OSError, ValueError):
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
