#!/usr/bin/env bash
# The README's main command (npm run demo): set up what is missing, then run the local demo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
export PATH="$root/node_modules/.bin:$PATH"
nx run-many -t bundle --outputStyle=stream
exec node --conditions=@vaultbridge/source tools/demo/demo.ts "$@"
