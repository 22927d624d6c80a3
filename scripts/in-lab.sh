#!/usr/bin/env bash
# Usage: scripts/in-lab.sh CMD [ARGS...]
#
# Runs CMD inside a fresh throwaway "lab world": new network, mount and pid namespaces.
#   - network: CMD starts in an empty netns (only lo, brought up); the machine's root
#     network namespace is never touched.
#   - mount: private propagation, so nothing mounted in here is seen outside; a tmpfs on /run
#     makes /run/netns (named netns from `ip netns add`), /run/berth and the lab dirs
#     (/run/berth-lab) private to this world; /proc is remounted for the new pid ns.
#     sysfs is remounted too: /sys/class/net shows the interfaces of the netns that mounted
#     it, so the inherited /sys would show (and let a write reach) the machine's real eth0.
#   - pid: a bash is pid 1 of a new pid namespace, CMD its child.
# Why nothing can leak, even on `kill -9` of CMD or of this script: --kill-child makes the
# kernel SIGKILL the namespace's init when unshare dies; when a pid namespace's init dies the
# kernel kills every process in it. With no process left, the mount namespace (with its
# tmpfs /run and every netns bind mount in it) is released, and with no process and no mount
# holding them, every network namespace made in here is destroyed with all its links,
# bridges, routes and nftables tables.
# A world also ends when CMD runs past BERTH_LAB_TIMEOUT seconds (default 3600; 0: never):
# a test hung on something it made (a helper process it never stopped) cannot keep its
# processes alive for ever.
set -euo pipefail

if (($# == 0)); then
  echo "usage: $0 CMD [ARGS...]" >&2
  exit 2
fi
if [[ $(id -u) != 0 ]]; then
  echo "in-lab: must run as root (network namespaces need CAP_SYS_ADMIN/CAP_NET_ADMIN)" >&2
  exit 2
fi

# The inner script: $0 is a label, "$@" is CMD. bash stays pid 1 (no exec) so that it reaps
# the orphans that end up re-parented to it (container processes of a killed daemon).
# shellcheck disable=SC2016
inner='set -e
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t sysfs sysfs /sys
mkdir -p /run/netns /run/berth-lab
ip link set lo up
export BERTH_LAB_WORLD=1
set +e
timeout --foreground --kill-after=10 "$BERTH_LAB_TIMEOUT" "$@"
exit $?'

export BERTH_LAB_TIMEOUT=${BERTH_LAB_TIMEOUT:-3600}
exec unshare --net --mount --propagation private --pid --fork --kill-child --mount-proc \
  bash -c "$inner" in-lab "$@"
