# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: IPv6 (issue 13), what dockerd 20.10 shows and refuses.
#   network-v6.json        GET /networks/net_v6: --ipv6 --subnet fd00:db8:1::/64 (IPv4 subnet from the pools)
#   network-dual.json      GET /networks/net_dual: --ipv6 with --subnet/--gateway/--ip-range of both families
#   container-v6.json      GET /containers/v6a/json: on net_dual with --ip and --ip6, -p 8080:80
#   container-v6b.json     GET /containers/v6b/json: on net_v6, then network connect net_dual
#   container-list-v6.json GET /containers/json while v6a and v6b run (their Ports)
#   ipv6-errors.json       {"<what>": {"status": N, "body": {"message"}}} for refused IPv6 requests
rawv6() { # METHOD PATH [BODY] -> {"status": N, "body": …}
  local out code
  out=$(curl -s -X "$1" -w '\n%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://docker/v1.41$2")
  code=${out##*$'\n'}; out=${out%$'\n'*}
  jq -cn --argjson s "$code" --arg raw "$out" '{status: $s, body: ($raw | fromjson? // $raw)}'
}
D network create --ipv6 --subnet fd00:db8:1::/64 net_v6 >/dev/null
D network create --ipv6 --subnet 10.61.0.0/24 --gateway 10.61.0.254 --ip-range 10.61.0.128/25 \
  --subnet fd00:db8:2::/64 --gateway fd00:db8:2::fe --ip-range fd00:db8:2::/80 net_dual >/dev/null
D run -d --pull never --name v6a --network net_dual --ip 10.61.0.130 --ip6 fd00:db8:2::30 -p 8080:80 bb sleep 3600 >/dev/null
D run -d --pull never --name v6b --network net_v6 bb sleep 3600 >/dev/null
D network connect net_dual v6b
get /networks/net_v6 network-v6.json
get /networks/net_dual network-dual.json
get /containers/v6a/json container-v6.json
get /containers/v6b/json container-v6b.json
get /containers/json container-list-v6.json
{
  echo "{"
  echo "\"v6 subnet without EnableIPv6\": $(rawv6 POST /networks/create '{"Name":"e1","IPAM":{"Config":[{"Subnet":"fd00:db8:9::/64"}]}}'),"
  echo "\"invalid v6 subnet\": $(rawv6 POST /networks/create '{"Name":"e2","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00:db8:zz::/64"}]}}'),"
  echo "\"overlapping v6 subnet\": $(rawv6 POST /networks/create '{"Name":"e3","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00:db8:1::/80"}]}}'),"
  echo "\"v6 gateway outside the subnet\": $(rawv6 POST /networks/create '{"Name":"e4","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00:db8:4::/64","Gateway":"fd00:db8:5::1"}]}}'),"
  echo "\"two v6 subnets\": $(rawv6 POST /networks/create '{"Name":"e5","EnableIPv6":true,"IPAM":{"Config":[{"Subnet":"fd00:db8:6::/64"},{"Subnet":"fd00:db8:7::/64"}]}}'),"
  echo "\"EnableIPv6 without a v6 subnet\": $(rawv6 POST /networks/create '{"Name":"e6","EnableIPv6":true}'),"
  echo "\"--ip6 on an IPv4-only network\": $(rawv6 POST '/containers/create?name=e7' '{"Image":"bb","Cmd":["true"],"HostConfig":{"NetworkMode":"my_net1"},"NetworkingConfig":{"EndpointsConfig":{"my_net1":{"IPAMConfig":{"IPv6Address":"fd00:db8:1::9"}}}}}'),"
  echo "\"--ip6 outside the subnet\": $(rawv6 POST '/containers/create?name=e8' '{"Image":"bb","Cmd":["true"],"HostConfig":{"NetworkMode":"net_v6"},"NetworkingConfig":{"EndpointsConfig":{"net_v6":{"IPAMConfig":{"IPv6Address":"fd00:db8:99::9"}}}}}'),"
  echo "\"--ip6 taken\": $(rawv6 POST '/containers/create?name=e9' '{"Image":"bb","Cmd":["true"],"HostConfig":{"NetworkMode":"net_dual"},"NetworkingConfig":{"EndpointsConfig":{"net_dual":{"IPAMConfig":{"IPv6Address":"fd00:db8:2::30"}}}}}')"
  echo "}"
} | jq -S . > "$OUT/ipv6-errors.json"
echo "recorded ipv6-errors.json"
for n in e7 e8 e9; do D start $n >/dev/null 2>&1 || true; done
echo "\"starts of e7, e8, e9\": $(for n in e7 e8 e9; do D inspect -f '{{.Name}} {{.State.Status}} {{.State.Error}}' $n 2>&1; done | jq -Rs .)" > "$WORK/starts.txt"
jq -S --slurpfile s <(echo "{$(cat "$WORK/starts.txt")}") '. + $s[0]' "$OUT/ipv6-errors.json" > "$WORK/e.json" && mv "$WORK/e.json" "$OUT/ipv6-errors.json"
D rm -f v6a v6b e7 e8 e9 >/dev/null 2>&1 || true
D network rm net_v6 net_dual >/dev/null 2>&1 || true
