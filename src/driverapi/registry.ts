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

/** A driver that is a plugin (src/drivers/remote/): made by name, activated before it serves. */
export type PluginDriver = NetworkDriver & { activate(): Promise<void> };

export class DriverRegistry {
  private readonly drivers = new Map<string, NetworkDriver>();
  /** makes the driver of a plugin by name (set when berthd may load plugins) */
  plugin: ((name: string) => PluginDriver) | undefined;

  constructor(private readonly ctx: DriverContext, factories: Record<string, DriverFactory> = {}) {
    for (const [name, make] of Object.entries(factories)) this.register(name, make);
  }

  register(name: string, make: DriverFactory): void {
    this.drivers.set(name, make(this.ctx));
  }

  get(name: string): NetworkDriver | undefined {
    return this.drivers.get(name);
  }

  /**
   * The driver of that name, a plugin's found and activated first (`network create -d
   * PLUGIN`): registered only once it answered, so a wrong name leaves nothing behind.
   */
  async resolve(name: string): Promise<NetworkDriver> {
    const known = this.drivers.get(name);
    if (known || !this.plugin) return this.find(name);
    const d = this.plugin(name);
    await d.activate();
    this.drivers.set(name, d);
    return d;
  }

  /** A plugin's driver for networks stored with it (start-up): registered now, the plugin activated at its first call. */
  adoptPlugin(name: string): NetworkDriver | undefined {
    if (this.drivers.has(name) || !this.plugin) return this.drivers.get(name);
    const d = this.plugin(name);
    this.drivers.set(name, d);
    return d;
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
