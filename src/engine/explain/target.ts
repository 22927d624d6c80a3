import { isIpAddress } from '../../util/ip-family.js';
import { InvalidParameterError } from '../../util/errors.js';

// The two ends `berth explain` is asked about, as the user writes them:
//   c1  c1:80  c1:53/udp  host  host:8080  host:127.0.0.1  host:127.0.0.1:8081
//   host:[::1]:8080  lan:198.18.0.2  internet:203.0.113.10:443/tcp

export type EndKind = 'container' | 'host' | 'lan' | 'internet';

export interface End {
  kind: EndKind;
  /** the container's name or id */
  name?: string;
  /** an address given with host:, lan: or internet: */
  addr?: string;
  port?: number;
  proto?: 'tcp' | 'udp';
}

/** Parses one end; `withPort`: the destination may carry :PORT[/tcp|udp]. */
export function parseEnd(text: string, withPort: boolean): End {
  const what = withPort ? 'destination' : 'source';
  const bad = (why: string) => new InvalidParameterError(`invalid ${what} ${JSON.stringify(text)}: ${why}`);
  if (!text) throw bad('empty');
  let rest = text;
  let proto: End['proto'];
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    if (!withPort) throw bad('a source has no port');
    const p = rest.slice(slash + 1);
    if (p !== 'tcp' && p !== 'udp') throw bad(`protocol must be tcp or udp, not ${JSON.stringify(p)}`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  const colon = rest.indexOf(':');
  const head = colon < 0 ? rest : rest.slice(0, colon);
  let tail = colon < 0 ? undefined : rest.slice(colon + 1);
  const kind: EndKind = head === 'host' || head === 'lan' || head === 'internet' ? head : 'container';
  const end: End = { kind };
  if (kind === 'container') {
    if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(head)) throw bad('expected a container name, host, host:IP, lan:IP or internet:IP');
    end.name = head;
    if (tail !== undefined) end.port = portOf(tail, bad, withPort);
  } else if (tail !== undefined) {
    // host:IP, host:IP:PORT, host:[v6]:PORT, host:PORT
    let addr = tail;
    let port: string | undefined;
    if (tail.startsWith('[')) {
      const close = tail.indexOf(']');
      if (close < 0) throw bad('unclosed [');
      addr = tail.slice(1, close);
      const after = tail.slice(close + 1);
      if (after) {
        if (!after.startsWith(':')) throw bad('expected :PORT after ]');
        port = after.slice(1);
      }
    } else if (isIpAddress(tail)) {
      addr = tail;
    } else {
      const last = tail.lastIndexOf(':');
      if (last >= 0 && isIpAddress(tail.slice(0, last))) [addr, port] = [tail.slice(0, last), tail.slice(last + 1)];
      else if (kind === 'host' && /^\d+$/.test(tail)) [addr, port] = ['', tail];
      else throw bad(`${JSON.stringify(tail)} is not an IP address`);
    }
    if (addr) {
      if (!isIpAddress(addr)) throw bad(`${JSON.stringify(addr)} is not an IP address`);
      end.addr = addr;
    }
    if (port !== undefined) end.port = portOf(port, bad, withPort);
  }
  if ((kind === 'lan' || kind === 'internet') && !end.addr) throw bad(`${kind} needs an address (${kind}:IP)`);
  if (proto) {
    if (end.port === undefined) throw bad('a protocol needs a port');
    end.proto = proto;
  }
  return end;
}

function portOf(text: string, bad: (why: string) => Error, allowed: boolean): number {
  if (!allowed) throw bad('a source has no port');
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw bad(`port must be 1-65535, not ${JSON.stringify(text)}`);
  return n;
}
