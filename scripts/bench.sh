#!/usr/bin/env bash
# Usage: scripts/bench.sh [bench/X.js]   (default bench/setup.js, relative to dist/)
# Builds, snapshots dist/ (so a rebuild in this work tree cannot pull files from under a
# long run), then runs the benchmark inside a throwaway lab world (scripts/in-lab.sh):
# everything it makes (netns, bridges, rules, daemons, mounts) dies with that world.
# Knobs are environment variables, e.g. BENCH_N=200 BENCH_ANCHORS=netavark,cni.
# BENCH_NO_BUILD=1 skips the build; BENCH_PROF=1 profiles berthd (bench/results/setup-profile.md). Results go to bench/results/ (BENCH_OUT).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bench=${1:-bench/setup.js}
# the anchors and load generators the benchmarks run side by side (Debian packages)
bench_packages=(dnsperf aardvark-dns netavark containernetworking-plugins iptables docker.io busybox-static)
missing=()
for p in "${bench_packages[@]}"; do
  dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || missing+=("$p")
done
if ((${#missing[@]})); then
  # no service (dockerd) may start in the machine's own namespace during the install
  guard=0
  [[ -e /usr/sbin/policy-rc.d ]] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; guard=1; }
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  ((guard)) && rm -f /usr/sbin/policy-rc.d
fi
[[ ${BENCH_NO_BUILD:-} == 1 ]] || npm run build >&2
snap=$(mktemp -d /tmp/berth-bench.XXXXXX)
trap 'rm -rf "$snap"' EXIT
cp -a dist "$snap/dist"
# bin/berth: the CLI as users start it (bench:cli)
cp -a bin "$snap/bin"
cp package.json "$snap/"
ln -s "$repo/node_modules" "$snap/node_modules"
export BENCH_OUT=${BENCH_OUT:-$repo/bench/results}
if [[ ${BENCH_PROF:-} == 1 ]]; then
  export BERTH_LAB_DAEMON=$snap/dist/bench/lib/profiled-daemon.js BENCH_PROF_DIR=/run/berth-lab/bench-prof
fi
bash scripts/in-lab.sh node "$snap/dist/$bench"
