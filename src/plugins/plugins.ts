import { InvalidParameterError, NotFoundError } from '../util/errors.js';
import { PluginClient, PluginError, type CallOptions } from './client.js';
import { describeAddress, discover, type PluginDirs } from './discovery.js';

// The plugins berthd has found and activated, by name. Activation is the protocol's
// handshake (POST /Plugin.Activate → {"Implements": [...]}), done once; a plugin that
// restarts is activated again by the client, one that stopped answering is looked for
// again at the next call (perhaps at a new address).

export type PluginKind = 'NetworkDriver' | 'IpamDriver';

interface Active {
  client: PluginClient;
  implements: string[];
}

export class Plugins {
  private readonly active = new Map<string, Active>();

  constructor(private readonly dirs: PluginDirs, private readonly log: (msg: string) => void = () => undefined) {}

  /**
   * The plugin, found and activated; NotFoundError (Docker's 404) when no folder has it.
   * One known not to implement `kind` is asked again first (it may have been replaced).
   */
  async get(name: string, kind: PluginKind): Promise<PluginClient> {
    let a = this.active.get(name);
    if (a && !a.implements.includes(kind)) {
      this.active.delete(name);
      a = undefined;
    }
    if (!a) {
      const address = await discover(name, this.dirs);
      if (!address) throw new NotFoundError(`plugin "${name}" not found`);
      const client = new PluginClient(name, address);
      const answer = await client.call<{ Implements?: unknown }>('Plugin.Activate', undefined);
      const impl = Array.isArray(answer?.Implements) ? answer.Implements.filter((x): x is string => typeof x === 'string') : [];
      a = { client, implements: impl };
      this.active.set(name, a);
      this.log(`plugin ${name} activated at ${describeAddress(address)}: implements ${impl.join(', ') || 'nothing'}`);
    }
    if (!a.implements.includes(kind)) throw new InvalidParameterError(`plugin ${name} does not implement ${kind} (it implements ${a.implements.join(', ') || 'nothing'})`);
    return a.client;
  }

  /**
   * One call to the plugin, within the client's one deadline (which already waits for a
   * plugin that restarts, and activates it again). One that did not answer at all is
   * forgotten, so the next call looks for it afresh (it may have moved).
   */
  async call<T extends object>(name: string, kind: PluginKind, method: string, body: unknown, opts?: CallOptions): Promise<T | undefined> {
    const client = await this.get(name, kind);
    try {
      return await client.call<T>(method, body, opts);
    } catch (err) {
      if (err instanceof PluginError && /nothing answers at/.test(err.message)) this.active.delete(name);
      throw err;
    }
  }

  /** Names of the activated plugins that implement `kind` (`docker info`). */
  names(kind: PluginKind): string[] {
    return [...this.active].filter(([, a]) => a.implements.includes(kind)).map(([n]) => n);
  }
}
