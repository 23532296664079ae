"""brief_invocation: bulky inputs are named by their shape, everything else is echoed as given."""
from ansible.module_utils.compose_doctor.invocation import brief_invocation


def test_bulky_inputs_are_not_echoed():
    params = {"report": {"findings": [1, 2], "summary": {}}, "reports": [{}, {}, {}], "dest": "/r", "keep": 3,
              "before": None, "outcomes": []}
    args = brief_invocation(params, ("report", "reports", "before", "outcomes"))["module_args"]
    assert args == {"report": "<dict of 2 keys, not echoed>", "reports": "<list of 3 items, not echoed>",
                    "dest": "/r", "keep": 3, "before": None, "outcomes": []}
    assert params["report"] == {"findings": [1, 2], "summary": {}}    # the module's params are untouched
