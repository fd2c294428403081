#!/usr/bin/env bash
# Installs what is missing and skips what is present: the wasm target,
# worker-build, wasm-bindgen-cli at the version Cargo.lock pins, npm packages
# exactly as package-lock.json pins them (`npm ci`: it never rewrites the lock).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

command -v cargo >/dev/null || { echo "cargo not found: install Rust with rustup first" >&2; exit 1; }

if ! rustup target list --installed 2>/dev/null | grep -q '^wasm32-unknown-unknown$'; then
  echo "==> rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

WORKER_BUILD_VERSION=0.8.7
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$WORKER_BUILD_VERSION" ]; then
  echo "==> cargo install worker-build $WORKER_BUILD_VERSION (about 5 minutes, once)"
  cargo install worker-build --version "=$WORKER_BUILD_VERSION" --locked
fi

WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/,""); print; exit}' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WB_VERSION" ]; then
  echo "==> cargo install wasm-bindgen-cli $WB_VERSION (about 3 minutes, once)"
  # No --locked: its lock pins a webpki-roots release the registry no longer serves.
  cargo install wasm-bindgen-cli --version "=$WB_VERSION"
fi

if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ package.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci"
  npm ci --no-audit --no-fund
fi

# The dashboard's browser tests drive Debian's Chromium (playwright-core's
# own browser download needs the internet). Installed once, as root (CI).
if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null && [ -z "${CHROMIUM_PATH:-}" ]; then
  echo "==> apt-get install chromium (for the dashboard's browser tests)"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
fi
