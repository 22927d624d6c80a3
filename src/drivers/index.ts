import type { DriverFactory } from '../driverapi/registry.js';
import { BridgeDriver } from './bridge/driver.js';
import { HostDriver } from './host/driver.js';
import { NullDriver } from './null/driver.js';

/** Every built-in driver, by the name users pass to `network create -d`. */
export const builtinDrivers: Record<string, DriverFactory> = {
  bridge: (ctx) => new BridgeDriver(ctx),
  host: () => new HostDriver(),
  null: () => new NullDriver(),
};
