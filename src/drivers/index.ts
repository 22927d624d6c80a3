import type { DriverFactory } from '../driverapi/registry.js';
import { BridgeDriver } from './bridge/driver.js';
import { HostDriver } from './host/driver.js';
import { berthBridgeByName, MacvlanDriver } from './macvlan/driver.js';
import { NullDriver } from './null/driver.js';
import { OverlayDriver } from './overlay/driver.js';
import { PtpDriver } from './ptp/driver.js';
import { DEFAULT_BRIDGE_NAME } from '../engine/config.js';

/** Every built-in driver, by the name users pass to `network create -d`. */
export const builtinDrivers: Record<string, DriverFactory> = {
  bridge: (ctx) => new BridgeDriver(ctx),
  host: () => new HostDriver(),
  null: () => new NullDriver(),
  macvlan: (ctx) => new MacvlanDriver(ctx.kernel, berthBridgeByName(ctx.config.bridge || DEFAULT_BRIDGE_NAME), ctx.config.execRoot),
  ptp: (ctx) => new PtpDriver(ctx.kernel, ctx.config.execRoot),
  overlay: (ctx) => new OverlayDriver(ctx),
};
