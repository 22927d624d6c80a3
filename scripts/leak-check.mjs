#!/usr/bin/env node
// Checks that the machine's ROOT namespaces hold nothing berth or its tests made.
//   node scripts/leak-check.mjs snapshot FILE   records what is there before a test run
//   node scripts/leak-check.mjs check [FILE]    fails (exit 1) on anything new since FILE
// Always a leak, snapshot or not: an nftables table named berth*, a mount under /run/berth
// or a lab dir. Without a snapshot, interfaces other than lo, eth0 and ifb* and any named
// netns count as leaks too. Processes of berth's (a shim, the spawner, a berthd, a lab
// helper, a lab world) alive that were not there at the snapshot are leaks: every lab
// world must have ended with its processes. Read-only: it never changes anything.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

const BASE_IFACES = /^(lo|eth0|ifb\d+)$/;
const LEAK_MOUNT_PREFIXES = ['/run/berth', '/tmp/berth-lab', '/var/run/berth'];

function tryRun(argv) {
  try {
    return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return err.code === 'ENOENT' ? undefined : String(err.stdout ?? '');
  }
}

function interfaces() {
  const out = tryRun(['ip', '-o', 'link', 'show']) ?? '';
  return out.split('\n').filter(Boolean).map((l) => l.split(':')[1].trim().split('@')[0]);
}

function namedNetns() {
  const out = tryRun(['ip', 'netns', 'list']) ?? '';
  return out.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
}

/** undefined when nft is not installed (then there can be no nft table of ours either). */
function nftTables() {
  const out = tryRun(['nft', 'list', 'tables']);
  return out === undefined ? undefined : out.split('\n').filter(Boolean).map((l) => l.trim());
}

function mountPoints() {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8))));
}

const BERTH_PROCESS = /(^|\/)berth-(spawner|shim)\b|\/dist\/src\/daemon\/main\.js|\/dist\/test\/lab\/|scripts\/in-lab\.sh| in-lab( |$)/;

/** "PID command line" of every berth process but ourselves and our ancestors (the suite runner). */
function berthProcesses() {
  const mine = new Set();
  for (let pid = process.pid; pid > 1;) {
    mine.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  const out = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || mine.has(Number(e))) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/[\0\s]+/g, ' ').trim();
      if (BERTH_PROCESS.test(cmd)) out.push(`${e} ${cmd.slice(0, 120)}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function takeSnapshot() {
  return { interfaces: interfaces(), netns: namedNetns(), nftTables: nftTables() ?? [], mounts: mountPoints(), processes: berthProcesses() };
}

function newSince(now, before) {
  const old = new Set(before);
  return now.filter((x) => !old.has(x));
}

function findLeaks(snapshot) {
  const now = takeSnapshot();
  const leaks = [];
  const ifaces = snapshot ? newSince(now.interfaces, snapshot.interfaces) : now.interfaces.filter((i) => !BASE_IFACES.test(i));
  for (const i of ifaces) leaks.push(`interface ${i}`);
  const netns = snapshot ? newSince(now.netns, snapshot.netns) : now.netns;
  for (const n of netns) leaks.push(`network namespace ${n} (ip netns list)`);
  for (const t of now.nftTables) if (/^table \S+ berth/.test(t)) leaks.push(`nftables ${t}`);
  if (snapshot) for (const t of newSince(now.nftTables, snapshot.nftTables)) if (!/^table \S+ berth/.test(t)) leaks.push(`nftables ${t} (new)`);
  for (const p of snapshot ? newSince(now.processes, snapshot.processes ?? []) : now.processes) leaks.push(`process ${p}`);
  for (const m of now.mounts) if (LEAK_MOUNT_PREFIXES.some((p) => m === p || m.startsWith(`${p}/`) || m.startsWith(`${p}-`))) leaks.push(`mount ${m}`);
  return leaks;
}

const [mode, file] = process.argv.slice(2);
if (mode === 'snapshot' && file) {
  writeFileSync(file, JSON.stringify(takeSnapshot(), null, 2));
} else if (mode === 'check') {
  const snapshot = file ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
  const leaks = findLeaks(snapshot);
  if (leaks.length > 0) {
    console.error(`leak-check: the root namespace has ${leaks.length} leftover(s):\n  ${leaks.join('\n  ')}`);
    process.exit(1);
  }
  console.log('leak-check: root namespace clean (no new interfaces, netns, berth nft tables, lab mounts or berth processes)');
} else {
  console.error('usage: leak-check.mjs snapshot FILE | check [FILE]');
  process.exit(2);
}
