import type { DriverCaps, NetworkDriver, PredefinedContext, PredefinedNetwork } from '../../driverapi/contract.js';

/** host: containers use the daemon's own network namespace; nothing to make. */
export class HostDriver implements NetworkDriver<null> {
  readonly name = 'host';
  readonly predefinedName = 'host';
  readonly caps: DriverCaps = { scope: 'local', multiInstance: false, ipam: false, publishesPorts: false, reservesGateway: false, hostNeighbours: false };
  parseConfig(): null {
    return null;
  }
  async createNetwork(): Promise<void> {}
  async deleteNetwork(): Promise<void> {}
  planEndpoint(): null {
    return null;
  }
  async predefined(ctx: PredefinedContext): Promise<PredefinedNetwork | undefined> {
    return ctx.existing ? undefined : {};
  }
}
