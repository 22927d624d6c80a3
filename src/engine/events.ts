import { EventEmitter } from 'node:events';

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
