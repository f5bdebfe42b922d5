#!/usr/bin/env bash
# The README's main command (npm run demo): set up what is missing, then run the demo. As root on
# Linux that is the three methods in real pods on a one-node cluster (tools/install.sh cluster adds
# what the node needs); elsewhere the process-level demo (tools/demo/demo.ts says which ran).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$SECONDS
bash tools/setup.sh
if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ]; then
  bash tools/install.sh cluster
fi
echo "[demo] setup (npm ci, servers, cluster tools; only what is missing): $((SECONDS - started)) s"
export PATH="$root/node_modules/.bin:$PATH"
started=$SECONDS
nx run-many -t bundle --outputStyle=stream
echo "[demo] bundles: $((SECONDS - started)) s"
exec node --conditions=@vaultbridge/source tools/demo/demo.ts "$@"
