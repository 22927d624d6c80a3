import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor, type Lab } from '../lab/lab.js';
import { fails, hostLinks, ok } from './helpers.js';

// Bad input gets one clear error and changes nothing (issue 12's list): subnets no
// container network can use, port bindings of the wrong shape, multicast MACs, values
// that would add lines or words to a container's /etc files, a bridge name that is some
// other interface, malformed %-escapes in a path.

/** What a bad request must leave as it was: networks, containers, host links. */
async function world(lab: Lab): Promise<string> {
  const nets = await ok(lab, ['network', 'ls', '--format', '{{.Name}}']);
  const ctrs = await ok(lab, ['ps', '-a', '--format', '{{.Names}}']);
  const links = (await hostLinks(lab)).map((l) => l.ifname).sort().join(',');
  return `${nets}\n--\n${ctrs}\n--\n${links}`;
}

const BASE = { Image: '', Cmd: ['sleep', '60'], HostConfig: { NetworkMode: 'bridge' } };

describe('bad input', { concurrency: false }, () => {
  test('subnets that cannot hold containers, and a bridge name that is another interface, are refused; nothing is made', async (t) => {
    const lab = await labFor(t);
    const before = await world(lab);
    const cases: [string[], RegExp][] = [
      [['--subnet', '10.40.0.7/32'], /invalid subnet 10\.40\.0\.7\/32: a \/32 holds a single address/],
      [['--subnet', '127.1.0.0/16'], /overlaps 127\.0\.0\.0\/8, loopback addresses/],
      [['--subnet', '224.1.0.0/16'], /overlaps 224\.0\.0\.0\/4, multicast addresses/],
      [['--subnet', '169.254.0.0/16'], /overlaps 169\.254\.0\.0\/16, link-local addresses/],
      [['--subnet', '0.0.0.0/8'], /"this network" addresses/],
      [['--subnet', '10.41.0.0/24', '-o', 'com.docker.network.bridge.name=uplink0'], /cannot use uplink0 as the bridge of network bad: an interface of that name exists and is not a bridge/],
    ];
    for (const [args, message] of cases) {
      const r = await fails(lab, ['network', 'create', ...args, 'bad'], message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
    }
    assert.equal(await world(lab), before);
    // and the API says 4xx with a message
    const r = await lab.api('POST', '/v1.41/networks/create', { Name: 'bad', IPAM: { Config: [{ Subnet: '127.1.0.0/16' }] } });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /loopback/);
  });

  test('container settings that would write lines into its files, bad port bindings and multicast MACs: 400, no container', async (t) => {
    const lab = await labFor(t);
    const before = await world(lab);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, PortBindings: { '80/tcp': 'x' } } }, /PortBindings\.80\/tcp must be a list/],
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, PortBindings: { '80/tcp': [{ HostPort: 8080 }] } } }, /HostPort must be a string/],
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, Dns: ['not-an-ip'] } }, /invalid DNS server "not-an-ip": it must be an IP address/],
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, DnsSearch: ['a.example\nnameserver 6.6.6.6'] } }, /invalid DNS search domain/],
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, DnsOptions: ['ndots:1 rotate'] } }, /invalid DNS option/],
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, ExtraHosts: ['evil\n6.6.6.6 bank:1.2.3.4'] } }, /invalid --add-host name/],
      [{ ...BASE, HostConfig: { ...BASE.HostConfig, ExtraHosts: ['db:not-an-ip'] } }, /invalid IP address "not-an-ip"/],
      [{ ...BASE, Hostname: 'a\nb' }, /invalid hostname "a\\nb"/],
      [{ ...BASE, Hostname: 'h'.repeat(65) }, /at most 64 characters/],
      [{ ...BASE, MacAddress: '01:00:5e:00:00:01' }, /01:00:5e:00:00:01 is a multicast address/],
    ];
    for (const [body, message] of cases) {
      const r = await lab.api('POST', '/v1.41/containers/create', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.match(r.body.message, message);
    }
    await ok(lab, ['network', 'create', 'user1']);
    const withAlias = { ...BASE, HostConfig: { NetworkMode: 'user1' }, NetworkingConfig: { EndpointsConfig: { user1: { Aliases: ['db\n10.0.0.1 bank'] } } } };
    const r = await lab.api('POST', '/v1.41/containers/create', withAlias);
    assert.equal(r.status, 400);
    assert.match(r.body.message, /invalid network alias/);
    await ok(lab, ['network', 'rm', 'user1']);
    assert.equal(await world(lab), before);
    // the CLI: one line, non-zero
    const cli = await fails(lab, ['run', '-d', '--dns', 'not-an-ip', '--', 'sleep', '1'], /invalid DNS server/);
    assert.equal(cli.stderr.trim().split('\n').length, 1);
  });

  test('a malformed %-escape in a path is a 400, not a crash', async (t) => {
    const lab = await labFor(t);
    const r = await lab.api('GET', '/v1.41/containers/%E0%A4%A/json');
    assert.equal(r.status, 400);
    assert.match(r.body.message, /malformed %-escape/);
    assert.equal((await lab.api('GET', '/_ping')).status, 200);
  });
});
