#!/usr/bin/env bash
# Runs every Bourse test: the README's test command, and what CI runs.
#
# Backends come from the environment:
#   DATABASE_URL  a PostgreSQL server the tests may create databases on
#                 (e.g. postgres://postgres@127.0.0.1:5432/postgres)
#   REDIS_URL     a Redis server (e.g. redis://127.0.0.1:6379)
# Without them every store test still runs on the embedded SQLite backend, and the
# PostgreSQL halves and the Redis cache tests are skipped; this script says so. With CI=true a
# backend that is not configured or not reachable fails the run instead of skipping.
# Extra arguments are passed to `cargo test` (e.g. `scripts/test.sh -p bourse-cache`).
set -euo pipefail
cd "$(dirname "$0")/.."

skipped=()
if [[ -z "${DATABASE_URL:-}" ]]; then
  skipped+=("PostgreSQL: DATABASE_URL is not set, so the PostgreSQL half of every store and service test is skipped (each also runs on SQLite).")
fi
if [[ -z "${REDIS_URL:-}" ]]; then
  skipped+=("Redis: REDIS_URL is not set, so the L1+L2 and Redis-outage cache tests are skipped (L1-only tests run).")
fi
if [[ "${CI:-}" == "true" && ${#skipped[@]} -gt 0 ]]; then
  printf 'CI=true but a backend is missing:\n' >&2
  printf '  %s\n' "${skipped[@]}" >&2
  exit 1
fi

# The sentiment transformer scorer is an optional feature; test it too (about two minutes of
# extra cold build: candle and tokenizers).
cargo test --workspace --locked --features bourse-sentiment/transformer "$@"

if [[ ${#skipped[@]} -gt 0 ]]; then
  printf '\nBackend tests not run:\n'
  printf '  %s\n' "${skipped[@]}"
fi
