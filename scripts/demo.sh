#!/usr/bin/env bash
# The main job, end to end: sets the machine up (idempotent), builds the host and the
# extension, registers the host in a fresh Chromium profile and drives the popup.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/build.sh
node tests/e2e/demo.mjs
