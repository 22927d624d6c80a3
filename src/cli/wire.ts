import type { Duplex } from 'node:stream';

// One request/answer with berthd, HTTP/1.1 spoken by hand over a fresh connection (the
// unix socket, TCP, or TLS):
// "Connection: close", then read to the end; or an upgrade (attach, exec), the connection
// itself once berthd answers 101. Loading node:http and running its first request costs a
// CLI run ~10 ms more than node:net does, and most commands are one or two short JSON
// calls, or an exec. Streams (logs, import) use node:http.

export interface WireResponse {
  status: number;
  /** lower-case names */
  headers: Record<string, string>;
  body: string;
}

/** Sends one request on `socket` and resolves with the whole answer once the daemon closes. */
export function exchange(socket: Duplex, method: string, path: string, headers: Record<string, string>, payload?: string): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('error', reject);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => {
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err);
      }
    });
    // No half-close: node's server would drop a request whose sender ended first.
    socket.write(requestHead(method, path, headers) + (payload ?? ''));
  });
}

/**
 * Sends an upgrade request ("Connection: Upgrade", "Upgrade: tcp") on `socket`; resolves
 * with the socket once berthd answers 101, handed over as node:http hands an upgraded one:
 * what came after the answer's head put back, no listener of ours left, neither flowing
 * nor paused. Any other answer is read whole and resolves as a WireResponse.
 */
export function upgrade(socket: Duplex, method: string, path: string, headers: Record<string, string>, payload?: string): Promise<Duplex | WireResponse> {
  return new Promise((resolve, reject) => {
    let raw: Buffer = Buffer.alloc(0);
    const done = (value: Duplex | WireResponse) => {
      // removing the last 'readable' listener leaves the stream as fresh (readableFlowing null)
      socket.off('readable', onReadable).off('end', onEnd).off('error', reject);
      resolve(value);
    };
    const onReadable = () => {
      for (let c: Buffer | null; (c = socket.read() as Buffer | null) !== null; ) raw = raw.length ? Buffer.concat([raw, c]) : c;
      const end = raw.indexOf('\r\n\r\n');
      if (end < 0) return;
      if (statusOf(raw.subarray(0, end).toString('latin1').split('\r\n')[0]) === 101) {
        if (raw.length > end + 4) socket.unshift(raw.subarray(end + 4));
        return done(socket);
      }
      const answer = wholeAnswer(raw);
      if (answer) done(answer);
    };
    const onEnd = () => {
      try {
        done(parseResponse(raw));
      } catch (err) {
        reject(err);
      }
    };
    socket.on('readable', onReadable).on('end', onEnd).on('error', reject);
    socket.write(requestHead(method, path, { ...headers, Upgrade: 'tcp' }, 'Upgrade') + (payload ?? ''));
  });
}

/** A non-upgrade answer once its body is all there (a length or chunks say where it ends); else undefined. */
function wholeAnswer(raw: Buffer): WireResponse | undefined {
  try {
    const res = parseResponse(raw);
    return res.headers['content-length'] !== undefined || /chunked/i.test(res.headers['transfer-encoding'] ?? '') ? res : undefined;
  } catch (err) {
    if ((err as { code?: string }).code === 'ECONNRESET') return undefined;
    throw err;
  }
}

function statusOf(statusLine: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
}

function requestHead(method: string, path: string, headers: Record<string, string>, connection = 'close'): string {
  const lines = [`${method} ${path} HTTP/1.1`, 'Host: localhost', `Connection: ${connection}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** What node:http reports when the connection closes before a whole answer. */
function hangUp(message: string): Error {
  return Object.assign(new Error(message), { code: 'ECONNRESET' });
}

export function parseResponse(raw: Buffer): WireResponse {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) throw hangUp('socket hang up');
  const [statusLine, ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = statusOf(statusLine);
  if (!status) throw new Error(`bad answer from the daemon: ${statusLine}`);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body);
  else if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (body.length < length) throw hangUp('aborted');
    body = body.subarray(0, length);
  }
  return { status, headers, body: body.toString('utf8') };
}

/** Transfer-Encoding: chunked → the bytes it carries. */
function dechunk(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', pos);
    if (lineEnd < 0) throw hangUp('aborted');
    const size = parseInt(data.subarray(pos, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) throw new Error('bad chunked answer from the daemon');
    if (size === 0) return Buffer.concat(parts);
    if (lineEnd + 2 + size > data.length) throw hangUp('aborted');
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
}
