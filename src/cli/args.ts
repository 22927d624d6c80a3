// Small argument helpers shared by the CLI's commands.

/** commander collector for repeatable flags */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** ["k=v", "k2=v2"] → {k: "v", k2: "v2"}; "k" alone → {k: ""} */
export function keyValues(list: string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i === 0) throw new Error(`invalid argument "${item}" for "${flag}": empty key`);
    if (i < 0) out[item] = '';
    else out[item.slice(0, i)] = item.slice(i + 1);
  }
  return out;
}

/** --filter k=v (repeatable) → `?filters={"k":{"v":true}}` */
export function filtersParam(list: string[]): string {
  if (!list.length) return '';
  const f: Record<string, Record<string, boolean>> = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0) throw new Error(`bad format of filter (expected name=value): ${item}`);
    (f[item.slice(0, i)] ??= {})[item.slice(i + 1)] = true;
  }
  return `?filters=${encodeURIComponent(JSON.stringify(f))}`;
}

/** Prints each error on its own line and fails the command when there was any. */
export function failIfAny(errors: string[]): void {
  if (!errors.length) return;
  for (const e of errors) process.stderr.write(`Error response from daemon: ${e}\n`);
  process.exitCode = 1;
}

/**
 * docker's way with NAME… commands: act on each, print what succeeded (as `echo` of
 * `printed(name)`), then one error line per failure and exit 1. `ignore` lets an error pass.
 */
export async function eachName(names: string[], act: (name: string) => Promise<unknown>, opts: { printed?: (name: string) => string; ignore?: (err: unknown) => boolean } = {}): Promise<void> {
  const errors: string[] = [];
  for (const n of names) {
    try {
      await act(n);
      process.stdout.write(`${opts.printed ? opts.printed(n) : n}\n`);
    } catch (err) {
      if (!opts.ignore?.(err)) errors.push((err as Error).message);
    }
  }
  failIfAny(errors);
}
