import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEnd } from '../../src/engine/explain/target.js';

test('explain ends: containers, host, host:IP, lan:IP, internet:IP, ports and protocols', () => {
  assert.deepEqual(parseEnd('c1', false), { kind: 'container', name: 'c1' });
  assert.deepEqual(parseEnd('c1:80', true), { kind: 'container', name: 'c1', port: 80 });
  assert.deepEqual(parseEnd('c1:53/udp', true), { kind: 'container', name: 'c1', port: 53, proto: 'udp' });
  assert.deepEqual(parseEnd('host', false), { kind: 'host' });
  assert.deepEqual(parseEnd('host:8080', true), { kind: 'host', port: 8080 });
  assert.deepEqual(parseEnd('host:127.0.0.1', true), { kind: 'host', addr: '127.0.0.1' });
  assert.deepEqual(parseEnd('host:127.0.0.1:8081/tcp', true), { kind: 'host', addr: '127.0.0.1', port: 8081, proto: 'tcp' });
  assert.deepEqual(parseEnd('host:[::1]:8080', true), { kind: 'host', addr: '::1', port: 8080 });
  assert.deepEqual(parseEnd('host:fd00::1', true), { kind: 'host', addr: 'fd00::1' });
  assert.deepEqual(parseEnd('lan:198.18.0.2', false), { kind: 'lan', addr: '198.18.0.2' });
  assert.deepEqual(parseEnd('internet:203.0.113.10:443/tcp', true), { kind: 'internet', addr: '203.0.113.10', port: 443, proto: 'tcp' });
});

test('explain ends: bad input is one clear message', () => {
  const bad = (text: string, withPort: boolean, message: RegExp) => assert.throws(() => parseEnd(text, withPort), message);
  bad('', true, /invalid destination "": empty/);
  bad('c1:80', false, /invalid source "c1:80": a source has no port/);
  bad('c1:0', true, /port must be 1-65535, not "0"/);
  bad('c1:http', true, /port must be 1-65535/);
  bad('c1:80/icmp', true, /protocol must be tcp or udp, not "icmp"/);
  bad('c1/udp', true, /a protocol needs a port/);
  bad('lan', false, /lan needs an address \(lan:IP\)/);
  bad('lan:nowhere', false, /"nowhere" is not an IP address/);
  bad('host:[::1', true, /unclosed \[/);
  bad('-rf', false, /expected a container name, host, host:IP, lan:IP or internet:IP/);
});
