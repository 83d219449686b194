#!/usr/bin/env bash
# The whole test suite: install what is missing, static checks, then each test layer
# against the real services the testbed starts. `.ci/run` calls this script.
#   scripts/test.sh                # everything
#   scripts/test.sh unit workflow  # just those layers (static checks still run)
set -euo pipefail
trap 'echo "test.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2' ERR
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/bootstrap.sh

step() { printf '\n=== %s\n' "$*"; }
step "format (prettier --check)"; npx prettier --check . --log-level warn
step "lint (eslint: architecture rules, no cycles, no floating promises)"; npx eslint . --max-warnings 0
step "typecheck (tsc --noEmit)"; npx tsc -p tsconfig.json --noEmit

layers=("$@")
[[ ${#layers[@]} -eq 0 ]] && layers=(unit workflow integration e2e)
summary=()
for layer in "${layers[@]}"; do
  step "tests: $layer"
  t0=$SECONDS
  out=$(mktemp)
  set +e
  npx vitest run --project "$layer" --reporter=default --passWithNoTests 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  set -e
  counts=$(sed -E 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^\s+Tests\s' | tail -n1 | sed -E 's/^\s+Tests\s+//' || true)
  summary+=("$(printf '%-12s %-40s %4ss' "$layer" "${counts:-no tests}" $((SECONDS - t0)))")
  rm -f "$out"
  [[ $rc -eq 0 ]] || { printf '\n%s\n' "${summary[@]}"; echo "FAILED in layer $layer"; exit "$rc"; }
done
printf '\n=== summary\n'
printf '%s\n' "${summary[@]}"
echo "all green in $((SECONDS - start))s"
