import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { filterContainers, type ContainerFacts, type ListOptions } from '../../src/api/filters/containers.js';
import { Filters } from '../../src/api/filters/filters.js';
import { eventFilter } from '../../src/api/filters/events.js';
import { filterImages } from '../../src/api/filters/images.js';
import { filterNetworks } from '../../src/api/filters/networks.js';
import { pruneFilter } from '../../src/api/filters/prune.js';
import { pathMatch } from '../../src/api/filters/path-match.js';
import { untilInstant } from '../../src/api/filters/until.js';
import type { BerthEvent } from '../../src/engine/events.js';
import type { ImageRecord } from '../../src/images/store.js';
import type { ContainerRecord, NetworkRecord } from '../../src/store/records.js';
import { InvalidParameterError, NotFoundError } from '../../src/util/errors.js';

// The list filters, key by key, with the semantics and messages recorded from dockerd
// 20.10 (test/fixtures/dockerd-20.10/filters.json).

const NEVER = '0001-01-01T00:00:00Z';
let clock = 0;
const hexId = (name: string) => Buffer.from(name).toString('hex').padEnd(64, '0');
const at = () => new Date(Date.UTC(2026, 0, 1) + ++clock * 1000).toISOString();

function container(name: string, over: { status?: ContainerRecord['state']['status']; exitCode?: number; started?: boolean; labels?: Record<string, string>; image?: string; ports?: { host: number; container: number; proto?: 'tcp' | 'udp' }[]; expose?: string[] } = {}): ContainerRecord {
  const status = over.status ?? 'running';
  const started = over.started ?? status !== 'created';
  return {
    id: hexId(name),
    name,
    created: at(),
    config: { image: over.image ?? 'bb', cmd: ['sleep', '1'], env: [], hostname: '', domainname: '', workdir: '', tty: false, openStdin: false, exposedPorts: over.expose ?? [], labels: over.labels ?? {} },
    hostConfig: {
      networkMode: 'bridge', autoRemove: false, dns: [], dnsSearch: [], dnsOptions: [], extraHosts: [], links: [], publishAllPorts: false,
      portBindings: Object.fromEntries((over.ports ?? []).map((p) => [`${p.container}/${p.proto ?? 'tcp'}`, [{ HostIp: '', HostPort: String(p.host) }]])),
    },
    state: { status, pid: 0, shimPid: 0, exitCode: over.exitCode ?? 0, startedAt: started ? at() : NEVER, finishedAt: NEVER, error: '' },
    sandboxKey: '',
    publishedPorts: status === 'running' ? (over.ports ?? []).map((p) => ({ proto: p.proto ?? 'tcp', containerPort: p.container, hostPort: p.host, hostIp: '0.0.0.0', containerIp: '' })) : undefined,
  };
}

const vm1 = container('vm1');
const d1 = container('d1', { image: 'other' });
const x0 = container('x0', { status: 'exited', exitCode: 0 });
const x3 = container('x3', { status: 'exited', exitCode: 3 });
const c1 = container('c1', { status: 'created', labels: { a: '1', b: '' }, ports: [{ host: 8080, container: 80 }], expose: ['9000/tcp'] });
const r1 = container('r1', { labels: { a: '1' }, ports: [{ host: 8081, container: 81 }], expose: ['9001/tcp'] });
const ALL = [vm1, d1, x0, x3, c1, r1];
const NETS: Record<string, { id: string; name: string }[]> = { [vm1.id]: [{ id: 'f00d' + '0'.repeat(60), name: 'my_net1' }], [d1.id]: [{ id: 'b0' + '0'.repeat(62), name: 'bridge' }] };
const facts: ContainerFacts = {
  networksOf: (c) => NETS[c.id] ?? [],
  imageIdOf: (c) => ({ bb: 'i-bb', other: 'i-other' } as Record<string, string>)[c.config.image],
  findImageId: (ref) => ({ bb: 'i-bb', 'bb:latest': 'i-bb', other: 'i-other' } as Record<string, string>)[ref],
};

function ps(fields: Record<string, string[]>, opts: Partial<ListOptions> = {}): string[] {
  return filterContainers(ALL, Filters.of(fields), facts, { all: false, limit: 0, ...opts }).map((c) => c.name).sort();
}
function psAll(fields: Record<string, string[]>): string[] {
  return ps(fields, { all: true });
}
const message = (m: string) => (err: unknown) => err instanceof InvalidParameterError && err.message === m;

