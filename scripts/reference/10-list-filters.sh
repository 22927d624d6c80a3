# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: the answers of list endpoints to filters (filters.json).
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
