#!/usr/bin/python
# -*- coding: utf-8 -*-
# compose-doctor: gather read-only facts about a Docker Compose project.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r'''
---
module: compose_facts
short_description: Read-only facts about a Docker Compose project (files, effective model, env files, secrets)
description:
  - Discovers every compose file under O(project_dir) (not under vendored, VCS or bind-mounted data
    directories, see RV(compose.skipped_dirs)) and classifies it as C(main), C(override), C(include),
    C(extends) or C(alternate).
  - The effective model is Compose's own, C(docker compose config --format json) (all profiles) - merge,
    C(include), C(extends), C(!reset)/C(!override), anchors, interpolation. Only when the host has no Compose v2
    (or O(use_cli=false)) does the module build an approximate model itself (RV(compose.model_source=yaml)).
  - Reads the files itself only for what Compose does not print - the file and line defining a service or a
    variable (also in C(include)d and C(extends) files) and the services each file lists.
  - Normalises every service (ports, memory limits from C(deploy.resources) and C(mem_limit), mounts,
    users, privileged, healthcheck, profiles, logging); a value it cannot read is listed in the service's
    C(problems) (file, line, key and the value's shape) instead of failing.
  - Reports env files and secret files with their mode, owner and group, secret-like settings (literal or
    C(${VAR}) reference, default credential), Dockerfiles and the Python requirements their images install.
  - Never returns an environment value, secret or not - per variable only its class (C(secret),
    C(default-credential), C(placeholder), C(not-secret), C(reference), C(empty)) and length. Free text
    (health-check commands, logging options, Compose's error) is scrubbed with every value classified secret.
  - A compose file that does not parse is reported in RV(compose.errors) with file, line and column; it
    never makes the module fail.
version_added: "0.1.0"
author:
  - compose-doctor contributors
options:
  project_dir:
    description:
      - Directory of the Compose project (the directory holding the main compose file and C(.env)).
    type: path
    required: true
  files:
    description:
      - Active compose files, relative to O(project_dir), in C(-f) order.
      - Default is what Compose picks - C(COMPOSE_FILE) from the environment or from C(<project_dir>/.env)
        (C(COMPOSE_PATH_SEPARATOR)), else the first of C(compose.yaml), C(compose.yml), C(docker-compose.yml),
        C(docker-compose.yaml) plus the first of C(compose.override.yml), C(compose.override.yaml),
        C(docker-compose.override.yml), C(docker-compose.override.yaml).
      - With no active file the module reports an error of kind C(no-project) listing the files found.
    type: list
    elements: str
  use_cli:
    description:
      - Use C(docker compose config) for the effective model.
      - When false, or when the host has no Compose v2 or Compose rejects the project, the module merges the
        YAML itself and sets RV(compose.model_source=yaml); a rejection is also reported in RV(compose.errors)
        with Compose's error line.
    type: bool
    default: true
  secret_key_patterns:
    description:
      - Secret words. A key is split into words (C(SNAKE__CASE), C(kebab-case), C(camelCase)) and holds a secret
        when one of its words or word sequences is listed, when a compound word ends with one (C(WEBPASSWORD)),
        or when its last word is C(key) (C(SERVICE_ROLE_KEY)).
      - Default is the built-in list (C(password), C(passwd), C(pwd), C(pw), C(pass), C(secret), C(token),
        C(apikey), C(credential), C(salt), C(dsn), ...); the audit role passes C(audit_secret_key_patterns).
    type: list
    elements: str
  secret_key_qualifiers:
    description:
      - Last words that make a key a property of a secret rather than a secret (C(*_PASS_SCHEME),
        C(*_AUTH_METHOD), C(*_PASSWORD_FILE), C(*_KEY_ID)). Default is the built-in list.
    type: list
    elements: str
  max_file_bytes:
    description:
      - A compose file larger than this is refused (a finding) before it is read, and Compose is not run on it.
    type: int
    default: 4194304
  max_yaml_nodes:
    description:
      - A compose document whose YAML expands (aliases included) past this many nodes is refused before it is
        built, so a "billion laughs" file cannot take the host's memory.
    type: int
    default: 500000
  default_credentials:
    description:
      - Whole values (case-insensitive, C(*) wildcards such as C(change_me*)) that count as default credentials
        under a secret key. Default is the built-in list; the audit role passes C(audit_default_credentials).
    type: list
    elements: str
  ignore_file:
    description:
      - The project's ignore file of suppressions (C(ignore) list of C({rule, reason, until, service, target})),
        absolute or relative to O(project_dir).
      - Empty means C(.compose-doctor-ignore.yml) in O(project_dir), which may be missing; a named file that is
        missing or does not parse becomes a refused suppression (a C(suppression-refused) finding).
    type: str
    default: ''
  runtime:
    description:
      - Also gather the engine's view of the project found (what M(container_facts) returns as RV(runtime)), in
        this same call, so the audit reads a host with one module round-trip. Its keys are M(container_facts)'s
        options; C(project) is the project this module found. Omitted means no runtime facts.
    type: dict
extends_documentation_fragment:
  - compose_doctor.attributes
  - compose_doctor.info_module
notes:
  - Relative paths in the result are relative to O(project_dir).
  - Needs PyYAML on the managed host; without it the module does not fail, it returns RV(missing_libraries)
    and an empty project whose one error says so (the audit role's O(audit_bootstrap) copies the controller's
    PyYAML to the host). The C(docker) CLI with the Compose v2 plugin is optional.
requirements:
  - PyYAML
seealso:
  - name: Compose file merge rules
    description: How multiple compose files are merged.
    link: https://docs.docker.com/reference/compose-file/merge/
'''

EXAMPLES = r'''
- name: Gather compose facts of the lab
  compose_facts:
    project_dir: /opt/sutazaiapp
  register: cf

- name: Show the sprawl
  ansible.builtin.debug:
    msg: "{{ cf.compose.files | length }} compose files, {{ cf.compose.services_defined | length }} services defined"

- name: Only the main file, without the CLI
  compose_facts:
    project_dir: /opt/sutazaiapp
    files: [docker-compose.yml]
    use_cli: false
    secret_key_patterns: [password, secret, token]
'''

RETURN = r'''
runtime:
  description: The engine's facts of the project (see M(container_facts)'s RV(runtime)).
  returned: when O(runtime) is given
  type: dict
missing_libraries:
  description: Python libraries this module needs that the host's interpreter lacks; the facts are then empty.
  returned: when a library is missing
  type: list
  elements: str
  sample: [PyYAML]
compose:
  description: Facts about the Compose project.
  returned: always
  type: dict
  contains:
    project:
      description: Project name (top-level C(name), else C(COMPOSE_PROJECT_NAME), else the directory name) and absolute dir.
      type: dict
      sample: {name: sutazai, dir: /opt/sutazaiapp}
    model_source:
      description: C(cli) when C(docker compose config) produced the model, C(yaml) for the built-in merge.
      type: str
      sample: cli
    cli_error:
      description: Why the CLI was not used (masked), or null.
      type: str
      sample: docker CLI not found
    active_source:
      description: Where the active file list came from (files, environment, dotenv, default, none).
      type: str
      sample: default
    files:
      description: Every compose file found (active files first).
      type: list
      elements: dict
      sample:
        - {path: docker-compose.yml, kind: main, active: true, services: [postgres, redis], lines: 120, error: null}
    active_files:
      description: Active compose files, relative paths, in merge order.
      type: list
      elements: str
      sample: [docker-compose.yml, docker-compose.override.yml]
    active_profiles:
      description: Profiles C(docker compose up) activates (COMPOSE_PROFILES, environment over .env); C(*) means all.
      type: list
      elements: str
      sample: []
    skipped_dirs:
      description: Directories not searched for project files (VCS, vendored dependencies, bind-mounted data).
      type: list
      elements: str
      sample: [.git, node_modules, data/postgres]
    services_defined:
      description: Distinct service names across all compose files.
      type: list
      elements: str
    services:
      description:
        - Effective model of the active files, per service, with C(file) and C(line) of the definition, image,
          build (context, dockerfile, requirements, dockerfile_facts), user, privileged, network_mode, cap_add, group_add, ports,
          expose, mem_limit_bytes, mem_reservation_bytes, limit_source, mounts, environment (per key - class and
          length, never a value), secret_env (per secret setting - key, file, line, literal, class, length),
          healthcheck, profiles, restart, logging, labels (keys), env_file, depends_on, problems, and for the
          container-runtime checks cap_drop, security_opt, pid, ipc, uts, userns_mode, devices, read_only,
          pids_limit, cpus, cpu_quota, cpu_shares, cpuset and restart_policy.
        - C(devices) entries are C({source, target, permissions}); C(restart_policy) is C({name, max_retries,
          source}) (C(max_retries) 0 is unlimited), from C(restart) or else C(deploy.restart_policy).
        - C(ports) entries are C({host_ip, published, published_end, target, target_end, protocol,
          all_interfaces, ephemeral}); C(published) is null when Docker picks a random host port.
        - C(problems) are C({key, shape, message, file, line}) for values that could not be read.
        - C(build.dockerfile_facts) (a local build) is what the Dockerfile, read once and bounded, makes of the
          image, with 1-based lines - C({path, inline, error, truncated, from, stages, base, user, healthcheck,
          add, settings}); C(error) is C(not found), C(not a regular file) or C(unreadable (...)), never an
          exception; C(user) and C(healthcheck) are the final stage's (inherited through earlier stages);
          C(from) entries are C({line, ref, alias, kind, image, pin, parent}) with C(kind) image, stage, scratch
          or unresolved and C(pin) digest, tag, latest or untagged; C(add) entries list their sources by kind
          (remote, archive, local, unresolved; credentials masked) and C(checksum); C(settings) are the
          secret-looking ENV/ARG keys with line and class, never a value.
      type: dict
    volumes:
      description: Top-level volumes with C(external) and the real volume C(name).
      type: dict
      sample: {pgdata: {external: false, name: sutazai_pgdata}}
    dockerfiles:
      description: Dockerfiles under the project (any depth).
      type: list
      elements: str
    kong_declarative:
      description:
        - Kong declarative files (a project file named C(kong*.yml|yaml|json), or the bind-mounted
          file of a kong service) with C(file), C(format_version), C(services) (name, host, port),
          C(routes) (name, service, hosts, paths) and C(error). Plugins, consumers and credentials
          are never read out.
      type: list
      elements: dict
    devops_files:
      description:
        - CI (C(ci)), deployment (C(deploy)) and infrastructure-as-code (C(iac)) files of the project and
          of the top of its git checkout, by kind, relative to the project directory. Names only.
      type: dict
      sample: {ci: [../.gitlab-ci.yml], deploy: [Makefile], iac: []}
    env_files:
      description: Env files with path, exists, mode, owner, group, group_readable, world_readable, template and secrets (masked).
      type: list
      elements: dict
    secret_files:
      description: Files in C(secrets*) directories and files of top-level compose C(secrets), with mode and ownership.
      type: list
      elements: dict
    suppressions:
      description:
        - Suppression entries as written, not yet checked, from C(x-compose-doctor.ignore) (top level and per
          service, C(kind=inSource)) and from the ignore file (C(kind=external)).
        - "Each is C({kind, file, line, key, service, fields: {rule, reason, until, service, target}, unknown, keys,
          error}); see module_utils/compose_doctor/suppressions.py."
      type: list
      elements: dict
    errors:
      description: Compose files that do not parse (file, line, column, message); never a traceback.
      type: list
      elements: dict
      sample:
        - {file: docker-compose.dev.yml, line: 12, column: 3,
           message: "docker-compose.dev.yml line 12, column 3: mapping values are not allowed here"}
