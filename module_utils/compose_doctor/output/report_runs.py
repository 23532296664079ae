# -*- coding: utf-8 -*-
"""Every audit kept: ``<dest>/<UTC stamp>/`` per run, ``<dest>/latest`` pointing at the newest.

Layout of a host's report folder (``reports/<host>/``)::

    20261205T140102Z/   audit.json audit.md ... (one folder per run, 0700, files 0600)
    20261205T141530Z/   audit.json ... remediation.md (remediate writes its summary into the
                        after-audit's run, linking the before-audit's run)
    latest -> 20261205T141530Z
    audit.json -> latest/audit.json    (the names earlier versions wrote stay valid paths)

Links are replaced atomically (a new link renamed over the old one), so a reader sees the old
run or the new one, never a missing file. ``prune`` keeps the newest ``keep`` runs.
Errors: OSError from the filesystem, ValueError for a ``latest`` that is not ours (a real
directory or file).
"""
from __future__ import absolute_import, division, print_function

import datetime
import os
import re
import shutil

STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
STAMP_RE = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?$")
LATEST = "latest"
DIR_MODE = 0o700


def runs(dest):
    """Run folder names in ``dest``, oldest first (stamps sort by time; ``-N`` after a clash)."""
    try:
        names = os.listdir(dest)
    except OSError:
        return []
    found = [n for n in names if STAMP_RE.match(n) and os.path.isdir(os.path.join(dest, n))
             and not os.path.islink(os.path.join(dest, n))]
    return sorted(found, key=lambda n: (n.split("-")[0], int(n.split("-")[1]) if "-" in n else 0))


def new_run(dest, now=None):
    """Create ``dest/<UTC stamp>`` (0700) for a run -> its name; ``now``: aware or UTC datetime."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    base = now.strftime(STAMP_FORMAT)
    for n in range(1, 1000):
        name = base if n == 1 else "%s-%d" % (base, n)
        path = os.path.join(dest, name)
        try:
            os.mkdir(path, DIR_MODE)
        except FileExistsError:
            continue
        os.chmod(path, DIR_MODE)  # mkdir's mode is masked by umask
        return name
    raise OSError("no free run folder name for %s in %s" % (base, dest))


def _link(path, target):
    """Point the symlink ``path`` at ``target`` atomically; a real directory there is refused."""
    if os.path.isdir(path) and not os.path.islink(path):
        raise ValueError("%s is a directory, not the link compose-doctor keeps there" % path)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)


def point_latest(dest, run, names):
    """``dest/latest`` -> ``run``; each of ``names`` in ``dest`` -> ``latest/<name>``."""
    _link(os.path.join(dest, LATEST), run)
    for name in names:
        _link(os.path.join(dest, name), os.path.join(LATEST, name))


def latest_run(dest):
    """The run ``dest/latest`` points at, or None."""
    path = os.path.join(dest, LATEST)
    if not os.path.islink(path):
        return None
    name = os.path.basename(os.readlink(path).rstrip("/"))
    return name if name in runs(dest) else None


def prune(dest, keep):
    """Remove the oldest runs past the newest ``keep`` (never the one ``latest`` points at)
    -> names removed. ``keep`` < 1 keeps everything."""
    if keep is None or keep < 1:
        return []
    current = latest_run(dest)
    old = [n for n in runs(dest)[:-keep] if n != current]
    for name in old:
        shutil.rmtree(os.path.join(dest, name))
    return old
