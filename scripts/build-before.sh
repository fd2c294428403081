#!/usr/bin/env bash
# The release build of the analytics design before the click aggregator
# (#13), for the cost benchmark's "before" column: the source of
# COST_BEFORE_REV (default: main just before #13) extracted into
# .bench/before/ and built there (sharing this checkout's cargo target
# directory and tools). Reused when already built for that revision.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
REV="${COST_BEFORE_REV:-7b16456}"
DIR="$ROOT/.bench/before"
if [ -s "$DIR/build/index_bg.wasm" ] && [ "$(cat "$DIR/REV" 2>/dev/null)" = "$REV" ]; then
  echo "  before ($REV): reusing $DIR/build"
  exit 0
fi
rm -rf "$DIR"
mkdir -p "$DIR"
git archive "$REV" | tar -x -C "$DIR"
ln -s "$ROOT/node_modules" "$DIR/node_modules"
(cd "$DIR" && CARGO_TARGET_DIR="$ROOT/target/before" bash scripts/build-worker.sh >/dev/null)
echo "$REV" >"$DIR/REV"
echo "  before ($REV): built in $DIR/build"
