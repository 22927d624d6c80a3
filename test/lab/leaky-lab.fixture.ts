// A test file that leaves its lab behind (as one whose teardown threw would): run by
// lab.test.ts under node's test runner, it must still end, its lab destroyed by the
// runner-wide hook in lab.ts. Not a *.test.js file: the suite does not run it itself.
import { test } from 'node:test';
import { Lab } from './lab.js';

test('a lab nobody destroys', async () => {
  const lab = await Lab.create();
  process.stdout.write(`lab-dir ${lab.dir}\n`);
});
