#!/usr/bin/env bash
# The wasm the integration tests run: the release build plus the
# `test-hooks` feature (the X-Test-Now clock, analytics fault injection),
# written to build-test/ from its own cargo target dir, so it never mixes
# with the release build in build/ that `npm run deploy` ships.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# worker-build 0.8.7 exits 0 even when cargo fails: without this the tests
# would quietly run the previous wasm.
rm -f build-test/index_bg.wasm
CARGO_TARGET_DIR="$ROOT/target/test-hooks" worker-build --release --out-dir build-test . --features test-hooks
[ -s build-test/index_bg.wasm ] || { echo "the test build failed" >&2; exit 1; }
