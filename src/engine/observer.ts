import type { NetnsSockets } from '../kernel/types.js';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/records.js';

// What other parts of berth (the embedded DNS, published ports) learn from the engine:
// endpoints coming up and going down, networks appearing and going away. Each call is
// idempotent, so start-up can replay them; an observer that throws on `endpointUp`
// fails the start or connect, which is then undone.

export interface EngineObserver {
  networkUp?(net: NetworkRecord): Promise<void> | void;
  networkDown?(net: NetworkRecord): Promise<void> | void;
  /** the endpoint has its address and its interface in the container's netns */
  endpointUp?(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, isGateway: boolean): Promise<void> | void;
  /** called before the endpoint's address is released */
  endpointDown?(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> | void;
  /**
   * A new sandbox is made for c on these networks: where this observer wants sockets bound
   * inside it (made in the same kernel call as its interfaces, so they cost no round trip
   * of their own), if anywhere. One observer may ask.
   */
  listenIn?(c: ContainerRecord, nets: NetworkRecord[]): { address: string; port: number } | undefined;
  /** the sockets listenIn asked for, bound inside the sandbox at `netns`: the observer owns them now */
  sandboxUp?(c: ContainerRecord, netns: string, sockets: NetnsSockets): Promise<void> | void;
  /** the container's sandbox (netns `netns`, its own) is about to be deleted: anything held inside it is let go */
  sandboxDown?(c: ContainerRecord, netns: string): Promise<void> | void;
  /** the container's own settings changed while it runs (a link removed): views derived from them are redone */
  containerChanged?(c: ContainerRecord): Promise<void> | void;
}

export class Observers {
  private readonly list: EngineObserver[] = [];

  add(o: EngineObserver): void {
    this.list.push(o);
  }

  async networkUp(net: NetworkRecord): Promise<void> {
    for (const o of this.list) await o.networkUp?.(net);
  }

  async networkDown(net: NetworkRecord): Promise<void> {
    for (const o of this.list) await o.networkDown?.(net);
  }

  async endpointUp(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord, isGateway: boolean): Promise<void> {
    for (const o of this.list) await o.endpointUp?.(c, net, ep, isGateway);
  }

  async containerChanged(c: ContainerRecord): Promise<void> {
    for (const o of this.list) await o.containerChanged?.(c);
  }

  /** The one observer that wants sockets in c's new sandbox, and where. */
  listenIn(c: ContainerRecord, nets: NetworkRecord[]): { owner: EngineObserver; at: { address: string; port: number } } | undefined {
    for (const o of this.list) {
      const at = o.listenIn?.(c, nets);
      if (at) return { owner: o, at };
    }
    return undefined;
  }

  /** Best effort: every observer is told, the first error is thrown afterwards. */
  async sandboxDown(c: ContainerRecord, netns: string): Promise<void> {
    let first: unknown;
    for (const o of this.list) {
      try {
        await o.sandboxDown?.(c, netns);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }

  /** Best effort: every observer is told, the first error is thrown afterwards. */
  async endpointDown(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> {
    let first: unknown;
    for (const o of this.list) {
      try {
        await o.endpointDown?.(c, net, ep);
      } catch (err) {
        first ??= err;
      }
    }
    if (first) throw first;
  }
}
