import type { NetworkDriver } from '../../engine/driver.js';
import { InvalidParameterError } from '../../util/errors.js';

/** host: containers use the daemon's own network namespace; nothing to make. */
export class HostDriver implements NetworkDriver {
  readonly name = 'host';
  readonly multiInstance = false;
  readonly needsIpam = false;
  prepare(): void {}
  async createNetwork(): Promise<void> {}
  async deleteNetwork(): Promise<void> {}
  async join(): Promise<void> {
    throw new InvalidParameterError('a container cannot be connected to the host network; use --network host');
  }
  async leave(): Promise<void> {}
}
