// Issue 17: the limits a host meets on the way to thousands of containers are said before
// they bite. Here berthd's own open files: its soft limit lowered (prlimit) to just above
// what it uses, then berthd says so in its log and in `docker info`'s warnings, with what to
// raise; raised again, the warning goes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { labFor } from '../lab/lab.js';
import { eventually, hostOk, ok, runSleeper } from './helpers.js';

function berthdPid(socket: string): number {
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const cmd = (() => { try { return readFileSync(`/proc/${p}/cmdline`, 'utf8'); } catch { return ''; } })();
    const argv = cmd.split('\0');
    if (/(^|\/)node$/.test(argv[0] ?? '') && argv.includes(`unix://${socket}`)) return Number(p);
  }
  throw new Error(`no berthd for ${socket}`);
}

test('berthd near its open-files limit says so, in its log and in info, with what to raise', async (t) => {
  const lab = await labFor(t);
  await runSleeper(lab, 'one');
  const pid = berthdPid(lab.socket);
  const soft = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1]);
  const used = readdirSync(`/proc/${pid}/fd`).length;
  // 85 % in use: room left for the requests that follow (each takes a file for a moment)
  await hostOk(lab, ['prlimit', '--pid', String(pid), `--nofile=${Math.ceil(used / 0.85)}:`]);
  try {
    const info = JSON.parse(await ok(lab, ['system', 'info'])) as { Warnings: string[] };
    const warning = info.Warnings.find((w) => w.startsWith('WARNING: open files of berthd: '));
    assert.match(warning ?? '', /^WARNING: open files of berthd: \d+ of \d+ in use \((8\d|9\d|100) %\); with 1 container; raise it before it runs out: LimitNOFILE=\d+ in berthd\.service, or ulimit -n before starting berthd$/, JSON.stringify(info.Warnings));
    await eventually('said in the log', async () => /open files of berthd: \d+ of \d+ in use/.test(lab.daemonLog()));
  } finally {
    await hostOk(lab, ['prlimit', '--pid', String(pid), `--nofile=${soft}:`]);
  }
  const after = JSON.parse(await ok(lab, ['system', 'info'])) as { Warnings: string[] };
  assert.equal(after.Warnings.some((w) => w.includes('open files of berthd')), false, 'raised again: no warning');
});
