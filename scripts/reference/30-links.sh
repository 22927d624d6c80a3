# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: rm --link, links to containers made later, LinkLocalIPs.
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
