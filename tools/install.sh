#!/usr/bin/env bash
# Builds the real servers the test stack runs (etcd, kube-apiserver, a Vault-API server, helm) and
# csi-driver-client (a provider client that dials as the Secrets Store CSI Driver does) from their Go
# modules into .cache/bin/<name>-<version>, compiles the static vaultbridge-exec (gcc), and installs
# PostgreSQL and the openssl command (for the tests) from Debian when absent.
# `tools/install.sh cluster` (opt-in) adds what the one-node cluster tier needs: containerd, runc, CNI
# plugins and iptables from Debian; kubelet, kube-scheduler, kube-controller-manager, kube-proxy and
# kubectl; CoreDNS; the Secrets Store CSI Driver and our plugin registrar; a static pause binary.
# Only what is missing is built. Each build prints its wall time, CPU time and peak memory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin_dir="$root/.cache/bin"
mkdir -p "$bin_dir"
# shellcheck source=versions.env
source "$root/tools/versions.env"

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[tools] %s\n' "$*" >&2; }

# GNU time's line for a build: peak RSS in KiB, then user and system CPU seconds. CPU seconds do not
# depend on what else the machine runs, so cold-build costs stay comparable between machines and loads.
time_format='%M %U %S'
build_stats() {
  local stats=$1 peak user sys
  [ -s "$stats" ] || { echo "peak RSS unknown"; return; }
  read -r peak user sys < <(tail -1 "$stats")
  awk -v p="$peak" -v u="$user" -v s="$sys" 'BEGIN { printf "peak RSS %d MiB, CPU %.0fs (user %.0fs, sys %.0fs)", p / 1024, u + s, u, s }'
}

# build <name> <version> <tool dir> <go build args...>
build() {
  local name=$1 version=$2 dir=$3
  shift 3
  local out="$bin_dir/$name-$version"
  if [ -x "$out" ]; then
    log "$name $version: cached at ${out#"$root"/}"
    return 0
  fi
  log "$name $version: building from Go modules in tools/$dir …"
  local started=$SECONDS stats
  stats=$(mktemp)
  # GNU time reports the build's peak memory and CPU time; without it the build still runs.
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "$time_format" -o "$stats")
  if ! (cd "$root/tools/$dir" && "${timer[@]}" go build -trimpath -o "$out.tmp" "$@"); then
    rm -f "$out.tmp" "$stats"
    log "FAILED: $name $version (module tools/$dir, see go.mod there). Fix the module version or the build flags above."
    exit 1
  fi
  mv "$out.tmp" "$out"
  log "$name $version: built in $((SECONDS - started))s, $(build_stats "$stats")"
  rm -f "$stats"
}

# go_build <label> <tool dir> <go build args...>: one timed `go build` with its CPU time and peak RSS reported.
go_build() {
  local label=$1 dir=$2
  shift 2
  local started=$SECONDS stats
  stats=$(mktemp)
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f "$time_format" -o "$stats")
  if ! (cd "$root/tools/$dir" && "${timer[@]}" go build -trimpath "$@"); then
    rm -f "$stats"
    log "FAILED: $label (module tools/$dir, see go.mod there). Fix the module version or the build flags above."
    exit 1
  fi
  log "$label: built in $((SECONDS - started))s, $(build_stats "$stats")"
  rm -f "$stats"
}

build_etcd() { build etcd "$ETCD_VERSION" etcd -ldflags '-s -w' go.etcd.io/etcd/server/v3; }

# build_kube <command...>: the missing ones of the given k8s.io/kubernetes commands, all in ONE
# `go build` (they share most compiled packages, so together they cost little more than the API
# server alone), into .cache/bin/<command>-$KUBE_VERSION.
build_kube() {
  local missing=() cmd
  for cmd in "$@"; do
    if [ -x "$bin_dir/$cmd-$KUBE_VERSION" ]; then
      log "$cmd $KUBE_VERSION: cached at .cache/bin/$cmd-$KUBE_VERSION"
    else
      missing+=("$cmd")
    fi
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local vpkg=k8s.io/component-base/version out="$bin_dir/.kube-build.tmp"
  rm -rf "$out"
  mkdir -p "$out"
  log "${missing[*]} $KUBE_VERSION: building from Go modules in tools/kube …"
  go_build "${missing[*]} $KUBE_VERSION" kube -o "$out/" -tags=selinux,notest -ldflags "-s -w \
    -X $vpkg.gitVersion=$KUBE_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor \
    -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z" \
    "${missing[@]/#/k8s.io/kubernetes/cmd/}"
  for cmd in "${missing[@]}"; do mv "$out/$cmd" "$bin_dir/$cmd-$KUBE_VERSION"; done
  rm -rf "$out"
}

