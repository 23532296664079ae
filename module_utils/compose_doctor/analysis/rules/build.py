# -*- coding: utf-8 -*-
"""compose-doctor rules on what a service's image is built from: its Dockerfile and its ``image:``
(CIS Docker Benchmark section 4, docker-bench-security's numbering).

Pure logic over the compose facts: a service's ``build.dockerfile_facts`` (facts/dockerfile.py
``build_facts_fs``: final-stage USER and HEALTHCHECK, ADD lines, FROM references, secret-looking
ENV/ARG keys with their class, never a value) and its ``image``. Each ``rule_*(ctx, finding)``
returns findings built with the catalog's ``finding`` (``_finding``), which the registry (__init__) keeps in its
``RULES`` catalog (severity, title, why, advice and CIS id live there, as data). The helpers
``dockerfile_user`` and ``dockerfile_healthcheck`` give the Dockerfile side of ``root-user`` (4.1)
and ``no-healthcheck`` (4.6 / 5.27).

A Dockerfile's findings are about the file, so a Dockerfile that several services build from gives
one finding (targets ``<dockerfile>:<what>``), attributed to the first service by name; Compose's
``dockerfile_inline`` is reported at the service's compose file and line as ``<service>:dockerfile_inline``.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.compose_doctor.facts.compose_values import image_reference

MASK = "********"
UNPINNED = ("latest", "untagged")
DIGEST_NOTE = "a digest pin (@sha256:...) is the stronger form: a tag can be moved, a digest cannot"


def dockerfile_of(svc):
    """The service's Dockerfile facts (dict, see facts/dockerfile.build_facts_fs), or None: no build,
    a remote build context, or no Dockerfile facts gathered."""
    build = (svc or {}).get("build")
    facts = build.get("dockerfile_facts") if isinstance(build, dict) else None
    return facts if isinstance(facts, dict) else None


def _readable(svc):
    """Dockerfile facts that were read (no ``error``), or None."""
    facts = dockerfile_of(svc)
    return facts if facts is not None and not facts.get("error") else None


def _label(name, facts):
    """How evidence names the Dockerfile: its path, or the service's dockerfile_inline."""
    return facts.get("path") or "%s dockerfile_inline" % name


def where(name, svc, facts, line):
    """(file, line) of a Dockerfile line; dockerfile_inline: the service's compose file and line."""
    if facts.get("path"):
        return facts["path"], line
    return svc.get("file"), svc.get("line")


def _dockerfiles(ctx):
    """(service name, service, Dockerfile facts, key) for each readable Dockerfile once (the first
    service by name that builds from it); ``key`` is the target prefix of its findings."""
    seen = set()
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        facts = _readable(svc)
        if facts is None:
            continue
        key = facts.get("path") or "%s:dockerfile_inline" % name
        if key in seen:
            continue
        seen.add(key)
        yield name, svc, facts, key


def dockerfile_user(name, svc):
    """The Dockerfile side of CIS 4.1 for a service that builds: ``{root, evidence, file, line}``
    with ``root`` True when the final stage sets no USER (file/line: its FROM) or a root one
    (``root``, ``0``, ``0:0``, ``root:group``; file/line: the USER), False for a non-root USER; None
    when unknown (no readable Dockerfile, a USER whose variable does not resolve)."""
    facts = _readable(svc)
    if facts is None:
        return None
    label = _label(name, facts)
    user = facts.get("user")
    if user is not None:
        if user.get("root") is None:
            return None
        file, line = where(name, svc, facts, user.get("line"))
        return {"root": bool(user.get("root")), "file": file, "line": line,
                "evidence": "%s line %s sets USER %s in the final stage" % (label, user.get("line"), user.get("user"))}
    base = facts.get("base") or {}
    file, line = where(name, svc, facts, base.get("line"))
    if base.get("kind") == "scratch":
        unless = "FROM scratch: root"
    else:
        unless = "root unless the base image %s sets a USER" % (base.get("image") or base.get("ref") or "?")
    return {"root": True, "file": file, "line": line,
            "evidence": "%s: the final stage (FROM line %s) sets no USER (%s)" % (label, base.get("line"), unless)}


def dockerfile_healthcheck(name, svc):
    """The Dockerfile side of CIS 4.6: ``{present, evidence, file, line}``; ``present`` False when
    the final stage has no HEALTHCHECK (inherited through earlier stages) or ``HEALTHCHECK NONE``;
    None when unknown (no readable Dockerfile: an image-only service, a remote build)."""
    facts = _readable(svc)
    if facts is None:
        return None
    label = _label(name, facts)
    hc = facts.get("healthcheck")
    if hc is not None:
        file, line = where(name, svc, facts, hc.get("line"))
        return {"present": not hc.get("none"), "file": file, "line": line,
                "evidence": "%s line %s: HEALTHCHECK %s" % (label, hc.get("line"), "NONE" if hc.get("none") else "CMD")}
    base = facts.get("base") or {}
    file, line = where(name, svc, facts, base.get("line"))
    return {"present": False, "file": file, "line": line,
            "evidence": "%s: the final stage (FROM line %s) has no HEALTHCHECK" % (label, base.get("line"))}


def rule_dockerfile_missing(ctx, finding):
    """A local build whose Dockerfile is missing or unreadable: the build fails, and none of the
    image checks could read it."""
    out = []
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        facts = dockerfile_of(svc)
        if not facts or not facts.get("error"):
            continue
        ev = ("service %s builds from %s: %s; `docker compose build` fails and the image checks (USER, "
              "HEALTHCHECK, ADD, ENV/ARG secrets, FROM pins) could not read it" % (name, facts.get("path"),
                                                                                  facts.get("error")))
        out.append(finding(ctx, "dockerfile-missing", name, ev, service=name, fix=None,
                           diagnosis={"dockerfile": facts.get("path"), "error": facts.get("error")}))
    return out


