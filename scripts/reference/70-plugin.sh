# Sourced by scripts/record-reference.sh inside its lab world, with dockerd 20.10 running:
# D (the docker CLI on its socket), SOCK, WORK, OUT, ROOT, get (GET → OUT/file) are set;
# the seed objects (image bb, network my_net1, containers vm1, d1) exist.
# Records: every call dockerd makes to a remote network driver (issue 15), with bodies,
# for network create, run (with -p), connect, disconnect, rm and network rm. The plugin is
# the lab's (dist/test/lab/net-plugin.js: npm run build first), in dockerd's own plugin
# folder (/run is this world's tmpfs).
#   plugin-calls.json   [{method, body}] in order; ids, sandbox keys and MACs replaced by
#                       <network>, <endpoint N>, <sandbox N>, <mac N> in order of appearance
mkdir -p /run/docker/plugins
node "$ROOT/dist/test/lab/net-plugin.js" /run/docker/plugins/labnet.sock "$WORK/plugin.calls" > "$WORK/plugin.out" 2>&1 &
PLUGIN=$!
for _ in $(seq 1 50); do grep -q ready "$WORK/plugin.out" && break; sleep 0.1; done
D network create -d labnet --subnet 10.77.0.0/24 -o color=blue pnet >/dev/null
D run -d --pull never --name p1 --network pnet -p 8081:80 bb sleep 3600 >/dev/null
D run -d --pull never --name p2 --network pnet bb sleep 3600 >/dev/null
D network connect pnet d1
D network disconnect pnet d1
D rm -f p1 p2 >/dev/null
D network rm pnet >/dev/null
kill $PLUGIN
wait $PLUGIN 2>/dev/null || true
node "$ROOT/dist/test/lab/plugin-calls.js" < "$WORK/plugin.calls" > "$OUT/plugin-calls.json"
echo "recorded plugin-calls.json"
