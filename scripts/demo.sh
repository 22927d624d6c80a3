#!/usr/bin/env bash
# Main job: set up (Debian packages, npm, build), then berthd and a guided tour of the
# seed scenarios inside a throwaway lab. Nothing touches the machine's own network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec bash scripts/in-lab.sh node scripts/demo.mjs
