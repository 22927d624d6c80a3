import type { Kernel } from '../kernel/types.js';
import { ipv4Of, type ContainerRecord, type EndpointRecord, type NetworkRecord } from '../store/records.js';
import type { EngineObserver } from './observer.js';

// The kernel's IPv4 neighbour (ARP) table is one table for all network namespaces, capped
// by net.ipv4.neigh.default.gc_thresh3 (1024 by default). Past the cap the kernel drops
// entries ("neighbour table overflow") and containers lose each other for no visible
// reason. This observer counts bridge endpoints as they come and go, estimates the
// entries they need, and says so once when the estimate crosses the cap and again at
// each doubling. The sysctls exist only in the host's initial netns: anywhere else the
// limit is unknown and nothing is reported.

export const GC_THRESH3 = 'net.ipv4.neigh.default.gc_thresh3';
const GC_THRESH2 = 'net.ipv4.neigh.default.gc_thresh2';
const GC_THRESH1 = 'net.ipv4.neigh.default.gc_thresh1';

export interface NeighbourThresholds {
  gcThresh1: number;
  gcThresh2: number;
  gcThresh3: number;
}

/** Where the limit lives; a fake in unit tests. */
export interface NeighbourSysctls {
  /** gc_thresh3, or undefined where the sysctl does not exist (not the initial netns) */
  readLimit(): Promise<number | undefined>;
  write(t: NeighbourThresholds): Promise<void>;
}

export interface NeighbourStatus {
  /** gc_thresh3; undefined when berthd cannot see it */
  limit?: number;
  /** entries the bridge endpoints need, roughly */
  estimate: number;
  containers: number;
  over: boolean;
}

export type NeighbourMode = 'report' | 'auto';

