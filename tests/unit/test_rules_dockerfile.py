# -*- coding: utf-8 -*-
"""CIS Docker Benchmark section 4 (images and build files): root-user and no-healthcheck on the
Dockerfile side, dockerfile-add, dockerfile-secret, image-unpinned and dockerfile-missing. Facts go
through facts/dockerfile.dockerfile_facts (the parser the audit uses); a few cases run the whole
static path from files (compose_model.gather). Secret values are checked by presence only: they
never appear in an assertion message."""
import json

import pytest

from ansible.module_utils.compose_doctor.analysis import rules
from ansible.module_utils.compose_doctor.facts import compose_model, dockerfile as df
from ansible.module_utils.compose_doctor.output import render, report
from ansible.module_utils.compose_doctor.facts.docker_runtime import empty_runtime

import audit_fixtures as fx

SECRET = "Zq8vN2kLmP4xR7tW-planted"
PATH = "web/Dockerfile"


def _facts(text, path=PATH):
    facts = df.dockerfile_facts(text)
    facts.update({"path": path, "inline": False, "error": None, "truncated": False})
    return facts


def _build(text, container=False, user=None, healthcheck=None, image=None, path=PATH):
    """A mutator: service web builds from ``text``; without ``container`` it has not started."""
    def mutate(c, r):
        web = c["services"]["web"]
        web.update(user=user, healthcheck=healthcheck, image=image,
                   build={"context": "web", "dockerfile": path, "requirements": [], "dockerfile_facts": _facts(text, path)})
        if not container:
            r["containers"] = []
    return mutate


def _image(image):
    return lambda c, r: c["services"]["web"].update(image=image)


def _run(mutator, policy=None):
    c, r = fx.clean_compose(), fx.clean_runtime()
    mutator(c, r)
    return rules.evaluate(c, r, policy or {})


def _of(findings, rule):
    return [f for f in findings if f["rule"] == rule]


def _leaks(obj):
    return SECRET in json.dumps(obj, default=str)


# (rule, fires, quiet): also listed by test_rules.py's every-rule-has-a-case table
BUILD_CASES = [
    ("dockerfile-missing", lambda c, r: c["services"]["web"].update(build={
        "context": "web", "dockerfile": PATH, "requirements": [],
        "dockerfile_facts": dict(df.dockerfile_facts(""), path=PATH, inline=False, error="not found",
                                 truncated=False)}), _build("FROM python:3.12\nUSER app\n")),
    ("dockerfile-add", _build("FROM python:3.12\nADD app.py /app/\n"), _build("FROM python:3.12\nADD app.tar.gz /\n")),
    ("dockerfile-secret", _build("FROM python:3.12\nENV API_TOKEN=%s\n" % SECRET),
     _build("FROM python:3.12\nENV API_TOKEN=$API_TOKEN\n")),
    ("image-unpinned", _image("nginx"), _image("nginx:1.27")),
]


# --- root-user (4.1): one rule, two kinds of evidence -----------------------------------------------

@pytest.mark.parametrize("text, line, words", [
    ("FROM python:3.12\nRUN true\n", 1, "sets no USER (root unless the base image python:3.12 sets a USER)"),
    ("FROM python:3.12\nUSER root\n", 2, "line 2 sets USER root"),
    ("FROM python:3.12\nUSER app\nUSER 0:0\n", 3, "USER 0:0"),
    ("FROM python:3.12\nuser root:staff\n", 2, "USER root:staff"),
    ("FROM golang:1.22 AS build\nUSER app\nFROM scratch\nCOPY --from=build /a /a\n", 3, "FROM scratch: root"),
])
def test_root_user_from_the_dockerfile(text, line, words):
    found = _of(_run(_build(text)), "root-user")
    assert len(found) == 1 and found[0]["cis"] == "4.1"
    assert (found[0]["file"], found[0]["line"]) == (PATH, line) and words in found[0]["evidence"]


@pytest.mark.parametrize("mutator", [
    _build("FROM python:3.12\nUSER app\n"),
    _build("FROM python:3.12 AS base\nUSER 1000:0\nFROM base\nRUN true\n"),   # inherited from an earlier stage
    _build("FROM python:3.12\nUSER root\nRUN x\nUSER app\n"),
    _build("FROM python:3.12\n", user="1000"),                              # compose's user: wins
    _build("FROM python:3.12\nUSER ${UNSET_UID}\n"),                        # unknown: not judged
    lambda c, r: c["services"]["web"].update(user=None) or r.update(containers=[]),  # image only: unknown
])
def test_root_user_quiet(mutator):
    assert _of(_run(mutator), "root-user") == []


