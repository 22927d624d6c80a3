import type { NetworkDriver } from '../../engine/driver.js';

/** null ("none"): an own network namespace with only lo; nothing to make. */
export class NullDriver implements NetworkDriver {
  readonly name = 'null';
  readonly multiInstance = false;
  readonly needsIpam = false;
  prepare(): void {}
  async createNetwork(): Promise<void> {}
  async deleteNetwork(): Promise<void> {}
  async join(): Promise<void> {}
  async leave(): Promise<void> {}
}
