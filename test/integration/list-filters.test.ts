import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { CONTAINER_FILTERS } from '../../src/api/filters/containers.js';
import { IMAGE_FILTERS } from '../../src/api/filters/images.js';
import { NETWORK_FILTERS } from '../../src/api/filters/networks.js';
import { PRUNE_FILTERS } from '../../src/api/filters/prune.js';
import { Lab } from '../lab/lab.js';
import { busyboxTar, DOCKER_20, DOCKER_28, dockerOk, importBusybox, installedClients } from '../compat/docker-cli.js';

// Issue 10: every list filter berth accepts does what dockerd 20.10 does, on real
// containers, networks and images in a lab. Two parts:
//  1. the same seed as the "list filters" block of scripts/record-reference.sh, and every
//     answer recorded there (test/fixtures/dockerd-20.10/filters.json) asked again of
//     berthd: the same names, the same messages;
//  2. for EVERY key each endpoint accepts, a value that matches nothing must list nothing
//     and a matching one exactly the expected set, so a key berth ignored would fail.

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/dockerd-20.10/filters.json', import.meta.url));
type Recorded = { status: number | null; body: unknown };
const { ids: recordedIds, ...recorded } = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { ids: Record<'vm1' | 'my_net1', string> } & Record<string, Recorded>;

/** The part of berth's id at the place `hex` has in dockerd's id of the same object. */
function berthIdPart(hex: string, berth: Record<'vm1' | 'my_net1', string>): string {
  for (const what of ['vm1', 'my_net1'] as const) {
    const at = recordedIds[what].indexOf(hex);
    if (at >= 0) return berth[what].slice(at, at + hex.length);
  }
  throw new Error(`${hex} is no part of a recorded id`);
}

/**
 * Recorded answers berth gives differently on purpose: dockerd 20.10 computes `dangling`
 * for networks from a list without containers, so it calls my_net1 (vm1 is on it)
 * dangling; berth answers what the filter means. A malformed filters parameter gets
 * Go's JSON parser's wording from dockerd.
 */
const INTENDED: Record<string, unknown> = {
  'GET /networks {"dangling":["true"]}': ['net_l'],
  'GET /networks {"dangling":["1"]}': ['net_l'],
  'GET /networks {"dangling":["false"]}': ['bridge', 'host', 'my_net1', 'none'],
};

