#!/usr/bin/env bash
# Benchmarks the whole platform with `bourse loadtest`, both tiers at once, and compares gateway
# configurations in the same run, so the effect of each is a ratio to the configuration it
# differs from in one thing.
#
# Each configuration is a fresh `bourse up` (release build, demo data, demo keys):
#   baseline                 the defaults: batching and coalescing on, in-process cache
#   no-batching-coalescing   --batching false --coalescing false
#   unlimited                --no-rate-limits: also runs the ramp to find the breaking point
#   redis                    REDIS_URL set: Redis as the L2 cache and the rate-limit store
#   redis-cache              REDIS_URL set and --no-rate-limits: Redis as the L2 cache only,
#                            compared with `unlimited` (the two Redis runs only with REDIS_URL)
# and runs two open-loop scenarios at the design rates (shared 1,000 req/s, premium 500 req/s):
#   mixed    the built-in scenario (portfolio reads, market data, sentiment, risk, orders)
#   quotes   single quotes only (crates/loadtest/scenarios/quotes.json)
#
# The store is the embedded SQLite (a fresh one per configuration) unless DATABASE_URL is set.
# Results go to scripts/bench/<UTC date>/ (or BENCH_OUT): per run a JSON report, an SVG chart,
# the table printed, the platform's counters before and after, and summary.md comparing them.
#
#   scripts/bench.sh                      # 30 s per run, about 11 minutes in all with Redis
#   BENCH_DURATION=10s scripts/bench.sh   # shorter runs
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${BENCH_DURATION:-30s}"
out="${BENCH_OUT:-scripts/bench/$(date -u +%Y-%m-%d)}"
ramp_duration="${BENCH_RAMP_DURATION:-60s}"
port="${BENCH_PORT:-18080}"
gateway="http://127.0.0.1:${port}"

cargo build --release --locked -p bourse
bourse="$PWD/target/release/bourse"
mkdir -p "$out"
work="$(mktemp -d)"
platform_pid=""
cleanup() {
  if [[ -n "$platform_pid" ]]; then kill -INT "$platform_pid" 2>/dev/null || true; wait "$platform_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Starts `bourse up` as configuration NAME, with `env` arguments after it (e.g. -u REDIS_URL)
# and UP_OPTIONS; sets the demo keys.
start_platform() {
  local name="$1"; shift
  local log="$work/$name.log"
  env "$@" "$bourse" up --gateway-listen "127.0.0.1:${port}" --grpc-base-port 0 \
    --data-dir "$work/data-$name" ${UP_OPTIONS:-} >"$log" 2>&1 &
  platform_pid=$!
  for _ in $(seq 1 240); do
    if grep -q '^shared key: ' "$log"; then break; fi
    if ! kill -0 "$platform_pid" 2>/dev/null; then cat "$log" >&2; echo "bourse up ($name) failed" >&2; exit 1; fi
    sleep 0.5
  done
  premium_key="$(sed -n 's/^premium key: //p' "$log")"
  shared_key="$(sed -n 's/^shared key: //p' "$log")"
  [[ -n "$premium_key" && -n "$shared_key" ]] || { cat "$log" >&2; echo "no demo keys from bourse up ($name)" >&2; exit 1; }
}

stop_platform() {
  kill -INT "$platform_pid"
  wait "$platform_pid" || true
  platform_pid=""
}

# The platform's counters (one registry for all of `up`): the ones the summary reads, and the
# gateway's batching and coalescing counts, which say whether those engaged at all.
scrape() {
  curl -fsS "$gateway/metrics" | grep -E \
    '^bourse_(http_requests_total|grpc_server_requests_total|cache_requests_total|gateway_coalesced_total|gateway_batches_total|gateway_batch_size_(sum|count))[{ ]' \
    >"$1"
}

# One load test: NAME then loadtest options. The SLA verdict is recorded, not fatal.
run_load() {
  local name="$1"; shift
  echo "== $name"
  scrape "$out/$name.metrics-before.txt"
  local code=0
  "$bourse" loadtest --target "$gateway" --premium-key "$premium_key" --shared-key "$shared_key" \
    --json "$out/$name.json" --chart "$out/$name.svg" "$@" | tee "$out/$name.txt" || code=$?
  scrape "$out/$name.metrics-after.txt"
  case "$code" in
    0|3) ;;   # 3: an SLA objective broke; the report says which
    *) echo "bourse loadtest failed ($name): exit $code" >&2; exit 1 ;;
  esac
}

# Both open-loop scenarios against the running platform.
run_scenarios() {
  local config="$1"
  run_load "mixed.$config" --scenario builtin --duration "$duration"
  run_load "quotes.$config" --scenario crates/loadtest/scenarios/quotes.json --duration "$duration"
}

UP_OPTIONS="" start_platform baseline -u REDIS_URL
run_scenarios baseline
stop_platform

UP_OPTIONS="--batching false --coalescing false" start_platform no-batching-coalescing -u REDIS_URL
run_scenarios no-batching-coalescing
stop_platform

UP_OPTIONS="--no-rate-limits" start_platform unlimited -u REDIS_URL
run_scenarios unlimited
run_load "ramp.unlimited" --scenario builtin --mode ramp --duration "$ramp_duration" \
  --ramp-step 5s --ramp-increase 50
stop_platform

if [[ -n "${REDIS_URL:-}" ]]; then
  for config in redis redis-cache; do
    # A cold L2 for each run, as the in-process configurations start with a cold L1.
    redis-cli -u "$REDIS_URL" --scan --pattern 'bourse:*' | xargs -r redis-cli -u "$REDIS_URL" del >/dev/null
    options=""
    if [[ "$config" == redis-cache ]]; then options="--no-rate-limits"; fi
    UP_OPTIONS="$options" start_platform "$config" "REDIS_URL=$REDIS_URL"
    run_scenarios "$config"
    stop_platform
  done
else
  echo "REDIS_URL is not set: the Redis L2 comparison is skipped" | tee "$out/redis-skipped.txt"
fi

store="embedded SQLite"
if [[ -n "${DATABASE_URL:-}" ]]; then store="PostgreSQL"; fi
machine="$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, $(uname -sr), store: $store, $duration per run"
python3 scripts/bench-summary.py "$out" "$machine" >"$out/summary.md"
cat "$out/summary.md"
