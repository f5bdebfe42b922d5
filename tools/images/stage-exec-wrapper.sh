#!/usr/bin/env bash
# Part of the agent's bundle step: puts the static vaultbridge-exec (tools/images/vaultbridge-exec.c,
# compiled by tools/install.sh) at packages/agent/dist/bundle/vaultbridge-exec, where
# packages/agent/Dockerfile COPYs it from. Builds it first when it is missing or older than its source.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bash "$root/tools/install.sh" vaultbridge-exec
# shellcheck source=../versions.env
source "$root/tools/versions.env"
mkdir -p "$root/packages/agent/dist/bundle"
cp "$root/.cache/bin/vaultbridge-exec-$EXEC_WRAPPER_VERSION" "$root/packages/agent/dist/bundle/vaultbridge-exec.tmp"
chmod 0755 "$root/packages/agent/dist/bundle/vaultbridge-exec.tmp"
mv "$root/packages/agent/dist/bundle/vaultbridge-exec.tmp" "$root/packages/agent/dist/bundle/vaultbridge-exec"
