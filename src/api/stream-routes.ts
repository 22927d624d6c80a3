import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { Duplex, Writable } from 'node:stream';
import type { Controller } from '../engine/controller.js';
import { encodeFrame } from '../runtime/log-stream.js';
import { ConflictError, NotFoundError } from '../util/errors.js';
import { bool, obj, str, strList } from './parse.js';
import { peerHasRead } from './peer-read.js';
import { queryBool, type Reply, type Router } from './router.js';
import { commonHeaders } from './server.js';

// Streams: logs, attach and exec. Attach and exec hijack the connection (Upgrade: tcp,
// 101) like dockerd; output uses Docker's multiplexed framing unless the process has a TTY.

interface ExecRecord {
  id: string;
  containerId: string;
  argv: string[];
  env: string[];
  workdir?: string;
  tty: boolean;
  stdin: boolean;
  privileged: boolean;
  running: boolean;
  exitCode: number | null;
  pid: number;
  child?: ChildProcess;
}

/** how long an exec waits for its client to read the 101 before the process starts anyway */
const HEADERS_READ_MAX_MS = 500;

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

export function streamRoutes(router: Router, ctl: Controller): void {
  const { state } = ctl;
  const execs = new Map<string, ExecRecord>();

  router.add('GET', '/containers/{id}/logs', (req, { res }) => {
    const c = state.findContainer(req.params.id);
    const follow = queryBool(req.query, 'follow') && c.state.status === 'running';
    const stream = ctl.containers.logStream(c, {
      follow,
      stdout: queryBool(req.query, 'stdout'),
      stderr: queryBool(req.query, 'stderr'),
      tail: req.query.get('tail') ?? 'all',
      raw: c.config.tty,
      until: follow ? ctl.containers.exitOf(c.id) : undefined,
    });
    res.writeHead(200, { ...commonHeaders(), 'Content-Type': c.config.tty ? RAW : MUX });
    stream.pipe(res);
    res.on('close', () => stream.destroy());
  });

  router.add('POST', '/containers/{id}/attach', (req, reply) => {
    const c = state.findContainer(req.params.id);
    const socket = upgrade(reply, c.config.tty);
    const output = ctl.containers.logStream(c, {
      follow: true,
      stdout: queryBool(req.query, 'stdout'),
      stderr: queryBool(req.query, 'stderr'),
      tail: 'all',
      raw: c.config.tty,
      until: c.state.status === 'running' ? ctl.containers.exitOf(c.id) : ctl.containers.nextExit(c.id),
    });
    output.pipe(socket);
    if (queryBool(req.query, 'stdin') && c.config.openStdin) {
      // attach comes before start: hold the client's input until there is a process to take it
      socket.pause();
      const running = c.state.status === 'running' ? Promise.resolve() : ctl.containers.nextStart(c.id);
      void running.then(() => {
        socket.on('data', (d: Buffer) => ctl.containers.writeStdin(c, d));
        socket.on('end', () => ctl.containers.closeStdin(c));
        socket.resume();
      });
    }
    socket.on('close', () => output.destroy());
  });

  router.add('POST', '/containers/{id}/resize', (req) => {
    const c = state.findContainer(req.params.id);
    ctl.containers.resizeTty(c, Number(req.query.get('h')), Number(req.query.get('w')));
    return { status: 200 };
  });

  router.add('POST', '/containers/{id}/exec', async (req) => {
    const c = state.findContainer(req.params.id);
    if (c.state.status !== 'running') throw new ConflictError(`Container ${c.id} is not running`);
    const body = obj(await req.body(), 'body');
    const e: ExecRecord = {
      id: randomBytes(32).toString('hex'),
      containerId: c.id,
      argv: strList(body, 'Cmd'),
      env: strList(body, 'Env'),
      workdir: str(body, 'WorkingDir'),
      tty: bool(body, 'Tty'),
      stdin: bool(body, 'AttachStdin'),
      privileged: bool(body, 'Privileged'),
      running: false,
      exitCode: null,
      pid: 0,
    };
    if (!e.argv.length) throw new ConflictError('No exec command specified');
    execs.set(e.id, e);
    return { status: 201, body: { Id: e.id } };
  });

  router.add('POST', '/exec/{id}/start', async (req, reply) => {
    const e = execs.get(req.params.id);
    if (!e) throw new NotFoundError(`No such exec instance: ${req.params.id}`);
    const c = state.findContainer(e.containerId);
    if (c.state.status !== 'running') throw new ConflictError(`Container ${c.id} is not running`);
    const body = obj(await req.body(), 'body');
    const detach = bool(body, 'Detach');
    // As dockerd, the 101 goes out before the process starts: a client that reads the
    // headers through a buffer (docker-py, so compose) swallowed a quick first output.
    const socket = detach ? undefined : upgrade(reply, e.tty);
    // stdin the client sends meanwhile (even its end) is kept until the process has a stdin
    const input = socket && new ClientInput(socket);
    // and is handed to the kernel, and read by the client (peer-read.ts), before the first output can follow it
    if (socket) {
      await new Promise<void>((resolve) => socket.write('', () => resolve()));
      await peerHasRead(socket, HEADERS_READ_MAX_MS);
    }
    let child: ChildProcess;
    try {
      child = ctl.containers.exec(c, { argv: e.argv, env: e.env, workdir: e.workdir, tty: e.tty, interactive: e.stdin, privileged: e.privileged });
    } catch (err) {
      if (!socket) throw err;
      // past the 101 the error can only go into the stream, as dockerd writes it
      socket.end(e.tty ? `${(err as Error).message}\r\n` : encodeFrame(1, Buffer.from(`${(err as Error).message}\r\n`)));
      return;
    }
    e.running = true;
    e.pid = child.pid ?? 0;
    e.child = child;
    const finished = new Promise<void>((resolve) => child.on('close', (code, signal) => {
      e.running = false;
      e.exitCode = code ?? (signal ? 128 + signalNumber(signal) : 255);
      resolve();
    }));
    if (!socket) return { status: 200 };
    relayExec(child, socket, input!, e, finished);
  });

  router.add('GET', '/exec/{id}/json', (req) => {
    const e = execs.get(req.params.id);
    if (!e) throw new NotFoundError(`No such exec instance: ${req.params.id}`);
    return { status: 200, body: { ID: e.id, ContainerID: e.containerId, Running: e.running, ExitCode: e.exitCode, Pid: e.pid, OpenStdin: e.stdin, ProcessConfig: { tty: e.tty, entrypoint: e.argv[0], arguments: e.argv.slice(1), privileged: e.privileged } } };
  });

  router.add('POST', '/exec/{id}/resize', (req) => {
    const e = execs.get(req.params.id);
    if (!e) throw new NotFoundError(`No such exec instance: ${req.params.id}`);
    if (e.child && e.running) ctl.containers.resizeExec(e.child, Number(req.query.get('h')), Number(req.query.get('w')));
    return { status: 200 };
  });
}

