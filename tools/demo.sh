#!/usr/bin/env bash
# The README's main command (npm run demo): set up what is missing, then run the demo. As root on
# Linux that is the three methods in real pods on a one-node cluster (tools/install.sh cluster adds
# what the node needs); elsewhere the process-level demo (tools/demo/demo.ts says which ran).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$SECONDS
# Only what the demo runs: the test-only Go tools (consul-template, gotemplate-ref, csi-driver-client)
# are left to `npm test`, and with `cluster` the API server is built in the node's one kube build.
if [ "$(uname -s)" = Linux ] && [ "$(id -u)" = 0 ]; then
  bash tools/setup.sh postgres etcd vault helm cluster
else
  bash tools/setup.sh postgres etcd kube-apiserver vault helm
fi
echo "[demo] setup (npm ci, servers, cluster tools; only what is missing): $((SECONDS - started)) s"
export PATH="$root/node_modules/.bin:$PATH"
started=$SECONDS
nx run-many -t bundle --outputStyle=stream
echo "[demo] bundles: $((SECONDS - started)) s"
exec node --conditions=@vaultbridge/source tools/demo/demo.ts "$@"
