import { parentPort } from 'node:worker_threads';
import { OpError, toReply } from './failure.js';
import { initHomeNetns } from './netns.js';
import { ops, type OpName } from './ops.js';
import type { KernelReply, KernelRequest } from './protocol.js';

// The kernel worker thread: every blocking syscall and every netns switch of berth runs
// here, one request at a time, so the main event loop never blocks and never changes
// netns. Requests are handled synchronously, in arrival order.

if (!parentPort) throw new Error('kernel worker must run as a worker_thread');
const port = parentPort;

initHomeNetns();

function run(req: KernelRequest): unknown {
  if (!Object.hasOwn(ops, req.op)) throw new OpError(`unknown kernel operation ${req.op}`, 'ENOSYS', 38);
  const fn = ops[req.op as OpName] as (...args: unknown[]) => unknown;
  return fn(...req.args);
}

port.on('message', (req: KernelRequest) => {
  let reply: KernelReply;
  try {
    reply = { id: req.id, result: run(req) };
  } catch (e) {
    reply = { id: req.id, error: toReply(e) };
  }
  port.postMessage(reply);
});

port.postMessage({ ready: true } satisfies KernelReply);
