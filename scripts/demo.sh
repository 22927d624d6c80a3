#!/usr/bin/env bash
# Main job: set up (Debian packages, npm, build), then berthd and a guided tour of the
# seed scenarios inside a throwaway lab. Nothing touches the machine's own network.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
# with BERTH_DEMO_KEEP=1 the lab's shell stays as long as you like
[[ ${BERTH_DEMO_KEEP:-} == 1 ]] && export BERTH_LAB_TIMEOUT=0
exec bash scripts/in-lab.sh node scripts/demo.mjs
