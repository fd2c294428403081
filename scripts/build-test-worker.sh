#!/usr/bin/env bash
# The wasm the integration tests run: the release build plus the
# `test-hooks` feature (the X-Test-Now clock, analytics fault injection),
# written to build-test/ from its own cargo target dir, so it never mixes
# with the release build in build/ that `npm run deploy` ships.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
CARGO_TARGET_DIR="$ROOT/target/test-hooks" worker-build --release --out-dir build-test . --features test-hooks
