import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderHosts, renderResolvConf } from '../../src/runtime/etc-files.js';

test('resolv.conf drops localhost nameservers and falls back to public ones', () => {
  const host = 'nameserver 127.0.0.53\nnameserver 192.0.2.53\nsearch example.org\noptions edns0\n';
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [] }, host), 'nameserver 192.0.2.53\nsearch example.org\noptions edns0\n');
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [] }, 'nameserver 127.0.0.1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(renderResolvConf({ dns: ['192.0.2.1'], dnsSearch: ['a.test'], dnsOptions: ['ndots:2'] }, host), 'nameserver 192.0.2.1\nsearch a.test\noptions ndots:2\n');
});

test('with embedded DNS the resolver is the only nameserver (--dns goes upstream), with ndots:0 unless a valid ndots is set', () => {
  const host = 'nameserver 192.0.2.53\nsearch example.org\noptions edns0\n';
  const spec = { dns: ['192.0.2.1'], dnsSearch: [], dnsOptions: [], embeddedDns: '127.0.0.11' };
  assert.equal(renderResolvConf(spec, host), 'nameserver 127.0.0.11\nsearch example.org\noptions edns0 ndots:0\n');
  assert.equal(renderResolvConf(spec, 'nameserver 192.0.2.53\n'), 'nameserver 127.0.0.11\noptions ndots:0\n');
  // Docker keeps a valid ndots of the host's or of --dns-opt, drops an ill-formed one
  assert.equal(renderResolvConf(spec, 'options ndots:3 edns0\n'), 'nameserver 127.0.0.11\noptions ndots:3 edns0\n');
  assert.equal(renderResolvConf({ ...spec, dnsOptions: ['ndots:x', 'rotate'] }, host), 'nameserver 127.0.0.11\nsearch example.org\noptions rotate ndots:0\n');
  assert.equal(renderResolvConf({ ...spec, dnsOptions: ['ndots:2'], dnsSearch: ['corp.test'] }, host), 'nameserver 127.0.0.11\nsearch corp.test\noptions ndots:2\n');
});

test('hosts has the localhost lines, extra hosts and the own address with hostname', () => {
  const text = renderHosts({ hostname: 'abc123', addresses: ['172.17.0.2'], names: ['web'], extraHosts: [{ name: 'db', ip: '192.0.2.9' }], links: [{ ip: '172.17.0.3', names: ['web', '0123456789ab', 'd1'] }] });
  const lines = text.trim().split('\n');
  assert.equal(lines[0], '127.0.0.1\tlocalhost');
  assert.equal(lines[1], '::1\tlocalhost ip6-localhost ip6-loopback');
  assert.ok(lines.includes('192.0.2.9\tdb'));
  assert.ok(lines.includes('172.17.0.3\tweb 0123456789ab d1'));
  assert.equal(lines.at(-1), '172.17.0.2\tabc123 web');
});

test('resolv.conf from the host: IPv6 nameservers only for a container with IPv6, as Docker filters them', () => {
  const host = 'nameserver 2001:db8::53\nnameserver 192.0.2.53\n';
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [] }, host), 'nameserver 192.0.2.53\n');
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [], ipv6: true }, host), 'nameserver 2001:db8::53\nnameserver 192.0.2.53\n');
  // nothing usable left: Docker's fallback, with its IPv6 pair for a container that has IPv6
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [] }, 'nameserver 2001:db8::53\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
  assert.equal(renderResolvConf({ dns: [], dnsSearch: [], dnsOptions: [], ipv6: true }, 'nameserver ::1\n'), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\nnameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n');
  // --dns is the user's: kept as given
  assert.equal(renderResolvConf({ dns: ['2001:db8::1'], dnsSearch: [], dnsOptions: [] }, host), 'nameserver 2001:db8::1\n');
});
