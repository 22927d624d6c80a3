import type { Command } from 'commander';
import type { Client } from './client.js';
import { inspectEach, printList } from './output.js';
import { collect, eachName, keyValues, filtersParam } from './args.js';
import { compareNames } from './name-order.js';

// `berth network …`: the same subcommands, flags and output as `docker network …`.

interface NetworkJson {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
  Internal: boolean;
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
        IPv6: 'false',
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
    .option('--alias <name>', 'add a network-scoped alias for the container', collect, [])
    .option('--link <name:alias>', 'add a link to another container', collect, [])
    .option('--link-local-ip <ip>', 'add a link-local address for the container', collect, [])
    .action(async (network: string, container: string, o) => {
      const ipam = o.ip || o.linkLocalIp.length ? { IPv4Address: o.ip, LinkLocalIPs: o.linkLocalIp.length ? o.linkLocalIp : undefined } : undefined;
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

/** Zips --subnet/--gateway/--ip-range/--aux-address by containment, as docker's CLI does. */
function ipamConfig(subnets: string[], gateways: string[], ranges: string[], aux: string[]): unknown[] {
  if (!subnets.length) {
    if (gateways.length || ranges.length || aux.length) throw new Error('every ip-range or gateway must have a corresponding subnet');
    return [];
  }
  if (subnets.length > 1) throw new Error('berth supports one subnet per network');
  if (gateways.length > 1) throw new Error('cannot configure multiple gateways on the same subnet');
  if (ranges.length > 1) throw new Error('cannot configure multiple ranges on the same subnet');
  const cfg: Record<string, unknown> = { Subnet: subnets[0] };
  if (gateways[0]) cfg.Gateway = gateways[0];
  if (ranges[0]) cfg.IPRange = ranges[0];
  if (aux.length) cfg.AuxiliaryAddresses = keyValues(aux, '--aux-address');
  return [cfg];
}

async function confirm(question: string): Promise<boolean> {
  process.stdout.write(question);
  const { createInterface } = await import('node:readline');
  const rl = createInterface({ input: process.stdin });
  const answer = await new Promise<string>((r) => rl.once('line', r).once('close', () => r('')));
  rl.close();
  return /^y(es)?$/i.test(answer.trim());
}