def test_running_root_container_names_the_dockerfile_line():
    def mutate(c, r):
        _build("FROM python:3.12\nUSER root\n", container=True)(c, r)
        r["containers"][0]["user"] = ""
    found = _of(_run(mutate), "root-user")
    assert len(found) == 1 and "runs as root" in found[0]["evidence"]
    assert "web/Dockerfile line 2 sets USER root" in found[0]["evidence"]


def test_compose_root_user_still_fires_whatever_the_dockerfile():
    found = _of(_run(_build("FROM python:3.12\nUSER app\n", user="0")), "root-user")
    assert len(found) == 1 and "compose sets user: 0" in found[0]["evidence"]


# --- no-healthcheck (4.6 / 5.27) -----------------------------------------------------------------

@pytest.mark.parametrize("text, line", [("FROM python:3.12\nRUN true\n", 1), ("FROM python:3.12\nHEALTHCHECK NONE\n", 2),
                                        ("FROM a:1 AS b\nHEALTHCHECK CMD x\nFROM c:1\n", 3)])
def test_no_healthcheck_from_the_dockerfile(text, line):
    found = _of(_run(_build(text)), "no-healthcheck")
    assert len(found) == 1 and "its image none" in found[0]["evidence"]
    assert "%s" % PATH in found[0]["evidence"] and "line %d" % line in found[0]["evidence"]


@pytest.mark.parametrize("mutator", [
    _build("FROM python:3.12\nHEALTHCHECK --interval=10s CMD curl -f http://localhost/\n"),
    _build("FROM a:1 AS base\nHEALTHCHECK CMD true\nFROM base\n"),
    _build("FROM python:3.12\nHEALTHCHECK NONE\n", healthcheck={"test": ["CMD", "true"], "disabled": False}),
    lambda c, r: c["services"]["web"].update(healthcheck=None) or r.update(containers=[]),  # image only: unknown
])
def test_no_healthcheck_quiet(mutator):
    assert _of(_run(mutator), "no-healthcheck") == []


@pytest.mark.parametrize("test, fires", [(["CMD-SHELL", "curl -f localhost"], False), (["NONE"], True), ([], True),
                                         (None, True)])
def test_container_config_healthcheck_counts_before_it_has_run(test, fires):
    """A created or exited container has no health state yet; its Config.Healthcheck (image merged with
    compose) says whether one is defined."""
    def mutate(c, r):
        c["services"]["web"]["healthcheck"] = None
        r["containers"][0].update(state="exited", health=None, healthcheck_test=test)
    assert bool(_of(_run(mutate), "no-healthcheck")) is fires


def test_compose_disable_wins_over_the_image_healthcheck():
    found = _of(_run(_build("FROM a:1\nHEALTHCHECK CMD true\n", healthcheck={"test": None, "disabled": True})),
                "no-healthcheck")
    assert len(found) == 1 and "disables its healthcheck" in found[0]["evidence"]


def test_compose_healthcheck_without_test_does_not_count():
    found = _of(_run(_build("FROM a:1\n", healthcheck={"test": None, "disabled": False})), "no-healthcheck")
    assert len(found) == 1


# --- dockerfile-add (4.9) ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, words", [
    ("ADD app.py /app/", "adds local app.py, which COPY does"),
    ("add [\"conf/\", \"/etc/app/\"]", "adds local conf/"),
    ("ADD https://example.com/tool.bin /usr/local/bin/tool", "fetches https://example.com/tool.bin without --checksum"),
    ("ADD --chown=1:1 git@github.com:o/r.git /src", "fetches git@github.com:o/r.git without --checksum"),
])
def test_dockerfile_add_fires(line, words):
    found = _of(_run(_build("FROM python:3.12\n%s\n" % line)), "dockerfile-add")
    assert len(found) == 1 and found[0]["severity"] == "low" and found[0]["cis"] == "4.9"
    assert (found[0]["file"], found[0]["line"]) == (PATH, 2) and words in found[0]["evidence"]


@pytest.mark.parametrize("line", ["ADD site.tar.gz /srv/", "ADD --checksum=sha256:%s https://x.io/a /a" % ("c" * 64),
                                  "COPY app.py /app/", "ADD $SRC /s"])
def test_dockerfile_add_quiet(line):
    assert _of(_run(_build("FROM python:3.12\n%s\n" % line)), "dockerfile-add") == []


def test_add_url_credentials_never_shown():
    found = _of(_run(_build("FROM a:1\nADD https://bob:%s@x.io/f /f\n" % SECRET)), "dockerfile-add")
    assert len(found) == 1 and not _leaks(found)


