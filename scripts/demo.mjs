#!/usr/bin/env node
// The guided tour: berthd with its embedded store, in a safe lab (a fresh network
// namespace acting as "the host", plus an "internet" namespace behind an uplink), and
// the seed scenarios run through the real berth CLI. Run inside scripts/in-lab.sh.
// BERTH_DEMO_KEEP=1 keeps berthd running afterwards with a shell in the lab.
import { Lab } from '../dist/test/lab/lab.js';
import { Cluster, CLUSTER_STORE } from '../dist/test/lab/cluster.js';
import { LabPodman } from '../dist/test/lab/podman.js';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
// where berthd looks for network driver plugins (under this world's own /run)
const PLUGIN_DIR = '/run/berth-demo-plugins';
mkdirSync(PLUGIN_DIR, { recursive: true });
const lab = await Lab.create({ daemonArgs: ['--plugin-dir', PLUGIN_DIR] });

async function show(args, note, on = lab) {
  if (note) process.stdout.write(`\n${bold('# ' + note)}\n`);
  const quote = (a) => (/[^\w@%+=:,./-]/.test(a) ? `'${a.replace(/'/g, `'\\''`)}'` : a);
  process.stdout.write(`${on === lab ? '' : `[${on.name}] `}$ berth ${args.map(quote).join(' ')}\n`);
  const r = await on.berth(args);
  process.stdout.write(r.stdout + (r.stderr ? r.stderr : ''));
  return r;
}

try {
  process.stdout.write(`${bold('berthd')} is running in lab netns ${lab.hostNs} (socket ${lab.socket}, state ${lab.dir}/data)\n`);
  await show(['network', 'ls'], '1. a fresh daemon: bridge, host, none');
  await show(['network', 'rm', 'bridge'], '   predefined networks cannot be removed');
  await show(['run', '-d', '--name', 'c1', '--', 'sleep', '3600'], '2. bridge mode: own netns, eth0 on berth0');
  await show(['exec', 'c1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  await show(['exec', 'c1', 'ip', 'route']);
  await show(['exec', 'c1', 'ps', '-o', 'pid,args'], '   its own pid namespace too: its command is pid 1, nothing of the host shows');
  await show(['run', '--rm', '--network', 'host', '-h', 'demo', '--', 'hostname'], '3. host mode: host interfaces, own hostname');
  await show(['run', '--rm', '--network', 'none', '--', 'ip', '-o', 'link'], '4. none: only lo');
  await show(['run', '--rm', '--network', 'container:c1', '--', 'ip', '-4', '-o', 'addr', 'show', 'eth0'], '5. container:c1 shares c1\'s netns');
  await show(['network', 'create', 'my_net1'], '10. a user-defined network gets the next free pool');
  await show(['run', '-d', '--name', 'vm1', '--network', 'my_net1', '--', 'sleep', '3600']);
  await show(['run', '-d', '--name', 'vm2', '--network', 'my_net1', '--ip', '172.18.0.10', '--', 'sleep', '3600'], '12. --ip on a user-defined network');
  await show(['network', 'inspect', '-f', '{{range $id, $c := .Containers}}{{$c.Name}} {{$c.IPv4Address}} {{$c.MacAddress}}{{"\\n"}}{{end}}', 'my_net1']);
  await show(['exec', 'vm1', 'ping', '-c1', '-W1', '172.18.0.10'], '7. same network: reachable');
  await show(['exec', 'c1', 'ping', '-c1', '-W1', '172.18.0.10'], '13. different networks: isolated');
  await show(['network', 'connect', 'my_net1', 'c1'], '14. connect adds eth1 without a restart');
  await show(['exec', 'c1', 'ping', '-c1', '-W1', '172.18.0.10']);
  await show(['network', 'rm', 'my_net1'], '15. rm refuses while containers are attached');
  await show(['exec', 'vm1', 'node', `${process.cwd()}/dist/test/lab/echo-client.js`, 'tcp', lab.internetAddr, String(lab.echoPort)], `8. egress to the "internet" (${lab.internetAddr}) leaves with the host's uplink address`);
  await show(['exec', 'vm2', 'ping', '-c1', '-W1', 'vm1'], '11. the embedded DNS: names on a user-defined network');
  await show(['run', '-d', '--name', 'web', '--network', 'my_net1', '--network-alias', 'app', '-p', '8080:80', '--', 'node', '-e', "require('net').createServer(c=>c.end('hello from web\\n')).listen(80)"], '21. a published port: one nftables map element, no proxy process');
  await show(['port', 'web']);
  await show(['exec', 'c1', 'node', '-e', "setTimeout(()=>require('net').connect(8080,'198.51.100.2').pipe(process.stdout),300)"], '22. reached through the host address (hairpin from another container)');
  await show(['run', '-d', '--name', 'linked', '--link', 'c1:peer', '--', 'sleep', '3600'], '17. --link on the default bridge: hosts entries and variables');
  await show(['exec', 'linked', 'sh', '-c', 'grep peer /etc/hosts; env | grep ^PEER_']);
  // macvlan: the lab's LAN is a switch and a router in namespaces of their own, reached by
  // the lab host's eth1 (the parent); a LAN host sees the container itself, no NAT
  const lan = await lab.addLan();
  const peer = await lab.addHostOnLan('peer');
  await show(['network', 'create', '-d', 'macvlan', '--subnet', lan.subnet, '--gateway', lan.router, '--ip-range', '198.18.1.64/27', '-o', `parent=${lan.parent}`, 'lan'], `25. macvlan: containers on the LAN (${lan.subnet}) with their own MAC and address`);
  await show(['run', '-d', '--name', 'onlan', '--network', 'lan', '--', 'sleep', '3600']);
  await show(['exec', 'onlan', 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
  await show(['exec', 'onlan', 'ping', '-c1', '-W2', peer.addr], `   it reaches LAN host ${peer.addr} directly; the default route is the LAN's router`);
  await show(['exec', 'onlan', 'ip', 'route']);
  await show(['network', 'create', '-d', 'ptp', '--subnet', '10.90.0.0/31', 'wire'], '24. a point-to-point link: one veth pair straight between two containers, no bridge');
  await show(['network', 'connect', 'wire', 'vm1']);
  await show(['network', 'connect', 'wire', 'onlan']);
  await show(['exec', 'onlan', 'ping', '-c1', '-W2', 'vm1'], '   names resolve over it too (the resolver answers at 127.0.0.11 in every sandbox)');
  await show(['exec', 'vm1', 'cat', '/etc/resolv.conf']);
  await show(['network', 'create', '--ipv6', '--subnet', '10.91.0.0/24', '--subnet', 'fd00:91::/64', 'dual'], 'IPv6: a dual-stack network');
  await show(['run', '-d', '--name', 'six1', '--network', 'dual', '--ip6', 'fd00:91::10', '--', 'sleep', '3600']);
  await show(['run', '-d', '--name', 'six2', '--network', 'dual', '--', 'sleep', '3600']);
  await show(['exec', 'six1', 'ip', '-o', 'addr', 'show', 'eth0'], '   both families on eth0, usable at once (no duplicate-address detection)');
  await show(['exec', 'six2', 'ping', '-6', '-c1', '-W2', 'six1'], '   names answer with AAAA; the default route of each family via the bridge');
  await show(['inspect', '-f', '{{range $n, $e := .NetworkSettings.Networks}}{{$n}}: {{$e.IPAddress}} {{$e.GlobalIPv6Address}}/{{$e.GlobalIPv6PrefixLen}} via {{$e.IPv6Gateway}}{{end}}', 'six1']);
  await show(['exec', 'six1', 'node', `${process.cwd()}/dist/test/lab/echo-client.js`, 'tcp', lab.internetAddr6, String(lab.echoPort)], `   IPv6 egress to the "internet" (${lab.internetAddr6}): the ULA leaves with the host's IPv6 uplink address`);
  await show(['run', '-d', '--name', 'web6', '--network', 'dual', '-p', '8086:80', '--', 'node', '-e', "require('net').createServer(c=>c.end('hello over '+c.localAddress+'\\n')).listen(80)"], '   -p publishes on 0.0.0.0 and [::], one host port');
  await show(['port', 'web6']);
  await show(['exec', 'six2', 'node', '-e', `setTimeout(()=>require('net').connect(8086,'${lab.hostUplinkAddr6}').pipe(process.stdout),300)`], '   reached through the host\'s IPv6 address');
  // a third-party network driver, as Weave or Calico ship them: a socket in the plugin folder
  const plugin = lab.spawnIn(lab.hostNs, ['node', `${process.cwd()}/dist/test/lab/net-plugin.js`, `${PLUGIN_DIR}/labnet.sock`, `${PLUGIN_DIR}/labnet.calls`]);
  await plugin.waitForOutput('ready\n');
  await show(['network', 'create', '-d', 'labnet', '--subnet', '10.92.0.0/24', 'plugged'], "25. remote drivers: a network driver plugin (Docker's protocol); berthd finds its socket, activates it and drives it");
  await show(['run', '-d', '--name', 'pa', '--network', 'plugged', '--', 'sleep', '3600']);
  await show(['run', '-d', '--name', 'pb', '--network', 'plugged', '--', 'sleep', '3600']);
  await show(['exec', 'pa', 'ping', '-c1', '-W2', 'pb'], "   through the bridge and veth pairs the plugin made; the name from berth's resolver");
  await show(['rm', '-f', 'pa', 'pb']);
  await show(['network', 'rm', 'plugged']);
  const calls = readFileSync(`${PLUGIN_DIR}/labnet.calls`, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).method);
  process.stdout.write(`${bold('   what the plugin was asked, in order:')} ${calls.join(', ')}\n`);
  await plugin.stop();
  // the other way round: another runtime's containers on berth's networks, berth as their CNI plugin
  const podman = await LabPodman.create(lab);
  podman.addNetwork('my_net1');
  const podmanShow = async (args, note) => {
    if (note) process.stdout.write(`\n${bold('# ' + note)}\n`);
    process.stdout.write(`$ podman ${args.join(' ')}\n${(await podman.run(args)).stdout}`);
  };
  process.stdout.write(`\n${bold('# 26. berth as a CNI plugin: podman (network_backend = "cni") with a conflist whose plugin is berth')}\n${readFileSync(podman.conflistPath('my_net1'), 'utf8')}\n`);
  await podmanShow(['run', '-d', '--cgroups=disabled', '--network', 'my_net1', '--name', 'podweb', '-p', '8081:80', 'localhost/bb', 'httpd', '-f', '-p', '80', '-h', '/www']);
  await show(['network', 'inspect', '-f', '{{range $id, $c := .Containers}}{{$c.Name}} {{$c.IPv4Address}}{{"\\n"}}{{end}}', 'my_net1'], '   berthd made its endpoint: an address on my_net1, names, isolation, its -p');
  await podmanShow(['exec', 'podweb', 'ping', '-c1', '-W2', 'vm1'], "   the podman container resolves berth's containers (berth's resolver in its netns) …");
  await show(['exec', 'vm1', 'wget', '-qO-', '-T2', 'http://podweb/'], '   … and they resolve it');
  await show(['exec', 'c1', 'wget', '-qO-', '-T2', `http://${lab.hostUplinkAddr}:8081/`], "   -p 8081:80 through berth's port mapper");
  await podmanShow(['rm', '-f', '-t', '0', 'podweb'], '   podman rm: CNI DEL, and berth lets go of all of it');
  await show(['create', '--name', 'later', '--', 'sleep', '3600'], '   berth create: made, not started (docker create)');
  await show(['ps', '-a', '--filter', 'name=later', '--format', '{{.Names}} {{.Status}}']);
  process.stdout.write(`\n${bold("# berth's whole firewall: its own nftables tables, sets and maps instead of rule chains (first lines)")}\n$ berth system firewall | head -20\n`);
  process.stdout.write((await lab.berth(['system', 'firewall'])).stdout.split('\n').slice(0, 20).join('\n') + '\n');
  process.stdout.write(`\n${bold('# 27. see the network: berth system graph (svg by default, laid out by elkjs; dot; json) — first lines of the DOT')}\n$ berth system graph --format dot | head -12\n`);
  process.stdout.write((await lab.berth(['system', 'graph', '--format', 'dot'])).stdout.split('\n').slice(0, 12).join('\n') + '\n');
  const svg = (await lab.berth(['system', 'graph'])).stdout;
  process.stdout.write(`$ berth system graph > net.svg   # ${svg.length} bytes, ${(svg.match(/<g class=/g) ?? []).length} boxes; berthd --ui 127.0.0.1:7070 serves it live\n`);
  await show(['explain', 'c1', `host:${lab.hostUplinkAddr}:8080`], "28. explain a packet's path: every hop, every nftables rule that matched, the reply, the verdict");
  const blocked = (await lab.berth(['explain', 'linked', 'web:80'])).stdout.trim().split('\n');
  process.stdout.write(`$ berth explain linked web:80 | tail -2   # another network: what stops it, and what would change it\n${blocked.slice(-2).join('\n')}\n`);
  await show(['network', 'create', '-o', 'berth.network.mode=routed', '--subnet', '10.93.0.0/16', 'flat'], '29. a routed network: no bridge (so no 1,023-port limit); each container a veth the host routes to');
  await show(['run', '-d', '--name', 'r1', '--network', 'flat', '--', 'sleep', '3600']);
  await show(['run', '-d', '--name', 'r2', '--network', 'flat', '-p', '8093:80', '--', 'node', '-e', "require('net').createServer(c=>c.end('hello from r2\\n')).listen(80)"]);
  await show(['exec', 'r1', 'ip', 'route'], '   inside: the subnet through the gateway, which is the host end of its own veth');
  process.stdout.write(`$ ip route | grep 10.93   # on the host: one route per container, no bridge\n${spawnSync('nsenter', [`--net=${lab.hostNs}`, 'ip', 'route'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes('10.93.')).join('\n')}\n`);
  await show(['exec', 'r1', 'ping', '-c1', '-W2', 'r2'], '   names, published ports, isolation and icc as on a bridge network');
  await show(['exec', 'c1', 'wget', '-qO-', '-T2', `http://${lab.hostUplinkAddr}:8093/`]);
  await show(['ps', '--filter', 'network=my_net1', '--format', '{{.Names}}'], '   lists filtered as dockerd filters them (what compose and the SDKs rely on)');
  await show(['ps']);
  if (process.env.BERTH_DEMO_KEEP === '1') {
    process.stdout.write(`\n${bold('A shell in the lab host netns; try `berth ps`. Exit to tear everything down.')}\n`);
    spawnSync('nsenter', [`--net=${lab.hostNs}`, 'bash'], { stdio: 'inherit', env: { ...process.env, BERTH_HOST: `unix://${lab.socket}`, PATH: `${process.cwd()}/bin:${process.env.PATH}` } });
  }
} finally {
  await lab.destroy();
}

// Several hosts: two lab hosts (each a netns with its own berthd) on one underlay switch,
// a real etcd as the cluster store, and an overlay network across them.
process.stdout.write(`\n${bold('# Several hosts: two berthds on one underlay, etcd as the cluster store')}\n`);
const cluster = await Cluster.create({ hosts: 2, daemonArgs: ['--cluster-store', CLUSTER_STORE, '--cluster-advertise', 'eth0'] });
try {
  const [h1, h2] = [cluster.host(1), cluster.host(2)];
  process.stdout.write(`berthd --cluster-store ${CLUSTER_STORE} --cluster-advertise eth0 on ${h1.name} (${h1.hostUplinkAddr}) and ${h2.name} (${h2.hostUplinkAddr})\n`);
  await show(['network', 'create', '-d', 'overlay', 'ov'], 'an overlay network made on host 1 (name and VNI claimed in etcd in one transaction) …', h1);
  await new Promise((r) => setTimeout(r, 200));
  await show(['network', 'ls', '--filter', 'driver=overlay'], '… is on host 2 too, Scope global, the same ID', h2);
  await show(['run', '-d', '--name', 'left', '--network', 'ov', '--', 'sleep', '3600'], 'a container on each host; addresses come from etcd, no duplicate across hosts', h1);
  await show(['run', '-d', '--name', 'right', '--network', 'ov', '--', 'sleep', '3600'], undefined, h2);
  await show(['exec', 'right', 'ping', '-c2', '-W2', 'left'], 'names and packets across hosts (VXLAN, MTU 1450 from the 1500 underlay)', h2);
  await show(['exec', 'left', 'ping', '-c1', '-W2', cluster.internetAddr], 'egress through the container\'s own host (the same gateway answers on every host)', h1);
  const id = (await h1.berth(['network', 'inspect', '-f', '{{.Id}}', 'ov'])).stdout.trim().slice(0, 12);
  process.stdout.write(`\n${bold('# what host 1 programmed for the container on host 2: static entries only, nothing learned, no flooding')}\n$ bridge fdb show dev vx-${id}; ip neigh show dev vx-${id}\n`);
  process.stdout.write((await h1.inHost(['bridge', 'fdb', 'show', 'dev', `vx-${id}`])).stdout + (await h1.inHost(['ip', 'neigh', 'show', 'dev', `vx-${id}`])).stdout);
  const explained = await h2.berth(['explain', 'right', 'left:80']);
  const across = (explained.stdout + explained.stderr).trim().split('\n');
  process.stdout.write(`[${h2.name}] $ berth explain right left:80 | grep -E 'VXLAN|verdict'   # the hop to the other host\n${across.filter((l) => /VXLAN|verdict|Error/.test(l)).join('\n')}\n`);
  await show(['rm', '-f', 'right'], 'removed on host 2: gone from host 1 within milliseconds', h2);
  await new Promise((r) => setTimeout(r, 200));
  await show(['exec', 'left', 'getent', 'hosts', 'right'], undefined, h1);
} finally {
  await cluster.destroy();
}