describe('container list filters (dockerd 20.10)', () => {
  test('an unknown key, label! included, is dockerd\'s 400', () => {
    assert.throws(() => ps({ bogus: ['x'] }), message("Invalid filter 'bogus'"));
    assert.throws(() => ps({ 'label!': ['a'] }), message("Invalid filter 'label!'"));
  });

  test('without all only running containers; limit lists stopped ones too and keeps the newest N', () => {
    assert.deepEqual(ps({}), ['d1', 'r1', 'vm1']);
    assert.deepEqual(ps({}, { limit: 2 }), ['c1', 'r1']);
  });

  test('status: any value matches, lists stopped containers without all; bad values are 400', () => {
    assert.deepEqual(ps({ status: ['exited'] }), ['x0', 'x3']);
    assert.deepEqual(ps({ status: ['created', 'running'] }), ['c1', 'd1', 'r1', 'vm1']);
    assert.deepEqual(ps({ status: ['paused'] }), []);
    assert.throws(() => ps({ status: ['bogus'] }), message("Invalid filter 'status=bogus'"));
    assert.throws(() => ps({ status: ['exit'] }), message("Invalid filter 'status=exit'"));
  });

  test('exited: the exit code of containers that ran and stopped; needs all; x is Atoi\'s error', () => {
    assert.deepEqual(ps({ exited: ['0'] }), []);
    assert.deepEqual(psAll({ exited: ['0'] }), ['x0']);
    assert.deepEqual(psAll({ exited: ['3', '0'] }), ['x0', 'x3']);
    assert.deepEqual(psAll({ exited: ['1'] }), []);
    assert.throws(() => ps({ exited: ['x'] }), message('strconv.Atoi: parsing "x": invalid syntax'));
  });

  test('label: every value must match, key alone or key=value', () => {
    assert.deepEqual(psAll({ label: ['a=1', 'b'] }), ['c1']);
    assert.deepEqual(psAll({ label: ['a=1'] }), ['c1', 'r1']);
    assert.deepEqual(psAll({ label: ['a'] }), ['c1', 'r1']);
    assert.deepEqual(psAll({ label: ['a', 'c'] }), []);
    assert.deepEqual(psAll({ label: ['a=2'] }), []);
    assert.deepEqual(psAll({ label: ['b='] }), ['c1']);
  });

  test('name: any value, an unanchored regexp on the name with or without its slash', () => {
    assert.deepEqual(ps({ name: ['1'] }), ['d1', 'r1', 'vm1']);
    assert.deepEqual(ps({ name: ['^vm'] }), ['vm1']);
    assert.deepEqual(ps({ name: ['^/d1$'] }), ['d1']);
    assert.deepEqual(ps({ name: ['vm1', 'd1'] }), ['d1', 'vm1']);
    assert.deepEqual(ps({ name: ['nomatch'] }), []);
    assert.deepEqual(ps({ name: ['['] }), []); // no regexp: exact only
    assert.deepEqual(ps({ name: ['(?i)^VM'] }), ['vm1']); // Go's flag groups
  });

  test('id: any value, a prefix of the id (not a substring)', () => {
    assert.deepEqual(ps({ id: [vm1.id.slice(0, 5)] }), ['vm1']);
    assert.deepEqual(ps({ id: [vm1.id.slice(0, 5), d1.id] }), ['d1', 'vm1']);
    assert.deepEqual(ps({ id: [vm1.id.slice(2, 9)] }), []);
  });

  test('before/since: by full id or name, in creation order; unknown or short ids are 404', () => {
    assert.deepEqual(psAll({ before: ['x0'] }), ['d1', 'vm1']);
    assert.deepEqual(psAll({ since: ['x0'] }), ['c1', 'r1', 'x3']);
    assert.deepEqual(psAll({ before: ['/vm1'] }), []);
    assert.deepEqual(psAll({ since: ['x0'], before: ['r1'] }), ['c1', 'x3']);
    assert.deepEqual(psAll({ before: [d1.id] }), ['vm1']);
    assert.throws(() => ps({ before: ['nosuch'] }), (e: unknown) => e instanceof NotFoundError && e.message === 'no such container nosuch');
    assert.throws(() => ps({ since: [vm1.id.slice(0, 12)] }), NotFoundError);
  });

  test('ancestor: the image by name or id; an unknown image matches nothing', () => {
    assert.deepEqual(psAll({ ancestor: ['bb'] }), ['c1', 'r1', 'vm1', 'x0', 'x3']);
    assert.deepEqual(psAll({ ancestor: ['other', 'bb:latest'] }), ['c1', 'd1', 'r1', 'vm1', 'x0', 'x3']);
    assert.deepEqual(psAll({ ancestor: ['nosuch'] }), []);
  });

  test('network: by exact name or id prefix', () => {
    assert.deepEqual(ps({ network: ['my_net1'] }), ['vm1']);
    assert.deepEqual(ps({ network: ['f00d'] }), ['vm1']);
    assert.deepEqual(ps({ network: ['my_net'] }), []);
    assert.deepEqual(ps({ network: ['my_net1', 'bridge'] }), ['d1', 'vm1']);
  });

  test('publish: a published host port of a running container; expose: its container ports', () => {
    assert.deepEqual(psAll({ publish: ['8081'] }), ['r1']);
    assert.deepEqual(psAll({ publish: ['8081/tcp'] }), ['r1']);
    assert.deepEqual(psAll({ publish: ['8000-8090/tcp'] }), ['r1']);
    assert.deepEqual(psAll({ publish: ['81'] }), []);
    assert.deepEqual(psAll({ publish: ['8081/udp'] }), []);
    assert.deepEqual(psAll({ publish: ['8080'] }), [], 'c1 is not running');
    assert.deepEqual(psAll({ expose: ['81'] }), ['r1']);
    assert.deepEqual(psAll({ expose: ['9000-9001'] }), ['r1']);
    assert.deepEqual(psAll({ expose: ['9000'] }), []);
    assert.throws(() => ps({ publish: ['1:2'] }), message("filter for 'publish' should not contain ':': 1:2"));
    assert.throws(() => ps({ publish: ['x'] }), message('error while looking up for publish x: strconv.ParseUint: parsing "x": invalid syntax'));
    assert.throws(() => ps({ expose: ['x'] }), message('error while looking up for expose x: strconv.ParseUint: parsing "x": invalid syntax'));
    assert.throws(() => ps({ expose: ['90-80'] }), message('error while looking up for expose 90-80: invalid range specified for port: 90-80'));
  });

  test('health, is-task, volume, isolation: what dockerd answers for containers without them', () => {
    assert.deepEqual(ps({ health: ['none'] }), ['d1', 'r1', 'vm1']);
    assert.deepEqual(ps({ health: ['healthy', 'unhealthy'] }), []);
    assert.throws(() => ps({ health: ['bogus'] }), message('Unrecognised filter value for health: bogus'));
    assert.deepEqual(ps({ 'is-task': ['false'] }), ['d1', 'r1', 'vm1']);
    assert.deepEqual(ps({ 'is-task': ['true'] }), []);
    assert.throws(() => ps({ 'is-task': ['maybe'] }), message("Invalid filter 'is-task=[maybe]'"));
    assert.deepEqual(ps({ volume: ['x'] }), []);
    // dockerd on Linux accepts isolation and does not filter on it
    assert.deepEqual(ps({ isolation: ['bogus'] }), ['d1', 'r1', 'vm1']);
  });

  test('different keys must all hold', () => {
    assert.deepEqual(psAll({ label: ['a=1'], status: ['running'] }), ['r1']);
    assert.deepEqual(psAll({ name: ['1'], network: ['bridge'] }), ['d1']);
  });
});

