"""What a module echoes back as ``invocation.module_args``.

AnsibleModule returns every input under ``invocation`` unless the module sets it. The audit's
modules take the gathered facts or the whole report as input (100-300 KB per host): echoing them
back doubles what Ansible parses, copies and keeps per host for nothing anyone reads. Those inputs
are named by their shape instead; every small argument is echoed as usual.
"""


def brief_invocation(params, bulky):
    """``{"module_args": {...}}`` for ``exit_json(invocation=...)``.

    params: AnsibleModule.params (Ansible still masks no_log values in the whole result).
    bulky: names of inputs that carry facts or reports; each non-empty one becomes the string
    ``"<dict of N keys, not echoed>"`` (or list of N items). Other arguments are returned unchanged.
    """
    args = dict(params)
    for key in bulky:
        value = args.get(key)
        if isinstance(value, dict) and value:
            args[key] = "<dict of %d keys, not echoed>" % len(value)
        elif isinstance(value, list) and value:
            args[key] = "<list of %d items, not echoed>" % len(value)
    return {"module_args": args}
