"""Measure the secret classifier on a labelled corpus (tests/unit/secret_corpus.tsv).

Each line: ``KEY<TAB>VALUE<TAB>LABEL[<TAB>ref]``; LABEL is what a careful reviewer says
``redact.classify_value(KEY, VALUE)`` should return (``ref``: the value is a Compose reference,
classified with ``literal=False``). Lines starting with ``#`` are comments. The values are fake.

The "is a secret" decision is scored as a binary classifier: positive = secret or
default-credential (what the audit reports and masks). Precision and recall must both be
>= 0.98, and the exact label (secret / default-credential / placeholder / ...) right for >= 95 %.
Run ``pytest -s tests/unit/test_secret_corpus.py`` to see the scores and the misclassified rows.
"""
import os

import pytest

from ansible.module_utils.compose_doctor.redact import classify_value

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'secret_corpus.tsv')
LABELS = ('secret', 'default-credential', 'placeholder', 'not-secret', 'reference', 'empty')
POSITIVE = ('secret', 'default-credential')


def load_corpus(path=CORPUS):
    rows = []
    with open(path) as handle:
        for number, line in enumerate(handle, 1):
            line = line.rstrip('\n')
            if not line.strip() or line.startswith('#'):
                continue
            fields = line.split('\t')
            assert len(fields) in (3, 4), 'line %d: expected KEY<TAB>VALUE<TAB>LABEL[<TAB>ref]' % number
            assert fields[2] in LABELS, 'line %d: unknown label %r' % (number, fields[2])
            assert len(fields) == 3 or fields[3] == 'ref', 'line %d: 4th column must be ref' % number
            rows.append({'line': number, 'key': fields[0], 'value': fields[1], 'label': fields[2],
                         'literal': len(fields) == 3})
    return rows


def score(rows):
    tp = fp = fn = exact = 0
    wrong = []
    for row in rows:
        got = classify_value(row['key'], row['value'], literal=row['literal'])
        row['got'] = got
        expected_pos, got_pos = row['label'] in POSITIVE, got in POSITIVE
        tp += expected_pos and got_pos
        fp += got_pos and not expected_pos
        fn += expected_pos and not got_pos
        if got == row['label']:
            exact += 1
        else:
            wrong.append(row)
    precision = tp / float(tp + fp) if tp + fp else 1.0
    recall = tp / float(tp + fn) if tp + fn else 1.0
    return {'rows': len(rows), 'positives': tp + fn, 'tp': tp, 'fp': fp, 'fn': fn, 'precision': precision,
            'recall': recall, 'accuracy': exact / float(len(rows)), 'wrong': wrong}


@pytest.fixture(scope='module')
def result():
    return score(load_corpus())


def test_corpus_is_big_and_balanced(result):
    rows = load_corpus()
    assert len(rows) >= 150
    assert result['positives'] >= 50 and len(rows) - result['positives'] >= 50
    assert len({(r['key'], r['value']) for r in rows}) == len(rows), 'duplicate KEY/VALUE rows'


def test_secret_classifier_precision_recall(result):
    print('\nsecret corpus: %(rows)d rows, %(positives)d positives; tp=%(tp)d fp=%(fp)d fn=%(fn)d; '
          'precision=%(precision).4f recall=%(recall).4f exact-label accuracy=%(accuracy).4f' % result)
    for row in result['wrong']:
        print('  line %(line)d: %(key)s=%(value)s expected %(label)s, got %(got)s' % row)
    assert result['precision'] >= 0.98
    assert result['recall'] >= 0.98
    assert result['accuracy'] >= 0.95
