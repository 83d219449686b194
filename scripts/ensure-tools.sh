#!/usr/bin/env bash
# Ensures Sentinel's pinned tools (Temporal CLI, etcd, Kubernetes control plane, kwok, helm,
# PostgreSQL, Prometheus, Kafka) exist in one machine-wide cache. Idempotent: a warm run only
# checks stamps.
#
#   scripts/ensure-tools.sh            # everything
#   scripts/ensure-tools.sh temporal   # just the named tools (temporal etcd kubernetes kubectl kwok helm postgres prometheus kafka)
#
# Cache root: $SENTINEL_TOOLS_DIR, default ~/.cache/sentinel/tools/<name>-<version>/bin
# (Kafka: ~/.cache/sentinel/tools/kafka-<version>/libs, the broker's jars)
set -euo pipefail

TEMPORAL_CLI_VERSION=v1.5.1
KUBERNETES_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
# Helm 3 (lints and renders charts/sentinel in the packaging tests); its go.mod has no replace directive.
HELM_VERSION=v3.22.0
# Apache Kafka broker (KRaft), from Maven Central; 4.x brokers need Java 17.
KAFKA_VERSION=4.1.1
# Kafka 4.1 logs through SLF4J 1.7 into log4j2; this binding matches its log4j-core.
KAFKA_LOG4J_VERSION=2.24.3

TOOLS_DIR=${SENTINEL_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sentinel/tools}
mkdir -p "$TOOLS_DIR"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }
die() { printf '[ensure-tools] error: %s\n' "$*" >&2; exit 1; }

require_go() {
  command -v go >/dev/null 2>&1 || die "the Go toolchain (go >= 1.24) is needed to build $1 but 'go' is not on PATH; install Go and rerun"
}

# run_build NAME VERSION FUNCTION: skips when the stamp exists, times the build, writes the stamp last
# so that an interrupted build is redone rather than half-trusted.
run_build() {
  local name=$1 version=$2 fn=$3 dir="$TOOLS_DIR/$1-$2"
  if [[ -f "$dir/.complete" ]]; then
    log "$name $version: cached in $dir"
    return 0
  fi
  # One builder per tool at a time, machine-wide: a second caller (a test run beside a demo)
  # waits for the first and then finds the stamp.
  exec {lock}>"$TOOLS_DIR/.$name-$version.lock"
  if ! flock -n "$lock"; then
    log "$name $version: another process is building it; waiting"
    flock "$lock"
  fi
  if [[ -f "$dir/.complete" ]]; then
    log "$name $version: cached in $dir"
    exec {lock}>&-
    return 0
  fi
  log "$name $version: building into $dir (first use only; this can take several minutes)"
  local start=$SECONDS
  rm -rf "$dir.partial" && mkdir -p "$dir.partial/bin"
  "$fn" "$dir.partial" "$version"
  rm -rf "$dir" && mv "$dir.partial" "$dir"
  date -u +%FT%TZ >"$dir/.complete"
  log "$name $version: built in $((SECONDS - start))s"
  exec {lock}>&-
}

build_temporal() {
  require_go "the Temporal CLI"
  GOBIN="$1/bin" go install "github.com/temporalio/cli/cmd/temporal@$2"
}

# go.etcd.io/etcd/server/v3 carries replace directives (for its sibling modules), which
# `go install pkg@version` refuses; building it from a throwaway main module is equivalent.
build_etcd() {
  require_go "etcd"
  local out=$1 version=$2 work
  work=$(mktemp -d)
  (
    cd "$work"
    go mod init sentinel.local/etcd-tools >/dev/null 2>&1
    go get "go.etcd.io/etcd/server/v3@$version"
    CGO_ENABLED=0 go build -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3
  )
  rm -rf "$work"
}

build_kwok() {
  require_go "kwok"
  GOBIN="$1/bin" go install "sigs.k8s.io/kwok/cmd/kwok@$2" "sigs.k8s.io/kwok/cmd/kwokctl@$2"
}

# Built as upstream's Makefile builds it: the ldflags stamp helm's own version and the
# Kubernetes minor its client libraries speak (`helm template` renders .Capabilities.KubeVersion
# from it, `helm lint` checks API deprecations against it; unstamped both say v1.20).
build_helm() {
  require_go "helm"
  local out=$1 version=$2 gomod k8s_minor work
  work=$(mktemp -d)
  gomod=$(cd "$work" && go mod download -json "helm.sh/helm/v3@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  rm -rf "$work"
  [[ -f "$gomod" ]] || die "could not download helm.sh/helm/v3@$version from the Go module proxy"
  k8s_minor=$(sed -n 's/^[[:space:]]*k8s\.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)
  [[ -n "$k8s_minor" ]] || die "helm.sh/helm/v3@$version: no k8s.io/client-go requirement in its go.mod"
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$version"
  ldflags+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
    ldflags+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
  done
  CGO_ENABLED=0 GOBIN="$out/bin" go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$version"
}

# k8s.io/kubernetes requires its staging modules at v0.0.0, so a tools module pins each of
# them (read from the upstream go.mod) to the matching v0.X.Y tag with a replace directive.
build_kubernetes() {
  require_go "the Kubernetes control plane"
  build_k8s_commands "$1" "$2" kube-apiserver kube-controller-manager kube-scheduler
}

# kubectl is for people looking at the local cluster (the demo prints a kubectl command);
# Sentinel itself never shells out to it.
build_kubectl() {
  require_go "kubectl"
  build_k8s_commands "$1" "$2" kubectl
}

build_k8s_commands() {
  local out=$1 version=$2 work
  shift 2
  local commands=("$@")
  work=$(mktemp -d)
  local staging="v0.${version#v1.}"
  local gomod
  gomod=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -f "$gomod" ]] || die "could not download k8s.io/kubernetes@$version from the Go module proxy"
  {
    echo "module sentinel.local/k8s-tools"
    echo
    sed -n 's/^go \(.*\)/go \1/p' "$gomod"
    echo
    echo "require k8s.io/kubernetes $version"
    echo
    grep -E '^\s+k8s\.io/\S+ v0\.0\.0$' "$gomod" | awk -v v="$staging" '{print "replace " $1 " => " $1 " " v}'
  } >"$work/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for cmd in "${commands[@]}"; do printf '\t_ "k8s.io/kubernetes/cmd/%s"\n' "$cmd"; done
    printf ')\n'
  } >"$work/tools.go"
  local minor=${version#v1.}; minor=${minor%%.*}
  local ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  (
    cd "$work"
    go mod tidy -e >/dev/null 2>&1 || true
    go get "k8s.io/kubernetes@$version"
    for cmd in "${commands[@]}"; do
      log "  go build $cmd"
      CGO_ENABLED=0 go build -tags tools -ldflags "$ldflags" -o "$out/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
  )
  rm -rf "$work"
}

