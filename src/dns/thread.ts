// One resolver worker thread seen from the main thread: fire-and-forget posts for record
// changes, id-matched requests for the rest. The worker is unref'd while idle so that it
// never keeps the daemon alive on its own.
import { Worker } from 'node:worker_threads';
import type { DnsReply, DnsRequest, WorkerConfig } from './protocol.js';

type Request = Exclude<DnsRequest, { op: 'setEndpoint' | 'removeEndpoint' | 'replaceAll' | 'setUpstreams' }>;
type Post = Extract<DnsRequest, { op: 'setEndpoint' | 'removeEndpoint' | 'replaceAll' | 'setUpstreams' }>;

export class ResolverThread {
  private nextId = 1;
  private readonly pending = new Map<number, (r: DnsReply) => void>();
  private dead: Error | undefined;

  constructor(config: WorkerConfig, private readonly onDeath: (err: Error) => void) {
    const worker = new Worker(new URL('../dns/worker.js', import.meta.url), { workerData: config, transferList: config.peers });
    worker.on('message', (r: DnsReply) => this.onReply(r));
    worker.on('error', (e) => this.die(e));
    worker.on('exit', (code) => this.die(new Error(`DNS resolver thread exited (code ${code})`)));
    worker.unref();
    this.worker = worker;
  }

  private readonly worker: Worker;

  get alive(): boolean {
    return this.dead === undefined;
  }

  post(m: Post): void {
    if (this.dead) throw new Error(`DNS resolver is not running: ${this.dead.message}`);
    this.worker.postMessage(m);
  }

  async request(m: Request): Promise<DnsReply & { ok: true }> {
    if (this.dead) throw new Error(`DNS resolver is not running: ${this.dead.message}`);
    const id = this.nextId++;
    const reply = new Promise<DnsReply>((resolve) => this.pending.set(id, resolve));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ ...m, id });
    const r = await reply;
    if (!r.ok) throw new Error(r.error);
    return r;
  }

  /** Ends the thread without reporting it as a death. */
  async terminate(): Promise<void> {
    if (this.dead) return;
    this.dead = new Error('DNS resolver stopped');
    await this.worker.terminate();
  }

  private die(err: Error): void {
    if (this.dead) return;
    this.dead = err;
    for (const resolve of this.pending.values()) resolve({ id: 0, ok: false, error: err.message });
    this.pending.clear();
    this.onDeath(err);
  }

  private onReply(r: DnsReply): void {
    const resolve = this.pending.get(r.id);
    if (!resolve) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.worker.unref();
    resolve(r);
  }
}
