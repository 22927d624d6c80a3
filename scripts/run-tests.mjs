#!/usr/bin/env node
// Runs berth's whole test suite on an already built tree (npm test builds first):
//   1. unit tests (dist/test/unit), directly;
//   2. integration tests (dist/test/integration), each file in its own throwaway world
//      (scripts/in-lab.sh), BERTH_TEST_CONCURRENCY files at a time (default 2);
//   3. scripts/leak-check.mjs against a snapshot of the root namespace taken before.
// Ends with one line "N passed, N failed[, N skipped]" and a non-zero exit on any failure.
// Integration tests are skipped (with a message) when not root or when namespaces cannot be
// made, except under CI, where that is a failure. The whole suite stops after 20 minutes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SUITE_TIMEOUT_MS = Number(process.env.BERTH_SUITE_TIMEOUT_MS) || 20 * 60 * 1000;
const TEST_TIMEOUT_MS = 5 * 60 * 1000;
const CONCURRENCY = Math.max(1, Number(process.env.BERTH_TEST_CONCURRENCY ?? 2) || 1);
const IN_CI = !!process.env.CI && process.env.CI !== 'false';

const totals = { passed: 0, failed: 0, skipped: 0 };
const problems = [];
const live = new Set();
const work = mkdtempSync(join(tmpdir(), 'berth-tests-'));
let tapCounter = 0;
const snapshotFile = join(work, 'root-ns.json');

function testFiles(dir) {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.js'))
    .sort()
    .map((f) => join(abs, f));
}

function nodeTestArgv(files, tapFile) {
  return [
    process.execPath, '--test',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
    `--test-timeout=${TEST_TIMEOUT_MS}`, '--test-concurrency=1',
    ...files,
  ];
}

/** Reads node's TAP summary ("# pass N" ...); undefined when the run never got that far. */
function tapSummary(tapFile) {
  if (!existsSync(tapFile)) return undefined;
  const text = readFileSync(tapFile, 'utf8');
  const count = (key) => {
    const all = [...text.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  };
  const pass = count('pass');
  if (pass === undefined) return undefined;
  return { pass, fail: (count('fail') ?? 0) + (count('cancelled') ?? 0), skipped: (count('skipped') ?? 0) + (count('todo') ?? 0) };
}

/** Runs argv to its end. stream: output goes straight to ours; else it is returned. */
function runChild(argv, stream) {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', stream ? 'inherit' : 'pipe', stream ? 'inherit' : 'pipe'],
    });
    live.add(child);
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (d) => (output += d));
    child.stderr?.setEncoding('utf8').on('data', (d) => (output += d));
    child.on('error', (err) => (output += `cannot start ${argv[0]}: ${err.message}\n`));
    child.on('close', (code, signal) => {
      live.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

async function runNodeTests(label, files, wrap, stream) {
  const tapFile = join(work, `run${++tapCounter}.tap`);
  const argv = [...wrap, ...nodeTestArgv(files, tapFile)];
  const { code, output } = await runChild(argv, stream);
  if (!stream) process.stdout.write(`\n▶ ${label}\n${output}`);
  const summary = tapSummary(tapFile);
  if (summary) {
    totals.passed += summary.pass;
    totals.failed += summary.fail;
    totals.skipped += summary.skipped;
  }
  if (code !== 0 && (!summary || summary.fail === 0)) {
    totals.failed += 1;
    problems.push(`${label}: exited ${code} without reporting a failed test (crash or timeout)`);
  }
}

async function unitTests() {
  const files = testFiles('dist/test/unit');
  console.log(`\n== unit tests: ${files.length} file(s) ==`);
  if (files.length === 0) return;
  await runNodeTests('unit tests', files, [], true);
}

/** Why integration tests cannot run here, or undefined when they can. */
function labUnavailable() {
  if (process.getuid?.() !== 0) return 'not running as root';
  const probe = spawnSync('bash', [join(ROOT, 'scripts/in-lab.sh'), 'true'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    return `cannot make throwaway namespaces (unshare): ${(probe.error?.message ?? probe.stderr).trim()}`;
  }
  return undefined;
}

async function integrationTests() {
  const files = testFiles('dist/test/integration');
  console.log(`\n== integration tests: ${files.length} file(s), ${Math.min(CONCURRENCY, files.length)} at a time, each in its own lab world ==`);
  if (files.length === 0) return;
  const why = labUnavailable();
  if (why) {
    if (IN_CI) {
      totals.failed += 1;
      problems.push(`integration tests cannot run under CI: ${why}`);
    } else {
      console.log(`SKIPPING integration tests: ${why} (they need root and unshare: run as root, e.g. sudo npm test)`);
      totals.skipped += files.length;
    }
    return;
  }
  const queue = [...files];
  const stream = Math.min(CONCURRENCY, files.length) === 1;
  const worker = async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      await runNodeTests(relative(ROOT, f), [f], ['bash', join(ROOT, 'scripts/in-lab.sh')], stream);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, files.length) }, worker));
}

async function leakCheck(snapshotFile) {
  console.log('\n== leak check (root namespace) ==');
  const { code } = await runChild([process.execPath, join(ROOT, 'scripts/leak-check.mjs'), 'check', snapshotFile], true);
  if (code !== 0) {
    totals.failed += 1;
    problems.push('leak check: the root namespace has leftovers (see above)');
  }
}

function finish() {
  for (const p of problems) console.log(`FAILURE: ${p}`);
  rmSync(work, { recursive: true, force: true });
  const skipped = totals.skipped > 0 ? `, ${totals.skipped} skipped` : '';
  console.log(`${totals.passed} passed, ${totals.failed} failed${skipped}`);
  process.exit(totals.failed > 0 ? 1 : 0);
}

function killAll(reason) {
  problems.push(reason);
  totals.failed += 1;
  // Killing in-lab.sh (it exec'd unshare --kill-child) ends its whole namespace world.
  for (const child of live) child.kill('SIGKILL');
  const leaks = spawnSync(process.execPath, [join(ROOT, 'scripts/leak-check.mjs'), 'check', snapshotFile], { stdio: 'inherit' });
  if (leaks.status !== 0) {
    totals.failed += 1;
    problems.push('leak check: the root namespace has leftovers (see above)');
  }
  finish();
}

setTimeout(() => killAll(`the suite ran past ${Math.round(SUITE_TIMEOUT_MS / 1000)} s and was stopped`), SUITE_TIMEOUT_MS).unref();
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => killAll(`interrupted by ${sig}`));

const snap = spawnSync(process.execPath, [join(ROOT, 'scripts/leak-check.mjs'), 'snapshot', snapshotFile], { encoding: 'utf8' });
if (snap.status !== 0) problems.push(`leak-check snapshot failed: ${snap.stderr}`);
await unitTests();
await integrationTests();
if (snap.status === 0) await leakCheck(snapshotFile);
else totals.failed += 1;
finish();
