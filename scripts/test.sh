#!/usr/bin/env bash
# Sets up a fresh machine (idempotent) and runs every test: Rust unit and integration
# tests, then the real-browser tests in Chromium and Firefox ESR.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo test"
cargo test --workspace
echo "== browser tests (node --test tests/e2e/)"
node --test --test-concurrency=1 tests/e2e/