function network(name: string, over: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    id: hexId(name), name, driver: 'bridge', scope: 'local', created: at(), internal: false, attachable: false,
    enableIPv6: false, ipamDriver: 'default', ipamConfig: [], ipamOptions: {}, options: {}, labels: {}, builtin: false, driverConfig: null, ...over,
  };
}

describe('network list and prune filters (dockerd 20.10)', () => {
  const bridge = network('bridge', { builtin: true });
  const host = network('host', { driver: 'host', builtin: true });
  const none = network('none', { driver: 'null', builtin: true });
  const used = network('my_net1');
  const labelled = network('net_l', { labels: { a: '1', b: 'x' } });
  const mv = network('mv', { driver: 'macvlan' });
  const NETS_ALL = [bridge, host, none, used, labelled, mv];
  const ls = (fields: Record<string, string[]>) => filterNetworks(NETS_ALL, Filters.of(fields), (n) => n === used || n === bridge).map((n) => n.name).sort();

  test('an unknown key, label! included, is dockerd\'s 400', () => {
    assert.throws(() => ls({ bogus: ['x'] }), message("Invalid filter 'bogus'"));
    assert.throws(() => ls({ 'label!': ['a'] }), message("Invalid filter 'label!'"));
  });

  test('name and id: unanchored regexps; driver and scope: exact', () => {
    assert.deepEqual(ls({ name: ['net'] }), ['my_net1', 'net_l']);
    assert.deepEqual(ls({ name: ['^my'] }), ['my_net1']);
    assert.deepEqual(ls({ name: ['^host$', 'none'] }), ['host', 'none']);
    assert.deepEqual(ls({ id: [used.id.slice(2, 8)] }), ['my_net1']);
    assert.deepEqual(ls({ driver: ['bridge'] }), ['bridge', 'my_net1', 'net_l']);
    assert.deepEqual(ls({ driver: ['bri'] }), []);
    assert.deepEqual(ls({ driver: ['macvlan', 'host'] }), ['host', 'mv']);
    assert.deepEqual(ls({ scope: ['local'] }), NETS_ALL.map((n) => n.name).sort());
    assert.deepEqual(ls({ scope: ['swarm'] }), []);
  });

  test('label: all must match', () => {
    assert.deepEqual(ls({ label: ['a=1'] }), ['net_l']);
    assert.deepEqual(ls({ label: ['a=1', 'b'] }), ['net_l']);
    assert.deepEqual(ls({ label: ['a=1', 'c'] }), []);
    assert.deepEqual(ls({ label: ['a=2'] }), []);
  });

  test('type: builtin or custom, any value; anything else is dockerd\'s message', () => {
    assert.deepEqual(ls({ type: ['builtin'] }), ['bridge', 'host', 'none']);
    assert.deepEqual(ls({ type: ['custom'] }), ['mv', 'my_net1', 'net_l']);
    assert.deepEqual(ls({ type: ['builtin', 'custom'] }).length, NETS_ALL.length);
    assert.throws(() => ls({ type: ['bogus'] }), message("invalid filter: 'type'='bogus'"));
  });

  test('dangling: user-defined networks without endpoints; one value of true/1/false/0', () => {
    assert.deepEqual(ls({ dangling: ['true'] }), ['mv', 'net_l']);
    assert.deepEqual(ls({ dangling: ['1'] }), ['mv', 'net_l']);
    assert.deepEqual(ls({ dangling: ['false'] }), ['bridge', 'host', 'my_net1', 'none']);
    assert.deepEqual(ls({ dangling: ['0'], driver: ['bridge'] }), ['bridge', 'my_net1']);
    assert.throws(() => ls({ dangling: ['maybe'] }), message('invalid value for filter \'dangling\', must be "true" (or "1"), or "false" (or "0")'));
    assert.throws(() => ls({ dangling: ['true', 'false'] }), message('got more than one value for filter key "dangling"'));
  });

  test('prune: label all match, label! excludes when all its values match, until by creation time', () => {
    const now = Date.parse(labelled.created) + 1000;
    const prunable = (fields: Record<string, string[]>) => NETS_ALL.filter(pruneFilter(Filters.of(fields), now)).map((n) => n.name).sort();
    assert.deepEqual(prunable({ label: ['a=1'] }), ['net_l']);
    assert.deepEqual(prunable({ label: ['a=2'] }), []);
    assert.ok(!prunable({ 'label!': ['a'] }).includes('net_l'));
    assert.ok(prunable({ 'label!': ['a', 'c'] }).includes('net_l'));
    assert.ok(!prunable({ 'label!': ['a', 'b=x'] }).includes('net_l'));
    assert.deepEqual(prunable({ until: [labelled.created] }), ['bridge', 'host', 'my_net1', 'net_l', 'none']);
    assert.deepEqual(prunable({ until: ['2001-01-01'] }), []);
    assert.deepEqual(prunable({ until: ['0.5s'] }), ['bridge', 'host', 'my_net1', 'net_l', 'none']);
    assert.throws(() => prunable({ name: ['x'] }), message("Invalid filter 'name'"));
    assert.throws(() => prunable({ until: ['bogus'] }), message('failed to parse value as time or duration: "bogus"'));
    assert.throws(() => prunable({ until: ['1h', '2h'] }), message('more than one until filter specified'));
  });
});

