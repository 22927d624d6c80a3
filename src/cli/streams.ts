import type { Readable, Writable } from 'node:stream';

// Docker's multiplexed stream framing: [stream, 0, 0, 0, size uint32 BE] then payload;
// stream 1 is stdout, 2 is stderr. TTY streams are raw (no framing).

export function demux(src: Readable, out: Writable, err: Writable): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    src.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      while (buf.length >= 8) {
        const size = buf.readUInt32BE(4);
        if (buf.length < 8 + size) break;
        const payload = buf.subarray(8, 8 + size);
        (buf[0] === 2 ? err : out).write(payload);
        buf = buf.subarray(8 + size);
      }
    });
    src.on('end', resolve);
    src.on('close', resolve);
    src.on('error', reject);
  });
}