build_kube_apiserver() { build_kube kube-apiserver; }

# A module's pinned version must be the one versions.env names (testenv finds binaries by it).
check_pin() {
  local dir=$1 module=$2 version=$3
  if ! grep -qE "^[[:space:]]*(require )?$module $version( |\$)" "$root/tools/$dir/go.mod"; then
    log "FAILED: tools/$dir/go.mod does not require $module $version (versions.env). Make them agree."
    exit 1
  fi
}

# CoreDNS with only the plugins the cluster's Corefile uses (tools/coredns/main.go).
build_coredns() {
  check_pin coredns github.com/coredns/coredns "$COREDNS_VERSION"
  build coredns "$COREDNS_VERSION" coredns -ldflags '-s -w' .
}

# The Secrets Store CSI Driver and our plugin registrar in one build, plus the driver's CRDs,
# CSIDriver object and RBAC from the same module version (.cache/share/secrets-store-csi-driver-<version>/).
build_csi_driver() {
  check_pin csi-driver sigs.k8s.io/secrets-store-csi-driver "$CSI_DRIVER_VERSION"
  local share="$root/.cache/share/secrets-store-csi-driver-$CSI_DRIVER_VERSION"
  if [ ! -f "$share/rbac-secretproviderclass.yaml" ]; then
    rm -rf "$share"
    local module_dir
    # `go list -m` names the module's directory only once it is in the module cache (a fresh machine's is
    # empty), so download it first.
    module_dir=$(cd "$root/tools/csi-driver" && go mod download sigs.k8s.io/secrets-store-csi-driver &&
      go list -m -f '{{.Dir}}' sigs.k8s.io/secrets-store-csi-driver) && [ -n "$module_dir" ] || {
      log "FAILED: could not download sigs.k8s.io/secrets-store-csi-driver $CSI_DRIVER_VERSION (tools/csi-driver)"; exit 1; }
    mkdir -p "$share.tmp"
    cp "$module_dir"/deploy/secrets-store.csi.x-k8s.io_*.yaml "$module_dir"/deploy/rbac-secretprovider*.yaml \
      "$module_dir/deploy/csidriver.yaml" "$share.tmp/"
    mv "$share.tmp" "$share"
  fi
  local driver="$bin_dir/secrets-store-csi-driver-$CSI_DRIVER_VERSION" registrar="$bin_dir/csi-registrar-$CSI_DRIVER_VERSION"
  if [ -x "$driver" ] && [ -x "$registrar" ]; then
    log "secrets-store-csi-driver $CSI_DRIVER_VERSION: cached at .cache/bin"
    return 0
  fi
  local out="$bin_dir/.csi-build.tmp"
  rm -rf "$out"
  mkdir -p "$out"
  log "secrets-store-csi-driver and csi-registrar $CSI_DRIVER_VERSION: building from Go modules in tools/csi-driver …"
  go_build "secrets-store-csi-driver and csi-registrar $CSI_DRIVER_VERSION" csi-driver -o "$out/" \
    -ldflags "-s -w -X sigs.k8s.io/secrets-store-csi-driver/pkg/version.BuildVersion=$CSI_DRIVER_VERSION" \
    sigs.k8s.io/secrets-store-csi-driver/cmd/secrets-store-csi-driver ./registrar
  mv "$out/secrets-store-csi-driver" "$driver"
  mv "$out/registrar" "$registrar"
  rm -rf "$out"
}

# gcc and the static libc from Debian, for the static C programs below (a fresh machine may lack them).
install_c_compiler() {
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  log "gcc: installing Debian's gcc and libc6-dev …"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends gcc libc6-dev >/dev/null; }; then
    log "FAILED: apt-get install gcc libc6-dev. Install these Debian packages by hand."
    exit 1
  fi
}

