#!/usr/bin/env bash
# `npm run dev`: installs what is missing, builds the worker and the
# dashboard, applies pending D1 migrations (migrations/) to the local D1
# under .wrangler/state, and serves both on http://127.0.0.1:8787
# (dashboard: /dashboard/).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh
[ -f .dev.vars ] || cp .dev.vars.example .dev.vars
bash scripts/build-worker.sh
npm run --silent build:dashboard
CI=true wrangler d1 migrations apply DB --local >/dev/null
echo "==> dashboard: http://127.0.0.1:8787/dashboard/"
echo "==> ADMIN_TOKEN for this dev server: $(grep '^ADMIN_TOKEN=' .dev.vars | cut -d= -f2-)"
exec wrangler dev --ip 127.0.0.1 --port 8787 --persist-to .wrangler/state
