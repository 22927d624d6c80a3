import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { hostOk, ok } from './helpers.js';

// Issue 13, the host's side of IPv6: host routes of both families keep berth's default
// pools clear of what the host already reaches.

/** The IPv6 subnet of a network ("" when it has none). */
async function subnet6(lab: Awaited<ReturnType<typeof labFor>>, name: string): Promise<string> {
  const cfgs = (await ok(lab, ['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}},{{end}}', name])).split(',');
  return cfgs.find((c) => c.includes(':')) ?? '';
}

describe('IPv6 on the host', { concurrency: false }, () => {
  test('the default IPv6 pool skips a /64 a host route already covers, as the IPv4 pool does', async (t) => {
    const lab = await labFor(t);
    await ok(lab, ['network', 'create', '--ipv6', 'first']);
    const first = await subnet6(lab, 'first');
    const m = /^(fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4})::\/64$/.exec(first);
    assert.ok(m, `the first /64 of the engine's /48: ${first}`);
    // the /64 berth would hand out next is routed by the host (through its uplink)
    await hostOk(lab, ['ip', '-6', 'route', 'add', `${m[1]}:1::/64`, 'dev', 'uplink0']);
    await ok(lab, ['network', 'create', '--ipv6', 'second']);
    assert.equal(await subnet6(lab, 'second'), `${m[1]}:2::/64`, 'the routed /64 is passed over');
    // the route gone, that /64 is free again
    await hostOk(lab, ['ip', '-6', 'route', 'del', `${m[1]}:1::/64`, 'dev', 'uplink0']);
    await ok(lab, ['network', 'create', '--ipv6', 'third']);
    assert.equal(await subnet6(lab, 'third'), `${m[1]}:1::/64`);
  });
});
