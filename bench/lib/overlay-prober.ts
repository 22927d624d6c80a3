// The convergence prober: a busybox sh loop that runs INSIDE a container on the far host
// and, for each expected name in turn, tries to reach it by name until a ping is answered,
// then prints when (CLOCK_REALTIME, stamped in the container). A `docker exec` per try
// would cost ~75 ms by itself; a loop inside the container costs one try (~5-10 ms).
//
// Two ways to look the name up, one pass each:
//   - getaddrinfo: `ping NAME` looks it up itself (busybox-static: glibc's getaddrinfo,
//     A and AAAA queries at once, as most programs do);
//   - nslookup: busybox `nslookup -type=a NAME` (A only, its own resolver), then
//     `ping IP`: the engine's name record alone, apart from how a stub resolver copes.
// A try pings `-c 400 -i 0.005 -w 2 -W 1` (5 ms apart until 2 s after ping started: the
// deadline runs from before a getaddrinfo lookup, which can itself take a second), so a
// name that resolves before its peer answers is seen at the first answered ping, not a
// whole timeout later (busybox -W takes whole seconds); -W 1 matters: with -c, busybox
// ping otherwise waits 10 s for late replies after the last one is sent, ignoring -w.
// Every output line goes through busybox `ts %.s`, which stamps it as it reads it (µs;
// busybox `date` has no %N), then `grep -m…` for the lines that matter: a failed lookup,
// the name resolved (ping's PING line, or nslookup's address), the first reply.
// Per name it prints: the first reply, tries, "unanswered" tries (resolved, no reply before
// the deadline), when the first lookup that found the name ended (the name's own
// convergence) and when the last failed one before it ended (the span between them is
// that lookup's wait). Between failed tries: usleep 1000. ts buffers its output (4 KB),
// so a try that got its reply ends ~0.6 s later: that delays the printing, not the stamps.

export type Lookup = 'getaddrinfo' | 'nslookup';

const PING = 'ping -c 400 -i 0.005 -w 2 -W 1';

/** The lines of one try, for each lookup: after it, $o holds the stamped lines that matter. */
const TRY: Record<Lookup, string[]> = {
  getaddrinfo: [
    `    o=$(${PING} $n 2>&1 | ts %.s | grep -m2 -e PING -e 'bytes from' -e 'bad address')`,
  ],
  nslookup: [
    // "Address: 10.0.0.3" is the answer; the server's own line is "Address:<TAB>127.0.0.11:53"
    "    o=$(nslookup -type=a $n 2>&1 | ts %.s | grep -m1 -e 'Address: *[0-9.]*$' -e \"can't find\" -e 'timed out')",
    `    case "$o" in *Address*) o=$(echo "\${o%% *} PING $n"; ${PING} \${o##* } 2>&1 | ts %.s | grep -m1 'bytes from');; esac`,
  ],
};

/** The names the prober waits for, in order: PREFIX0 (warm-up), PREFIX1 … PREFIXlast. */
export function proberScript(prefix: string, last: number, lookup: Lookup): string {
  return [
    'echo ready',
    'i=0',
    `while [ $i -le ${last} ]; do`,
    `  n=${prefix}$i; t=0; u=0; r=-; p=-`,
    '  while :; do',
    '    t=$((t+1))',
    ...TRY[lookup],
    // r: the stamp of the first try that resolved the name; p: of the last lookup that failed before it
    '    case "$o" in',
    "      *'bytes from'*) break;;",
    '      *PING*) u=$((u+1)); [ "$r" = - ] && r=${o%% *};;',
    '      *) [ "$r" = - ] && [ -n "$o" ] && p=${o%% *};;',
    '    esac',
    '    usleep 1000',
    '  done',
    '  [ "$r" = - ] && r=${o%% *}',
    "  set -- $(echo \"$o\" | grep -m1 'bytes from')",
    '  echo "seen $n $1 $t $u $r $p"',
    '  i=$((i+1))',
    'done',
    'echo done',
    'exec sleep 3600',
  ].join('\n');
}

export interface Sighting {
  name: string;
  /** CLOCK_REALTIME of the first reply, in µs */
  atUs: number;
  /** tries it took (1 = the first lookup and ping answered) */
  tries: number;
  /** of those, tries whose name resolved but whose pings got no reply before the deadline */
  unanswered: number;
  /** CLOCK_REALTIME (µs) when the first lookup that found the name ended */
  resolvedUs: number;
  /** CLOCK_REALTIME (µs) when the last lookup that failed before it ended (none: found at the first try) */
  lastFailedUs?: number;
}

/** "seen ovc3 1796210964.369536 4 0 1796210964.368012 1796210964.361203": name, first reply, tries, unanswered, first resolved, last failed lookup (or -) */
export const SIGHTING = /^seen (\S+) (\d+\.\d{6}) (\d+) (\d+) (\d+\.\d{6}) (\d+\.\d{6}|-)$/;

/** "1796210964.369536" (s.µs) → µs, exactly (no float rounding of the µs) */
function stampUs(s: string): number {
  const [sec, us] = s.split('.');
  return Number(sec) * 1e6 + Number(us);
}

export function parseSighting(m: RegExpExecArray): Sighting {
  return {
    name: m[1]!, atUs: stampUs(m[2]!), tries: Number(m[3]), unanswered: Number(m[4]), resolvedUs: stampUs(m[5]!),
    lastFailedUs: m[6] === '-' ? undefined : stampUs(m[6]!),
  };
}