# build_static_c <name> <version> <source> [versioned]: a static C program of tools/images, so its image
# is that one file (no libc, no shell); rebuilt when the source is newer than the binary, or with
# `versioned` only when the version in versions.env changes.
build_static_c() {
  local name=$1 version=$2 source="$root/tools/images/$3" versioned=${4:-}
  local out="$bin_dir/$name-$version"
  if [ -x "$out" ] && { [ -n "$versioned" ] || [ ! "$source" -nt "$out" ]; }; then
    log "$name $version: cached at .cache/bin/$name-$version"
    return 0
  fi
  command -v gcc >/dev/null || install_c_compiler
  gcc -Os -static -Wall -Wextra -Werror -o "$out.tmp" "$source" && strip "$out.tmp" && mv "$out.tmp" "$out" || {
    rm -f "$out.tmp"; log "FAILED: compiling tools/images/$3 (needs gcc and libc6-dev)"; exit 1; }
  log "$name $version: built ($(stat -c %s "$out") bytes)"
}

# The pod sandbox's pause process: tools/images/pause.c (bump PAUSE_VERSION when it changes).
build_pause() { build_static_c pause "$PAUSE_VERSION" pause.c versioned; }

# The cluster tier's app image without a shell (tools/images/envprint.c): env-var secrets must reach it.
build_envprint() { build_static_c envprint "$ENVPRINT_VERSION" envprint.c; }

# vaultbridge-exec: tools/images/vaultbridge-exec.c, static (no libc in the app image needed), the
# app containers' entrypoint for env-var secrets; the agent image ships it (packages/agent/Dockerfile).
build_exec_wrapper() { build_static_c vaultbridge-exec "$EXEC_WRAPPER_VERSION" vaultbridge-exec.c; }

# Debian packages of the node: the container runtime, the pod network and the tools kubelet and
# kube-proxy call. A command that is present means its package is.
install_node_packages() {
  local wanted=() sudo=""
  command -v containerd >/dev/null || wanted+=(containerd)
  command -v runc >/dev/null || wanted+=(runc)
  [ -x /usr/lib/cni/bridge ] || wanted+=(containernetworking-plugins)
  command -v iptables >/dev/null || wanted+=(iptables)
  command -v conntrack >/dev/null || wanted+=(conntrack)
  [ -x /bin/busybox ] || wanted+=(busybox-static)
  command -v gcc >/dev/null || wanted+=(gcc libc6-dev)
  if [ ${#wanted[@]} -eq 0 ]; then
    log "node packages: present (containerd $(containerd --version | awk '{print $3}'), runc, CNI plugins, iptables, conntrack, busybox)"
    return 0
  fi
  log "node packages: installing ${wanted[*]} from Debian …"
  local started=$SECONDS
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${wanted[@]}" >/dev/null; }; then
    log "FAILED: apt-get install ${wanted[*]}. Install these Debian packages by hand."
    exit 1
  fi
  # Debian starts containerd as a service where it can; the cluster runs its own instance.
  $sudo service containerd stop >/dev/null 2>&1 || true
  log "node packages: installed in $((SECONDS - started))s"
}

install_cluster() {
  install_node_packages
  build_kube kube-apiserver kubelet kube-scheduler kube-controller-manager kube-proxy kubectl
  build_pause
  build_envprint
  build_exec_wrapper
  build_coredns
  build_csi_driver
}

build_vault() {
  build vault "$VAULT_VERSION" vault -ldflags "-s -w \
    -X github.com/hashicorp/vault/version.Version=${VAULT_VERSION#v} -X github.com/hashicorp/vault/version.VersionPrerelease=" \
    github.com/hashicorp/vault
}

build_helm() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  build helm "$HELM_VERSION" helm -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
    -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor \
    -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$minor" \
    helm.sh/helm/v3/cmd/helm
}

# Our own Go client that dials a provider exactly as the Secrets Store CSI Driver does (see
# tools/csi-driver-client/main.go). Its sources live here, so a binary older than them is rebuilt.
build_csi_driver_client() {
  local out="$bin_dir/csi-driver-client-$CSI_DRIVER_CLIENT_VERSION"
  if [ -x "$out" ] && [ -n "$(find "$root/tools/csi-driver-client" -type f -newer "$out" -print -quit)" ]; then
    log "csi-driver-client: sources changed since the last build"
    rm -f "$out"
  fi
  build csi-driver-client "$CSI_DRIVER_CLIENT_VERSION" csi-driver-client -ldflags '-s -w' .
}

# Our Go reference renderer for the Go template conformance tests (text/template + sprig): ~2 s,
# ~110 MiB. Rebuilt when its sources are newer than the binary, like csi-driver-client.
build_gotemplate_ref() {
  local out="$bin_dir/gotemplate-ref-$GOTEMPLATE_REF_VERSION"
  if [ -x "$out" ] && [ -n "$(find "$root/tools/gotemplate-ref" -type f -newer "$out" -print -quit)" ]; then
    log "gotemplate-ref: sources changed since the last build"
    rm -f "$out"
  fi
  build gotemplate-ref "$GOTEMPLATE_REF_VERSION" gotemplate-ref -ldflags '-s -w' .
}

# consul-template itself (MPL-2.0, from the Go module proxy): the agent's Go-template dialect is
# compared byte for byte with it (packages/core/test/consul-template.test.ts).
build_consul_template() {
  build consul-template "$CONSUL_TEMPLATE_VERSION" consul-template -ldflags '-s -w' github.com/hashicorp/consul-template
}

install_postgres() {
  if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
    log "postgresql: present ($(ls -d /usr/lib/postgresql/*/bin/postgres | head -1))"
    return 0
  fi
  log "postgresql: installing Debian's package …"
  local started=$SECONDS sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null; }; then
    log "FAILED: apt-get install postgresql. Install Debian's postgresql package by hand."
    exit 1
  fi
  # The cluster Debian creates is not ours: the stack runs its own data directory on its own port.
  $sudo service postgresql stop >/dev/null 2>&1 || true
  log "postgresql: installed in $((SECONDS - started))s"
}

