import { request } from 'node:http';
import { request as requestTls } from 'node:https';
import { BerthError } from '../util/errors.js';
import { describeAddress, type PluginAddress } from './discovery.js';

// Docker's plugin protocol v1 on the wire: every call is POST /<Subsystem>.<Method> with
// a JSON body (empty for the methods that take none) and the protocol's media type, over
// a unix socket, TCP, or HTTPS (a .json spec's TLSConfig). Node's http client is all it takes. Where dockerd waits up to 30 s
// without a bound on a call that hangs, each call here has one deadline for everything:
// retries while the plugin's socket is not there yet (a plugin starting), then the answer.
// A plugin that could not be reached and then could is a plugin that restarted: it is
// activated again (the protocol's handshake) before it is asked anything else.

export const PLUGIN_MEDIA_TYPE = 'application/vnd.docker.plugins.v1.2+json';
const ACTIVATE = 'Plugin.Activate';
/** one call, retries included (dockerd's connect retries alone run to 30 s) */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1_000;

/** A plugin failed, refused or did not answer in time: the message names it. */
export class PluginError extends BerthError {
  constructor(message: string, readonly notFound = false) {
    super(message, 500);
  }
}

export interface CallOptions {
  timeoutMs?: number;
  /** the method may be missing: a 404 answers undefined instead of an error */
  optional?: boolean;
}

export class PluginClient {
  constructor(
    readonly name: string,
    readonly address: PluginAddress,
    private readonly defaultTimeoutMs = DEFAULT_CALL_TIMEOUT_MS,
  ) {}

  /**
   * The plugin's answer to one method, parsed. Its error field (`Err` for network
   * drivers, `Error` for IPAM drivers: the protocol has both) becomes a PluginError.
   */
  async call<T extends object>(method: string, body: unknown, opts: CallOptions = {}): Promise<T | undefined> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.defaultTimeoutMs);
    const payload = body === undefined ? '' : JSON.stringify(body);
    for (let wait = RETRY_FIRST_MS, lost = false; ; wait = Math.min(wait * 2, RETRY_MAX_MS)) {
      try {
        if (lost && method !== ACTIVATE) await this.once(ACTIVATE, '', deadline, {});
        return await this.once<T>(method, payload, deadline, opts);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        const retry = code === 'ECONNREFUSED' || code === 'ENOENT' || code === 'ECONNRESET';
        if (err instanceof PluginError || !retry || Date.now() + wait >= deadline) throw this.failure(method, err);
        lost = true;
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  private once<T>(method: string, payload: string, deadline: number, opts: CallOptions): Promise<T | undefined> {
    const a = this.address;
    const target = a.kind === 'unix'
      ? { socketPath: a.path, host: 'plugin.moby.localhost' }
      : { host: a.host, port: a.port, ...(a.tls ? { ca: a.tls.ca, cert: a.tls.cert, key: a.tls.key, rejectUnauthorized: !a.tls.insecure } : {}) };
    const send = a.kind === 'tcp' && a.tls ? requestTls : request;
    return new Promise((resolve, reject) => {
      const req = send({
        ...target,
        method: 'POST',
        path: `/${method}`,
        headers: { Accept: PLUGIN_MEDIA_TYPE, 'Content-Type': PLUGIN_MEDIA_TYPE, 'Content-Length': Buffer.byteLength(payload) },
        timeout: Math.max(1, deadline - Date.now()),
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status === 404 && opts.optional) return resolve(undefined);
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = text.trim() ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            parsed = undefined;
          }
          const said = typeof parsed?.Err === 'string' && parsed.Err ? parsed.Err : typeof parsed?.Error === 'string' && parsed.Error ? parsed.Error : undefined;
          if (status !== 200) return reject(new PluginError(`plugin ${this.name}: ${method}: ${said ?? (text.trim() || `HTTP ${status}`)}`, status === 404));
          if (said) return reject(new PluginError(`plugin ${this.name}: ${method}: ${said}`));
          if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return reject(new PluginError(`plugin ${this.name}: ${method}: the answer is not a JSON object`));
          resolve(parsed as T);
        });
      });
      req.on('timeout', () => req.destroy(new PluginError(`plugin ${this.name} did not answer ${method} within ${opts.timeoutMs ?? this.defaultTimeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  private failure(method: string, err: unknown): PluginError {
    if (err instanceof PluginError) return err;
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? `nothing answers at ${describeAddress(this.address)}` : e.message;
    return new PluginError(`plugin ${this.name}: ${method}: ${why}`);
  }
}
