import type { Lab } from '../../test/lab/lab.js';

// What every bench that drives a lab's berthd needs: a progress line on stderr, and an API
// call that fails loudly (a benchmark must not time an error response).

export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export async function apiOk(lab: Lab, method: string, path: string, body?: unknown): ReturnType<Lab['api']> {
  const r = await lab.api(method, path, body);
  if (r.status >= 400) throw new Error(`berthd ${method} ${path}: ${r.status} ${r.text.trim()}`);
  return r;
}
