#!/usr/bin/env bash
# A bounded schemathesis pass (`--checks all`) over the generated OpenAPI
# document against the built worker (tests/serve.mjs: Miniflare on
# 127.0.0.1). Fails on any failure. Needs `scripts/build-worker.sh` first.
# Knobs: FUZZ_EXAMPLES (per operation, default 5), FUZZ_SEED, PORT,
# FUZZ_PHASES (default examples,coverage,fuzzing: the stateful phase picks
# different scenarios from run to run even with a fixed seed, so it is not
# part of the pass/fail gate; run it with
# FUZZ_PHASES=examples,coverage,fuzzing,stateful).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
SCHEMATHESIS_VERSION=4.32.5
if [ "$(.venv/bin/schemathesis --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "==> pip install schemathesis==$SCHEMATHESIS_VERSION (into .venv, once)"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
export PORT="${PORT:-0}"
log=$(mktemp)
KEYS=4 node tests/serve.mjs >"$log" 2>&1 &
server=$!
# Keep the run's status: stopping the server must not replace it.
trap 'st=$?; kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -f "$log"; exit $st' EXIT
for _ in $(seq 1 100); do
  grep -q '"key"' "$log" && break
  kill -0 "$server" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.2
done
ready=$(grep '"key"' "$log")
url=$(node -e 'console.log(JSON.parse(process.argv[1]).url)' "$ready")
# Each request takes the next key (tests/fuzz_hooks.py): four keys of the
# business plan allow 4,000 requests a minute, so few answers are 429s.
FUZZ_KEYS=$(node -e 'console.log(JSON.parse(process.argv[1]).keys.join(","))' "$ready")
export FUZZ_KEYS SCHEMATHESIS_HOOKS=tests.fuzz_hooks PYTHONPATH="$ROOT"
# revokeApiKey is left out: its stateful phase would revoke the fuzzer's
# own keys (tests/auth.test.mjs covers revocation). schemathesis.toml
# holds the per-operation settings.
.venv/bin/schemathesis --config-file schemathesis.toml run public/api/v1/openapi.json \
  --url "$url" \
  --checks all \
  --exclude-operation-id revokeApiKey \
  --phases "${FUZZ_PHASES:-examples,coverage,fuzzing}" \
  --max-examples "${FUZZ_EXAMPLES:-5}" \
  --seed "${FUZZ_SEED:-1}" \
  --workers 1 \
  --no-color
