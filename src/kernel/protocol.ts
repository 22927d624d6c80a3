import type { FailureReply } from './failure.js';

// Messages between the main thread (client.ts) and the kernel worker (worker.ts).

export interface KernelRequest {
  id: number;
  op: string;
  args: unknown[];
}

export type KernelReply =
  | { id: number; result: unknown }
  | { id: number; error: FailureReply }
  /** sent once, after the worker loaded its libraries and opened its home netns */
  | { ready: true };
