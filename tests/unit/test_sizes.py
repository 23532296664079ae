import pytest

from ansible.module_utils.compose_doctor.sizes import format_size, parse_size, try_parse_size

GIB = 1024 ** 3
MIB = 1024 ** 2


@pytest.mark.parametrize('text, expected', [
    ('2G', 2 * GIB), ('2g', 2 * GIB), ('512m', 512 * MIB), ('512M', 512 * MIB), ('64m', 64 * MIB),
    ('1.5GiB', int(1.5 * GIB)), ('1.5G', 1610612736), ('1gb', GIB), ('100k', 102400), ('100KiB', 102400),
    ('1024', 1024), ('1024b', 1024), (' 256 MB ', 256 * MIB), ('0', 0), (4096, 4096), ('1t', 1024 ** 4),
    ('536870912', 536870912), (2.0, 2),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize('value', [None, ''])
def test_parse_size_empty(value):
    assert parse_size(value) is None


@pytest.mark.parametrize('text', ['abc', '12x', '-5m', '1.2.3g', 'm', True, -1, float('inf'), float('nan')])
def test_parse_size_invalid(text):
    with pytest.raises(ValueError) as exc:
        parse_size(text)
    assert 'invalid size' in str(exc.value)
    assert try_parse_size(text) is None


@pytest.mark.parametrize('num, text', [
    (512 * MIB, '512MiB'), (int(1.5 * GIB), '1.5GiB'), (2 * GIB, '2GiB'), (1023, '1023B'), (0, '0B'),
    (102400, '100KiB'), (1024 ** 4, '1TiB'), (None, None), (-512 * MIB, '-512MiB'),
])
def test_format_size(num, text):
    assert format_size(num) == text


@pytest.mark.parametrize('text', ['512MiB', '1.5GiB', '2GiB', '100KiB'])
def test_roundtrip(text):
    assert format_size(parse_size(text)) == text
