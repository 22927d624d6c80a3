import koffi from 'koffi';
import { OpError } from './failure.js';

// libnftables (Debian libnftables1) in-process: one long-lived context, so every call is
// one atomic `nft -f` transaction without a process spawn, and deletions do not pay the
// RCU flush a short-lived nft process pays on exit. Worker thread only (home netns).

const NFT_CTX_DEFAULT = 0;
const NFT_CTX_OUTPUT_HANDLE = 1 << 3;
const NFT_CTX_OUTPUT_JSON = 1 << 4;

interface NftLib {
  newCtx: (flags: number) => unknown;
  bufferOutput: (ctx: unknown) => number;
  bufferError: (ctx: unknown) => number;
  setOutputFlags: (ctx: unknown, flags: number) => void;
  run: (ctx: unknown, cmds: string) => number;
  output: (ctx: unknown) => string | null;
  error: (ctx: unknown) => string | null;
}

let lib: NftLib | undefined;
let ctx: unknown;

function load(): NftLib {
  const so = koffi.load('libnftables.so.1');
  const Ctx = koffi.pointer('nft_ctx', koffi.opaque());
  return {
    newCtx: so.func('nft_ctx_new', Ctx, ['uint32']),
    bufferOutput: so.func('nft_ctx_buffer_output', 'int', [Ctx]),
    bufferError: so.func('nft_ctx_buffer_error', 'int', [Ctx]),
    setOutputFlags: so.func('nft_ctx_output_set_flags', 'void', [Ctx, 'uint32']),
    run: so.func('nft_run_cmd_from_buffer', 'int', [Ctx, 'str']),
    output: so.func('nft_ctx_get_output_buffer', 'str', [Ctx]),
    error: so.func('nft_ctx_get_error_buffer', 'str', [Ctx]),
  } as NftLib;
}

function context(): [NftLib, unknown] {
  if (!lib) {
    try {
      lib = load();
    } catch (e) {
      throw new OpError(`cannot load libnftables: ${(e as Error).message}`, 'ENOENT', 2);
    }
  }
  if (!ctx) {
    const c = lib.newCtx(NFT_CTX_DEFAULT);
    if (!c) throw new OpError('cannot create nftables context', 'ENOMEM', 12);
    lib.bufferOutput(c);
    lib.bufferError(c);
    ctx = c;
  }
  return [lib, ctx];
}

/** Runs `commands` as one transaction; returns nft's output (as JSON, with rule handles), throws with nft's error text. */
export function runNft(commands: string, json = false, handles = false): string {
  const [l, c] = context();
  l.setOutputFlags(c, (json ? NFT_CTX_OUTPUT_JSON : 0) | (handles ? NFT_CTX_OUTPUT_HANDLE : 0));
  const rc = l.run(c, commands);
  // Reading a buffer also resets it, so both are always drained.
  const out = l.output(c) ?? '';
  const err = (l.error(c) ?? '').trim();
  if (rc !== 0) throw new OpError(`nft: ${err || 'command failed'}`, 'EINVAL', 22);
  return out;
}
