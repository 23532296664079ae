from pathlib import Path

import pytest

from ansible.module_utils.compose_doctor.redact import (
    MASK, is_secret_key, mask, mask_mapping, mask_text, mask_url_credentials, redact_text, scrub,
)

PATTERNS = ['PASSWORD', 'PASSWD', 'PASS', 'SECRET', 'TOKEN', 'API_KEY', 'APIKEY', 'PRIVATE_KEY', 'CREDENTIAL',
            'ACCESS_KEY', 'AUTH']


@pytest.mark.parametrize('key, expected', [
    ('POSTGRES_PASSWORD', True), ('db_password', True), ('GF_SECURITY_ADMIN_PASSWORD', True), ('JWT_SECRET', True),
    ('github_token', True), ('OPENAI_API_KEY', True), ('AWS_ACCESS_KEY_ID', False), ('REDIS_PASS', True),
    ('PATH', False), ('POSTGRES_USER', False), ('LOG_LEVEL', False), (None, False), ('', False),
])
def test_is_secret_key(key, expected):
    assert is_secret_key(key, PATTERNS) is expected


def test_is_secret_key_custom_patterns_case_insensitive():
    assert is_secret_key('my_pin', ['PIN'])
    assert not is_secret_key('DB_PASSWORD', ['pin'])


@pytest.mark.parametrize('value', ['hunter2', '', 'x' * 100, 123])
def test_mask_is_fixed(value):
    assert mask(value) == MASK


def test_mask_none():
    assert mask(None) is None


@pytest.mark.parametrize('line, expected', [
    ('DB_PASSWORD=hunter2', 'DB_PASSWORD=********'),
    ('export API_TOKEN="abc def"', 'export API_TOKEN="********"'),
    ('password: hunter2', 'password: ********'),
    ('"api_key": "zzz", "user": "bob"', '"api_key": "********", "user": "bob"'),
    ('redis-cli --pass hunter2 ping', 'redis-cli --pass ******** ping'),
    ('cmd --password=hunter2 --user=bob', 'cmd --password=******** --user=bob'),
    ('postgres://app:hunter2@db:5432/app', 'postgres://app:********@db:5432/app'),
    ('GF_SECURITY_ADMIN_PASSWORD=admin,USER=x', 'GF_SECURITY_ADMIN_PASSWORD=********,USER=x'),
    ('level=info msg="started" port=8080', 'level=info msg="started" port=8080'),
    ('nothing to see', 'nothing to see'),
])
def test_mask_text(line, expected):
    assert mask_text(line, PATTERNS) == expected


def test_mask_text_bearer():
    out = mask_text('Authorization: Bearer abc.def.ghi', PATTERNS)
    assert 'abc.def.ghi' not in out


def test_mask_url_credentials_without_password_untouched():
    assert mask_url_credentials('http://host:8080/path') == 'http://host:8080/path'


def test_scrub_and_redact_text():
    assert scrub('redis-cli -a hunter2 ping', {'hunter2'}) == 'redis-cli -a ******** ping'
    assert scrub('ab', {'a'}) == 'ab'  # too short to scrub
    out = redact_text('line1 PASSWORD=x1\nuses s3cretval here', PATTERNS, {'s3cretval'})
    assert 'x1' not in out and 's3cretval' not in out


def test_mask_mapping():
    out = mask_mapping({'DB_PASSWORD': 'hunter2', 'URL': 'mysql://u:pw12@h/db', 'N': 3}, PATTERNS)
    assert out == {'DB_PASSWORD': MASK, 'URL': 'mysql://u:********@h/db', 'N': 3}


def test_role_defaults_are_the_modules_defaults():
    """The word lists are data in roles/*/defaults; the modules' built-in defaults must not drift from them."""
    import os
    import yaml
    from ansible.module_utils.compose_doctor import redact
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    audit = yaml.safe_load(Path(os.path.join(root, "roles", "audit", "defaults", "main.yml")).read_text())
    fix = yaml.safe_load(Path(os.path.join(root, "roles", "env_secrets", "defaults", "main.yml")).read_text())
    assert audit["audit_secret_key_patterns"] == list(redact.DEFAULT_SECRET_KEY_PATTERNS)
    assert audit["audit_secret_key_qualifiers"] == list(redact.DEFAULT_SECRET_KEY_QUALIFIERS)
    assert audit["audit_default_credentials"] == list(redact.DEFAULT_CREDENTIALS)
    assert fix["env_secrets_default_credentials"] == list(redact.DEFAULT_CREDENTIALS)


def test_redact_text_hides_secrets_in_a_diff():
    """The diff masker of the file-edit modules (edit_module.finish_edit, requirement_line)."""
    text = 'DB_PASSWORD=hunter2\nimage: nginx\n      AGENT_TOKEN: "s3cr3t"\nurl: postgres://u:pw123@db/x'
    masked = redact_text(text)
    for secret in ('hunter2', 's3cr3t', 'pw123'):
        assert secret not in masked
    assert 'image: nginx' in masked and masked.count('\n') == text.count('\n')
