import type { DriverCaps, NetworkDriver, PredefinedContext, PredefinedNetwork } from '../../driverapi/contract.js';

/** null ("none"): an own network namespace with only lo; nothing to make. */
export class NullDriver implements NetworkDriver<null> {
  readonly name = 'null';
  readonly predefinedName = 'none';
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