'''

import os
import sys

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.compose_doctor.facts import runtime_params
from ansible.module_utils.compose_doctor import suppressions
from ansible.module_utils.compose_doctor.facts import compose_model
from ansible.module_utils.compose_doctor.redact import redact_text


def argument_spec():
    return dict(
        project_dir=dict(type='path', required=True),
        files=dict(type='list', elements='str'),
        use_cli=dict(type='bool', default=True),
        secret_key_patterns=dict(type='list', elements='str', no_log=False),
        secret_key_qualifiers=dict(type='list', elements='str', no_log=False),
        max_file_bytes=dict(type='int', default=compose_model.MAX_COMPOSE_BYTES),
        max_yaml_nodes=dict(type='int', default=compose_model.MAX_EXPANDED_NODES),
        default_credentials=dict(type='list', elements='str', no_log=False),
        ignore_file=dict(type='str', default=''),
        runtime=dict(type='dict', options=runtime_params.RUNTIME_OPTIONS),
    )


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    runtime = module.params['runtime']
    if runtime is not None and runtime_params.invalid(runtime):
        module.fail_json(msg='runtime: %s' % runtime_params.invalid(runtime))
    if not compose_model.HAS_YAML:
        # Said plainly, and the audit goes on with the engine's facts (the role can bootstrap it).
        facts = compose_model.empty_facts(
            module.params['project_dir'], 'compose files not read: PyYAML is not installed for %s on this host '
            '(install python3-yaml, or audit with audit_bootstrap=true to copy the controller\'s PyYAML into a '
            'private directory on the host)' % sys.executable,
            name=compose_model.compose_project_name(module.params['project_dir']))
        exit_with(module, facts, runtime, missing_libraries=['PyYAML'])

    project_dir = module.params['project_dir']
    if not os.path.exists(project_dir):
        module.fail_json(msg='Compose project directory %s does not exist' % project_dir, changed=False)
    if not os.path.isdir(project_dir):
        module.fail_json(msg='Compose project path %s is not a directory' % project_dir, changed=False)
    if not os.access(project_dir, os.R_OK | os.X_OK):
        module.fail_json(msg='Compose project directory %s is not readable by this user' % project_dir,
                         changed=False)

    patterns = module.params['secret_key_patterns']
    try:
        facts = compose_model.gather(
            project_dir,
            files=module.params['files'],
            use_cli=module.params['use_cli'],
            secret_key_patterns=patterns,
            default_credentials=module.params['default_credentials'],
            secret_key_qualifiers=module.params['secret_key_qualifiers'],
            limits={'max_bytes': module.params['max_file_bytes'], 'max_nodes': module.params['max_yaml_nodes']},
        )
    except Exception as exc:  # pylint: disable=broad-except
        # Last resort: the audit goes on with the runtime facts; the reason (masked) becomes a finding.
        facts = compose_model.empty_facts(project_dir, 'compose-doctor could not read the project: %s: %s' % (
            type(exc).__name__, redact_text(str(exc), patterns)))
    facts['suppressions'] = list(facts.get('suppressions') or []) + suppressions.ignore_file_entries_fs(
        project_dir, module.params['ignore_file'], module.params['max_file_bytes'])
    exit_with(module, facts, runtime)


def exit_with(module, facts, runtime, **extra):
    """exit_json with the compose facts, and the runtime facts of that project when asked for."""
    if runtime is not None:
        extra['runtime'] = runtime_params.gather(runtime, project=facts['project']['name'])
    module.exit_json(changed=False, compose=facts, **extra)


if __name__ == '__main__':
    main()
