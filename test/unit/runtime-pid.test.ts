import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSpec, shimRunArgs } from '../../src/runtime/shim-binary.js';
import { parsePs } from '../../src/runtime/top.js';
import type { ProcessSpec } from '../../src/runtime/types.js';
import { InvalidParameterError } from '../../src/util/errors.js';

// The pid namespace a container is given, as shim flags, and docker top's cut of ps output.

const base: ProcessSpec = { id: 'a'.repeat(64), netns: null, binds: [], argv: ['sleep', '1'], env: [], interactive: false, tty: false, stateDir: '/run/x' };

test('a private pid namespace is the shim\'s default; host and another container\'s are flags', () => {
  const flag = (s: ProcessSpec) => {
    const args = shimRunArgs(s);
    const at = args.indexOf('--pidns');
    return at < 0 ? undefined : args[at + 1];
  };
  assert.equal(flag(base), undefined);
  assert.equal(flag({ ...base, pidns: 'private' }), undefined);
  assert.equal(flag({ ...base, pidns: 'host' }), 'host');
  assert.equal(flag({ ...base, pidns: { sharedWith: 4242 } }), '/proc/4242/ns/pid');
  const args = shimRunArgs({ ...base, pidns: 'host' });
  assert.ok(args.indexOf('--pidns') < args.indexOf('--'), 'flags come before the command');
  assert.throws(() => checkSpec({ ...base, pidns: { sharedWith: 0 } }), InvalidParameterError);
});

test('docker top keeps the header and the rows of the container\'s pids, the command with its spaces', () => {
  const out = [
    'UID          PID    PPID  C STIME TTY          TIME CMD',
    'root           1       0  0 21:00 ?        00:00:00 /sbin/init splash',
    'root         812     800  0 21:01 ?        00:00:00 sleep 600',
    'root         813     812  0 21:01 ?        00:00:00 sh -c  echo  two  spaces',
    '',
  ].join('\n');
  assert.deepEqual(parsePs(out, new Set([812, 813])), {
    Titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'],
    Processes: [
      ['root', '812', '800', '0', '21:01', '?', '00:00:00', 'sleep 600'],
      ['root', '813', '812', '0', '21:01', '?', '00:00:00', 'sh -c echo two spaces'],
    ],
  });
  assert.throws(() => parsePs('USER COMMAND\nroot init\n', new Set([1])), /Couldn't find PID field in ps output/);
});
