#!/usr/bin/env bash
# Shared first step of the quick-start commands: npm packages, then pinned tools (all of
# them, or the ones named: `bootstrap.sh temporal kubernetes`).
# Idempotent: a warm run checks stamps and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [[ "$node_major" -lt 20 ]]; then
  echo "[bootstrap] error: Node.js >= 20.3 is needed (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "[bootstrap] installing npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/ensure-tools.sh "$@"
