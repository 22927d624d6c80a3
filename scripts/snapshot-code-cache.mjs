// A startup snapshot blob with only some of node's builtin code cache (build-cli-snapshot.mjs).
//
// Why: `node --build-snapshot` appends the code cache of all ~320 of node's own modules
// (2.7 MB of a 5 MB blob), and node reads and copies the whole blob at every start. But a
// module the snapshot's heap already holds was compiled at build time (its code cache is
// never read again), and of the rest a CLI command loads only the few that the CLI imports
// lazily. Dropping the others took ~2.5 ms off every command (bench/results/cli.md). The
// one switch node has for it, --build-snapshot-config's withoutCodeCache, also clears the
// bytecode the warm-up compiled, which costs more than it saves.
//
// The layout is node's (src/node_snapshotable.cc, SnapshotData::ToBlob), little-endian:
//   u32 magic; metadata: u8 type, three strings (u64 length + bytes: version, arch,
//   platform), u32 V8 cache tag, u32 flags; the V8 startup data (i32 size + bytes); the
//   isolate and environment info (variable, not parsed here); then, to the very end, the
//   code cache: u64 count, and per module its id (u64 length + bytes) and its data (u64
//   length + bytes).
// The code cache is found as the one offset after the V8 data from which entries of that
// shape tile the rest of the blob exactly. A blob of another shape (another node) is left
// alone: undefined. The caller still runs the result once before keeping it.

const MAGIC = 0x0143da19;

/** Offset just after the V8 startup data, or undefined when the head is not node's. */
function afterV8Data(blob) {
  if (blob.length < 64 || blob.readUInt32LE(0) !== MAGIC) return undefined;
  let p = 5;
  for (let i = 0; i < 3; i++) p += 8 + Number(blob.readBigUInt64LE(p));
  p += 8;
  const size = blob.readInt32LE(p);
  p += 4 + size;
  return size > 0 && p < blob.length ? p : undefined;
}

/** The entries of a code cache starting at `at` if they end exactly at the blob's end. */
function entriesAt(blob, at) {
  const u64 = (p) => (p + 8 <= blob.length ? Number(blob.readBigUInt64LE(p)) : -1);
  const count = u64(at);
  if (count < 1 || count > 10_000) return undefined;
  const entries = [];
  let p = at + 8;
  for (let i = 0; i < count; i++) {
    const idLength = u64(p);
    if (idLength < 1 || idLength > 200 || p + 8 + idLength > blob.length) return undefined;
    const id = blob.toString('latin1', p + 8, p + 8 + idLength);
    if (!/^[\w./-]+$/.test(id)) return undefined;
    const dataLength = u64(p + 8 + idLength);
    if (dataLength < 0) return undefined;
    const end = p + 16 + idLength + dataLength;
    if (end > blob.length) return undefined;
    entries.push({ id, bytes: blob.subarray(p, end) });
    p = end;
  }
  return p === blob.length ? entries : undefined;
}

/**
 * `blob` with the code cache of the modules in `keep` only; with what was kept and what
 * was dropped (ids), or undefined when the blob is not of the shape above.
 */
export function withCodeCacheOf(blob, keep) {
  const start = afterV8Data(blob);
  if (start === undefined) return undefined;
  for (let at = start; at + 8 <= blob.length; at++) {
    const entries = entriesAt(blob, at);
    if (!entries) continue;
    const kept = entries.filter((e) => keep.has(e.id));
    const count = Buffer.alloc(8);
    count.writeBigUInt64LE(BigInt(kept.length));
    return {
      blob: Buffer.concat([blob.subarray(0, at), count, ...kept.map((e) => e.bytes)]),
      kept: kept.map((e) => e.id),
      dropped: entries.filter((e) => !keep.has(e.id)).map((e) => e.id),
    };
  }
  return undefined;
}
