// Random and mutated DNS packets for fuzzing the resolver (test/integration/dns-server.test.ts).
// Deterministic for a seed, so a failure can be replayed.
import * as dnsPacket from 'dns-packet';

import { prng } from '../test/lab/prng.js';

const TYPES: dnsPacket.RecordType[] = ['A', 'AAAA', 'PTR', 'MX', 'TXT', 'SRV', 'CNAME', 'SOA', 'NS'];

/** Well-formed queries to start mutating from. */
export function seedQueries(names: string[]): Buffer[] {
  const out: Buffer[] = [];
  names.forEach((name, i) => {
    for (const type of TYPES) {
      out.push(dnsPacket.encode({ type: 'query', id: i, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }] }));
      out.push(dnsPacket.encode({
        type: 'query', id: i, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer],
      }));
    }
  });
  return out;
}

function mutate(base: Buffer, r: () => number): Buffer {
  const b = Buffer.from(base);
  const kind = Math.floor(r() * 6);
  const pos = (): number => Math.floor(r() * Math.max(1, b.length));
  switch (kind) {
    case 0: { // flip a few bytes
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) b[pos()] = Math.floor(r() * 256);
      return b;
    }
    case 1: // truncate
      return b.subarray(0, pos());
    case 2: // append junk
      return Buffer.concat([b, randomBytes(1 + Math.floor(r() * 40), r)]);
    case 3: { // header counts
      if (b.length >= 12) b.writeUInt16BE(Math.floor(r() * 65536), 4 + 2 * Math.floor(r() * 4));
      return b;
    }
    case 4: { // a label length byte
      if (b.length > 12) b[12 + Math.floor(r() * Math.min(8, b.length - 12))] = Math.floor(r() * 256);
      return b;
    }
    default: { // compression pointer loop in the question
      if (b.length > 14) b.writeUInt16BE(0xc00c, 12);
      return b;
    }
  }
}

function randomBytes(n: number, r: () => number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** count packets: about 1/3 random bytes, 2/3 mutated seeds. */
export function* fuzzPackets(count: number, seed: number, names: string[]): Generator<Buffer> {
  const r = prng(seed);
  const seeds = seedQueries(names);
  for (let i = 0; i < count; i++) {
    if (r() < 0.33) yield randomBytes(Math.floor(r() * 300), r);
    else yield mutate(seeds[Math.floor(r() * seeds.length)] as Buffer, r);
  }
}
