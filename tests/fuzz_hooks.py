"""schemathesis hooks for scripts/fuzz.sh: each request takes the next of
the fuzz workspace's API keys (FUZZ_KEYS, comma-separated), so the pass
runs at full speed under the per-key rate limit instead of mostly
answering 429; and a non-string path parameter is sent encoded."""

import itertools
import os

import schemathesis

_KEYS = itertools.cycle(os.environ["FUZZ_KEYS"].split(","))


@schemathesis.auth(refresh_interval=None)
class RotatingKey:
    def get(self, case, ctx):
        return next(_KEYS)

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def before_call(context, case, kwargs):
    """A stateful link can carry a non-string value (an object taken from a
    request body) into a path parameter, and schemathesis percent-encodes
    only strings: a raw `#` or `?` in that object's text would cut the path
    short and reach another route. Send its text, so it gets encoded."""
    for name, value in list((case.path_parameters or {}).items()):
        if isinstance(value, (dict, list)):
            case.path_parameters[name] = str(value)


@schemathesis.hook
def map_body(context, body):
    """Bodies may carry a read-only `id` (documented as ignored). Stateful
    links would take it for the created resource's id (then a 404 on the
    next call looks like "created resource not found"): leave it out."""
    if isinstance(body, dict) and "id" in body:
        body = {k: v for k, v in body.items() if k != "id"}
    return body