# The openssl command line from Debian, for the tests only: packages/testenv/test/ca-directory.test.ts
# checks the images' CA directory (tools/ca-directory.js) against `openssl x509 -subject_hash` and
# `openssl verify -CApath`. The bundle step itself computes the hashes and needs no OpenSSL command.
install_openssl() {
  if command -v openssl >/dev/null; then
    log "openssl: present ($(openssl version))"
    return 0
  fi
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  log "openssl: installing Debian's openssl …"
  if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openssl >/dev/null; }; then
    log "FAILED: apt-get install openssl. Install Debian's openssl package by hand."
    exit 1
  fi
}

if ! command -v go >/dev/null; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || { log "FAILED: go not found (expected at /usr/local/go/bin)"; exit 1; }

defaults=(postgres etcd kube-apiserver vault helm csi-driver-client gotemplate-ref consul-template vaultbridge-exec openssl)
components=()
# `default` stands for the list above, so `install.sh default cluster` installs both with one kube build.
for c in "${@:-default}"; do
  if [ "$c" = default ]; then components+=("${defaults[@]}"); else components+=("$c"); fi
done
# With `cluster` asked for too, the API server is built in the cluster's one kube build.
with_cluster=false
for c in "${components[@]}"; do [ "$c" != cluster ] || with_cluster=true; done
for c in "${components[@]}"; do
  case "$c" in
    postgres) install_postgres ;;
    etcd) build_etcd ;;
    kube-apiserver) $with_cluster || build_kube_apiserver ;;
    vault) build_vault ;;
    helm) build_helm ;;
    csi-driver-client) build_csi_driver_client ;;
    gotemplate-ref) build_gotemplate_ref ;;
    consul-template) build_consul_template ;;
    vaultbridge-exec) build_exec_wrapper ;;
    openssl) install_openssl ;;
    cluster) install_cluster ;;
    node-packages) install_node_packages ;;
    kube-node) build_kube kube-apiserver kubelet kube-scheduler kube-controller-manager kube-proxy kubectl ;;
    pause) build_pause ;;
    envprint) build_envprint ;;
    coredns) build_coredns ;;
    csi-driver) build_csi_driver ;;
    *) log "unknown component '$c' (known: default = postgres etcd kube-apiserver vault helm csi-driver-client gotemplate-ref consul-template vaultbridge-exec openssl; cluster = node-packages kube-node pause envprint coredns csi-driver)"; exit 2 ;;
  esac
done
