import { InvalidParameterError } from './errors.js';

/** An MTU given as text (--mtu, com.docker.network.driver.mtu): an integer 68..65535. */
export function parseMtu(value: string): number {
  const mtu = Number(value);
  if (!/^\d+$/.test(value) || mtu < 68 || mtu > 65535) {
    throw new InvalidParameterError(`invalid MTU "${value}": it must be an integer between 68 and 65535`);
  }
  return mtu;
}
