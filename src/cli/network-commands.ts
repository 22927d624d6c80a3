import type { Command } from 'commander';
import type { Client } from './client.js';
import { inspectEach, printList } from './output.js';
import { collect, eachName, keyValues, filtersParam } from './args.js';
import { compareNames } from './name-order.js';
import { anyCidrContains, anyCidrInside, anyCidrOverlaps, tryCanonicalCidr } from '../util/ip-family.js';

// `berth network …`: the same subcommands, flags and output as `docker network …`.

interface NetworkJson {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
  EnableIPv6?: boolean;
  Labels: Record<string, string>;
  Created: string;
}

export function networkCommands(program: Command, client: () => Client): void {
  const net = program.command('network').description('Manage networks');

  net.command('create')
    .description('Create a network')
    .argument('<name>')
    .option('-d, --driver <driver>', 'driver to manage the network', 'bridge')
    .option('--subnet <cidr>', 'subnet in CIDR format', collect, [])
    .option('--gateway <ip>', 'gateway for the subnet', collect, [])
    .option('--ip-range <cidr>', 'allocate container addresses from a sub-range', collect, [])
    .option('--aux-address <name=ip>', 'auxiliary addresses used by the driver', collect, [])
    .option('--internal', 'restrict external access to the network', false)
    .option('--attachable', 'enable manual container attachment', false)
    .option('--ipv6', 'enable IPv6 networking', false)
    .option('--ipv4 [bool]', 'enable IPv4 networking (--ipv4=false: IPv6 only)', boolFlag, true)
    .option('--ipam-driver <driver>', 'IP address management driver', 'default')
    .option('--label <k=v>', 'set metadata on the network', collect, [])
    .option('-o, --opt <k=v>', 'set driver specific options', collect, [])
    .action(async (name: string, o) => {
      const res = await client().call('POST', '/networks/create', {
        Name: name,
        Driver: o.driver,
        Internal: o.internal,
        Attachable: o.attachable,
        EnableIPv6: o.ipv6,
        // only when turned off, so a daemon that predates the field sees the request it knows
        ...(o.ipv4 ? {} : { EnableIPv4: false }),
        IPAM: { Driver: o.ipamDriver, Config: ipamConfig(o.subnet, o.gateway, o.ipRange, o.auxAddress), Options: {} },
        Options: keyValues(o.opt, '--opt'),
        Labels: keyValues(o.label, '--label'),
      });
      process.stdout.write((res.body as { Id: string }).Id + '\n');
    });

  net.command('ls')
    .alias('list')
    .description('List networks')
    .option('-q, --quiet', 'only display network IDs', false)
    .option('-f, --filter <k=v>', 'filter output (name=, driver=, id=, label=, scope=, type=custom|builtin, dangling=true)', collect, [])
    .option('--format <fmt>', 'format output: table, json, or a Go template')
    .option('--no-trunc', 'do not truncate the output')
    .action(async (o) => {
      const list = (await client().call('GET', `/networks${filtersParam(o.filter)}`)).body as NetworkJson[];
      list.sort((a, b) => compareNames(a.Name, b.Name));
      await printList(list.map((n) => ({
        ID: o.trunc === false ? n.Id : n.Id.slice(0, 12),
        Name: n.Name,
        Driver: n.Driver,
        Scope: n.Scope,
        IPv6: String(!!n.EnableIPv6),
        Internal: String(n.Internal),
        Labels: Object.entries(n.Labels).map(([k, v]) => `${k}=${v}`).join(','),
        CreatedAt: n.Created,
      })), { quiet: o.quiet, format: o.format, kind: 'network', defaultTable: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}' });
    });

  net.command('inspect')
    .description('Display detailed information on one or more networks')
    .argument('<network...>')
    .option('-f, --format <template>', 'format the output using the given Go template')
    .option('-v, --verbose', 'verbose output', false)
    .action(async (names: string[], o) => {
      await inspectEach(names, o.format, async (n) => (await client().call('GET', `/networks/${encodeURIComponent(n)}`)).body);
    });

  net.command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .argument('<network...>')
    .option('-f, --force', 'do not error if the network does not exist', false)
    .action(async (names: string[], o) => {
      await eachName(names, (n) => client().call('DELETE', `/networks/${encodeURIComponent(n)}`), {
        ignore: (err) => o.force && (err as { status?: number }).status === 404,
      });
    });

  net.command('prune')
    .description('Remove all unused networks')
    .option('-f, --force', 'do not prompt for confirmation', false)
    .option('--filter <k=v>', 'provide filter values (until=, label=, label!=)', collect, [])
    .action(async (o) => {
      if (!o.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue? [y/N] '))) return;
      const res = (await client().call('POST', `/networks/prune${filtersParam(o.filter)}`)).body as { NetworksDeleted: string[] | null };
      if (res.NetworksDeleted?.length) process.stdout.write(`Deleted Networks:\n${res.NetworksDeleted.join('\n')}\n`);
    });

  net.command('connect')
    .description('Connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--ip <ip>', 'IPv4 address')
    .option('--ip6 <ip>', 'IPv6 address')
    .option('--alias <name>', 'add a network-scoped alias for the container', collect, [])
    .option('--link <name:alias>', 'add a link to another container', collect, [])
    .option('--link-local-ip <ip>', 'add a link-local address for the container', collect, [])
    .action(async (network: string, container: string, o) => {
      const ipam = o.ip || o.ip6 || o.linkLocalIp.length ? { IPv4Address: o.ip, IPv6Address: o.ip6, LinkLocalIPs: o.linkLocalIp.length ? o.linkLocalIp : undefined } : undefined;
      await client().call('POST', `/networks/${encodeURIComponent(network)}/connect`, {
        Container: container,
        EndpointConfig: { IPAMConfig: ipam, Aliases: o.alias, Links: o.link },
      });
    });

  net.command('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'force the container to disconnect from a network', false)
    .action(async (network: string, container: string, o) => {
      await client().call('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { Container: container, Force: o.force });
    });
}

function boolFlag(v: string): boolean {
  if (/^(1|t|true)$/i.test(v)) return true;
  if (/^(0|f|false)$/i.test(v)) return false;
  throw new Error(`invalid boolean value "${v}"`);
}

/**
 * Zips --subnet/--gateway/--ip-range/--aux-address by containment, as docker's CLI does:
 * each gateway, range and aux address goes to the subnet that holds it (so an IPv4 and
 * an IPv6 subnet may come in any order). A lone subnet's values are passed through
 * unchecked, for the daemon to judge in its own words.
 */
function ipamConfig(subnets: string[], gateways: string[], ranges: string[], aux: string[]): unknown[] {
  if (!subnets.length) {
    if (gateways.length || ranges.length || aux.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
    return [];
  }
  const auxPairs = Object.entries(keyValues(aux, '--aux-address'));
  if (subnets.length === 1) {
    if (gateways.length > 1) throw new Error('cannot configure multiple gateways on the same subnet');
    if (ranges.length > 1) throw new Error('cannot configure multiple ranges on the same subnet');
    return [configOf(subnets[0], gateways[0], ranges[0], auxPairs)];
  }
  for (const s of subnets) if (!tryCanonicalCidr(s)) throw new Error(`invalid CIDR address: ${s}`);
  for (let i = 0; i < subnets.length; i++) {
    for (let j = i + 1; j < subnets.length; j++) {
      if (anyCidrOverlaps(subnets[i], subnets[j])) throw new Error('multiple overlapping subnet configuration is not supported');
    }
  }
  const owner = (what: string, x: string, holds: (s: string) => boolean): string => {
    const s = subnets.find(holds);
    if (!s) throw new Error(`no matching subnet for ${what} ${x}`);
    return s;
  };
  const safe = (f: () => boolean) => { try { return f(); } catch { return false; } };
  const gw = new Map<string, string>();
  for (const g of gateways) {
    const s = owner('gateway', g, (x) => safe(() => anyCidrContains(x, g)));
    if (gw.has(s)) throw new Error(`cannot configure multiple gateways on the same subnet ${s}`);
    gw.set(s, g);
  }
  const range = new Map<string, string>();
  for (const r of ranges) {
    const s = owner('range', r, (x) => safe(() => anyCidrInside(r, x)));
    if (range.has(s)) throw new Error(`cannot configure multiple ranges on the same subnet ${s}`);
    range.set(s, r);
  }
  const auxOf = new Map<string, [string, string][]>();
  for (const [k, a] of auxPairs) {
    const s = owner('aux-address', a, (x) => safe(() => anyCidrContains(x, a)));
    auxOf.set(s, [...(auxOf.get(s) ?? []), [k, a]]);
  }
  return subnets.map((s) => configOf(s, gw.get(s), range.get(s), auxOf.get(s) ?? []));
}

function configOf(subnet: string, gateway: string | undefined, range: string | undefined, aux: [string, string][]): Record<string, unknown> {
  const cfg: Record<string, unknown> = { Subnet: subnet };
  if (gateway) cfg.Gateway = gateway;
  if (range) cfg.IPRange = range;
  if (aux.length) cfg.AuxiliaryAddresses = Object.fromEntries(aux);
  return cfg;
}

async function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((r) => rl.once('line', r).once('close', () => r('')));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