def _add_problems(add):
    """What is wrong with one ADD: [(kind, sources)] for remote sources fetched without
    ``--checksum`` and local non-archive sources (COPY does the same)."""
    remote = [s.get("source") for s in add.get("sources") or [] if s.get("kind") == "remote"]
    local = [s.get("source") for s in add.get("sources") or [] if s.get("kind") == "local"]
    out = []
    if remote and not add.get("checksum"):
        out.append(("remote", remote))
    if local:
        out.append(("local", local))
    return out


def rule_dockerfile_add(ctx, finding):
    """CIS 4.9: ADD where COPY serves (a local file that is not a tar archive ADD would unpack), and
    ADD of a URL without ``--checksum`` (the remote content can change under the same URL)."""
    out = []
    for name, svc, facts, key in _dockerfiles(ctx):
        label = _label(name, facts)
        for add in facts.get("add") or []:
            problems = _add_problems(add)
            if not problems:
                continue
            text = []
            for kind, sources in problems:
                if kind == "remote":
                    text.append("fetches %s without --checksum" % ", ".join(sources))
                else:
                    text.append("adds local %s, which COPY does without ADD's archive and URL handling"
                                % ", ".join(sources))
            file, line = where(name, svc, facts, add.get("line"))
            ev = "%s line %s: ADD %s" % (label, add.get("line"), "; and ".join(text))
            out.append(finding(ctx, "dockerfile-add", "%s:%s" % (key, problems[0][1][0]), ev, service=name,
                               file=file, line=line, fix=None,
                               diagnosis={"dockerfile": facts.get("path"), "line": add.get("line"),
                                          "remote_without_checksum": dict(problems).get("remote", []),
                                          "local": dict(problems).get("local", [])}))
    return out


def rule_dockerfile_secret(ctx, finding):
    """CIS 4.10: a secret-looking ENV with a literal value (in every container's environment and
    the image config) or ARG with a literal default (in ``docker history``), classified by
    redact.classify_value (``secret`` or ``default-credential``). Key names only, never values; ARG
    findings take the policy's ``dockerfile_arg_secret_severity``."""
    out = []
    for name, svc, facts, key in _dockerfiles(ctx):
        label = _label(name, facts)
        for s in facts.get("settings") or []:
            if not s.get("has_value") or s.get("class") not in ("secret", "default-credential"):
                continue
            what = "a well-known default credential" if s["class"] == "default-credential" else "a literal secret"
            where_ = ("the image's environment (docker inspect, every container)" if s["instruction"] == "ENV"
                      else "the image history (docker history) as a build-arg default")
            ev = "%s line %s: %s %s=%s sets %s, kept in %s" % (label, s.get("line"), s["instruction"], s.get("key"),
                                                                MASK, what, where_)
            file, line = where(name, svc, facts, s.get("line"))
            severity = None if s["instruction"] == "ENV" else ctx.policy["dockerfile_arg_secret_severity"]
            out.append(finding(ctx, "dockerfile-secret", "%s:%s" % (key, s.get("key")), ev, service=name,
                               file=file, line=line, fix=None, severity=severity,
                               diagnosis={"dockerfile": facts.get("path"), "line": s.get("line"),
                                          "instruction": s["instruction"], "key": s.get("key"),
                                          "class": s["class"]}))
    return out


def _unpinned_service_images(ctx, finding):
    out = []
    for name in sorted(ctx.services):
        svc = ctx.services[name] or {}
        image = svc.get("image")
        if svc.get("build") or not image or "$" in str(image):
            continue  # a built image's tag names the build; an unresolved reference is not judged
        pin = image_reference(image)["pin"]
        if pin not in UNPINNED:
            continue
        ev = "service %s: image %s %s; %s" % (
            name, image, "is tagged latest" if pin == "latest" else "has no tag (latest)", DIGEST_NOTE)
        out.append(finding(ctx, "image-unpinned", name, ev, service=name, fix=None,
                           diagnosis={"image": str(image), "pin": pin}))
    return out


def rule_image_unpinned(ctx, finding):
    """A service ``image:`` (without ``build``) or a Dockerfile ``FROM`` on ``latest`` or no tag:
    what runs changes whenever the publisher pushes. Not judged: ``scratch``, an earlier stage, a
    FROM whose ARG does not resolve (``unresolved`` in the facts)."""
    out = _unpinned_service_images(ctx, finding)
    for name, svc, facts, key in _dockerfiles(ctx):
        for ref in facts.get("from") or []:
            if ref.get("kind") != "image" or ref.get("pin") not in UNPINNED:
                continue
            ev = "%s line %s: FROM %s %s; %s" % (
                _label(name, facts), ref.get("line"), ref.get("image"),
                "is tagged latest" if ref.get("pin") == "latest" else "has no tag (latest)", DIGEST_NOTE)
            file, line = where(name, svc, facts, ref.get("line"))
            out.append(finding(ctx, "image-unpinned", "%s:%s" % (key, ref.get("image")), ev, service=name,
                               file=file, line=line, fix=None,
                               diagnosis={"image": ref.get("image"), "pin": ref.get("pin"),
                                          "dockerfile": facts.get("path"), "line": ref.get("line")}))
    return out
