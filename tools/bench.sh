#!/usr/bin/env bash
# The README's benchmark command (npm run bench): set up, bundle the services, run the benchmarks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash tools/setup.sh
export PATH="$root/node_modules/.bin:$PATH"
nx run-many -t bundle --outputStyle=stream
exec node --conditions=@vaultbridge/source tools/bench/run.ts "$@"
