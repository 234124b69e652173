#!/usr/bin/env bash
# Validates the deployment assets without Docker or a cluster: deploy/ (Dockerfile, Prometheus
# rules and config, Grafana dashboards), docker-compose.yml and k8s/.
#
#   scripts/validate-deploy.sh              validate this tree
#   scripts/validate-deploy.sh --self-test  validate this tree, then break copies of it one way
#                                           at a time and require each to fail (what CI runs)
#
# Installs what it needs (pip packages from deploy/tests/requirements.txt, Debian's prometheus
# package for promtool) when missing; needs kubectl (for `kubectl kustomize`) on the PATH.
# Set BOURSE_BIN=target/debug/bourse to also compare the environment variables read from the
# sources with the binary's --help. Exits non-zero on any problem.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
K8S_VERSION=1.30.0

say() { printf '== %s\n' "$*"; }
fail() { printf 'validate-deploy: %s\n' "$*" >&2; exit 1; }

install_tools() {
  local need_pip=0
  python3 - "$root/deploy/tests/requirements.txt" <<'PY' || need_pip=1
import sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    spec = line.split("#")[0].strip()
    if not spec:
        continue
    name, wanted = spec.split("==")
    try:
        if version(name) != wanted:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
  if [[ $need_pip == 1 ]]; then
    say "installing Python tools"
    python3 -m pip install --quiet --disable-pip-version-check -r "$root/deploy/tests/requirements.txt"
  fi
  if ! command -v promtool >/dev/null; then
    say "installing promtool (Debian's prometheus package)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  fi
  command -v kubectl >/dev/null || fail "kubectl is needed for 'kubectl kustomize' (it ships kustomize)"
  hash -r
}

# validate TREE: every check on the tree at TREE; returns non-zero if any fails.
validate() {
  local tree=$1 out status=0
  out=$(mktemp -d)
  run() { # run NAME COMMAND...: runs a check, reporting rather than stopping on failure
    local name=$1; shift
    if "$@" >"$out/log" 2>&1; then
      printf '  ok    %s\n' "$name"
    else
      printf '  FAIL  %s\n' "$name"; sed 's/^/        /' "$out/log" | head -n 40
      status=1
    fi
  }
  (
    cd "$tree"
    run "Dockerfile (hadolint)" hadolint deploy/Dockerfile
    run "docker-compose.yml (Compose specification)" \
      check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml
    mkdir -p "$out/rendered"
    for overlay in k8s/overlays/*/; do
      name=$(basename "$overlay")
      run "k8s/overlays/$name renders (kustomize)" \
        sh -c "kubectl kustomize '$overlay' > '$out/rendered/$name.yaml'"
      run "k8s/overlays/$name (Kubernetes $K8S_VERSION schemas, strict)" \
        k8s_validate "$out/rendered/$name.yaml"
    done
    run "Prometheus config" promtool check config --syntax-only deploy/prometheus/prometheus.yml
    run "Prometheus rules" promtool check rules deploy/prometheus/rules/*.yml
    run "Prometheus rule tests" promtool test rules deploy/tests/prometheus-rules.test.yml
    run "metrics, env vars, wiring (deploy/tests/check_deploy.py)" \
      python3 deploy/tests/check_deploy.py . "$out/rendered"
    exit $status
  ) || status=1
  rm -rf "$out"
  return $status
}

# kubernetes-validate warns (and succeeds) on kinds it has no schema for; the only such kind
# here is the VPA, which check_deploy.py validates against a vendored schema. Anything else it
# prints is a failure.
k8s_validate() {
  local report
  report=$(kubernetes-validate --strict --quiet -k "$K8S_VERSION" "$1" 2>&1) || { echo "$report"; return 1; }
  report=$(grep -v "Couldn't find schema for kind VerticalPodAutoscaler" <<<"$report" || true)
  [[ -z $report ]] || { echo "$report"; return 1; }
}
export -f k8s_validate
export K8S_VERSION

# break NAME SCRIPT: copies the tree, applies SCRIPT in the copy, and requires validation to fail.
self_test_case() {
  local name=$1 script=$2 copy
  copy=$(mktemp -d)
  tar -C "$root" --exclude=./target --exclude=./.git -cf - . | tar -C "$copy" -xf -
  (cd "$copy" && eval "$script")
  if validate "$copy" >"$copy.log" 2>&1; then
    printf '  FAIL  self-test: %s was not caught\n' "$name"; rm -rf "$copy" "$copy.log"; return 1
  fi
  printf '  ok    self-test: %s is caught (%s)\n' "$name" "$(grep -m1 -o 'FAIL .*' "$copy.log" | sed 's/FAIL  //')"
  rm -rf "$copy" "$copy.log"
}

self_test() {
  local failed=0
  say "self-test: broken copies must fail"
  self_test_case "a misspelt Deployment field" \
    "sed -i 's/revisionHistoryLimit: 5/revisionHistoryLimt: 5/' k8s/base/pool/deployment.yaml" || failed=1
  self_test_case "a kustomization naming a missing resource" \
    "sed -i 's#  - pools/risk-premium#  - pools/risk-platinum#' k8s/base/kustomization.yaml" || failed=1
  self_test_case "a compose variable the binary does not read" \
    "sed -i 's/BOURSE_DB_MAX_CONNECTIONS: \"8\"/BOURSE_DB_POOL_SIZE: \"8\"/' docker-compose.yml" || failed=1
  self_test_case "a ConfigMap variable the gateway does not read" \
    "sed -i 's/BOURSE_LOG=info$/BOURSE_LOGGING=info/' k8s/base/gateway/kustomization.yaml" || failed=1
  self_test_case "a compose file outside the specification" \
    "sed -i 's/^    restart: \"no\"/    restart: \"no\"\n    restarts: 3/' docker-compose.yml" || failed=1
  self_test_case "a dashboard querying a metric nobody exports" \
    "sed -i 's/bourse_cache_invalidations_total/bourse_cache_evictions_total/' deploy/grafana/dashboards/bourse-cache-db.json" || failed=1
  self_test_case "an alert with a PromQL syntax error" \
    "sed -i 's/> 0.050/> > 0.050/' deploy/prometheus/rules/bourse.yml" || failed=1
  self_test_case "an SLA threshold the rule tests disagree with" \
    "sed -i 's/> 0.100/> 0.090/' deploy/prometheus/rules/bourse.yml" || failed=1
  self_test_case "a pool whose readiness probe ignores the store" \
    "sed -i '/readinessProbe:/{n;s#/health/ready#/health/live#}' k8s/base/pool/deployment.yaml" || failed=1
  self_test_case "a Dockerfile running as root" \
    "sed -i 's/^USER 10001:10001/USER root/' deploy/Dockerfile" || failed=1
  return $failed
}

start=$SECONDS
install_tools
say "validating deploy/, docker-compose.yml and k8s/"
validate "$root" || fail "the deployment assets have problems (above)"
if [[ ${1:-} == --self-test ]]; then
  self_test || fail "the self-test found a break the checks miss (above)"
fi
say "deployment assets valid ($((SECONDS - start)) s)"
