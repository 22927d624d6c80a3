// The two probes of bench:restart, each a process of its own in a lab netns, running while
// berthd is killed and started again, so that what they time is the restart and not their
// own start-up (a probe begun only once /_ping answers adds its own round to every figure).
//   names SERVER NAME…  asks SERVER for every NAME's A record, again and again, until all
//                       have answered once; prints "ready" when it runs and then
//                       "all EPOCH_MS" (the moment the last one answered). Until the last
//                       NAME answers it asks that one alone, so that the probe does not take
//                       the CPU from the start it times. It gives up after
//                       RESTART_PROBE_DEADLINE_MS (default 120 s).
//   ports ADDR PORT…    connects to every ADDR:PORT, 50 at a time, a round every
//                       PORT_ROUND_GAP_MS, until SIGTERM; then prints
//                       "summary {probes, failures: [[port, EPOCH_MS]…]}".
import { Resolver } from 'node:dns/promises';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const PORT_ROUND_GAP_MS = 200;
const DEADLINE_MS = Number(process.env.RESTART_PROBE_DEADLINE_MS ?? 120_000);
const [mode, target, ...rest] = process.argv.slice(2);

async function names(server: string, all: string[]): Promise<void> {
  // one try, a short wait: a resolver not listening yet refuses at once, one that listens
  // but has not adopted its socket answers from the socket's queue once it does
  const resolver = new Resolver({ timeout: 250, tries: 1 });
  resolver.setServers([server]);
  const ask = (n: string) => resolver.resolve4(n).then((a) => a.length > 0, () => false);
  let pending = all;
  let canary = all.at(-1);
  process.stdout.write('ready\n');
  for (const deadline = Date.now() + DEADLINE_MS; pending.length && Date.now() < deadline;) {
    if (canary !== undefined) {
      if (await ask(canary)) canary = undefined;
      else await sleep(5);
      continue;
    }
    const answered = await Promise.all(pending.map(ask));
    const at = Date.now();
    pending = pending.filter((_, i) => !answered[i]);
    if (!pending.length) process.stdout.write(`all ${at}\n`);
    else await sleep(10);
  }
  if (pending.length) process.stdout.write(`unanswered ${pending.length}: ${pending.slice(0, 5).join(' ')}\n`);
}

async function ports(addr: string, list: number[]): Promise<void> {
  const failures: [number, number][] = [];
  let probes = 0;
  let stop = false;
  process.on('SIGTERM', () => (stop = true));
  process.stdout.write('ready\n');
  const once = (port: number) => new Promise<boolean>((resolve) => {
    const s = connect({ host: addr, port, timeout: 1000 });
    const done = (ok: boolean) => { s.destroy(); resolve(ok); };
    s.once('connect', () => done(true)).once('error', () => done(false)).once('timeout', () => done(false));
  });
  while (!stop) {
    for (let i = 0; i < list.length && !stop; i += 50) {
      const chunk = list.slice(i, i + 50);
      const ok = await Promise.all(chunk.map(once));
      probes += chunk.length;
      chunk.forEach((p, k) => { if (!ok[k]) failures.push([p, Date.now()]); });
    }
    await sleep(PORT_ROUND_GAP_MS);
  }
  process.stdout.write(`summary ${JSON.stringify({ probes, failures })}\n`);
}

if (mode === 'names' && target) await names(target, rest);
else if (mode === 'ports' && target) await ports(target, rest.map(Number));
else {
  process.stderr.write('usage: restart-probes names SERVER NAME… | ports ADDR PORT…\n');
  process.exit(2);
}
