import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab } from '../lab/lab.js';
import { DOCKER_20, docker, dockerEnv, dockerFails, dockerOk, importBusybox, installedClients, type DockerClient } from '../compat/docker-cli.js';

// Issue 5's conformance suite, part 1: the stock docker CLI (28.x and Debian's 20.10)
// against berthd, asserting on what the CLI prints. Each client gets its own lab and
// the busybox image imported through that client.

for (const client of installedClients()) {
  describe(`${client.name} against berthd`, { concurrency: false }, () => {
    let lab: Lab;
    const d = (args: string[]) => dockerOk(lab, client, args);
    before(async () => {
      lab = await Lab.create();
    });
    after(async () => {
      await lab?.destroy();
    });

    test('version and info answer without warnings; the client negotiates berth\'s API version', async () => {
      const v = await d(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}']);
      assert.match(v, /^1\.\d+ linux$/);
      const info = await d(['info', '--format', '{{.OSType}} {{.Containers}} {{.Swarm.LocalNodeState}}']);
      assert.equal(info, 'linux 0 inactive');
      const plain = await docker(lab, client, ['info']);
      assert.equal(plain.code, 0, plain.stderr);
      assert.match(plain.stdout, /Server:/);
    });

    test('docker import stores a rootfs image; images, image inspect, tag and rmi work; pull says berth does not pull', async () => {
      const id = await importBusybox(lab, client);
      assert.match(id, /^sha256:[0-9a-f]{64}$/);
      assert.match(await d(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}']), new RegExp(`^bb:latest ${id.slice(7, 19)}$`, 'm'));
      assert.equal(await d(['image', 'inspect', '-f', '{{.Id}} {{.Config.Cmd}} {{.Config.Env}} {{.Os}}', 'bb']), `${id} [/bin/sh] [PATH=/bin] linux`);
      await d(['tag', 'bb', 'bb:two']);
      assert.match(await d(['images', '-q', 'bb']), new RegExp(id.slice(7, 19)));
      assert.match(await d(['rmi', 'bb:two']), /Untagged: bb:two/);
      assert.equal(await d(['images', '--format', '{{.Repository}}:{{.Tag}}']), 'bb:latest');
      await dockerFails(lab, client, ['pull', 'busybox'], /berth does not pull images from registries; use docker import/);
      await dockerFails(lab, client, ['image', 'inspect', 'nosuch'], /No such image/);
    });

    test('network create/ls/inspect/rm with the seed flags', async () => {
      const id = await d(['network', 'create', '--driver', 'bridge', '--subnet', '172.28.0.0/16', '--ip-range', '172.28.5.0/24', '--gateway', '172.28.5.254', '-o', 'com.docker.network.bridge.name=br_seed', '--label', 'seed=1', 'seed_net']);
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.equal(await d(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.IPRange}} {{.Gateway}}{{end}}', 'seed_net']), '172.28.0.0/16 172.28.5.0/24 172.28.5.254');
      assert.equal(await d(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}} {{.Labels.seed}} {{.Driver}} {{.Scope}}', 'seed_net']), 'br_seed 1 bridge local');
      await d(['network', 'create', '--internal', 'int_net']);
      assert.equal(await d(['network', 'inspect', '-f', '{{.Internal}}', 'int_net']), 'true');
      const ls = await d(['network', 'ls']);
      assert.match(ls.split('\n')[0], /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE$/);
      assert.match(ls, /^[0-9a-f]{12}\s+seed_net\s+bridge\s+local$/m);
      assert.equal((await d(['network', 'ls', '-q'])).split('\n').length, 5);
      assert.equal(await d(['network', 'ls', '--filter', 'name=seed', '--format', '{{.Name}} {{.Driver}}']), 'seed_net bridge');
      assert.equal(await d(['network', 'ls', '--filter', 'label=seed=1', '-q']), id.slice(0, 12));
      assert.equal(await d(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}']), 'int_net\nseed_net'.split('\n').sort().join('\n'));
      assert.match(await d(['network', 'ls', '--filter', 'driver=null', '--format', '{{.Name}}']), /^none$/);
      assert.equal(await d(['network', 'rm', 'int_net']), 'int_net');
      await dockerFails(lab, client, ['network', 'rm', 'bridge'], /bridge is a pre-defined network and cannot be removed/);
      await dockerFails(lab, client, ['network', 'create', 'seed_net'], /network with name seed_net already exists/);
      await dockerFails(lab, client, ['network', 'inspect', 'nosuch'], /No such network: nosuch|network nosuch not found/);
    });

    test('run -d on a user network, inspect, exec, ps, logs, connect --ip --alias, disconnect, rm -f', async () => {
      await d(['network', 'create', 'my_net1']);
      const id = await d(['run', '-d', '--name', 'vm1', '--network', 'my_net1', 'bb', 'sleep', '3600']);
      assert.match(id, /^[0-9a-f]{64}$/);
      assert.equal(await d(['inspect', '-f', '{{.State.Status}} {{.NetworkSettings.Networks.my_net1.IPAddress}}', 'vm1']), 'running 172.18.0.2');
      assert.equal(await d(['exec', 'vm1', 'cat', '/etc/hostname']), id.slice(0, 12));
      assert.match(await d(['exec', 'vm1', 'ip', '-o', '-4', 'addr', 'show', 'eth0']), /inet 172\.18\.0\.2\/16/);
      assert.equal(await d(['exec', '-i', 'vm1', 'cat'], ), '');
      const ps = await d(['ps']);
      assert.match(ps.split('\n')[0], /^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/);
      assert.match(ps, new RegExp(`^${id.slice(0, 12)}\\s+bb\\s+"sleep 3600"\\s+.*Up .*\\s+vm1$`, 'm'));
      assert.equal(await d(['ps', '--filter', 'network=my_net1', '--format', '{{.Names}}']), 'vm1');
      assert.equal(await d(['ps', '-a', '-q', '--filter', 'name=vm1']), id.slice(0, 12));
      await d(['run', '-d', '--name', 'talker', 'bb', 'sh', '-c', 'echo to-out; echo to-err >&2; sleep 3600']);
      const logs = await docker(lab, client, ['logs', 'talker']);
      assert.equal(logs.code, 0);
      assert.equal(logs.stdout, 'to-out\n');
      assert.equal(logs.stderr, 'to-err\n');
      await d(['network', 'create', '--subnet', '10.10.0.0/24', 'net2']);
      await d(['network', 'connect', '--ip', '10.10.0.33', '--alias', 'srv', 'net2', 'vm1']);
      assert.equal(await d(['inspect', '-f', '{{.NetworkSettings.Networks.net2.IPAddress}} {{.NetworkSettings.Networks.net2.Aliases}}', 'vm1']),
        // API < 1.44 (the 20.10 client) lists the short ID among a user network's aliases, as dockerd 20.10 does
        client === DOCKER_20 ? `10.10.0.33 [srv ${id.slice(0, 12)}]` : '10.10.0.33 [srv]');
      assert.match(await d(['exec', 'vm1', 'ip', '-o', '-4', 'addr']), /inet 10\.10\.0\.33\/24/);
      await d(['network', 'disconnect', 'net2', 'vm1']);
      assert.doesNotMatch(await d(['exec', 'vm1', 'ip', '-o', '-4', 'addr']), /10\.10\.0\.33/);
      assert.equal(await d(['rm', '-f', 'vm1', 'talker']), 'vm1\ntalker');
      assert.equal(await d(['ps', '-a', '-q']), '');
      const pruned = (await d(['network', 'prune', '-f'])).split('\n');
      assert.equal(pruned[0], 'Deleted Networks:');
      assert.deepEqual(pruned.slice(1).sort(), ['my_net1', 'net2', 'seed_net']);
    });

    test('the default bridge: {{.NetworkSettings.IPAddress}}, run --rm prints the output and leaves nothing', async () => {
      await d(['run', '-d', '--name', 'd1', 'bb', 'sleep', '3600']);
      assert.match(await d(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'd1']), /^172\.17\.0\.\d+$/);
      const ip = await d(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'd1']);
      assert.match(await d(['run', '--rm', 'bb', 'ping', '-c1', '-W2', ip]), /1 packets received/);
      assert.equal(await d(['ps', '-a', '--format', '{{.Names}}']), 'd1');
      const r = await docker(lab, client, ['run', '--rm', 'bb', 'sh', '-c', 'exit 3']);
      assert.equal(r.code, 3);
      await d(['rm', '-f', 'd1']);
    });

    test('run --rm on a user network reaches another container by name (berth\'s DNS, issue 3)', async () => {
      await d(['network', 'create', 'dns_net']);
      await d(['run', '-d', '--name', 'target', '--network', 'dns_net', 'bb', 'sleep', '3600']);
      try {
        assert.match(await d(['run', '--rm', '--network', 'dns_net', 'bb', 'ping', '-c1', '-W2', 'target']), /1 packets received/);
      } finally {
        await docker(lab, client, ['rm', '-f', 'target']);
        await docker(lab, client, ['network', 'rm', 'dns_net']);
      }
    });

    test('run -d -p 8080:80 httpd: the port answers on 127.0.0.1 and docker port shows it (issue 4)', async () => {
      await d(['run', '-d', '--name', 'web', '-p', '8080:80', 'bb', 'httpd', '-f', '-p', '80', '-h', '/www']);
      try {
        assert.match(await d(['port', 'web']), /^80\/tcp -> 0\.0\.0\.0:8080$/m);
        const page = await lab.inHost(['busybox', 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/index.html'], { timeoutMs: 10_000 });
        assert.equal(page.stdout, 'berth-compat\n', page.stderr);
      } finally {
        await docker(lab, client, ['rm', '-f', 'web']);
      }
    });

    test('docker events streams network and container events', async () => {
      const events = lab.spawnIn(lab.hostNs, [client.bin, 'events', '--format', '{{.Type}} {{.Action}}'], dockerEnv(lab));
      // the stream is live once it shows an event: make networks until one appears
      for (let i = 0; !/network create/.test(events.output()); i++) {
        assert.ok(i < 50, `docker events printed nothing: ${events.output()}`);
        await d(['network', 'create', `ev${i}`]);
        await new Promise((r) => setTimeout(r, 100));
      }
      await d(['network', 'create', 'ev_net']);
      await d(['run', '-d', '--name', 'ev1', '--network', 'ev_net', 'bb', 'sleep', '3600']);
      await d(['rm', '-f', 'ev1']);
      await d(['network', 'rm', 'ev_net']);
      await events.waitForOutput('network destroy', 10_000);
      for (const line of ['container create', 'network connect', 'container start', 'container die', 'network disconnect', 'container destroy', 'network destroy']) {
        assert.match(events.output(), new RegExp(`^${line}$`, 'm'));
      }
      await events.stop('SIGTERM');
      await d(['network', 'prune', '-f']);
    });

    test('rmi refuses an image a container uses, then removes it', async () => {
      await d(['run', '-d', '--name', 'user1', 'bb', 'sleep', '3600']);
      await dockerFails(lab, client, ['rmi', 'bb'], /conflict: unable to (remove|delete)/);
      await d(['rm', '-f', 'user1']);
      assert.match(await d(['rmi', 'bb']), /Untagged: bb:latest\nDeleted: sha256:[0-9a-f]{64}/);
      assert.equal(await d(['images', '-q']), '');
      await dockerFails(lab, client, ['run', '--rm', '--pull', 'never', 'bb', 'true'], /No such image: bb:latest/);
    });
  });
}
