"""The part every journaled file-edit module shares, after it has computed the new text:
masked diff in diff mode, and outside check mode backup + atomic write + journal entry."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.module_utils.compose_doctor.change.journal import (
    DEFAULT_JOURNAL_DIR, JournalError, new_run_id, record_file_edit)
from ansible.module_utils.compose_doctor.redact import redact_text
from ansible.module_utils.compose_doctor.change.safe_write import SafeWriteError, sha256_bytes

JOURNAL_ARGUMENT_SPEC = dict(
    journal_run_id=dict(type='str'),
    journal_dir=dict(type='path', default=DEFAULT_JOURNAL_DIR),
)


def finish_edit(module, result, path, before, after, changed, tool, masker=redact_text, note=''):
    """Complete ``result`` for an edit of ``path`` from ``before`` to ``after`` text and exit.

    Check mode predicts (``changed``, diff) and writes nothing; otherwise the file is backed up
    (0600), written atomically and journaled under ``journal_run_id`` (a new run when empty).
    """
    result['changed'] = changed
    result['sha256_after'] = sha256_bytes(after) if changed else result.get('sha256_before')
    if changed and module._diff:
        result['diff'] = dict(before=masker(before), after=masker(after),
                              before_header='%s (before%s)' % (path, note),
                              after_header='%s (after%s)' % (path, note))
    if changed and not module.check_mode:
        run_id = module.params['journal_run_id'] or new_run_id()
        try:
            entry = record_file_edit(module.params['journal_dir'], run_id, path, after, tool=tool,
                                     module=module)
        except (SafeWriteError, JournalError) as exc:
            module.fail_json(msg='%s: not changed: %s' % (path, exc), **result)
        result.update(backup=entry['backup'], journal_run_id=run_id)
    module.exit_json(**result)
