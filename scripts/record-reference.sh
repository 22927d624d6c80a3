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

#   sdk-python.json, sdk-dockerode.json   the SDK scenarios (see their block below)

#   pid-mode.json             HostConfig.PidMode answers and what a container sees in /dev
#                             (block "pid namespaces" below)
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

# ==== shapes block (issue 10, "Shapes real clients read") ======================
# Recorded here:
#   swarm.json                 every swarm endpoint of a dockerd that is not part of a swarm:
#                              {"METHOD /path": {"status": N, "body": …}}
#   network-names.json         POST /networks/create for odd names: {"<name>": {"status": N,
#                              "body": {"message"}|{"Warning"}, "Name": name inspect shows}}
#   network-full.json          GET /networks/net_full (--subnet/--ip-range/--gateway/--aux-address,
#                              --ipam-opt, -o, --label, --internal, --attachable; c_created started)
#   network-my-net.json        GET /networks/my%20net (a name with a space, spacey on it)
#   container-spacey.json      GET /containers/spacey/json  (running on "my net")
#   container-created.json     GET /containers/c_created/json: created (not started) with
#                              --mac-address on my_net1, then network connect --driver-opt k=v
#                              --alias al --ip to net_full
#   container-created-started.json  the same container once started
#   container-api-created.json GET /containers/c_api/json: POST /containers/create with
#                              NetworkingConfig.EndpointsConfig.my_net1 {DriverOpts, MacAddress}
#   container-list-all.json    GET /containers/json?all=1 (created ones included)
#   container-created-stopped.json, container-api-stopped.json   both once started and killed
#   container-p1.json          GET /containers/p1/json: -p, --expose, --dns*, --add-host,
#                              --hostname, --domainname, -e, -w, --label on the default bridge
#   container-list-p1.json     GET /containers/json while p1 runs (its Ports entries)
#   container-h1.json, container-n1.json, container-k1.json   run with --network host, none,
#                              container:d1; network-host.json, network-none.json with h1, n1 on them
#   container-e1.json, -e2, -e3  an image bbe with ENTRYPOINT/CMD/LABEL/EXPOSE: run as it is,
#                              with --entrypoint and --label, with -P
#   info.json                  GET /info (its Swarm object)
raw() { # METHOD PATH [BODY] -> {"status": N, "body": …}
  local body=$WORK/raw.out code data=()
  [[ -z ${3:-} ]] || data=(--data "$3")
  code=$(curl -s -o "$body" -w '%{http_code}' --unix-socket "$SOCK" -X "$1" \
    -H 'Content-Type: application/json' "${data[@]}" "http://docker/v1.41$2")
  jq -n --argjson s "$code" --rawfile b "$body" '{status: $s, body: ($b | try fromjson catch $b)}'
}
{
  echo '{'
  first=1
  while read -r method path body; do
    [[ $first == 1 ]] || echo ','
    first=0
    printf '%s: ' "$(jq -n --arg k "$method $path" '$k')"
    raw "$method" "$path" "$body"
  done <<'REQUESTS'
GET /swarm
POST /swarm/leave
POST /swarm/leave?force=true
POST /swarm/update?version=1 {}
GET /swarm/unlockkey
POST /swarm/unlock {"UnlockKey":"x"}
GET /nodes
GET /nodes/x
DELETE /nodes/x
POST /nodes/x/update?version=1 {}
GET /services
GET /services/x
DELETE /services/x
POST /services/create {"Name":"x"}
POST /services/x/update?version=1 {}
GET /services/x/logs?stdout=1
GET /tasks
GET /tasks/x
GET /tasks/x/logs?stdout=1
GET /secrets
GET /secrets/x
DELETE /secrets/x
POST /secrets/create {"Name":"x","Data":""}
POST /secrets/x/update?version=1 {}
GET /configs
GET /configs/x
DELETE /configs/x
POST /configs/create {"Name":"x","Data":""}
POST /configs/x/update?version=1 {}
REQUESTS
  echo '}'
} | jq -S . > "$OUT/swarm.json"
echo "recorded swarm.json"

# a name with a space, end to end: create, run on it, inspect both, rm
D network create 'my net' >/dev/null
D run -d --pull never --name spacey --network 'my net' bb sleep 3600 >/dev/null
get /networks/my%20net network-my-net.json
get /containers/spacey/json container-spacey.json
D rm -f spacey >/dev/null
D network rm 'my net' >/dev/null

