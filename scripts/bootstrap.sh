#!/usr/bin/env bash
# Shared first step of the quick-start commands: npm packages, then pinned tools (all of
# them, or the ones named: `bootstrap.sh temporal kubernetes`). `schemathesis` (the API
# contract fuzzer the integration layer runs against /openapi.json) is a Python tool: it is
# installed here, into a venv in the same machine-wide cache; the others are built by
# scripts/ensure-tools.sh.
# Idempotent: a warm run checks stamps and returns in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# Keep in step with test/support/schemathesis.ts.
SCHEMATHESIS_VERSION=4.32.5
TOOLS_DIR=${SENTINEL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/tools}

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [[ "$node_major" -lt 20 ]]; then
  die "Node.js >= 20.3 is needed (found: $(node --version 2>/dev/null || echo none))"
fi
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
fi

# schemathesis from PyPI into $TOOLS_DIR/schemathesis-<version> (a venv), the way
# ensure-tools.sh builds its tools: one builder at a time machine-wide, into a .partial
# folder, with the .complete stamp written last so an interrupted install is redone.
ensure_schemathesis() {
  local dir="$TOOLS_DIR/schemathesis-$SCHEMATHESIS_VERSION"
  [[ -f "$dir/.complete" ]] && { log "schemathesis $SCHEMATHESIS_VERSION: cached in $dir"; return 0; }
  mkdir -p "$TOOLS_DIR"
  exec {lock}>"$TOOLS_DIR/.schemathesis-$SCHEMATHESIS_VERSION.lock"
  flock "$lock"
  if [[ ! -f "$dir/.complete" ]]; then
    command -v python3 >/dev/null 2>&1 || die "python3 (>= 3.9, with venv) is needed to install schemathesis"
    log "schemathesis $SCHEMATHESIS_VERSION: installing into $dir (first use only)"
    local start=$SECONDS
    rm -rf "$dir.partial"
    python3 -m venv "$dir.partial" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    "$dir.partial/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
      || die "pip install schemathesis==$SCHEMATHESIS_VERSION failed"
    # A venv's scripts name their interpreter by absolute path: recreate it in place.
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    python3 -m venv --upgrade "$dir" >/dev/null
    sed -i "1s|^#!.*python.*$|#!$dir/bin/python3|" "$dir"/bin/schemathesis "$dir"/bin/st 2>/dev/null || true
    "$dir/bin/schemathesis" --version >/dev/null || die "schemathesis does not run from $dir"
    date -u +%FT%TZ >"$dir/.complete"
    log "schemathesis $SCHEMATHESIS_VERSION: installed in $((SECONDS - start))s"
  fi
  exec {lock}>&-
}

tools=()
want_schemathesis=$([[ $# -eq 0 ]] && echo 1 || echo 0)
for tool in "$@"; do
  if [[ "$tool" == schemathesis ]]; then want_schemathesis=1; else tools+=("$tool"); fi
done
[[ $want_schemathesis -eq 1 ]] && ensure_schemathesis
# With no names, ensure-tools.sh builds every tool; with only `schemathesis`, none.
if [[ $# -eq 0 || ${#tools[@]} -gt 0 ]]; then
  bash scripts/ensure-tools.sh "${tools[@]}"
fi
