# -*- coding: utf-8 -*-
"""Paths inside a Compose project: relative paths as the facts report them, and bounded reads."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os


def relpath_in(project_dir, path):
    """``path`` (absolute or relative to project_dir) made relative to project_dir, normalised."""
    if not os.path.isabs(path):
        path = os.path.join(project_dir, path)
    return os.path.relpath(os.path.normpath(path), os.path.normpath(project_dir))


def read_text_fs(path, limit=5 * 1024 * 1024):
    """Text of a file (first ``limit`` bytes, undecodable bytes replaced)."""
    with open(path, 'rb') as handle:
        data = handle.read(limit)
    return data.decode('utf-8', 'replace')


# What a project's delivery looks like from its files (the seed's DevOps practices section):
# kind -> glob patterns, matched against the project's files and the top of its git checkout.
DEVOPS_FILES = {
    "ci": [".gitlab-ci.yml", ".github/workflows/*.yml", ".github/workflows/*.yaml", "Jenkinsfile",
           ".circleci/config.yml", "azure-pipelines.yml", "bitbucket-pipelines.yml", ".drone.yml",
           ".woodpecker.yml", ".woodpecker/*.yml", ".travis.yml", ".gitea/workflows/*.yml"],
    "deploy": ["deploy.sh", "*/deploy.sh", "scripts/deploy*", "Makefile", "justfile", "Taskfile.yml"],
    "iac": ["*.tf", "*/*.tf", "ansible.cfg", "playbooks/*.yml", "site.yml", "helmfile.yaml", "kustomization.yaml"],
}


def devops_files(project_dir, paths, max_up=3):
    """{kind: [relative paths]} of DEVOPS_FILES found among ``paths`` (the project's files) and at the
    top of the git checkout holding project_dir (looked for up to ``max_up`` levels; paths there are
    relative to project_dir, e.g. ``../.gitlab-ci.yml``). Reads names only, never contents."""
    import fnmatch
    import glob
    found = {kind: sorted(p for p in paths if any(fnmatch.fnmatch(p, g) for g in globs))
             for kind, globs in DEVOPS_FILES.items()}
    top = os.path.abspath(project_dir)
    for _ in range(max_up):
        if os.path.exists(os.path.join(top, ".git")) or os.path.dirname(top) == top:
            break
        top = os.path.dirname(top)
    if top != os.path.abspath(project_dir) and os.path.exists(os.path.join(top, ".git")):
        for kind, globs in DEVOPS_FILES.items():
            for g in globs:
                for hit in glob.glob(os.path.join(top, g)):
                    rel = relpath_in(project_dir, hit).replace(os.sep, "/")
                    if rel not in found[kind]:
                        found[kind].append(rel)
    return found