# network names: what POST /networks/create takes, and the Name inspect then shows
long255=$(printf 'n%.0s' $(seq 1 255))
long1024=$(printf 'n%.0s' $(seq 1 1024))
names=('my net' ' ' 'a.b' '.dot' '_under' '-lead' 'trail-' 'ünïcödé' '名前' 'a/b' 'a:b' 'a,b' 'bad name!'
  'UPPER' $'tab\tname' $'new\nline' 'x%41y' "$long255" "$long1024" '' 'bridge' 'host' 'none'
  '0123456789ab' 'default')
{
  echo '{'
  first=1
  for name in "${names[@]}"; do
    [[ $first == 1 ]] || echo ','
    first=0
    r=$(raw POST /networks/create "$(jq -cn --arg n "$name" '{Name: $n}')")
    id=$(jq -r '.body.Id // empty' <<<"$r")
    shown=null
    if [[ -n $id ]]; then
      shown=$(curl -s --unix-socket "$SOCK" "http://docker/v1.41/networks/$id" | jq .Name)
      curl -s -X DELETE --unix-socket "$SOCK" "http://docker/v1.41/networks/$id" >/dev/null
    fi
    printf '%s: ' "$(jq -n --arg k "$name" '$k')"
    jq --argjson shown "$shown" '{status, Name: $shown, body: (if .body.Id then {Warning: .body.Warning} else .body end)}' <<<"$r"
  done
  echo '}'
} | jq -S . > "$OUT/network-names.json"
echo "recorded network-names.json"

# every network create option dockerd shows in inspect
D network create --subnet 10.77.0.0/16 --ip-range 10.77.1.0/24 --gateway 10.77.0.1 \
  --aux-address host1=10.77.0.5 --ipam-opt foo=bar -o com.docker.network.driver.mtu=1400 -o custom=x \
  --label a=b --label empty= --internal --attachable net_full >/dev/null
# endpoint options given before the container starts: at create and at connect time
D create --pull never --name c_created --network my_net1 --mac-address 02:42:ac:12:00:99 bb sleep 3600 >/dev/null
D network connect --driver-opt k=v --alias al --ip 10.77.1.10 net_full c_created
get /containers/c_created/json container-created.json
raw POST '/containers/create?name=c_api' "$(jq -cn '{Image: "bb", Cmd: ["sleep", "3600"],
  NetworkingConfig: {EndpointsConfig: {my_net1: {DriverOpts: {k1: "v1"}, MacAddress: "02:42:ac:12:00:98", Aliases: ["api"]}}}}')" >/dev/null
get /containers/c_api/json container-api-created.json
get '/containers/json?all=1' container-list-all.json
D start c_created c_api >/dev/null
get /containers/c_created/json container-created-started.json
get /networks/net_full network-full.json
D kill c_created c_api >/dev/null
D wait c_created c_api >/dev/null
get /containers/c_created/json container-created-stopped.json
get /containers/c_api/json container-api-stopped.json
# HostConfig and Config with ports, DNS and host entries given
D run -d --pull never --name p1 -p 127.0.0.1:8080:80 -p 9090 --expose 7070 --dns 192.0.2.53 --dns-search example.test \
  --dns-option ndots:2 --add-host h:10.0.0.1 --hostname p1host --domainname example.test -e A=1 -w /tmp \
  --label x=y bb sleep 3600 >/dev/null
get /containers/p1/json container-p1.json
get /containers/json container-list-p1.json
# the other network modes: host, none, sharing d1's network namespace
D run -d --pull never --name h1 --network host bb sleep 3600 >/dev/null
D run -d --pull never --name n1 --network none bb sleep 3600 >/dev/null
D run -d --pull never --name k1 --network container:d1 bb sleep 3600 >/dev/null
get /containers/h1/json container-h1.json
get /containers/n1/json container-n1.json
get /containers/k1/json container-k1.json
get /networks/host network-host.json
get /networks/none network-none.json
D rm -f h1 n1 k1 >/dev/null
# an image with its own ENTRYPOINT, CMD, LABEL and EXPOSE: what Config shows of each
D import -c 'ENV PATH=/bin' -c 'ENTRYPOINT ["/bin/sleep"]' -c 'CMD ["3600"]' -c 'LABEL img=yes' -c 'EXPOSE 5000' \
  "$WORK/bb.tar" bbe:latest >/dev/null
