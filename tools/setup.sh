#!/usr/bin/env bash
# Installs whatever this machine lacks for the tests and the demo: npm packages (with the repo's
# pinned Node 24) and the Go-built servers plus PostgreSQL (tools/install.sh). Safe to run again.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[setup] npm ci …" >&2
  started=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  echo "[setup] npm ci took $((SECONDS - started))s" >&2
fi
node_version=$(node_modules/.bin/node --version)
case "$node_version" in
  v24.*) ;;
  *) echo "[setup] FAILED: node_modules/.bin/node is $node_version, expected Node 24 (the 'node' devDependency)" >&2; exit 1 ;;
esac
# Components (tools/install.sh names) may be given to install only those; none means the defaults.
bash tools/install.sh "$@"
