#!/usr/bin/env bash
# Usage: scripts/record-reference.sh [OUT_DIR]   (default: test/fixtures/dockerd-20.10)
#
# Records the reference JSON that test/integration/compat-shapes.test.ts compares berth's
# API answers with: the real dockerd 20.10 (Debian's docker.io: apt-get install -y
# docker.io busybox-static) runs the seed steps and its answers are saved as
#   networks.json             GET /v1.41/networks
#   network-my_net1.json      GET /v1.41/networks/my_net1
#   network-bridge.json       GET /v1.41/networks/bridge
#   container-vm1.json        GET /v1.41/containers/vm1/json   (vm1 on my_net1)
#   container-d1.json         GET /v1.41/containers/d1/json    (d1 on the default bridge)
#   container-list.json       GET /v1.41/containers/json
# (BERTH_RECORD_TOPICS="60-ipv6" records only the topics named, and none of the above.)
# and then, one topic a file, what scripts/reference/*.sh record (each says what in its
# header): list filters, inspect/list shapes and swarm answers, links and LinkLocalIPs,
# PidMode, the Docker SDK scenarios.
# Seed steps: docker import of the busybox rootfs as bb (ENV PATH=/bin, CMD /bin/sh);
# network create my_net1; run -d --name vm1 --network my_net1 bb sleep 3600;
# run -d --name d1 bb sleep 3600.
#
# Safety (the lab rule): everything runs inside scripts/in-lab.sh's throwaway world (new
# network, mount and pid namespaces), dockerd included; it dies with the world. dockerd
# gets its own data-root, exec-root and socket under a temp dir, a cgroup2 mount of its
# own, and vfs storage (no overlay on overlay). Nothing touches the machine's namespaces.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$ROOT/test/fixtures/dockerd-20.10}")

if [[ ${BERTH_RECORD_INNER:-} != 1 ]]; then
  [[ $(id -u) == 0 ]] || { echo "record-reference: must run as root" >&2; exit 2; }
  for b in /usr/sbin/dockerd /usr/bin/docker /usr/bin/containerd /bin/busybox; do
    [[ -x $b ]] || { echo "record-reference: $b missing (apt-get install -y docker.io busybox-static)" >&2; exit 2; }
  done
  mkdir -p "$OUT"
  exec env BERTH_RECORD_INNER=1 bash "$ROOT/scripts/in-lab.sh" bash "$0" "$OUT"
fi

# ---- inside the throwaway world ----
WORK=$(mktemp -d /run/record-XXXXXX)
SOCK=$WORK/docker.sock
D() { /usr/bin/docker -H "unix://$SOCK" "$@"; }
get() { curl -sf --unix-socket "$SOCK" "http://docker/v1.41$1" | jq -S . > "$OUT/$2"; echo "recorded $2"; }

# dockerd wants cgroups; the fresh sysfs of this world has none mounted.
mount -t cgroup2 none /sys/fs/cgroup
echo "nameserver 127.0.0.1" > "$WORK/resolv.conf"
mount --bind "$WORK/resolv.conf" /etc/resolv.conf

# the busybox rootfs, one link per applet
mkdir -p "$WORK/rootfs"/{bin,etc,tmp,proc,sys,dev,root,www}
cp /bin/busybox "$WORK/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$WORK/rootfs/bin/$a"; done
tar -c -f "$WORK/bb.tar" --numeric-owner --owner=0 --group=0 -C "$WORK/rootfs" .

/usr/sbin/dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
  -H "unix://$SOCK" --storage-driver vfs > "$WORK/dockerd.log" 2>&1 &
DOCKERD=$!
trap 'kill $DOCKERD 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  D version >/dev/null 2>&1 && break
  kill -0 $DOCKERD 2>/dev/null || { cat "$WORK/dockerd.log" >&2; exit 1; }
  sleep 0.2
done
D version --format 'dockerd {{.Server.Version}} (API {{.Server.APIVersion}})'

D import -c 'ENV PATH=/bin' -c 'CMD ["/bin/sh"]' "$WORK/bb.tar" bb:latest >/dev/null
D network create my_net1 >/dev/null
D run -d --pull never --name vm1 --network my_net1 bb sleep 3600 >/dev/null
D run -d --pull never --name d1 bb sleep 3600 >/dev/null

# BERTH_RECORD_TOPICS="60-ipv6 …": only those topics, the other fixtures left as they are
if [[ -z ${BERTH_RECORD_TOPICS:-} ]]; then
  get /networks networks.json
  get /networks/my_net1 network-my_net1.json
  get /networks/bridge network-bridge.json
  get /containers/vm1/json container-vm1.json
  get /containers/d1/json container-d1.json
  get /containers/json container-list.json
fi

# every topic of its own, in order (a later one must not change what an earlier one lists)
for topic in "$ROOT"/scripts/reference/*.sh; do
  name=$(basename "$topic" .sh)
  [[ -z ${BERTH_RECORD_TOPICS:-} || " $BERTH_RECORD_TOPICS " == *" $name "* ]] || continue
  # shellcheck source=/dev/null
  source "$topic"
done

D rm -f vm1 d1 >/dev/null 2>&1 || true

kill $DOCKERD
wait $DOCKERD || true