D run -d --pull never --name e1 bbe >/dev/null
D run -d --pull never --name e2 --entrypoint /bin/sh --label img=no bbe -c 'sleep 3600' >/dev/null
D run -d --pull never --name e3 -P bbe >/dev/null
get /containers/e1/json container-e1.json
get /containers/e2/json container-e2.json
get /containers/e3/json container-e3.json
D rm -f e1 e2 e3 >/dev/null
get /info info.json
D rm -f c_created c_api p1 >/dev/null
D network rm net_full >/dev/null
# ==== end of shapes block ====================================================================

=======
# ---- links and link-local IPs (issue 10: rm --link, links resolved at query time, --link-local-ip) ----
# Recorded as {"status": HTTP status, "body": answer} (call) or plain answers (get), plus
# what a container sees (/etc/hosts, nslookup, ip addr) as text, so berth's tests can follow
# dockerd's messages and behaviour rather than guesses.
#   link-rm.json                DELETE /containers/{parent}/{alias}?link=1 on the default bridge: ok,
#                               unknown link, a name that is not a link, the parent itself
#   link-rm-inspect.json        client's HostConfig.Links before and after the removal
#   link-user-net.json          --link on a user-defined network to a container that does not
#                               exist yet: create, start, inspect, DELETE ?link=1
#   link-local.json             LinkLocalIPs at run and connect: inspect IPAMConfig, bad addresses
#   links-and-link-local.txt    /etc/hosts, nslookup, ip addr/route and ping inside the containers,
#                               step by step (also: a default-bridge link target that comes back
#                               with a new address, then is removed)
call() { # METHOD PATH [BODY]
  local body
  body=$(curl -s --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} \
    -w '\n%{http_code}' "http://docker/v1.41$2")
  jq -n --arg req "$1 $2" --argjson status "${body##*$'\n'}" --arg body "${body%$'\n'*}" \
    '{request: $req, status: $status, body: ($body | try fromjson catch $body)}'
}
get_json() { curl -sf --unix-socket "$SOCK" "http://docker/v1.41$1" | jq "$2"; }
TXT=$OUT/links-and-link-local.txt
: > "$TXT"
say() { echo "### $*" >> "$TXT"; }
inside() { say "$1: ${*:2}"; D exec "$1" "${@:2}" >> "$TXT" 2>&1 || echo "(exit $?)" >> "$TXT"; }

D run -d --pull never --name lweb --expose 80 bb sleep 3600 >/dev/null
D run -d --pull never --name lclient --link lweb:db bb sleep 3600 >/dev/null
inside lclient cat /etc/hosts
before=$(curl -sf --unix-socket "$SOCK" http://docker/v1.41/containers/lclient/json | jq '.HostConfig.Links')
{
  call DELETE '/containers/lclient/nosuch?link=1'
  call DELETE '/containers/lweb?link=1'
  call DELETE '/containers/lclient?link=1'
  call DELETE '/containers/nosuchparent/db?link=1'
  call DELETE '/containers/lclient/db?link=1'
  call DELETE '/containers/lclient/db?link=1'
} | jq -s . > "$OUT/link-rm.json"
after=$(curl -sf --unix-socket "$SOCK" http://docker/v1.41/containers/lclient/json | jq '.HostConfig.Links')
jq -n --argjson before "$before" --argjson after "$after" '{before: $before, after: $after}' > "$OUT/link-rm-inspect.json"
echo "recorded link-rm.json link-rm-inspect.json"
inside lclient cat /etc/hosts
say "docker rm --link (CLI messages)"
D run -d --pull never --name lclient2 --link lweb:db2 bb sleep 3600 >/dev/null
{ D rm --link /lclient2/db2; D rm --link /lclient2/nosuch; D rm --link lweb; } >> "$TXT" 2>&1 || true
inside lclient2 cat /etc/hosts

D network create lnet >/dev/null
{
  call POST '/containers/create?name=learly' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"NetworkMode":"lnet","Links":["llate:later"]},"NetworkingConfig":{"EndpointsConfig":{"lnet":{"Links":["llate:later"]}}}}'
  call POST '/containers/learly/start'
  get_json /containers/learly/json '{HostConfig_Links: .HostConfig.Links, Networks_lnet_Links: .NetworkSettings.Networks.lnet.Links}'
} > "$WORK/lu1.json"
inside learly nslookup later
inside learly nslookup llate
D create --pull never --name llate --network lnet bb sleep 3600 >/dev/null
inside learly nslookup later
D start llate >/dev/null
inside learly nslookup later
D run -d --pull never --name lhog --network lnet bb sleep 3600 >/dev/null
D stop -t 0 llate >/dev/null
inside learly nslookup later
D run -d --pull never --name lhog2 --network lnet bb sleep 3600 >/dev/null
D start llate >/dev/null
say "llate now: $(D inspect -f '{{.NetworkSettings.Networks.lnet.IPAddress}}' llate)"
inside learly nslookup later
{
  cat "$WORK/lu1.json"
  call DELETE '/containers/learly/later?link=1'
  get_json /containers/learly/json '{HostConfig_Links: .HostConfig.Links, Networks_lnet_Links: .NetworkSettings.Networks.lnet.Links}'
  call POST '/containers/create?name=lbridge' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"Links":["nosuch:x"]}}'
  call POST '/containers/create?name=lbridge2' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"Links":["llate:x"]}}'
  call POST '/containers/lbridge2/start'
} | jq -s . > "$OUT/link-user-net.json"
echo "recorded link-user-net.json"
D stop -t 0 lweb >/dev/null
say "lclient2 restart with its link target stopped: $(D restart -t 0 lclient2 2>&1)"

