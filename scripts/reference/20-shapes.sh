# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: inspect/list shapes, swarm endpoints, network names.
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
