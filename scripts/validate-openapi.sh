#!/usr/bin/env bash
# Validates the gateway's generated OpenAPI document as OpenAPI 3.1.
#
# The document is written by the gateway's unit test `openapi::tests::writes_the_document_when_asked`
# (it is the same code that serves GET /openapi.json), then checked with openapi-spec-validator
# (`pip install openapi-spec-validator`; installed into the current Python when missing).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/target/openapi.json}"
mkdir -p "$(dirname "$out")"

BOURSE_OPENAPI_OUT="$out" cargo test --quiet --manifest-path "$root/Cargo.toml" \
  -p bourse-gateway --lib openapi::tests::writes_the_document_when_asked >/dev/null
test -s "$out" || { echo "no document written to $out" >&2; exit 1; }

if ! command -v openapi-spec-validator >/dev/null 2>&1; then
  python3 -m pip install --quiet openapi-spec-validator
fi
openapi-spec-validator --schema 3.1.0 "$out"