{
  call POST '/containers/create?name=lll' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"NetworkMode":"lnet"},"NetworkingConfig":{"EndpointsConfig":{"lnet":{"IPAMConfig":{"LinkLocalIPs":["169.254.7.7"]}}}}}'
  call POST '/containers/lll/start'
  get_json /containers/lll/json '.NetworkSettings.Networks.lnet'
  call POST '/containers/create?name=llv6' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"NetworkMode":"lnet"},"NetworkingConfig":{"EndpointsConfig":{"lnet":{"IPAMConfig":{"LinkLocalIPs":["fe80::7"]}}}}}'
  call POST '/containers/llv6/start'
  call POST '/containers/create?name=llout' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"NetworkMode":"lnet"},"NetworkingConfig":{"EndpointsConfig":{"lnet":{"IPAMConfig":{"LinkLocalIPs":["169.254.7.8","10.99.0.1"]}}}}}'
  call POST '/containers/llout/start'
  call POST '/containers/create?name=llbad' '{"Image":"bb","Cmd":["sleep","3600"],"HostConfig":{"NetworkMode":"lnet"},"NetworkingConfig":{"EndpointsConfig":{"lnet":{"IPAMConfig":{"LinkLocalIPs":["169.254.1.1","bogus"]}}}}}'
  call POST '/containers/llbad/start'
  call POST '/containers/create?name=llbridge' '{"Image":"bb","Cmd":["sleep","3600"],"NetworkingConfig":{"EndpointsConfig":{"bridge":{"IPAMConfig":{"LinkLocalIPs":["169.254.8.8"]}}}}}'
  call POST '/containers/llbridge/start'
  get_json /containers/llbridge/json '.NetworkSettings.Networks.bridge'
  call POST '/containers/create?name=llconn' '{"Image":"bb","Cmd":["sleep","3600"]}'
  call POST '/containers/llconn/start'
  call POST '/networks/lnet/connect' '{"Container":"llconn","EndpointConfig":{"IPAMConfig":{"LinkLocalIPs":["169.254.9.9"]}}}'
  call POST '/networks/lnet/connect' '{"Container":"lhog","EndpointConfig":{"IPAMConfig":{"LinkLocalIPs":["nope"]}}}'
  call POST '/networks/bridge/connect' '{"Container":"lhog2","EndpointConfig":{"IPAMConfig":{"LinkLocalIPs":["nope"]}}}'
  get_json /containers/llconn/json '.NetworkSettings.Networks.lnet'
} | jq -s . > "$OUT/link-local.json"
echo "recorded link-local.json"
inside lll ip addr
inside lll ip route
inside llbridge ip addr
inside llconn ip addr
inside llconn ping -c1 -W2 169.254.7.7
say "containers after the bad ones: $(D ps -a --format '{{.Names}}' | sort | tr '\n' ' ')"
say "CLI: docker run --link-local-ip bogus"
D run -d --pull never --name llcli --network lnet --link-local-ip bogus bb sleep 1 >> "$TXT" 2>&1 || echo "(exit $?)" >> "$TXT"
say "default bridge: a link target that comes back with a new address, then is removed"
D run -d --pull never --name ltarget bb sleep 3600 >/dev/null
D run -d --pull never --name lparent --link ltarget:tgt bb sleep 3600 >/dev/null
inside lparent grep tgt /etc/hosts
D stop -t 0 ltarget >/dev/null
D run -d --pull never --name lthief bb sleep 3600 >/dev/null
D start ltarget >/dev/null
say "ltarget now: $(D inspect -f '{{.NetworkSettings.IPAddress}}' ltarget)"
inside lparent grep tgt /etc/hosts
D stop -t 0 ltarget >/dev/null
say "lparent restart with its link target stopped: $(D restart -t 0 lparent 2>&1)"
D start ltarget >/dev/null
say "rm -f ltarget (linked to): $(D rm -f ltarget 2>&1)"
say "lparent links after: $(D inspect -f '{{json .HostConfig.Links}}' lparent)"
say "lparent restart with its link target gone: $(D restart -t 0 lparent 2>&1)"
inside lparent grep tgt /etc/hosts
D rm -f lparent lthief >/dev/null
D rm -f lweb lclient lclient2 learly llate lhog lhog2 lbridge lbridge2 lll llv6 llout llbad llbridge llconn llcli >/dev/null 2>&1 || true
D network rm lnet >/dev/null
# ---- end of links and link-local IPs ----
=======
# ---- block: pid namespaces (issue 10) ----
# What dockerd answers for PidMode at create and start, and the /dev a container gets,
# with and without a tty. Container ids in messages are written as <id>.
req() { # METHOD PATH [BODY] -> {"status": N, "body": <JSON or text>}
  local out
  out=$(curl -s -w '\n%{http_code}' --unix-socket "$SOCK" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://docker/v1.41$2")
  jq -n --argjson s "${out##*$'\n'}" --arg b "${out%$'\n'*}" '{status: $s, body: ($b | fromjson? // $b)}'
}
STOPPED=$(D create --name pidstopped bb true)
D create --name pidjoiner --pid container:pidstopped bb true >/dev/null
{
  echo '{"createBogus":'; req POST /containers/create '{"Image":"bb","Cmd":["true"],"HostConfig":{"PidMode":"bogus"}}' | jq '{status}'
  echo ',"createMissing":'; req POST /containers/create '{"Image":"bb","Cmd":["true"],"HostConfig":{"PidMode":"container:nosuch"}}'
  echo ',"startStopped":'; req POST /containers/pidjoiner/start
  echo ',"pidModeKept":'; D inspect -f '{{json .HostConfig.PidMode}}' pidjoiner
  D rm pidstopped >/dev/null
  echo ',"startRemoved":'; req POST /containers/pidjoiner/start
  echo ',"dev":'; D run --rm bb ls -1 /dev | jq -R . | jq -s .
  echo ',"devTty":'; D run --rm -t bb ls -1 /dev | tr -d '\r' | jq -R . | jq -s .
  echo '}'
} | sed "s/$STOPPED/<id>/g" | jq -S . > "$OUT/pid-mode.json"
D rm -f pidjoiner >/dev/null
echo "recorded pid-mode.json"
# ---- end of block: pid namespaces ----

D rm -f vm1 d1 >/dev/null

# ---- block: the Docker SDKs (issue 10) ----
# sdk-python.json: test/compat/sdk_scenario.py (the Docker SDK for Python, in the venv that
# scripts/setup.sh makes) at API 1.41; sdk-dockerode.json: dist/test/compat/dockerode-scenario.js
# (npm run build first). Each holds what the scenario observed and the raw answers of its
# requests; test/integration/compat-sdk-*.test.ts run the same scenarios against berthd.
sdk() { "$@" > "$WORK/sdk.json" && jq -S . "$WORK/sdk.json" > "$OUT/$SDK_OUT" && echo "recorded $SDK_OUT"; }
if [[ -x $ROOT/.venv/bin/python ]]; then
  SDK_OUT=sdk-python.json sdk "$ROOT/.venv/bin/python" "$ROOT/test/compat/sdk_scenario.py" "$SOCK" 1.41 "$WORK/bb.tar"
else
  echo "record-reference: no $ROOT/.venv (scripts/setup.sh): sdk-python.json not recorded" >&2
fi
if [[ -f $ROOT/dist/test/compat/dockerode-scenario.js ]]; then
  SDK_OUT=sdk-dockerode.json sdk node "$ROOT/dist/test/compat/dockerode-scenario.js" "$SOCK" v1.41 "$WORK/bb.tar"
else
  echo "record-reference: no dist/ (npm run build): sdk-dockerode.json not recorded" >&2
fi
# ---- end of block: the Docker SDKs ----

kill $DOCKERD
wait $DOCKERD || true