# The broker is org.apache.kafka:kafka_2.13 (kafka.Kafka, kafka.tools.StorageTool) with its
# runtime dependencies, copied from Maven Central by a throwaway pom; tests run it as
# `java -cp 'libs/*' kafka.Kafka server.properties`.
build_kafka() {
  if ! command -v java >/dev/null 2>&1 || ! command -v mvn >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "Java 17 and Maven are needed for the Kafka broker; install the Debian 'openjdk-17-jre-headless' and 'maven' packages"
    log "kafka: installing Java 17 and Maven (Debian packages)"
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    local pkgs=(openjdk-17-jre-headless maven)
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null \
      || { $sudo apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null; } \
      || die "apt-get install ${pkgs[*]} failed"
  fi
  local java_major
  java_major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [[ "${java_major:-0}" -ge 17 ]] || die "Kafka $2 brokers need Java >= 17 but 'java' is version ${java_major:-unknown}; set JAVA_HOME or PATH to a Java 17 runtime"
  local out=$1 version=$2 work
  work=$(mktemp -d)
  cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>sentinel.local</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>$version</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$version</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>$KAFKA_LOG4J_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  if ! mvn -B -q -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$out/libs" >"$work/mvn.log" 2>&1; then
    tail -n 30 "$work/mvn.log" >&2
    die "mvn could not fetch org.apache.kafka:kafka_2.13:$version and its dependencies from Maven Central"
  fi
  rm -rf "$work"
  [[ -f "$out/libs/kafka_2.13-$version.jar" ]] || die "kafka_2.13-$version.jar is missing after the Maven fetch"
}

ensure_postgres() {
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    command -v apt-get >/dev/null 2>&1 || die "PostgreSQL server binaries not found and apt-get is unavailable; install the Debian 'postgresql' package"
    log "postgresql: installing the Debian package"
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends postgresql >/dev/null \
      || { $sudo apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends postgresql >/dev/null; } \
      || die "apt-get install postgresql failed"
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  fi
  log "postgresql: $bindir"
  mkdir -p "$TOOLS_DIR/postgres"
  ln -sfn "$bindir" "$TOOLS_DIR/postgres/bin"
}

# Prometheus comes from the Debian package (bookworm: 2.42). Its postinst tries to start the
# system service, which fails harmlessly without systemd; tests start their own server.
ensure_prometheus() {
  local bin=/usr/bin/prometheus
  if [[ ! -x "$bin" ]]; then
    command -v apt-get >/dev/null 2>&1 || die "Prometheus not found and apt-get is unavailable; install the Debian 'prometheus' package"
    log "prometheus: installing the Debian package"
    local sudo=""; [[ $(id -u) -ne 0 ]] && sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends prometheus >/dev/null \
      || { $sudo apt-get update >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends prometheus >/dev/null; } \
      || die "apt-get install prometheus failed"
    [[ -x "$bin" ]] || die "apt-get installed prometheus but $bin is missing"
  fi
  log "prometheus: $bin ($("$bin" --version 2>&1 | head -n1))"
  mkdir -p "$TOOLS_DIR/prometheus/bin"
  ln -sfn "$bin" "$TOOLS_DIR/prometheus/bin/prometheus"
}

wanted=("$@")
[[ ${#wanted[@]} -eq 0 ]] && wanted=(postgres prometheus temporal etcd kwok kubernetes kubectl helm kafka)
for tool in "${wanted[@]}"; do
  case "$tool" in
    temporal) run_build temporal "$TEMPORAL_CLI_VERSION" build_temporal ;;
    etcd) run_build etcd "$ETCD_VERSION" build_etcd ;;
    kwok) run_build kwok "$KWOK_VERSION" build_kwok ;;
    kubernetes) run_build kubernetes "$KUBERNETES_VERSION" build_kubernetes ;;
    kubectl) run_build kubectl "$KUBERNETES_VERSION" build_kubectl ;;
    helm) run_build helm "$HELM_VERSION" build_helm ;;
    postgres) ensure_postgres ;;
    prometheus) ensure_prometheus ;;
    kafka) run_build kafka "$KAFKA_VERSION" build_kafka ;;
    *) die "unknown tool '$tool' (known: temporal etcd kwok kubernetes kubectl helm postgres prometheus kafka)" ;;
  esac
done
