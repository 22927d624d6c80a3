import type { Kernel } from '../kernel/types.js';
import type { Firewall } from '../drivers/bridge/firewall.js';
import type { DaemonConfig } from '../engine/config.js';
import type { NetworkDriver } from './contract.js';
import { NotFoundError } from '../util/errors.js';

// Drivers by the name users pass to `network create -d`. Built-in drivers are registered
// at start-up (src/drivers/index.ts); a driver found later (a plugin) registers the same way.

export interface DriverContext {
  kernel: Kernel;
  firewall: Firewall;
  config: DaemonConfig;
}

export type DriverFactory = (ctx: DriverContext) => NetworkDriver;

export class DriverRegistry {
  private readonly drivers = new Map<string, NetworkDriver>();

  constructor(private readonly ctx: DriverContext, factories: Record<string, DriverFactory> = {}) {
    for (const [name, make] of Object.entries(factories)) this.register(name, make);
  }

  register(name: string, make: DriverFactory): void {
    this.drivers.set(name, make(this.ctx));
  }

  get(name: string): NetworkDriver | undefined {
    return this.drivers.get(name);
  }

  /** The driver, or Docker's 404 for an unknown one. */
  find(name: string): NetworkDriver {
    const d = this.drivers.get(name);
    if (!d) throw new NotFoundError(`plugin "${name}" not found`);
    return d;
  }

  names(): string[] {
    return [...this.drivers.keys()];
  }

  all(): NetworkDriver[] {
    return [...this.drivers.values()];
  }
}
