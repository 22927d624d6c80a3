import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposedKeys, fromPortBindings, parseExpose, parsePortSpec, toPortBindings } from '../../src/portmap/spec.js';

const one = (containerPort: number, hostIp: string, start: number, end = start, proto = 'tcp') => ({ containerPort, proto, hostIp, hostPortStart: start, hostPortEnd: end });

test('every docker -p form parses into typed bindings', () => {
  assert.deepEqual(parsePortSpec('80'), [one(80, '', 0)]);
  assert.deepEqual(parsePortSpec('8080:80'), [one(80, '', 8080)]);
  assert.deepEqual(parsePortSpec('8080:80/udp'), [one(80, '', 8080, 8080, 'udp')]);
  assert.deepEqual(parsePortSpec('8080:80/tcp'), [one(80, '', 8080)]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80'), [one(80, '127.0.0.1', 8080)]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [one(80, '127.0.0.1', 0)]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [one(80, '::1', 8080)]);
  assert.deepEqual(parsePortSpec('53:53/UDP'), [one(53, '', 53, 53, 'udp')]);
});

test('equal ranges map port to port; a host range for one container port means any one of them', () => {
  assert.deepEqual(parsePortSpec('8080-8082:80-82'), [one(80, '', 8080), one(81, '', 8081), one(82, '', 8082)]);
  assert.deepEqual(parsePortSpec('8080-8085:80'), [one(80, '', 8080, 8085)]);
  assert.deepEqual(parsePortSpec('80-81'), [one(80, '', 0), one(81, '', 0)]);
});

test('bad -p values fail with a clear error', () => {
  assert.throws(() => parsePortSpec('8080-8085:80-81'), /invalid range .*same length/);
  assert.throws(() => parsePortSpec('8085-8080:80'), /invalid range/);
  assert.throws(() => parsePortSpec('abc'), /invalid port format "abc"/);
  assert.throws(() => parsePortSpec('0:80'), /invalid port format.*not between 1 and 65535/);
  assert.throws(() => parsePortSpec('8080:70000'), /not between 1 and 65535/);
  assert.throws(() => parsePortSpec('8080:80/icmp'), /invalid proto "icmp"/);
  assert.throws(() => parsePortSpec('1.2.3:8080:80'), /invalid IP address "1\.2\.3"/);
  assert.throws(() => parsePortSpec('a:b:c:d'), /invalid port format/);
  assert.throws(() => parsePortSpec('[::1:8080:80'), /unclosed IPv6/);
  assert.throws(() => parsePortSpec(''), /invalid port format/);
});

test('--expose takes ports, protocols and ranges', () => {
  assert.deepEqual(parseExpose('80'), ['80/tcp']);
  assert.deepEqual(parseExpose('53/udp'), ['53/udp']);
  assert.deepEqual(parseExpose('8000-8002'), ['8000/tcp', '8001/tcp', '8002/tcp']);
  assert.throws(() => parseExpose('80/tcp/x'), /invalid port format/);
  assert.throws(() => parseExpose('x'), /invalid port format/);
});

test('HostConfig.PortBindings has Docker\'s shape and reads back to the same bindings', () => {
  const reqs = [...parsePortSpec('8080:80'), ...parsePortSpec('127.0.0.1::80'), ...parsePortSpec('8000-8005:53/udp'), ...parsePortSpec('9000')];
  const json = toPortBindings(reqs);
  assert.deepEqual(json, {
    '80/tcp': [{ HostIp: '', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '' }],
    '53/udp': [{ HostIp: '', HostPort: '8000-8005' }],
    '9000/tcp': [{ HostIp: '', HostPort: '' }],
  });
  assert.deepEqual(fromPortBindings(json).sort((a, b) => a.containerPort - b.containerPort), [...reqs].sort((a, b) => a.containerPort - b.containerPort));
  assert.deepEqual(fromPortBindings({ '80': null }), [one(80, '', 0)]);
  assert.throws(() => fromPortBindings({ '80/tcp': [{ HostIp: '', HostPort: 'x' }] }), /invalid port format/);
  assert.deepEqual(exposedKeys(reqs, ['22/tcp']).sort(), ['22/tcp', '53/udp', '80/tcp', '9000/tcp']);
});