/** Names as record-reference.sh reduces a list: containers' and networks' names, images' tags. */
function names(body: unknown): string[] {
  return (body as Record<string, unknown>[]).map((x) => {
    const name = (x.Names as string[] | undefined)?.[0] ?? (x.Name as string | undefined) ?? (x.RepoTags as string[]).join(',');
    return name.replace(/^\//, '');
  }).sort();
}

describe('list filters with dockerd 20.10\'s semantics', { concurrency: false }, () => {
  let lab: Lab;
  const docker = (args: string[]) => dockerOk(lab, DOCKER_28, args);
  const id = async (what: string[]) => docker([...what, '-f', '{{.Id}}']);
  const ask = async (method: string, path: string, filters: unknown, query = '') => {
    const q = `filters=${encodeURIComponent(JSON.stringify(filters))}${query ? `&${query}` : ''}`;
    return lab.api(method, `/v1.41${path}?${q}`);
  };
  const list = async (path: string, filters: unknown, query = ''): Promise<string[]> => {
    const r = await ask('GET', path, filters, query);
    assert.equal(r.status, 200, `GET ${path} ${JSON.stringify(filters)}: ${r.text}`);
    return names(r.body);
  };

  before(async () => {
    lab = await Lab.create();
    // the seed of record-reference.sh, in its order (before/since depend on it)
    await importBusybox(lab, DOCKER_28);
    await docker(['network', 'create', 'my_net1']);
    await docker(['run', '-d', '--name', 'vm1', '--network', 'my_net1', 'bb', 'sleep', '3600']);
    await docker(['run', '-d', '--name', 'd1', 'bb', 'sleep', '3600']);
    await docker(['run', '--name', 'x0', 'bb', 'true']);
    assert.equal((await lab.inHost([DOCKER_28.bin, '-H', `unix://${lab.socket}`, 'run', '--name', 'x3', 'bb', 'sh', '-c', 'exit 3'])).code, 3);
    await docker(['create', '--name', 'c1', '--label', 'a=1', '--label', 'b', '-p', '8080:80', '--expose', '9000', 'bb']);
    await docker(['network', 'create', '--label', 'a=1', 'net_l']);
    await docker(['import', '-c', 'LABEL a=1', busyboxTar(), 'bb2:v1']);
    await docker(['import', busyboxTar()]);
  });
  after(async () => {
    await lab?.destroy();
  });

  test('every answer recorded from dockerd 20.10 (lists and messages) is berth\'s too', async () => {
    const vm1 = await id(['inspect', 'vm1']);
    const net1 = await id(['network', 'inspect', 'my_net1']);
    let asked = 0;
    for (const [key, want] of Object.entries(recorded as Record<string, Recorded>)) {
      const m = /^(GET|POST) ([^ ?]+)(?:\?(\S+))? (.*)$/.exec(key);
      // not asked again: the malformed-filters entry (Go's JSON parser's wording) and the
      // events, which dockerd replayed from its history (berth keeps none: see the events test)
      if (!m || typeof want.status !== 'number' || m[2] === '/events') continue;
      // ids and id parts in the recording are dockerd's: put berth's in their place
      const filters = m[4].replace(/"([0-9a-f]{5,64})"/g, (_s, hex: string) => JSON.stringify(berthIdPart(hex, { vm1, my_net1: net1 })));
      const r = await ask(m[1], m[2], JSON.parse(filters), m[3] ?? '');
      const what = `${key} (asked as ${filters})`;
      asked++;
      if (want.status === 200) {
        assert.equal(r.status, 200, `${what}: ${r.text}`);
        const got = Array.isArray(r.body) ? names(r.body) : r.body;
        assert.deepEqual(got, INTENDED[key] ?? want.body, what);
      } else {
        // dockerd answers some bad values with a 500; berth's bad input is always a 4xx
        const status = want.status === 500 ? [400, 404] : [want.status];
        assert.ok(status.includes(r.status), `${what}: status ${r.status}, dockerd ${want.status}: ${r.text}`);
        const message = (want.body as { message: string }).message.replace(/[0-9a-f]{12,64}/g, (hex) => berthIdPart(hex, { vm1, my_net1: net1 }));
        assert.equal(r.body.message, message, what);
      }
    }
    assert.ok(asked > 80, `only ${asked} recorded answers`);
  });

  test('containers: for every key, a value matching nothing lists nothing, a matching one exactly its set', async () => {
    await docker(['run', '-d', '--name', 'r1', '--label', 'a=1', '-p', '8081:81', '--expose', '9001', 'bb2:v1', 'sleep', '3600']);
    const vm1 = await id(['inspect', 'vm1']);
    const everyone = ['c1', 'd1', 'r1', 'vm1', 'x0', 'x3'];
    // [key, matching value, expected set (all=1), a value that matches nothing]
    const cases: [string, string[], string[], string[] | null][] = [
      ['ancestor', ['bb2:v1'], ['r1'], ['nosuch']],
      ['before', ['x0'], ['d1', 'vm1'], ['vm1']],
      ['since', ['c1'], ['r1'], ['r1']],
      ['expose', ['9001'], ['r1'], ['9002/tcp']],
      ['publish', ['8081/tcp'], ['r1'], ['8082']],
      ['exited', ['3'], ['x3'], ['4']],
      ['health', ['none'], everyone, ['healthy']],
      ['id', [vm1.slice(0, 7)], ['vm1'], ['0000000']],
      // accepted and not filtered on, as dockerd on Linux does (recorded: isolation=bogus lists all)
      ['isolation', ['default'], everyone, null],
      ['is-task', ['false'], everyone, ['true']],
      ['label', ['a=1', 'b'], ['c1'], ['a=1', 'c']],
      ['name', ['^x'], ['x0', 'x3'], ['nomatch']],
      ['network', ['my_net1'], ['vm1'], ['net_l']],
      ['status', ['exited'], ['x0', 'x3'], ['paused']],
      ['volume', [], [], ['x']],
    ];
    assert.deepEqual(cases.map((c) => c[0]).sort(), [...CONTAINER_FILTERS].sort(), 'a case for every key berth accepts');
    for (const [key, yes, expected, no] of cases) {
      if (yes.length) assert.deepEqual(await list('/containers/json', { [key]: yes }, 'all=1'), expected, `${key}=${yes}`);
      if (no) assert.deepEqual(await list('/containers/json', { [key]: no }, 'all=1'), [], `${key}=${no} must match nothing`);
    }
    assert.deepEqual(await list('/containers/json', { label: ['a=1'], status: ['running'] }), ['r1']);
  });

  test('networks and network prune: for every key, nothing for a value matching nothing', async () => {
    const net1 = await id(['network', 'inspect', 'my_net1']);
    const cases: [string, string[], string[], string[]][] = [
      ['dangling', ['true'], ['net_l'], ['true']],
      ['driver', ['bridge'], ['bridge', 'my_net1', 'net_l'], ['macvlan']],
      ['id', [net1.slice(0, 10)], ['my_net1'], ['0000000000']],
      ['label', ['a=1'], ['net_l'], ['a=2']],
      ['name', ['_'], ['my_net1', 'net_l'], ['nomatch']],
      ['scope', ['local'], ['bridge', 'host', 'my_net1', 'net_l', 'none'], ['swarm']],
      ['type', ['custom'], ['my_net1', 'net_l'], ['custom']],
    ];
    assert.deepEqual(cases.map((c) => c[0]).sort(), [...NETWORK_FILTERS].sort(), 'a case for every key berth accepts');
    for (const [key, yes, expected, no] of cases) {
      assert.deepEqual(await list('/networks', { [key]: yes }), expected, `${key}=${yes}`);
      // dangling and type have no value matching nothing alone: pair them with a name
      const none = key === 'dangling' || key === 'type' ? { [key]: no, name: ['^bridge$'] } : { [key]: no };
      assert.deepEqual(await list('/networks', none), [], `${JSON.stringify(none)} must match nothing`);
    }
    // prune: a filter that matches nothing removes nothing; a matching one exactly its networks
    await docker(['network', 'create', '--label', 'p=1', '--label', 'keep=1', 'p_keep']);
    await docker(['network', 'create', '--label', 'p=1', 'p_go']);
    const prune = async (filters: unknown) => {
      const r = await ask('POST', '/networks/prune', filters);
      assert.equal(r.status, 200, r.text);
      return ((r.body as { NetworksDeleted: string[] | null }).NetworksDeleted ?? []).sort();
    };
    const pruneCases: [string, unknown, unknown, string[]][] = [
      ['until', { until: ['2001-01-01T00:00:00Z'] }, null, []],
      ['label', { label: ['p=2'] }, null, []],
      ['label!', { label: ['p=1'], 'label!': ['p'] }, null, []],
    ];
    assert.deepEqual(pruneCases.map((c) => c[0]).sort(), [...PRUNE_FILTERS].sort(), 'a case for every key berth accepts');
    for (const [key, filters] of pruneCases) assert.deepEqual(await prune(filters), [], `prune ${key} must remove nothing`);
    assert.deepEqual(await prune({ label: ['p=1'], 'label!': ['keep'] }), ['p_go']);
    assert.deepEqual(await prune({ label: ['p'], until: [String(Math.ceil(Date.now() / 1000) + 60)] }), ['p_keep']);
    assert.deepEqual(await list('/networks', { name: ['^p_'] }), []);
    assert.deepEqual(await list('/networks', {}), ['bridge', 'host', 'my_net1', 'net_l', 'none'], 'prune left the others');
  });

  test('images: for every key, nothing for a value matching nothing', async () => {
    const newest = (await lab.api('GET', `/v1.41/images/json?filters=${encodeURIComponent('{"dangling":["true"]}')}`)).body[0].Id as string;
    const cases: [string, string[], string[], string[]][] = [
      ['before', ['bb2:v1'], ['bb:latest'], ['bb']],
      ['since', ['bb'], ['<none>:<none>', 'bb2:v1'], [newest]],
      ['dangling', ['true'], ['<none>:<none>'], ['true']],
      ['label', ['a=1'], ['bb2:v1'], ['a=2']],
      ['reference', ['bb*:v?'], ['bb2:v1'], ['nomatch*']],
    ];
    assert.deepEqual(cases.map((c) => c[0]).sort(), [...IMAGE_FILTERS].sort(), 'a case for every key berth accepts');
    for (const [key, yes, expected, no] of cases) {
      assert.deepEqual(await list('/images/json', { [key]: yes }), expected, `${key}=${yes}`);
      const none = key === 'dangling' ? { dangling: no, label: ['a'] } : { [key]: no };
      assert.deepEqual(await list('/images/json', none), [], `${JSON.stringify(none)} must match nothing`);
    }
  });

  // the timeout only ends a stream that never got its events (a hang, not a measurement)
  test('events: a filtered stream carries exactly the matching events (type, event, container, network, image, label)', { timeout: 120_000 }, async () => {
    const streams = {
      label: watchEvents(lab.socket, { label: ['ev=1'], type: ['container'] }, 3),
      container: watchEvents(lab.socket, { container: ['ev_skip', 'ev_hit'], event: ['die'] }, 2),
      network: watchEvents(lab.socket, { type: ['network'], network: ['bridge'], event: ['connect'] }, 2),
      image: watchEvents(lab.socket, { image: ['bb'], event: ['create'] }, 2),
    };
    await Promise.all(Object.values(streams).map((s) => s.ready));
    await docker(['run', '--name', 'ev_skip', 'bb', 'true']);
    await docker(['run', '--name', 'ev_hit', '--label', 'ev=1', 'bb', 'true']);
    const seen = async (s: { events: Promise<Record<string, any>[]> }) => (await s.events).map((e) => `${e.Type} ${e.Action} ${e.Actor.Attributes.name}`);
    assert.deepEqual(await seen(streams.label), ['container create ev_hit', 'container start ev_hit', 'container die ev_hit']);
    assert.deepEqual(await seen(streams.container), ['container die ev_skip', 'container die ev_hit']);
    assert.deepEqual(await seen(streams.network), ['network connect bridge', 'network connect bridge']);
    assert.deepEqual(await seen(streams.image), ['container create ev_skip', 'container create ev_hit']);
    const hit = (await streams.label.events)[0];
    assert.equal(hit.Actor.Attributes.ev, '1', 'container events carry the labels, as dockerd\'s');
    assert.equal(hit.Actor.Attributes.image, 'bb');
    await docker(['rm', 'ev_skip', 'ev_hit']);
  });

  test('berth ps, network ls and network prune pass --filter through; an unknown key is one clear line', async () => {
    const berth = async (args: string[]) => {
      const r = await lab.berth(args);
      assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    assert.equal(await berth(['ps', '-a', '--filter', 'label=a=1', '--filter', 'label=b', '--format', '{{.Names}}']), 'c1');
    assert.equal(await berth(['ps', '--filter', 'status=exited', '--filter', 'exited=0', '--format', '{{.Names}}']), 'x0');
    assert.equal(await berth(['network', 'ls', '--filter', 'label=a=1', '--format', '{{.Name}}']), 'net_l');
    await berth(['network', 'create', '--label', 'cli=berth', 'cli_berth']);
    assert.match(await berth(['network', 'prune', '-f', '--filter', 'label=cli=berth']), /cli_berth/);
    const bad = await lab.berth(['ps', '--filter', 'colour=red']);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /Invalid filter 'colour'/);
  });

  for (const client of installedClients()) {
    test(`${client.name}: ps, network ls, images and network prune pass --filter through`, async () => {
      const D = (args: string[]) => dockerOk(lab, client, args);
      assert.equal(await D(['ps', '-a', '--filter', 'label=a=1', '--filter', 'label=b', '--format', '{{.Names}}']), 'c1');
      assert.equal(await D(['ps', '--filter', 'status=exited', '--filter', 'exited=3', '--format', '{{.Names}}']), 'x3');
      assert.equal(await D(['ps', '-a', '--filter', 'publish=8081', '--format', '{{.Names}}']), 'r1');
      assert.equal(await D(['network', 'ls', '--filter', 'label=a=1', '--format', '{{.Name}}']), 'net_l');
      assert.equal(await D(['images', '--filter', 'reference=bb2', '--format', '{{.Repository}}:{{.Tag}}']), 'bb2:v1');
      const net = `cli_${client.bin.replace(/\W/g, '')}`;
      await D(['network', 'create', '--label', `cli=${net}`, net]);
      assert.match(await D(['network', 'prune', '-f', '--filter', 'label=cli=nomatch']), /^$/);
      assert.match(await D(['network', 'prune', '-f', '--filter', `label=cli=${net}`]), new RegExp(`^Deleted Networks:\n${net}$`));
      const bad = await lab.inHost([client.bin, '-H', `unix://${lab.socket}`, 'ps', '--filter', 'colour=red']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /Invalid filter 'colour'/);
    });
  }
});

/**
 * GET /events with filters, read until `count` events came (then the connection is
 * closed). `ready` resolves once berthd answered 200, i.e. once it is subscribed.
 */
function watchEvents(socketPath: string, filters: unknown, count: number): { ready: Promise<void>; events: Promise<Record<string, any>[]> } {
  let ready!: () => void;
  const readyP = new Promise<void>((r) => (ready = r));
  const events = new Promise<Record<string, any>[]>((resolve, reject) => {
    const got: Record<string, any>[] = [];
    const req = request({ socketPath, path: `/v1.41/events?filters=${encodeURIComponent(JSON.stringify(filters))}`, headers: { Host: 'berth' } }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`GET /events: ${res.statusCode}`));
      ready();
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        buf += d;
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          got.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
        if (got.length >= count) {
          req.destroy();
          resolve(got);
        }
      });
    });
    req.on('error', (err) => got.length < count && reject(err));
    req.end();
  });
  return { ready: readyP, events };
}
