#!/usr/bin/env bash
# `npm test`: every test. Native unit tests of the pure core and the
# worker crate, then the integration tests against the built wasm worker
# running in Miniflare/workerd, then the dashboard: typechecked and built
# (with its size budget), and driven in Debian's Chromium against the built
# worker (tests/e2e/).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
echo "==> cargo test (native)"
cargo test --workspace
echo "==> build the worker (wasm)"
bash scripts/build-worker.sh
echo "==> build the dashboard (typecheck, vite, size budget)"
npm run --silent build:dashboard
echo "==> integration tests (Miniflare)"
# tests/*.test.mjs only: the browser tests in tests/e2e/ run below, once.
node --test --test-concurrency=2 tests/*.test.mjs
echo "==> dashboard end-to-end tests (Chromium)"
node --test --test-concurrency=1 tests/e2e/*.test.mjs
