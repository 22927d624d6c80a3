import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TcpBudget, type Tracked } from '../../src/dns/tcp-budget.js';

// The resolver's TCP bookkeeping on its own: which connection makes room, and when a new
// one is refused. (The sockets themselves are proven in test/integration/dns*.test.ts.)

interface Conn extends Tracked {
  name: string;
  closed: boolean;
}

function conn(owner: string, name: string): Conn {
  const c: Conn = { owner, name, inFlight: 0, closed: false, evict: () => (c.closed = true) };
  return c;
}

const limits = { perSandbox: 3, perThread: 5, idleMs: 1000 };

test('a sandbox at its cap: its oldest idle connection makes room for the new one', () => {
  const b = new TcpBudget(limits);
  const a = [1, 2, 3].map((i) => conn('A', `a${i}`));
  for (const c of a) assert.equal(b.admit(c), true);
  const a4 = conn('A', 'a4');
  assert.equal(b.admit(a4), true);
  assert.deepEqual(a.map((c) => c.closed), [true, false, false]);
  assert.equal(b.held('A'), 3);
});

test('activity makes a connection the most recent: the least recently active idle one goes', () => {
  const b = new TcpBudget(limits);
  const [a1, a2, a3] = [1, 2, 3].map((i) => conn('A', `a${i}`)) as [Conn, Conn, Conn];
  for (const c of [a1, a2, a3]) b.admit(c);
  b.touch(a1);
  b.admit(conn('A', 'a4'));
  assert.deepEqual([a1.closed, a2.closed, a3.closed], [false, true, false]);
});

test('connections with a query in flight are not taken; when all are busy the new one is refused', () => {
  const b = new TcpBudget(limits);
  const a = [1, 2, 3].map((i) => conn('A', `a${i}`));
  for (const c of a) b.admit(c);
  a[0]!.inFlight = 1;
  a[1]!.inFlight = 2;
  const a4 = conn('A', 'a4');
  assert.equal(b.admit(a4), true);
  assert.deepEqual(a.map((c) => c.closed), [false, false, true]);
  a4.inFlight = 1;
  const refused = conn('A', 'refused');
  assert.equal(b.admit(refused), false);
  assert.equal(b.held('A'), 3);
  assert.equal(refused.closed, false, 'the caller closes what it refused');
  b.release(refused); // not held: no effect
  assert.equal(b.held('A'), 3);
});

test('at the thread cap, room is taken from the biggest holder, not from the newcomer\'s small share', () => {
  const b = new TcpBudget(limits);
  const a = [1, 2, 3].map((i) => conn('A', `a${i}`));
  const c1 = conn('C', 'c1');
  for (const c of [...a, c1, conn('C', 'c2')]) assert.equal(b.admit(c), true);
  assert.equal(b.size, 5);
  // B has nothing yet: it gets in, and A (3 held) pays, not C (2 held)
  assert.equal(b.admit(conn('B', 'b1')), true);
  assert.equal(a[0]!.closed, true);
  assert.equal(c1.closed, false);
  assert.deepEqual([b.held('A'), b.held('B'), b.held('C'), b.size], [2, 1, 2, 5]);
});

test('no single sandbox can fill the thread: the cap per sandbox is below the cap per thread', () => {
  const b = new TcpBudget(limits);
  for (let i = 0; i < 100; i++) assert.equal(b.admit(conn('hog', `h${i}`)), true);
  assert.equal(b.held('hog'), 3);
  assert.equal(b.size, 3);
  assert.equal(b.admit(conn('other', 'o1')), true);
  assert.equal(b.admit(conn('other', 'o2')), true);
  assert.deepEqual([b.held('hog'), b.held('other')], [3, 2]);
  assert.throws(() => new TcpBudget({ perSandbox: 10, perThread: 5, idleMs: 1 }), /invalid TCP limits/);
});

test('release forgets a connection once, whatever closed it', () => {
  const b = new TcpBudget(limits);
  const c = conn('A', 'a1');
  b.admit(c);
  b.release(c);
  b.release(c);
  assert.equal(b.size, 0);
  assert.equal(b.held('A'), 0);
});
