#!/usr/bin/env bash
# Usage: scripts/bench-all.sh   (npm run bench:all)
# Every benchmark once, back to back on one build, each in its own lab world
# (scripts/bench.sh), so the README's figures come from one run on the same code with the
# machine's load beside each: bench/results/RUN.md lists what ran, when, how long, the load
# before and after, and whether it finished. BENCH_ALL_ONLY="setup dns" runs some of them;
# BENCH_RESTART_ROUNDS (default here 1) and BENCH_RESTART_GIVE_UP_S (default here 300:
# dockerd 20.10 without --live-restore takes many minutes per round at 1,000 containers, if
# it comes back at all) and the other knobs of each bench pass through. BENCH_LOCK=FILE:
# each bench first takes this lock (flock), so benches of other work trees on the same
# machine never run beside one of these.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${BENCH_OUT:-$PWD/bench/results}
run_log=$out/RUN.md
export BENCH_RESTART_ROUNDS=${BENCH_RESTART_ROUNDS:-1} BENCH_RESTART_GIVE_UP_S=${BENCH_RESTART_GIVE_UP_S:-300}
lock=()
[[ -n ${BENCH_LOCK:-} ]] && lock=(flock "$BENCH_LOCK")

# name | bench script (under dist/) | extra environment
benches=(
  "setup|bench/setup.js|"
  "setup-10000|bench/setup.js|BENCH_KINDS=v4:4000,routed:5000,default:1000 BENCH_N=10000 BENCH_ANCHORS=none BENCH_OUT=$out/setup-10000"
  "restart|bench/restart.js|"
  "restart-10000|bench/restart.js|BENCH_RESTART_N=10000 BENCH_RESTART_SYSTEMS=berth BENCH_RESTART_ROUNDS=2 BENCH_RESTART_PUBLISHED=1000"
  "dns|bench/dns.js|"
  "cli|bench/cli.js|"
  "ports|bench/ports.js|"
  "ports-traffic|bench/ports-traffic.js|"
  "crash-drill|bench/crash-drill.js|"
  "overlay|bench/overlay.js|"
  "topology-page|bench/topology-page.js|"
)

npm run build >&2 || exit 1
mkdir -p "$out"
{
  echo "# One run of every benchmark"
  echo
  echo "\`scripts/bench-all.sh\` on $(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ' (with uncommitted changes)'), $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), node $(node --version); started $(date -u +%FT%TZ)."
  echo
  echo "| bench | commit | started (UTC) | minutes | load before | load after | result |"
  echo "|---|---|---|---:|---|---|---|"
} >"$run_log"
failed=0
for entry in "${benches[@]}"; do
  IFS='|' read -r name script extra <<<"$entry"
  if [[ -n ${BENCH_ALL_ONLY:-} && " $BENCH_ALL_ONLY " != *" $name "* ]]; then continue; fi
  echo "[bench-all $(date -u +%T)] $name" >&2
  commit=$(git rev-parse --short HEAD) # dist/ is snapshotted as the bench starts: build and commit together
  # the load is read once the lock is ours; shellcheck disable=SC2086: extra is VAR=value words
  # shellcheck disable=SC2016
  "${lock[@]}" env BENCH_NO_BUILD=1 $extra bash -c 'cut -d" " -f1-3 /proc/loadavg >"$0"; date +%s >>"$0"; bash scripts/bench.sh "$1"' "$out/.bench-all-$name" "$script"
  rc=$?
  before=$(head -1 "$out/.bench-all-$name" 2>/dev/null)
  t0=$(sed -n 2p "$out/.bench-all-$name" 2>/dev/null)
  rm -f "$out/.bench-all-$name"
  ((rc == 0)) || failed=1
  printf '| %s | %s | %s | %.1f | %s | %s | %s |\n' "$name" "$commit" "$(date -u -d "@$t0" +%T)" "$(echo "($(date +%s) - $t0) / 60" | bc -l)" "$before" "$(cut -d' ' -f1-3 /proc/loadavg)" "$( ((rc == 0)) && echo ok || echo "failed ($rc)")" >>"$run_log"
done
echo >>"$run_log"
echo "Ended $(date -u +%FT%TZ)." >>"$run_log"
exit $failed
