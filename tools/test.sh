#!/usr/bin/env bash
# The README's test command (npm test): set up what is missing, start ONE real test stack for every
# package, type-check, run every package's tests, stop the stack and check nothing was left running;
# then the cluster tier (a real one-node cluster running the chart's pods), which needs root on Linux.
# `npm run test:api` (--api-only) runs every tier below the cluster, on any machine.
set -euo pipefail
api_only=false
if [ "${1:-}" = "--api-only" ]; then
  api_only=true
  shift
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# When the cluster tier will run, its servers are installed now with the rest: the kube commands it
# needs are then one `go build` with the API server instead of a second build of the same module.
if [ "$api_only" = false ] && [ "$(uname -s)" = Linux ] && [ "$(id -u)" -eq 0 ]; then
  bash tools/setup.sh default cluster
else
  bash tools/setup.sh
fi
export PATH="$root/node_modules/.bin:$PATH"

phase() { printf '\n[test] %s\n' "$*" >&2; }

phase "type-check (tsc -b)"
started=$SECONDS
tsc -b
echo "[test] type-check took $((SECONDS - started))s" >&2

phase "lint (eslint, typescript-eslint strict)"
started=$SECONDS
eslint "packages/*/src/**/*.ts" "packages/*/test/**/*.ts" "tools/**/*.{js,ts}"
echo "[test] lint took $((SECONDS - started))s" >&2

phase "format (prettier --check)"
started=$SECONDS
prettier --check . >/dev/null || { echo "[test] FAILED: files above are not formatted; run npm run format" >&2; exit 1; }
echo "[test] format check took $((SECONDS - started))s" >&2

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
if [ "$api_only" = true ]; then exit $status; fi

# The cluster tier after the API tier: it starts its own stack (node, containerd, CSI driver, the chart).
if [ "$(uname -s)" != "Linux" ] || [ "$(id -u)" -ne 0 ]; then
  echo "[test] FAILED: the cluster tier runs real pods and needs root on Linux (containerd, the kubelet, iptables); this is $(uname -s) as uid $(id -u). Run the tiers below it with: npm run test:api" >&2
  exit 1
fi
phase "cluster tier: installing what it needs (tools/install.sh cluster)"
started=$SECONDS
bash tools/install.sh cluster
echo "[test] cluster install took $((SECONDS - started))s" >&2
phase "cluster tier: tests in real pods (packages/testenv test:cluster)"
started=$SECONDS
(cd packages/testenv && npm run --silent test:cluster) || status=1
echo "[test] cluster tier took $((SECONDS - started))s" >&2
exit $status
