// npm run bench:cli — what a hot CLI command costs (issue 17): berth's CLI as a user runs
// it (bin/berth), the same command by the Go docker CLI (Debian's docker.io 20.10) against
// the same berthd, and a bare `node -e 0`, all interleaved in one run inside a lab world,
// so load on the machine hits every column alike. Also timed: berth's plain bundle (what
// bin/berth falls back to without a startup snapshot, BERTH_CLI_SNAPSHOT=0) and the
// command's requests made by berth's own Client inside this process (the daemon's share,
// no process start).
// Writes bench/results/cli.md. Knobs: BENCH_CLI_ROUNDS (default 21).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/cli/client.js';
import { demux } from '../src/cli/streams.js';
import { BERTH_BIN, Lab } from '../test/lab/lab.js';
import { run } from '../test/lab/exec.js';
import { busyboxTar, DOCKER_20 } from '../test/compat/docker-cli.js';
import { loadavg } from './lib/host.js';
import { apiOk, log } from './lib/lab-api.js';
import { median, percentile } from './lib/stats.js';
import { fmtMs, nowMs } from './lib/timing.js';
import { envInt } from './lib/budget.js';
import { PassThrough } from 'node:stream';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const OUT = join(process.env.BENCH_OUT ?? join(REPO, 'bench/results'), 'cli.md');
const TARGET = 'clitarget';
const NET = 'clinet';

/**
 * One environment for every column. This sandbox sets NODE_EXTRA_CA_CERTS, which makes
 * every node start parse a CA bundle (~35 ms); a Debian host has none and the CLI's unix
 * socket needs no TLS, so it is emptied for node -e 0 and berth alike (node skips an empty
 * one). DOCKER_CONFIG: an empty client config (no contexts, helpers or aliases).
 */
function envFor(lab: Lab, configDir: string): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: '', BERTH_HOST: `unix://${lab.socket}`, DOCKER_HOST: `unix://${lab.socket}`, DOCKER_CONFIG: configDir, DOCKER_CLI_HINTS: 'false' };
}

interface Hot {
  name: string;
  berth: string[];
  docker: string[];
  /** the requests the command makes, through berth's Client */
  api: (c: Client) => Promise<unknown>;
  /** undoes what one sample made, untimed */
  after?: (lab: Lab, stdout: string) => Promise<void>;
}

const removeMade = async (lab: Lab, stdout: string): Promise<void> => {
  await apiOk(lab, 'DELETE', `/containers/${stdout.trim()}?force=1`);
};

const HOT: Hot[] = [
  {
    name: 'run -d',
    berth: ['run', '-d', '--network', NET, '--image', 'bb', '--', 'sleep', '3600'],
    docker: ['run', '-d', '--network', NET, 'bb', 'sleep', '3600'],
    api: async (c) => {
      const { Id } = (await c.call('POST', '/containers/create', { Image: 'bb', Cmd: ['sleep', '3600'], HostConfig: { NetworkMode: NET } })).body as { Id: string };
      await c.call('POST', `/containers/${Id}/start`);
      return Id;
    },
    after: removeMade,
  },
  { name: 'ps', berth: ['ps'], docker: ['ps'], api: (c) => c.call('GET', '/containers/json?all=0') },
  { name: 'network ls', berth: ['network', 'ls'], docker: ['network', 'ls'], api: (c) => c.call('GET', '/networks') },
  { name: 'inspect', berth: ['inspect', TARGET], docker: ['inspect', TARGET], api: (c) => c.call('GET', `/containers/${TARGET}/json`) },
  {
    name: 'exec',
    berth: ['exec', TARGET, 'true'],
    docker: ['exec', TARGET, 'true'],
    api: async (c) => {
      const { Id } = (await c.call('POST', `/containers/${TARGET}/exec`, { Cmd: ['true'], AttachStdout: true, AttachStderr: true })).body as { Id: string };
      const sink = new PassThrough().resume();
      await demux(await c.hijack(`/exec/${Id}/start`, { Detach: false, Tty: false }), sink, sink);
      return c.call('GET', `/exec/${Id}/json`);
    },
  },
];

type Column = 'berth' | 'bundle' | 'docker' | 'node' | 'api';
const COLUMNS: Column[] = ['berth', 'bundle', 'docker', 'node', 'api'];

async function timedRun(argv: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  const t0 = nowMs();
  const r = await run(argv, { env, timeoutMs: 60_000 });
  const ms = nowMs() - t0;
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return { ms, stdout: r.stdout };
}