def test_a_dockerfile_two_services_build_gives_one_finding():
    def mutate(c, r):
        _build("FROM python:3.12\nADD app.py /app/\n")(c, r)
        c["services"]["worker"] = dict(c["services"]["web"], line=30)
    found = _of(_run(mutate), "dockerfile-add")
    assert len(found) == 1 and found[0]["service"] == "web"


# --- dockerfile-secret (4.10) ------------------------------------------------------------------------

@pytest.mark.parametrize("line, severity", [
    ("ENV API_TOKEN=%s" % SECRET, "high"),
    ("ENV DB_PASSWORD %s" % SECRET, "high"),
    ("ENV A=1 SECRET_KEY=\"%s\"" % SECRET, "high"),
    ("ARG NPM_TOKEN=%s" % SECRET, "medium"),
    ("ENV ADMIN_PASSWORD=changeme", "high"),
])
def test_dockerfile_secret_fires(line, severity):
    findings = _run(_build("FROM python:3.12\n%s\n" % line))
    found = _of(findings, "dockerfile-secret")
    assert len(found) == 1 and found[0]["severity"] == severity and found[0]["cis"] == "4.10"
    assert (found[0]["file"], found[0]["line"]) == (PATH, 2) and "=********" in found[0]["evidence"]
    assert not _leaks(findings), "a secret value reached a finding"


@pytest.mark.parametrize("line", ["ARG NPM_TOKEN", "ENV API_TOKEN=$API_TOKEN", "ENV API_TOKEN=${API_TOKEN:-}",
                                  "ENV DB_PASSWORD=<your-password>", "ENV PASSWORD_MIN_LENGTH=12",
                                  "ENV DB_PASSWORD_FILE=/run/secrets/db"])
def test_dockerfile_secret_quiet(line):
    assert _of(_run(_build("FROM python:3.12\n%s\n" % line)), "dockerfile-secret") == []


def test_secret_heredoc_body_is_not_an_instruction():
    text = "FROM a:1\nRUN <<EOF\nENV API_TOKEN=%s\nEOF\n" % SECRET
    assert _of(_run(_build(text)), "dockerfile-secret") == []


def test_arg_secret_severity_is_policy_data():
    mutate = _build("FROM a:1\nARG NPM_TOKEN=%s\nENV API_TOKEN=%s\n" % (SECRET, SECRET))
    found = _of(_run(mutate, {"dockerfile_arg_secret_severity": "high"}), "dockerfile-secret")
    assert sorted(f["severity"] for f in found) == ["high", "high"]
    found = _of(_run(mutate, {"rule_severity": {"dockerfile-secret": "low"}}), "dockerfile-secret")
    assert sorted(f["severity"] for f in found) == ["low", "low"]
    with pytest.raises(ValueError):
        rules.effective_policy({"dockerfile_arg_secret_severity": "urgent"})


# --- image-unpinned ---------------------------------------------------------------------------------

@pytest.mark.parametrize("image, words", [("nginx", "has no tag"), ("nginx:latest", "is tagged latest"),
                                          ("registry:5000/team/app", "has no tag"), ("ghcr.io/o/app:LATEST", "latest")])
def test_service_image_unpinned(image, words):
    found = _of(_run(_image(image)), "image-unpinned")
    assert len(found) == 1 and found[0]["severity"] == "low" and words in found[0]["evidence"]
    assert "@sha256:" in found[0]["evidence"] and found[0]["target"] == "web"


@pytest.mark.parametrize("mutator", [
    _image("nginx:1.27"), _image("nginx@sha256:" + "a" * 64), _image("registry:5000/app:2"), _image("${IMAGE}"),
    _build("FROM python:3.12\nUSER app\n", image="shop/web:latest"),   # the tag names what build makes
])
def test_service_image_pinned_or_built(mutator):
    assert _of(_run(mutator), "image-unpinned") == []


@pytest.mark.parametrize("text, line, image", [
    ("FROM python\n", 1, "python"),
    ("ARG BASE=node\nFROM ${BASE}:latest AS build\nFROM build\n", 2, "node:latest"),
    ("FROM golang:1.22 AS build\nFROM alpine\n", 2, "alpine"),
])
def test_from_unpinned(text, line, image):
    found = _of(_run(_build(text)), "image-unpinned")
    assert len(found) == 1 and (found[0]["file"], found[0]["line"]) == (PATH, line)
    assert found[0]["target"] == "%s:%s" % (PATH, image) and "digest" in found[0]["evidence"]


@pytest.mark.parametrize("text", ["FROM scratch\n", "FROM python:3.12 AS base\nFROM base\n", "ARG TAG\nFROM node:${TAG}\n",
                                  "FROM python@sha256:%s\n" % ("d" * 64), "FROM ${UNSET}\n"])
def test_from_quiet(text):
    assert _of(_run(_build(text)), "image-unpinned") == []


