#!/usr/bin/env bash
# `npm run deploy`: refuses to deploy without the secrets the worker needs
# (it would answer 500 on the paths that use them), applies pending D1
# migrations to the remote database, then builds and deploys the release
# worker (never the test-hooks build).
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"
bash scripts/setup.sh

echo "==> required secrets"
SECRETS=$(wrangler secret list --format json)
missing=$(node -e '
  const have = new Set(JSON.parse(process.argv[1]).map((s) => s.name));
  console.log(["ADMIN_TOKEN", "VISITOR_HASH_SECRET"].filter((n) => !have.has(n)).join(" "));
' "$SECRETS")
if [ -n "$missing" ]; then
  for name in $missing; do
    echo "missing secret $name: run  npx wrangler secret put $name" >&2
  done
  exit 1
fi

echo "==> D1 migrations (remote)"
CI=true wrangler d1 migrations apply DB --remote

echo "==> build the dashboard (public/dashboard/, served as static assets)"
npm run --silent build:dashboard

echo "==> deploy (wrangler runs scripts/build-worker.sh: the release build)"
wrangler deploy