/** One sample of one column for one command. */
async function sample(lab: Lab, hot: Hot, col: Column, env: Record<string, string>): Promise<number> {
  if (col === 'api') {
    const c = new Client(`unix://${lab.socket}`);
    const t0 = nowMs();
    const made = await hot.api(c);
    const ms = nowMs() - t0;
    if (hot.after) await hot.after(lab, String(made));
    return ms;
  }
  const argv = col === 'berth' ? [BERTH_BIN, ...hot.berth]
    : col === 'bundle' ? [BERTH_BIN, ...hot.berth]
      : col === 'docker' ? [DOCKER_20.bin, ...hot.docker]
        : ['node', '-e', '0'];
  const { ms, stdout } = await timedRun(argv, col === 'bundle' ? { ...env, BERTH_CLI_SNAPSHOT: '0' } : env);
  if (hot.after && col !== 'node') await hot.after(lab, stdout);
  return ms;
}

async function main(): Promise<void> {
  if (process.env.BERTH_LAB_WORLD !== '1') throw new Error('run this inside a lab world: npm run bench:cli');
  const rounds = envInt('BENCH_CLI_ROUNDS', 21);
  const loadBefore = loadavg();
  const lab = await Lab.create();
  try {
    const configDir = join(lab.dir, 'docker-config');
    const env = envFor(lab, configDir);
    await timedRun([BERTH_BIN, 'import', '-c', 'ENV PATH=/bin', busyboxTar(), 'bb'], env);
    await timedRun([BERTH_BIN, 'network', 'create', NET], env);
    await timedRun([BERTH_BIN, 'run', '-d', '--name', TARGET, '--network', NET, '--image', 'bb', '--', 'sleep', '3600'], env);
    const samples = new Map<string, number[]>();
    // the columns in a new order each round, so none always runs first (after a daemon's idle spell)
    for (let r = 0; r < rounds; r++) {
      for (const hot of HOT) {
        for (let k = 0; k < COLUMNS.length; k++) {
          const col = COLUMNS[(k + r) % COLUMNS.length];
          const key = `${hot.name}/${col}`;
          samples.set(key, [...(samples.get(key) ?? []), await sample(lab, hot, col, env)]);
        }
      }
      if (r % 5 === 4) log(`round ${r + 1}/${rounds}`);
    }
    const loadAfter = loadavg();
    const med = (hot: Hot, col: Column) => median(samples.get(`${hot.name}/${col}`) ?? []);
    const q1 = (hot: Hot, col: Column) => percentile(samples.get(`${hot.name}/${col}`) ?? [], 25);
    const quartiles = HOT.map((hot) => {
      const [b, d, n] = (['berth', 'docker', 'node'] as const).map((c) => q1(hot, c));
      return `| ${hot.name} | ${fmtMs(b)} | ${fmtMs(d)} | ${fmtMs(n)} | ${(b / n).toFixed(2)} |`;
    });
    const rows = HOT.map((hot) => {
      const [b, p, d, n, a] = COLUMNS.map((c) => med(hot, c));
      return `| ${hot.name} | ${fmtMs(b)} | ${fmtMs(p)} | ${fmtMs(d)} | ${fmtMs(n)} | **${(b / n).toFixed(2)}** | ${fmtMs(a)} | ${((b - a) / n).toFixed(2)} |`;
    });
    const report = [
      '# CLI: what a hot command costs',
      '',
      `Run ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model.split(' ').slice(0, 2).join(' ')}, node ${process.version}; load before \`${loadBefore}\`, after \`${loadAfter}\`.`,
      `Produced by \`npm run bench:cli\` (bench/cli.ts) in a lab world: ${rounds} rounds, each timing every command in every column, the columns' order rotated each round; medians, ms, wall time from spawn to exit as seen by the bench process.`,
      '',
      '| command | berth (bin/berth) | berth, plain bundle | docker 20.10 CLI | `node -e 0` | berth / node | the requests alone (in-process) | (berth − requests) / node |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
      'The same run, lower quartiles (less of the other work on this shared machine in them):',
      '',
      '| command | berth | docker | `node -e 0` | berth / node |',
      '|---|---:|---:|---:|---:|',
      ...quartiles,
      '',
      '- berth: `bin/berth`, as a user runs it (from its startup snapshot when `npm run build` made one for this node). Plain bundle: `BERTH_CLI_SNAPSHOT=0 bin/berth`, what it falls back to without one (node dist/src/cli/main.js).',
      '- docker: `/usr/bin/docker` (Debian docker.io), DOCKER_HOST set to the same berthd, an empty DOCKER_CONFIG. It pings the daemon (`/_ping`) before a command, berth does not.',
      `- The requests alone: the command's API calls made by berth's Client in the bench process over a fresh connection each (the daemon's share, and what no CLI can save). run -d makes a container on a bridge network (created and removed per sample, the removal untimed); exec runs \`true\` in a running container; inspect asks for that container.`,
      '- Same environment for every process: NODE_EXTRA_CA_CERTS emptied (this sandbox sets it; a Debian host does not).',
      '',
    ].join('\n');
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, report);
    process.stdout.write(report);
  } finally {
    await lab.destroy();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
