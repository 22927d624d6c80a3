import { EventEmitter } from 'node:events';
import type { ContainerRecord, EndpointRecord, NetworkRecord } from '../store/records.js';
import type { EngineObserver } from './observer.js';

// Docker-shaped events (`/events`, `docker events`): what happened to which object.

export interface BerthEvent {
  Type: 'container' | 'network';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

export class EventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  publish(type: BerthEvent['Type'], action: string, id: string, attributes: Record<string, string>): void {
    const now = Date.now();
    const ev: BerthEvent = { Type: type, Action: action, Actor: { ID: id, Attributes: attributes }, scope: 'local', time: Math.floor(now / 1000), timeNano: now * 1e6 };
    this.emitter.emit('event', ev);
  }

  /** Returns the function that unsubscribes. */
  subscribe(fn: (ev: BerthEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

/** A container event's attributes as dockerd gives them: its labels, image and name. */
export function containerAttributes(c: ContainerRecord): Record<string, string> {
  return { ...c.config.labels, image: c.config.image, name: c.name };
}

/** Docker's network connect/disconnect events, for every endpoint that comes up or goes down. */
export function endpointEvents(bus: EventBus): EngineObserver {
  const attrs = (c: ContainerRecord, net: NetworkRecord) => ({ container: c.id, name: net.name, type: net.driver });
  return {
    endpointUp: (c: ContainerRecord, net: NetworkRecord) => bus.publish('network', 'connect', net.id, attrs(c, net)),
    endpointDown: (c: ContainerRecord, net: NetworkRecord, _ep: EndpointRecord) => bus.publish('network', 'disconnect', net.id, attrs(c, net)),
  };
}