/** Answers 101 (or 200 for clients that did not ask to upgrade) and returns the raw socket. */
function upgrade(reply: Reply, tty: boolean): Duplex {
  const headers = { ...commonHeaders(), 'Content-Type': tty ? RAW : MUX };
  if (reply.hijack) {
    reply.res.writeHead(101, { ...headers, Connection: 'Upgrade', Upgrade: 'tcp' });
    // the server paused it once the request body was taken off (server.ts upgradeBody);
    // the caller attaches its 'data' listener in this same tick, so nothing is lost
    return reply.hijack.resume();
  }
  reply.res.writeHead(200, headers);
  reply.res.flushHeaders();
  return reply.res.socket as Duplex;
}

function relayExec(child: ChildProcess, socket: Duplex, input: ClientInput, e: ExecRecord, finished: Promise<void>): void {
  const frame = (stream: 1 | 2) => (d: Buffer) => void socket.write(e.tty ? d : encodeFrame(stream, d));
  child.stdout?.on('data', frame(1));
  child.stderr?.on('data', frame(2));
  if (e.stdin && child.stdin) input.pipeTo(child.stdin);
  else {
    child.stdin?.end();
    input.pipeTo(undefined);
  }
  socket.on('error', () => undefined);
  void finished.then(() => socket.end());
}

/**
 * What the client sends on a hijacked connection, listened to from the 101 on: kept until
 * the process has a stdin, then passed on as it comes. (Pausing the socket instead lost a
 * client's early end: Node did not emit 'end' after a pause, a resume and a pause.)
 */
class ClientInput {
  private kept: Buffer[] | undefined = [];
  private ended = false;
  private sink: Writable | undefined;

  constructor(socket: Duplex) {
    socket.on('data', (d: Buffer) => {
      if (this.sink) this.sink.write(d);
      else this.kept?.push(d);
    });
    socket.on('end', () => {
      if (this.sink) this.sink.end();
      else this.ended = true;
    });
  }

  /** Everything so far into `stdin`, then the rest as it comes; undefined: read and dropped (no -i). */
  pipeTo(stdin: Writable | undefined): void {
    const kept = this.kept ?? [];
    this.kept = undefined;
    if (!stdin) return;
    for (const d of kept) stdin.write(d);
    if (this.ended) stdin.end();
    else this.sink = stdin;
  }
}

function signalNumber(sig: string): number {
  const map: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return map[sig] ?? 0;
}

