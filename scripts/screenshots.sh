#!/usr/bin/env bash
# Regenerates the README's screenshots of the topology page (docs/topology*.png): the
# browser test draws a lab's network in headless chromium and saves what it saw.
# Inside a throwaway lab world, as every test (after bash scripts/setup.sh && npm run build).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p docs
BERTH_SCREENSHOTS="$PWD/docs" bash scripts/in-lab.sh node --test --test-concurrency=1 dist/test/integration/topology-page.test.js
ls -la docs/topology*.png
