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

# The servers this run started, to prove afterwards that none outlived the tests.
stack_pids=$(node -e 'console.log(Object.values(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).pids).join(" "))' "$handle")
stop_stack
trap - EXIT
for pid in $stack_pids; do
  if kill -0 "$pid" 2>/dev/null; then
    echo "[test] FAILED: a test-stack process is still running after the tests: $(ps -o args= -p "$pid")" >&2
    status=1
  fi
done
[ $status -ne 0 ] || echo "[test] no test-stack process left running" >&2
exit $status
