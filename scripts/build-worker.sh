#!/usr/bin/env bash
# wrangler.toml's build command: worker-build with local tools only (it
# would otherwise try to download wasm-bindgen and wasm-opt).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
worker-build --release
# The OpenAPI document, generated natively from the route table into the
# static assets (only its own file: public/ is shared with the dashboard).
cargo run --quiet --bin openapi -- public/api/v1/openapi.json