# --- from files: the whole static path ------------------------------------------------------------

def _audit(tmp_path, files):
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    compose = compose_model.gather(str(tmp_path), use_cli=False, environ={})
    runtime = empty_runtime("unix:///nonexistent.sock", error="not reachable (test)")
    findings = rules.evaluate(compose, runtime)
    rep = report.build_report("host", compose, runtime, findings)
    outputs = [to(rep) for to in (render.to_markdown, render.to_html, render.to_sarif, render.to_junit)]
    return compose, findings, outputs


def test_missing_dockerfile_is_a_finding_not_an_exception(tmp_path):
    _compose, findings, _out = _audit(tmp_path, {"compose.yaml": "services:\n  web:\n    build: ./nope\n"})
    found = _of(findings, "dockerfile-missing")
    assert len(found) == 1 and found[0]["service"] == "web" and "nope/Dockerfile: not found" in found[0]["evidence"]
    assert _of(findings, "root-user") == [] and _of(findings, "no-healthcheck") == []


def test_hostile_dockerfile_end_to_end(tmp_path):
    dockerfile = ("# escape=`\nARG BASE=python\nfrom ${BASE} as build\nenv API_TOKEN=%s `\n    MODE=prod\n"
                  "RUN <<EOF\nUSER app\nEOF\nadd [\"app.py\", \"/app/\"]\nFROM build\n" % SECRET)
    compose, findings, outputs = _audit(tmp_path, {
        "compose.yaml": "services:\n  web:\n    build:\n      context: app\n      dockerfile: Build.dockerfile\n",
        "app/Build.dockerfile": dockerfile})
    got = dict(((f["rule"], f["line"]) for f in findings if f["file"] == "app/Build.dockerfile"))
    assert got == {"root-user": 3, "dockerfile-secret": 4, "dockerfile-add": 9, "image-unpinned": 3}
    # a healthcheck goes into the compose service or the Dockerfile: reported at the service, naming the FROM line
    assert "app/Build.dockerfile: the final stage (FROM line 3) has no HEALTHCHECK" in _of(
        findings, "no-healthcheck")[0]["evidence"]
    assert not _leaks(compose) and not _leaks(findings) and not any(SECRET in o for o in outputs), \
        "a secret value reached the facts, findings or a report"


def test_dockerfile_findings_by_rule_and_line_end_to_end(tmp_path):
    _c, findings, outputs = _audit(tmp_path, {
        "compose.yaml": "services:\n  web:\n    build: .\n",
        "Dockerfile": "FROM python\nARG PIP_TOKEN=%s\nADD https://x.io/a /a\nHEALTHCHECK CMD true\nUSER app\n" % SECRET})
    got = sorted((f["rule"], f["line"]) for f in findings if f["file"] == "Dockerfile")
    assert got == [("dockerfile-add", 3), ("dockerfile-secret", 2), ("image-unpinned", 1)]
    assert _of(findings, "dockerfile-secret")[0]["severity"] == "medium"
    markdown = outputs[0]
    images = markdown.split("### Images and build files", 1)[1].split("###", 1)[0]
    assert "ADD used in a Dockerfile" in images and "Image not pinned" in images
    secrets = markdown.split("### Secrets in configuration", 1)[1].split("###", 1)[0]
    assert "Secret in a Dockerfile" in secrets and "PIP_TOKEN=********" in secrets
    assert not any(SECRET in o for o in outputs), "a secret value reached a report"


def test_dockerfile_inline_is_reported_at_the_service(tmp_path):
    _c, findings, _o = _audit(tmp_path, {
        "compose.yaml": "services:\n  web:\n    build:\n      context: .\n      dockerfile_inline: |\n"
                        "        FROM alpine:3.20\n        ADD x.sh /x.sh\n"})
    found = _of(findings, "dockerfile-add")
    assert len(found) == 1 and found[0]["file"] == "compose.yaml" and "dockerfile_inline line 2" in found[0]["evidence"]
    assert found[0]["target"] == "web:dockerfile_inline:x.sh"


def test_every_build_rule_is_in_the_catalog_with_its_cis_id():
    cat = dict((r["id"], r) for r in rules.catalog())
    assert [cat[r]["cis"] for r in ("dockerfile-add", "dockerfile-secret", "root-user", "no-healthcheck")] == [
        "4.9", "4.10", "4.1", "5.27"]
    assert cat["image-unpinned"]["severity"] == "low" and cat["dockerfile-secret"]["severity"] == "high"
    for rid in ("dockerfile-missing", "dockerfile-add", "dockerfile-secret", "image-unpinned"):
        assert cat[rid]["impact"] and cat[rid]["advice"] and cat[rid]["status"] == "evaluated"
