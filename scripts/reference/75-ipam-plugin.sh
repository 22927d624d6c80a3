# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running
# (see 70-plugin.sh for what is set). Records every call dockerd makes to a remote IPAM
# driver (issue 15): the lab plugin with --ipam, as the IPAM driver of bridge networks:
# one with a subnet, gateway, ip-range and aux address, containers with and without --ip,
# a connect and disconnect; one with no subnet (the plugin picks the pool); both removed.
#   ipam-calls.json   [{method, body}] in order, ids replaced as in plugin-calls.json
mkdir -p /run/docker/plugins
node "$ROOT/dist/test/lab/net-plugin.js" /run/docker/plugins/labipam.sock "$WORK/ipam.calls" --ipam > "$WORK/ipam.out" 2>&1 &
PLUGIN=$!
for _ in $(seq 1 50); do grep -q ready "$WORK/ipam.out" && break; sleep 0.1; done
D network create --ipam-driver labipam --subnet 10.78.0.0/24 --gateway 10.78.0.1 --ip-range 10.78.0.128/25 --aux-address host1=10.78.0.5 inet >/dev/null
D run -d --pull never --name i1 --network inet bb sleep 3600 >/dev/null
D run -d --pull never --name i2 --network inet --ip 10.78.0.200 bb sleep 3600 >/dev/null
D network connect inet d1
D network disconnect inet d1
D rm -f i1 i2 >/dev/null
D network rm inet >/dev/null
D network create --ipam-driver labipam inet2 >/dev/null
D network rm inet2 >/dev/null
kill $PLUGIN
wait $PLUGIN 2>/dev/null || true
node "$ROOT/dist/test/lab/plugin-calls.js" < "$WORK/ipam.calls" > "$OUT/ipam-calls.json"
echo "recorded ipam-calls.json"
