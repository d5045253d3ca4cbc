#!/usr/bin/env bash
# scripts/test.sh: `deno task test`. Format check, lint, type check, then every test (sanitizers
# on), and at the end the plain "N passed, N failed" line that people and CI read. Fails if a test
# token appears anywhere in the output (contract: no token in any output). The log lives in a
# temporary file, removed at the end, unless TEST_LOG names a file to keep it in (CI does).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
log="${TEST_LOG:-$scratch/test.log}"

# The suite leaves nothing in the user's home but Deno's cache: Deno's cache stays where it is
# (DENO_DIR, made explicit), while whatever else a tool writes to the XDG cache and config
# directories during the run (a browser's profile leftovers, dconf) goes to the scratch directory.
if [ -n "${HOME:-}${XDG_CACHE_HOME:-}${DENO_DIR:-}" ]; then
  export DENO_DIR="${DENO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/deno}"
fi
export XDG_CACHE_HOME="$scratch/cache" XDG_CONFIG_HOME="$scratch/config"
# No deno of the run asks dl.deno.land whether a newer Deno exists (a proxy test would see it).
export DENO_NO_UPDATE_CHECK=1

# --unstable-kv: some tests run the reference backend's handler in their own process, over a real
# Deno KV store, to set its clock (tests/support/inprocess_backend.ts).
# The build (`deno task build`) runs first, once: on a cold cache `deno bundle` fetches esbuild,
# and several tests bundle at the same time, whose first fetches race in Deno's cache.
{
  deno fmt --check &&
    deno lint &&
    deno check main.ts lib/ tests/ reference-backend/ scripts/ bench/ &&
    deno task -q build &&
    deno test --sanitize-ops --sanitize-resources --allow-all --unstable-kv --parallel tests/
} 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# Every token the tests use comes from newToken() (tests/support/agent.ts) as "<kind>-<uuid>".
if grep -Eq '(install|sensor)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$log"; then
  echo "test: a test token appears in the test output" >&2
  status=1
fi

# deno test ends with "ok | 181 passed (3 steps) | 0 failed (12s)"; turn it into the plain line.
# Colours (deno colours its output unless NO_COLOR is set) are stripped before matching.
summary=$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^(ok|FAILED) \| [0-9]+ passed' | tail -n 1)
if [ -z "$summary" ]; then
  echo "test: no test summary (a step before the tests failed, status $status)" >&2
  passed=0
  failed=1
  [ "$status" = 0 ] && status=1
else
  passed=$(sed -E 's/.*\| ([0-9]+) passed.*/\1/' <<<"$summary")
  failed=$(sed -E 's/.*\| ([0-9]+) failed.*/\1/' <<<"$summary")
fi
echo "${passed} passed, ${failed} failed"
exit "$status"
