#!/usr/bin/env bash
# Builds the real servers the test stack runs (etcd, kube-apiserver, a Vault-API server, helm) and
# csi-driver-client (a provider client that dials as the Secrets Store CSI Driver does) from their Go
# modules into .cache/bin/<name>-<version>, and installs PostgreSQL from Debian when absent.
# Only what is missing is built. Each build prints its wall time and peak memory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin_dir="$root/.cache/bin"
mkdir -p "$bin_dir"
# shellcheck source=versions.env
source "$root/tools/versions.env"

export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

log() { printf '[tools] %s\n' "$*" >&2; }

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
  # GNU time reports the build's peak memory; without it the build still runs.
  local timer=()
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f '%M' -o "$stats")
  if ! (cd "$root/tools/$dir" && "${timer[@]}" go build -trimpath -o "$out.tmp" "$@"); then
    rm -f "$out.tmp" "$stats"
    log "FAILED: $name $version (module tools/$dir, see go.mod there). Fix the module version or the build flags above."
    exit 1
  fi
  mv "$out.tmp" "$out"
  local peak="unknown"
  [ -s "$stats" ] && peak="$(( $(tail -1 "$stats") / 1024 )) MiB"
  log "$name $version: built in $((SECONDS - started))s, peak RSS $peak"
  rm -f "$stats"
}

build_etcd() { build etcd "$ETCD_VERSION" etcd -ldflags '-s -w' go.etcd.io/etcd/server/v3; }

build_kube_apiserver() {
  local minor=${KUBE_VERSION#v1.}
  minor=${minor%%.*}
  local vpkg=k8s.io/component-base/version
  build kube-apiserver "$KUBE_VERSION" kube -tags=selinux,notest -ldflags "-s -w \
    -X $vpkg.gitVersion=$KUBE_VERSION -X $vpkg.gitMajor=1 -X $vpkg.gitMinor=$minor \
    -X $vpkg.gitTreeState=clean -X $vpkg.buildDate=1970-01-01T00:00:00Z" \
    k8s.io/kubernetes/cmd/kube-apiserver
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

if ! command -v go >/dev/null; then
  export PATH="/usr/local/go/bin:$PATH"
fi
command -v go >/dev/null || { log "FAILED: go not found (expected at /usr/local/go/bin)"; exit 1; }

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(postgres etcd kube-apiserver vault helm csi-driver-client gotemplate-ref)
for c in "${components[@]}"; do
  case "$c" in
    postgres) install_postgres ;;
    etcd) build_etcd ;;
    kube-apiserver) build_kube_apiserver ;;
    vault) build_vault ;;
    helm) build_helm ;;
    csi-driver-client) build_csi_driver_client ;;
    gotemplate-ref) build_gotemplate_ref ;;
    *) log "unknown component '$c' (known: postgres etcd kube-apiserver vault helm csi-driver-client gotemplate-ref)"; exit 2 ;;
  esac
done