describe('image list filters (dockerd 20.10)', () => {
  const image = (id: string, repoTags: string[], labels: Record<string, string> = {}): ImageRecord => ({
    id, repoTags, created: at(), size: 1, layerDigest: '', comment: '',
    config: { env: [], cmd: null, entrypoint: null, workdir: '', user: '', labels, exposedPorts: [] },
  });
  const bb = image('1', ['bb:latest', 'org/bb:1']);
  const bb2 = image('2', ['bb2:v1'], { a: '1' });
  const untagged = image('3', []);
  const IMAGES = [untagged, bb2, bb];
  const get = (ref: string) => {
    const img = IMAGES.find((i) => i.repoTags.includes(ref) || i.repoTags.includes(`${ref}:latest`));
    if (!img) throw new NotFoundError(`No such image: ${ref}:latest`);
    return img;
  };
  const images = (fields: Record<string, string[]>) => filterImages(IMAGES, Filters.of(fields), get).map((i) => i.repoTags.join(',') || '<none>').sort();

  test('an unknown key is dockerd\'s 400', () => {
    assert.throws(() => images({ bogus: ['x'] }), message("Invalid filter 'bogus'"));
    assert.throws(() => images({ 'label!': ['x'] }), message("Invalid filter 'label!'"));
  });

  test('dangling: only true or false', () => {
    assert.deepEqual(images({ dangling: ['true'] }), ['<none>']);
    assert.deepEqual(images({ dangling: ['false'] }), ['bb2:v1', 'bb:latest,org/bb:1']);
    assert.throws(() => images({ dangling: ['1'] }), message("Invalid filter 'dangling=[1]'"));
    assert.throws(() => images({ dangling: ['maybe'] }), message("Invalid filter 'dangling=[maybe]'"));
  });

  test('reference: path globs on name:tag or the name; only the matching tags are shown', () => {
    assert.deepEqual(images({ reference: ['bb'] }), ['bb:latest']);
    assert.deepEqual(images({ reference: ['bb*'] }), ['bb2:v1', 'bb:latest']);
    assert.deepEqual(images({ reference: ['*:v1'] }), ['bb2:v1']);
    assert.deepEqual(images({ reference: ['*/*'] }), ['org/bb:1']);
    assert.deepEqual(images({ reference: ['bb:*', 'bb2'] }), ['bb2:v1', 'bb:latest']);
    assert.deepEqual(images({ reference: ['nosuch'] }), []);
    assert.throws(() => images({ reference: ['[['] }), message('syntax error in pattern'));
  });

  test('label: all must match; before/since: by creation time of a named image', () => {
    assert.deepEqual(images({ label: ['a=1'] }), ['bb2:v1']);
    assert.deepEqual(images({ label: ['a', 'b'] }), []);
    assert.deepEqual(images({ since: ['bb'] }), ['<none>', 'bb2:v1']);
    assert.deepEqual(images({ before: ['bb2:v1'] }), ['bb:latest,org/bb:1']);
    assert.throws(() => images({ before: ['nosuch'] }), (e: unknown) => e instanceof NotFoundError && e.message === 'No such image: nosuch:latest');
  });
});

