// What one system's run produced: the data the report and the plot are made of.
import type { Icmp6Count } from './dual-stack.js';

export interface Series {
  /** Legend label, e.g. "berth: API create+start". */
  label: string;
  /** samples[i]: the time for container i+1 (i containers already existed); undefined = not sampled. */
  samples: (number | undefined)[];
  /** Plot it (sparse samples such as the CLI sample are only tabulated). */
  plot: boolean;
}

export interface SystemRun {
  system: string;
  /** One sentence: what is timed and how. */
  method: string;
  series: Series[];
  /** Per-container teardown times, in removal order. */
  teardownMs: number[];
  /** Wall time to set up all containers (including the bench's own work between them). */
  createWallMs?: number;
  removeWallMs?: number;
  /** Resident memory of the control plane at the end of set-up, in MB. */
  rssMb?: number;
  rssWhat?: string;
  /** CLI round-trip of `network ls` with all containers present. */
  networkLsMs?: number;
  networkLsWhat?: string;
  /** Leak check after teardown: empty = nothing leaked. */
  leaks?: string[];
  notes: string[];
  /** How many containers it reached (can be fewer than asked: time budget). */
  reached: number;
  /** berth with a dual-stack half: the ICMPv6 its containers sent into each bridge */
  icmp6?: Icmp6Count[];
}

export function emptyRun(system: string, method: string): SystemRun {
  return { system, method, series: [], teardownMs: [], notes: [], reached: 0 };
}
