"""schemathesis hooks for scripts/fuzz.sh: each request takes the next of
the fuzz workspace's API keys (FUZZ_KEYS, comma-separated), so the pass
runs at full speed under the per-key rate limit instead of mostly
answering 429."""

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
