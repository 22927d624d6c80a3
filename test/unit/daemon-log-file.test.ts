import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseSize, RotatingLogFile } from '../../src/daemon/log-file.js';

// berthd's --log-file: PATH the newest, PATH.1 … PATH.(n-1) older, each about --log-max-size.

const dir = mkdtempSync(join(tmpdir(), 'berth-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const line = (i: number) => `${String(i).padStart(4, '0')} ${'x'.repeat(94)}\n`; // 100 bytes

test('writing past the size rotates: at most max-files files, none over max-size, the newest lines in PATH', () => {
  const path = join(dir, 'a', 'berthd.log');
  const log = new RotatingLogFile(path, 1024, 3);
  for (let i = 0; i < 100; i++) log.write(line(i));
  log.close();
  assert.deepEqual(readdirSync(join(dir, 'a')).sort(), ['berthd.log', 'berthd.log.1', 'berthd.log.2']);
  for (const f of readdirSync(join(dir, 'a'))) assert.ok(statSync(join(dir, 'a', f)).size <= 1024, f);
  // whole lines only, in order across the files: .2 oldest, PATH newest
  const all = ['berthd.log.2', 'berthd.log.1', 'berthd.log'].map((f) => readFileSync(join(dir, 'a', f), 'utf8')).join('');
  const numbers = all.trimEnd().split('\n').map((l) => Number(l.slice(0, 4)));
  assert.equal(numbers.at(-1), 99);
  assert.deepEqual(numbers, numbers.slice().sort((x, y) => x - y));
  assert.equal(numbers.length, 30, '10 lines of 100 bytes fit in 1k, three files');
});

test('a restart appends to PATH and counts what is already there; one file means truncation', () => {
  const path = join(dir, 'b.log');
  writeFileSync(path, line(0).repeat(9));
  const log = new RotatingLogFile(path, 1024, 3);
  log.write(line(1));
  log.write(line(2));
  log.close();
  assert.equal(readFileSync(`${path}.1`, 'utf8'), line(0).repeat(9) + line(1));
  assert.equal(readFileSync(path, 'utf8'), line(2));
  const single = join(dir, 'c.log');
  const one = new RotatingLogFile(single, 1024, 1);
  for (let i = 0; i < 25; i++) one.write(line(i));
  one.close();
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('c.log')), ['c.log']);
  assert.equal(readFileSync(single, 'utf8'), [20, 21, 22, 23, 24].map(line).join(''));
});

test('sizes read as dockerd reads max-size', () => {
  assert.deepEqual(['10m', '512k', '1g', '2048', '1MB', '4KiB'].map(parseSize), [10 * 2 ** 20, 512 * 1024, 2 ** 30, 2048, 2 ** 20, 4096]);
  assert.throws(() => parseSize('ten'), /"ten" is not a size/);
  assert.throws(() => parseSize('10'), /too small/);
});
