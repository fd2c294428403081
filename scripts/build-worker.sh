#!/usr/bin/env bash
# wrangler.toml's build command: worker-build with local tools only (it
# would otherwise try to download wasm-bindgen and wasm-opt).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
# worker-build 0.8.7 exits 0 even when cargo fails: without this check a
# failed build would leave the previous wasm to be tested or deployed.
rm -f build/index_bg.wasm
worker-build --release
[ -s build/index_bg.wasm ] || { echo "the worker build failed" >&2; exit 1; }
# The OpenAPI document, generated natively from the route table into the
# static assets (only its own file: public/ is shared with the dashboard).
cargo run --quiet --bin openapi -- public/api/v1/openapi.json
