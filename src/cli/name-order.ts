// The order of `network ls`: String.prototype.localeCompare, which costs ~10-15 ms in a
// fresh process (ICU loads its collator on first use). Network names are ASCII
// ([a-zA-Z0-9][a-zA-Z0-9_.-]*), and for those ICU's root collation (what English and
// the C locale use) is simple enough to compute directly: this does, and falls back to
// localeCompare for anything else.

const PLAIN = /^[A-Za-z0-9_.-]*$/;

/** Root-collation primary weights: punctuation (_ before - before .), digits, letters
 *  ignoring case. */
const PUNCTUATION = '_-.';
function primary(code: number): number {
  if (code >= 97) return code - 97 + 20; // a-z
  if (code >= 65 && code <= 90) return code - 65 + 20; // A-Z
  if (code >= 48 && code <= 57) return code - 48 + 10; // 0-9
  return PUNCTUATION.indexOf(String.fromCharCode(code));
}

/** Locales whose collation orders these characters as the root one does. */
function rootLikeLocale(env: NodeJS.ProcessEnv): boolean {
  const name = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return name === '' || name === 'C' || name === 'POSIX' || name.startsWith('C.') || name.startsWith('en');
}

function compareRoot(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = primary(a.charCodeAt(i)) - primary(b.charCodeAt(i));
    if (d !== 0) return Math.sign(d);
  }
  if (a.length !== b.length) return a.length < b.length ? -1 : 1;
  // Same letters: the first difference in case decides, lower case first.
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] > b[i] ? -1 : 1;
  }
  return 0;
}

/** a.localeCompare(b), fast for plain names under a root-like locale. */
export function compareNames(a: string, b: string, env: NodeJS.ProcessEnv = process.env): number {
  if (PLAIN.test(a) && PLAIN.test(b) && rootLikeLocale(env)) return compareRoot(a, b);
  return a.localeCompare(b);
}