export function kernelNeighbourSysctls(kernel: Kernel): NeighbourSysctls {
  return {
    async readLimit() {
      const v = await kernel.readSysctl(GC_THRESH3).catch(() => undefined);
      const n = v === undefined ? NaN : Number(v.trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    },
    async write(t) {
      // raise the hard cap first, so the three never pass through an inverted order
      await kernel.writeSysctl(GC_THRESH3, String(t.gcThresh3));
      await kernel.writeSysctl(GC_THRESH2, String(t.gcThresh2));
      await kernel.writeSysctl(GC_THRESH1, String(t.gcThresh1));
    },
  };
}

/** Entries needed: the host's entry for each endpoint on its bridge, the endpoint's own for its gateway or peers, one per bridge. */
export function estimateEntries(endpoints: number, bridges: number): number {
  return 2 * endpoints + bridges;
}

/** A cap with headroom for `estimate`: a power of two, at least twice the current one; gc_thresh1/2 keep the kernel's default ratios. */
export function suggestThresholds(estimate: number, limit: number): NeighbourThresholds {
  let t3 = 1024;
  while (t3 < Math.max(Math.ceil(estimate * 1.25), limit * 2)) t3 *= 2;
  return { gcThresh3: t3, gcThresh2: t3 / 2, gcThresh1: t3 / 8 };
}

export class NeighbourLimit implements EngineObserver {
  private readonly endpoints = new Set<string>();
  private readonly bridges = new Set<string>();
  /** bridge endpoints per container, to report containers rather than endpoints */
  private readonly perContainer = new Map<string, number>();
  private limit: number | undefined;
  /** the highest limit·2^k already warned about; 0 while nothing was said */
  private warnedLevel = 0;
  /** concurrent starts that cross together share one check and one warning */
  private crossing: Promise<void> | undefined;

  constructor(
    private readonly sysctls: NeighbourSysctls,
    private readonly log: (msg: string) => void,
    private readonly mode: NeighbourMode = 'report',
    /** whether a network's endpoints are neighbours of the host (its driver's hostNeighbours capability) */
    private readonly isHostNeighbour: (net: NetworkRecord) => boolean = () => true,
  ) {}

  /** Reads the limit (start-up, and whenever the estimate reaches it). */
  async refresh(): Promise<void> {
    const limit = await this.sysctls.readLimit();
    if (limit !== this.limit) this.warnedLevel = 0;
    this.limit = limit;
  }

  networkUp(net: NetworkRecord): void {
    if (this.isHostNeighbour(net)) this.bridges.add(net.id);
  }

  networkDown(net: NetworkRecord): void {
    this.bridges.delete(net.id);
  }

  /** O(1) unless the estimate just crossed the next warning level. */
  endpointUp(c: ContainerRecord, net: NetworkRecord, ep: EndpointRecord): Promise<void> | void {
    if (!this.isHostNeighbour(net) || !ipv4Of(ep) || this.endpoints.has(ep.id)) return;
    this.endpoints.add(ep.id);
    this.perContainer.set(c.id, (this.perContainer.get(c.id) ?? 0) + 1);
    if (this.limit !== undefined && this.estimate() > this.nextLevel()) return this.check();
  }

  endpointDown(c: ContainerRecord, _net: NetworkRecord, ep: EndpointRecord): void {
    if (!this.endpoints.delete(ep.id)) return;
    const n = (this.perContainer.get(c.id) ?? 1) - 1;
    if (n > 0) this.perContainer.set(c.id, n);
    else this.perContainer.delete(c.id);
    // re-arm only well below the cap, so a host hovering at it does not repeat itself
    if (this.warnedLevel && this.limit !== undefined && this.estimate() <= this.limit / 2) this.warnedLevel = 0;
  }

  status(): NeighbourStatus {
    const estimate = this.estimate();
    return { limit: this.limit, estimate, containers: this.perContainer.size, over: this.limit !== undefined && estimate > this.limit };
  }

  /** For GET /info: one Docker-style warning while over the limit; re-reads it first, in case it was raised. */
  async warnings(): Promise<string[]> {
    if (!this.status().over) return [];
    await this.refresh();
    return this.status().over ? [`WARNING: ${this.message()}`] : [];
  }

  private estimate(): number {
    return estimateEntries(this.endpoints.size, this.bridges.size);
  }

  private nextLevel(): number {
    return this.warnedLevel ? this.warnedLevel * 2 : (this.limit ?? Infinity);
  }

  /** Never throws: a warning must not fail a container start. */
  private check(): Promise<void> {
    this.crossing ??= this.crossed()
      .catch((err: Error) => this.log(`neighbour table: check failed: ${err.message}`))
      .finally(() => (this.crossing = undefined));
    return this.crossing;
  }

  private async crossed(): Promise<void> {
    await this.refresh();
    const limit = this.limit;
    const estimate = this.estimate();
    if (limit === undefined || estimate <= limit) return;
    let level = limit;
    while (level * 2 < estimate) level *= 2;
    this.warnedLevel = level;
    if (this.mode === 'auto' && (await this.raise(limit, estimate))) return;
    this.log(this.message());
  }

  /** --neigh-gc-thresh3=auto: only where the sysctl was readable, i.e. the host's own netns. */
  private async raise(limit: number, estimate: number): Promise<boolean> {
    const t = suggestThresholds(estimate, limit);
    try {
      await this.sysctls.write(t);
    } catch (err) {
      this.log(`neighbour table: cannot raise ${GC_THRESH3} to ${t.gcThresh3}: ${(err as Error).message}`);
      return false;
    }
    this.limit = t.gcThresh3;
    this.warnedLevel = 0;
    this.log(`neighbour table: ~${fmt(estimate)} entries needed by ${fmt(this.perContainer.size)} containers, above ${GC_THRESH3}=${limit}; raised it to ${t.gcThresh3} (gc_thresh2=${t.gcThresh2}, gc_thresh1=${t.gcThresh1})`);
    return true;
  }

  private message(): string {
    const limit = this.limit ?? 0;
    const estimate = this.estimate();
    const t = suggestThresholds(estimate, limit);
    return (
      `neighbour table: ~${fmt(estimate)} entries needed by ${fmt(this.perContainer.size)} containers, above ${GC_THRESH3}=${limit}; ` +
      `raise it: sysctl -w ${GC_THRESH3}=${t.gcThresh3} ${GC_THRESH2}=${t.gcThresh2} ${GC_THRESH1}=${t.gcThresh1}`
    );
  }
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
