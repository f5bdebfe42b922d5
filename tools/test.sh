#!/usr/bin/env bash
# The README's test command (npm test): set up what is missing, start ONE real test stack for every
# package, type-check, run every package's tests, stop the stack and check nothing was left running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
export PATH="$root/node_modules/.bin:$PATH"

phase() { printf '\n[test] %s\n' "$*" >&2; }

phase "type-check (tsc -b)"
started=$SECONDS
tsc -b
echo "[test] type-check took $((SECONDS - started))s" >&2

handle_dir=$(mktemp -d)
handle="$handle_dir/stack.json"
phase "starting the test stack"
started=$SECONDS
node packages/testenv/src/cli.ts up --handle-file "$handle" &
stack_pid=$!
stop_stack() {
  if kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    wait "$stack_pid" 2>/dev/null || true
  fi
  rm -rf "$handle_dir"
}
trap stop_stack EXIT
until [ -f "$handle" ]; do
  if ! kill -0 "$stack_pid" 2>/dev/null; then echo "[test] FAILED: the test stack did not start (see above)" >&2; exit 1; fi
  if [ $((SECONDS - started)) -gt 180 ]; then echo "[test] FAILED: the test stack did not start within 180 s" >&2; exit 1; fi
  sleep 0.2
done
echo "[test] stack up in $((SECONDS - started))s" >&2
export VAULTBRIDGE_STACK="$handle"

phase "tests (nx run-many -t test)"
started=$SECONDS
status=0
nx run-many -t test --parallel=1 --outputStyle=stream --skipNxCache "$@" || status=$?
echo "[test] tests took $((SECONDS - started))s" >&2

stop_stack
trap - EXIT
leftovers=$(pgrep -af "$root/.cache/bin/|vaultbridge-stack-" | grep -v pgrep || true)
if [ -n "$leftovers" ]; then
  echo "[test] FAILED: processes left running after the tests:" >&2
  echo "$leftovers" >&2
  status=1
fi
exit $status
