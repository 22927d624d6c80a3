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
#   filters.json              list filters: answers and messages (block "list filters")
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

get /networks networks.json
get /networks/my_net1 network-my_net1.json
get /networks/bridge network-bridge.json
get /containers/vm1/json container-vm1.json
get /containers/d1/json container-d1.json
get /containers/json container-list.json

# ---- block: list filters (issue 10, filters slice) ----
# filters.json: what dockerd answers to list requests with filters, each as
#   "<METHOD> <path> <filters JSON>": {"status": <HTTP status>, "body": <JSON answer>}
# for lists, body is the sorted list of names (containers, networks) or tags (images);
# for errors, dockerd's {"message": …}; for events (replayed from since/until), each
# event as "Type Action name". "ids" holds dockerd's ids of vm1 and my_net1, which some
# keys use. Seeds of its own: x0 ran and exited 0, x3 exited 3, c1 created (labels a=1
# and b, -p 8080:80, --expose 9000), net_l with label a=1, image bb2:v1 (LABEL a=1) and
# an untagged import.
T0=$(date +%s)
D run --pull never --name x0 bb true >/dev/null
D run --pull never --name x3 bb sh -c 'exit 3' >/dev/null || true
D create --pull never --name c1 --label a=1 --label b -p 8080:80 --expose 9000 bb >/dev/null
D network create --label a=1 net_l >/dev/null
D import -c 'LABEL a=1' "$WORK/bb.tar" bb2:v1 >/dev/null
D import "$WORK/bb.tar" >/dev/null
VM1=$(D inspect -f '{{.Id}}' vm1)
NET1=$(D network inspect -f '{{.Id}}' my_net1)
FILTERS=$WORK/filters.jsonl
ask() { # METHOD PATH FILTERS-JSON [extra query]
  local q; q=$(jq -rn --arg v "$3" '$v|@uri')
  local out code
  out=$(curl -s -X "$1" -w '\n%{http_code}' --unix-socket "$SOCK" "http://docker/v1.41$2?filters=$q${4:+&$4}")
  code=${out##*$'\n'}; out=${out%$'\n'*}
  jq -cn --arg k "$1 $2${4:+?$4} $3" --argjson s "$code" --arg raw "$out" \
    '($raw | fromjson? // $raw) as $b | {($k): {status: $s, body: (if ($b|type) == "array" then [$b[] | (.Names[0]? // .Name? // (.RepoTags? | join(","))) | ltrimstr("/")] | sort else $b end)}}' >> "$FILTERS"
}
C=/containers/json
for f in '{"bogus":["x"]}' '{"label!":["a"]}' '{"status":["bogus"]}' '{"exited":["x"]}' '{"health":["bogus"]}' \
  '{"is-task":["maybe"]}' '{"before":["nosuch"]}' '{"since":["nosuch"]}' '{"publish":["x"]}' '{"publish":["1:2"]}' \
  '{"expose":["x"]}' '{"status":["exited"]}' '{"exited":["0"]}' '{"health":["none"]}' '{"health":["healthy"]}' \
  '{"isolation":["default"]}' '{"is-task":["false"]}' '{"is-task":["true"]}' '{"volume":["x"]}' '{"name":["^vm"]}' \
  '{"name":["1"]}' '{"name":["^/d1$"]}' "{\"id\":[\"${VM1:0:5}\"]}" "{\"id\":[\"${VM1:3:8}\"]}" '{"ancestor":["bb"]}' \
  '{"ancestor":["nosuch"]}' "{\"before\":[\"${VM1:0:12}\"]}" "{\"before\":[\"$VM1\"]}" '{"network":["my_net1"]}' \
  "{\"network\":[\"${NET1:0:6}\"]}" '{"network":["my_net"]}' '{"label":["a=1","b"]}' '{"label":["a","c"]}' \
  '{"exited":["0","3"]}' '{"status":["created","running"]}'; do
  ask GET $C "$f"
done
for f in '{"status":["exited"]}' '{"exited":["0"]}' '{"exited":["3"]}' '{"publish":["80"]}' '{"publish":["8080"]}' \
  '{"publish":["79-81/tcp"]}' '{"publish":["80/udp"]}' '{"expose":["80"]}' '{"expose":["9000-9001/tcp"]}' \
  '{"before":["x0"]}' '{"since":["x0"]}' '{"before":["/vm1"]}' '{"status":["exit"]}' '{"isolation":["bogus"]}'; do
  ask GET $C "$f" all=1
done
for f in '{"bogus":["x"]}' '{"label!":["a"]}' '{"dangling":["maybe"]}' '{"dangling":["true","false"]}' '{"type":["bogus"]}' \
  '{"dangling":["true"]}' '{"dangling":["1"]}' '{"dangling":["false"]}' '{"type":["builtin"]}' '{"type":["custom"]}' \
  '{"name":["net"]}' '{"name":["^my"]}' '{"driver":["bridge"]}' '{"driver":["bri"]}' '{"scope":["local"]}' \
  '{"scope":["swarm"]}' "{\"id\":[\"${NET1:2:6}\"]}" '{"label":["a=1"]}' '{"label":["a=2"]}' '{"type":["builtin","custom"]}'; do
  ask GET /networks "$f"
done
for f in '{"bogus":["x"]}' '{"name":["x"]}' '{"until":["bogus"]}' '{"until":["1h","2h"]}' '{"label":["a=2"]}' \
  '{"label!":["a"]}' '{"until":["2001-01-01"]}'; do
  ask POST /networks/prune "$f"
done
for f in '{"bogus":["x"]}' '{"dangling":["maybe"]}' '{"dangling":["1"]}' '{"dangling":["true"]}' '{"dangling":["false"]}' \
  '{"before":["nosuch"]}' '{"since":["nosuch"]}' '{"reference":["[["]}' '{"reference":["bb"]}' '{"reference":["bb*"]}' \
  '{"reference":["*:v1"]}' '{"label":["a=1"]}' '{"label":["a"]}' '{"before":["bb2:v1"]}' '{"since":["bb"]}' \
  '{"reference":["bb:*"]}'; do
  ask GET /images/json "$f"
done
jq -cn --arg vm1 "$VM1" --arg net "$NET1" '{ids: {vm1: $vm1, my_net1: $net}}' >> "$FILTERS" # to map the ids above
curl -s --unix-socket "$SOCK" "http://docker/v1.41/containers/json?filters=notjson" | jq -c '{"GET /containers/json notjson": {body: .}}' >> "$FILTERS"
# events since the block began, up to now: each as "Type Action name", and c1's create in full
T1=$(($(date +%s) + 1)); sleep 1
askEvents() {
  local q; q=$(jq -rn --arg v "$1" '$v|@uri')
  local out code
  out=$(curl -s -w '\n%{http_code}' --unix-socket "$SOCK" "http://docker/v1.41/events?since=$T0&until=$T1&filters=$q")
  code=${out##*$'\n'}; out=${out%$'\n'*}
  jq -cn --arg k "GET /events $1" --argjson s "$code" --arg raw "$out" \
    '{($k): {status: $s, body: ([$raw | fromjson? // ($raw | split("\n")[] | select(length > 0) | fromjson)] | if length == 1 and (.[0].message? != null) then .[0] else map("\(.Type) \(.Action) \(.Actor.Attributes.name // .Actor.ID)") end)}}' >> "$FILTERS"
}
for f in '{"bogus":["x"]}' '{"type":["network"]}' '{"type":["bogus"]}' '{"label":["a=1"]}' '{"label":["a=1","b"]}' '{"container":["x0"]}' \
  '{"container":["x0","x3"],"event":["die"]}' '{"event":["create"]}' '{"network":["bridge"]}' '{"network":["net_l"]}' '{"image":["bb"]}' \
  '{"type":["image"]}' '{"scope":["local"]}' '{"scope":["swarm"]}' '{"daemon":["x"]}' '{"event":["exec_start"]}'; do
  askEvents "$f"
done
curl -s --unix-socket "$SOCK" "http://docker/v1.41/events?since=$T0&until=$T1&filters=$(jq -rn --arg v '{"container":["c1"],"event":["create"]}' '$v|@uri')" |
  jq -c '{"GET /events c1 create (in full)": {body: (del(.time, .timeNano, .id, .Actor.ID, .from))}}' >> "$FILTERS"
jq -S -s add "$FILTERS" > "$OUT/filters.json"; echo "recorded filters.json"
D rm -f x0 x3 c1 >/dev/null
# ---- end block: list filters ----

D rm -f vm1 d1 >/dev/null
kill $DOCKERD
wait $DOCKERD || true
