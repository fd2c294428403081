#!/usr/bin/env bash
# `npm test`: every test. Native unit tests of the pure core and the
# worker crate, then the integration tests against the test build of the
# wasm worker (build-test/, with the `test-hooks` feature) running in
# Miniflare/workerd, then the dashboard: typechecked and built (with its
# size budget), and driven in Debian's Chromium against the worker
# (tests/e2e/). Also builds the release wasm and checks it carries no test
# hook, and fails if the run left the git tree changed.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# What git sees before the run: a fresh clone is clean, and a run must not
# change that (untracked output belongs in .gitignore).
GIT_BEFORE=$(git status --porcelain 2>/dev/null || true)
bash scripts/setup.sh
echo "==> cargo test (native)"
cargo test --workspace
echo "==> build the worker (release) and check it has no test hooks"
bash scripts/build-worker.sh
if grep -q "X-Test-Now" build/index_bg.wasm; then
  echo "build/index_bg.wasm contains the test-hooks feature" >&2
  exit 1
fi
echo "==> build the test worker (build-test/, --features test-hooks)"
bash scripts/build-test-worker.sh
echo "==> build the dashboard (typecheck, vite, size budget)"
npm run --silent build:dashboard
echo "==> integration tests (Miniflare)"
# tests/*.test.mjs only: the browser tests in tests/e2e/ run below, once.
node --test --test-concurrency=2 tests/*.test.mjs
echo "==> schemathesis (bounded, --checks all) against the test worker"
bash scripts/fuzz.sh
echo "==> dashboard end-to-end tests (Chromium)"
node --test --test-concurrency=1 tests/e2e/*.test.mjs
GIT_AFTER=$(git status --porcelain 2>/dev/null || true)
if [ "$GIT_BEFORE" != "$GIT_AFTER" ]; then
  echo "npm test changed the git tree:" >&2
  diff <(echo "$GIT_BEFORE") <(echo "$GIT_AFTER") >&2 || true
  exit 1
fi
