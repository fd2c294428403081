#!/usr/bin/env bash
# `npm test`: every test. Native unit tests of the pure core and the
# worker crate, then the integration tests against the built wasm worker
# running in Miniflare/workerd.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
echo "==> cargo test (native)"
cargo test --workspace
echo "==> build the worker (wasm)"
bash scripts/build-worker.sh
echo "==> integration tests (Miniflare)"
node --test --test-concurrency=2 tests/*.test.mjs