describe('the matching dockerd uses', () => {
  test('Go path.Match: * and ? stop at /, classes, escapes, bad patterns', () => {
    assert.ok(pathMatch('bb*', 'bb2:v1'));
    assert.ok(!pathMatch('*', 'org/bb'));
    assert.ok(pathMatch('org/?b', 'org/bb'));
    assert.ok(pathMatch('[a-c]b', 'bb'));
    assert.ok(!pathMatch('[^a-c]b', 'bb'));
    assert.ok(pathMatch('a\\*', 'a*'));
    assert.ok(!pathMatch('a\\*', 'ab'));
    assert.ok(pathMatch('a.b', 'a.b') && !pathMatch('a.b', 'axb'));
    for (const bad of ['[', '[]', 'a\\', '[z-a]', '[-a]']) assert.throws(() => pathMatch(bad, 'x'), message('syntax error in pattern'), bad);
  });

  test('until: Go durations, Unix times, dates with and without zones', () => {
    const now = Date.UTC(2026, 5, 1, 12);
    assert.equal(untilInstant('10m', now), now - 600_000);
    assert.equal(untilInstant('1h30m', now), now - 5_400_000);
    assert.equal(untilInstant('1600000000', now), 1_600_000_000_000);
    assert.equal(untilInstant('1600000000.5', now), 1_600_000_000_500);
    assert.equal(untilInstant('2026-06-01T10:00:00Z', now), Date.UTC(2026, 5, 1, 10));
    assert.equal(untilInstant('2026-06-01T10:00:00+02:00', now), Date.UTC(2026, 5, 1, 8));
    assert.equal(untilInstant('2026-06-01', now), new Date(2026, 5, 1).getTime());
    assert.equal(untilInstant('2026-06-01T10', now), new Date(2026, 5, 1, 10).getTime());
    for (const bad of ['bogus', '2026-13-01', '10x', '']) assert.throws(() => untilInstant(bad, now), InvalidParameterError, bad);
  });

  test('filters parse both wire forms; bad JSON is a 400', () => {
    assert.deepEqual(Filters.parse('{"label":{"a=1":true,"b":true}}').get('label'), ['a=1', 'b']);
    assert.deepEqual(Filters.parse('{"label":["a=1"]}').get('label'), ['a=1']);
    assert.equal(Filters.parse(null).size, 0);
    assert.throws(() => Filters.parse('notjson'), InvalidParameterError);
    assert.throws(() => Filters.parse('{"label":"a"}'), InvalidParameterError);
  });
});

describe('event filters (dockerd 20.10)', () => {
  const ev = (Type: BerthEvent['Type'], Action: string, ID: string, Attributes: Record<string, string>): BerthEvent => ({ Type, Action, Actor: { ID, Attributes }, scope: 'local', time: 0, timeNano: 0 });
  const EVENTS = [
    ev('container', 'create', 'aa11', { name: 'x0', image: 'bb' }),
    ev('network', 'connect', 'bb22', { name: 'bridge', type: 'bridge', container: 'aa11' }),
    ev('container', 'die', 'aa11', { name: 'x0', image: 'bb', exitCode: '0' }),
    ev('container', 'create', 'cc33', { name: 'c1', image: 'bb2:v1', a: '1', b: '' }),
    ev('network', 'create', 'dd44', { name: 'net_l', type: 'bridge' }),
    ev('container', 'exec_start: sh -c true', 'cc33', { name: 'c1', image: 'bb2:v1', a: '1', b: '' }),
  ];
  const seen = (fields: Record<string, string[]>) => EVENTS.filter(eventFilter(Filters.of(fields))).map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.name}`);

  test('unknown keys are ignored, as dockerd does for events', () => {
    assert.equal(seen({ bogus: ['x'] }).length, EVENTS.length);
  });

  test('type, event, scope: exact; exec_start and friends by prefix', () => {
    assert.deepEqual(seen({ type: ['network'] }), ['network connect bridge', 'network create net_l']);
    assert.deepEqual(seen({ type: ['bogus'] }), []);
    assert.deepEqual(seen({ event: ['create'] }), ['container create x0', 'container create c1', 'network create net_l']);
    assert.deepEqual(seen({ event: ['exec_start'] }), ['container exec_start: sh -c true c1']);
    assert.deepEqual(seen({ scope: ['swarm'] }), []);
    assert.equal(seen({ scope: ['local'] }).length, EVENTS.length);
  });

  test('container, network, daemon…: a prefix of the actor\'s id or name; only events of that actor', () => {
    assert.deepEqual(seen({ container: ['x0'] }), ['container create x0', 'container die x0']);
    assert.deepEqual(seen({ container: ['x0', 'c1'], event: ['die'] }), ['container die x0']);
    assert.deepEqual(seen({ container: ['aa'] }), ['container create x0', 'container die x0']);
    assert.deepEqual(seen({ network: ['bridge'] }), ['network connect bridge']);
    assert.deepEqual(seen({ daemon: ['x'] }), ['container create x0', 'container die x0']);
    assert.deepEqual(seen({ volume: ['v'] }), []);
  });

  test('image: the container\'s image with or without its tag; label: all of them, on the attributes', () => {
    assert.deepEqual(seen({ image: ['bb'] }), ['container create x0', 'container die x0']);
    assert.deepEqual(seen({ image: ['bb2'], event: ['create'] }), ['container create c1']);
    assert.deepEqual(seen({ label: ['a=1', 'b'], event: ['create'] }), ['container create c1']);
    assert.deepEqual(seen({ label: ['a=2'] }), []);
  });
});
