import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab/lab.js';
import { busyboxTar } from './docker-cli.js';
import { containersByName, describeDiffs, shapeDiff, type DiffOptions } from './shape-diff.js';

// The Docker SDKs in the compatibility suite (issue 10). A scenario program per SDK
// (sdk_scenario.py, dockerode-scenario.ts) runs in the lab host's netns against berthd
// and prints what it observed and the raw answers it got. scripts/record-reference.sh ran
// the same program against dockerd 20.10 (test/fixtures/dockerd-20.10/sdk-*.json): berth
// must observe exactly what dockerd did, at the SDK's default API version and at 1.41, and
// answer in dockerd's shapes key by key (at 1.41, the version dockerd 20.10 speaks).

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = `${REPO}test/fixtures/dockerd-20.10/`;
export const VENV_PYTHON = `${REPO}.venv/bin/python`;
export const PYTHON_SCENARIO = `${REPO}test/compat/sdk_scenario.py`;
export const DOCKERODE_SCENARIO = fileURLToPath(new URL('./dockerode-scenario.js', import.meta.url));

interface ScenarioOutput {
  observed: Record<string, unknown>;
  answers: Record<string, unknown>;
}

export interface SdkSuite {
  /** label for the describe */
  name: string;
  /** the fixture recorded from dockerd 20.10 */
  fixture: string;
  /** the scenario's argv for the lab's socket, an API version ("auto" or 1.41) and the rootfs tar */
  argv(socket: string, version: 'auto' | '1.41', tar: string): string[];
  /** a file the scenario needs, and what makes it */
  needs?: { path: string; hint: string };
}

/** Areas of the scenario; every key dockerd's run observed belongs to exactly one. */
const AREAS: [string, string[]][] = [
  ['the daemon as fixtures probe it: ping, info Swarm, the swarm object and a forced swarm leave outside a swarm',
    ['ping', 'info_swarm_state', 'swarm_attrs', 'swarm_inspect', 'swarm_leave_force']],
  ['an image imported from the rootfs tarball, with its changes', ['image_import']],
  ['network create with IPAM config, labels and options; a duplicate name is refused; remove', ['network_create', 'network_create_back', 'network_create_keep', 'network_create_duplicate', 'network_remove']],
  ['network list filters: labels (all must match), label=value, driver and type, names; no match lists nothing; an unknown key is a 400',
    ['network_list_label', 'network_list_label_value', 'network_list_labels_all_match', 'network_list_driver_custom', 'network_list_names', 'network_list_nothing', 'network_list_unknown_filter']],
  ['a container with a published port answers from the lab host; the image it runs is found by its id', ['container_run_web', 'container_image', 'published_port_page']],
  ['an alias and a static IP given at create: a peer resolves the alias', ['container_run_db_static_alias', 'alias_resolves_from_peer']],
  ['links on a user network: the endpoint link resolves for the linker only; HostConfig.Links alone does nothing there',
    ['container_run_linked', 'link_alias_resolves', 'link_alias_private_to_linker', 'hostconfig_links_on_user_network']],
  ['legacy links on the default bridge, and their removal with DELETE ?link=1', ['legacy_link_on_default_bridge', 'legacy_link_remove', 'legacy_link_after_remove']],
  ['connect with a static IP and an alias, disconnect, and their errors',
    ['connect_static_ip', 'connect_addrs', 'connect_peer', 'connect_alias_resolves', 'connect_duplicate', 'network_containers', 'disconnect', 'disconnect_addrs', 'disconnect_again', 'network_remove_in_use']],
  ['clean-up: a label-filtered list, remove with force and v, a label-filtered prune leave the rest alone',
    ['decoy', 'exited_labelled', 'exited_unlabelled', 'containers_prune_label', 'containers_exited_after_prune', 'exited_keep_remove', 'container_list_running_filter', 'cleanup_containers', 'containers_left', 'networks_prune_label', 'networks_left', 'network_inspect_removed', 'container_inspect_removed', 'decoy_remove', 'close']],
];

/**
 * Where dockerd 20.10 answers a caller's mistake with a 500, berth answers a 4xx (bad
 * input is a 4xx, README): the status berth gives instead, with dockerd's message.
 */
const BAD_INPUT_STATUS: Record<string, number> = { disconnect_again: 404 };

/** What berth must observe for step k: dockerd's observation, with berth's 4xx for a 500 above. */
function expectedOf(k: string, observed: unknown): unknown {
  const status = BAD_INPUT_STATUS[k];
  const o = observed as { error?: number } | undefined;
  return status && o?.error === 500 ? { ...o, error: status } : observed;
}

const VARYING: RegExp[] = [
  /(.*\.)?Id/, /(.*\.)?Created/, /.*EndpointID/, /.*NetworkID/, /.*SandboxID/, /.*SandboxKey/,
  /State\.(Pid|StartedAt|FinishedAt)/, /Config\.Hostname/, /.*DNSNames/, /.*\.Aliases/,
  /(Config\.)?Image/, /(ResolvConf|Hostname|Hosts|Log)Path/, /\[\d+\]\.status/,
];
/**
 * Known, intended differences: the default bridge's interface name (docker0 / berth0), as
 * in compat-shapes; the gateway dockerd 20.10 picks for a network created with a subnet and
 * no gateway, which it leaves out of IPAM.Config (newer dockerd prints it, as berth does).
 */
const INTENDED: RegExp[] = [/(.*\.)?Options\.com\.docker\.network\.bridge\.name/, /((sdk|ode)_back\.)?IPAM\.Config\[0\]\.Gateway/];
const NETWORK_SCOPE: DiffOptions = { typeOnly: VARYING, ignore: INTENDED };
/** The networking part of container inspect, as compat-shapes compares it. */
const CONTAINER_SCOPE: DiffOptions = {
  typeOnly: VARYING,
  ignore: [
    ...INTENDED,
    /AppArmorProfile|ExecIDs|GraphDriver|Mounts|MountLabel|ProcessLabel|Driver|Platform|RestartCount/,
    /HostConfig\.(?!NetworkMode$|PortBindings$|PublishAllPorts$|Dns$|DnsOptions$|DnsSearch$|ExtraHosts$|Links$).*/,
    /Config\.(?!Hostname$|ExposedPorts$|Env$|Cmd$|Image$|Domainname$|Labels$).*/,
    /State\.(OOMKilled|Dead|Paused|Restarting|Error|ExitCode|Status|Running)/,
  ],
};

/** Lists keyed by name, so that a missing or extra element shows as one key. */
const byName = (list: unknown) => Array.isArray(list)
  ? Object.fromEntries(list.map((x: { Name?: string; Names?: string[] }) => [x.Name ?? x.Names?.[0] ?? '?', x]))
  : list;

/**
 * dockerd 20.10 also publishes an IPv4-only container on "::" (docker-proxy carries IPv6 to
 * its IPv4 address); berth, without a proxy, publishes on :: only containers that have an
 * IPv6 address (README, IPv6): those bindings are left out.
 */
function ipv4Ports(inspect: unknown): unknown {
  const c = inspect as { NetworkSettings?: { Ports?: Record<string, { HostIp: string }[] | null> } };
  const ports = c?.NetworkSettings?.Ports;
  if (!ports) return inspect;
  const v4 = Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, v && v.filter((b) => b.HostIp !== '::')]));
  return { ...c, NetworkSettings: { ...c.NetworkSettings, Ports: v4 } };
}

function containerList(list: unknown): unknown {
  const v4 = Array.isArray(list) ? list.map((c: { Ports?: { IP?: string }[] }) => ({ ...c, Ports: c.Ports?.filter((p) => p.IP !== '::') })) : list;
  return byName(v4);
}

/** The raw answers compared key by key, and how. */
const SHAPES: [string, DiffOptions, ((v: unknown) => unknown)?][] = [
  ['info-swarm', NETWORK_SCOPE],
  ['swarm-inspect', NETWORK_SCOPE],
  ['image-import', NETWORK_SCOPE],
  ['network-create', NETWORK_SCOPE],
  ['network-inspect-empty', NETWORK_SCOPE],
  ['network-list-label', NETWORK_SCOPE, byName],
  ['network-inspect-front', NETWORK_SCOPE, (v) => containersByName(v as Record<string, unknown>)],
  ['network-inspect-back', NETWORK_SCOPE, (v) => containersByName(v as Record<string, unknown>)],
  ['container-inspect-web', CONTAINER_SCOPE, ipv4Ports],
  ['container-list-label', { typeOnly: [...VARYING, /[^.]+\.(Status|ImageID)/], ignore: [...INTENDED, /[^.]+\.(Mounts|SizeRw|SizeRootFs)/] }, containerList],
  ['networks-prune-keep', NETWORK_SCOPE],
  ['containers-prune', { typeOnly: [/ContainersDeleted\[\d+\]/] }],
];

export function sdkSuite(suite: SdkSuite): void {
  describe(`${suite.name} against berthd, next to dockerd 20.10`, { concurrency: false }, () => {
    const dockerd = JSON.parse(readFileSync(FIXTURES + suite.fixture, 'utf8')) as ScenarioOutput;
    const labs: Lab[] = [];
    const runs: Partial<Record<'auto' | '1.41', ScenarioOutput>> = {};

    // a fresh lab per run, as dockerd was fresh for the recording (addresses, names)
    const scenario = async (version: 'auto' | '1.41'): Promise<ScenarioOutput> => {
      const lab = await Lab.create();
      labs.push(lab);
      const r = await lab.inHost(suite.argv(lab.socket, version, busyboxTar()), { timeoutMs: 300_000 });
      assert.equal(r.code, 0, `${suite.name} scenario (API ${version}) failed (${r.code}): ${r.stderr}`);
      return JSON.parse(r.stdout) as ScenarioOutput;
    };

    before(async () => {
      if (suite.needs && !existsSync(suite.needs.path)) throw new Error(`${suite.needs.path} is missing: ${suite.needs.hint}`);
      runs.auto = await scenario('auto');
      runs['1.41'] = await scenario('1.41');
    });
    after(async () => {
      // every lab, even when one's teardown fails: a lab left running keeps this process alive
      const results = await Promise.allSettled(labs.map((lab) => lab.destroy()));
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []));
      if (failed.length) throw new Error(failed.join('\n'));
    });

    test('the scenario ran every step to the end, and every step dockerd answered is checked below', () => {
      for (const [version, run] of Object.entries(runs)) assert.equal(run.observed.fatal, undefined, `API ${version}: ${JSON.stringify(run.observed.fatal)}`);
      const checked = new Set(AREAS.flatMap(([, keys]) => keys));
      assert.deepEqual(Object.keys(dockerd.observed).filter((k) => !checked.has(k)), []);
      assert.ok(Object.keys(dockerd.observed).length > 40, 'the recorded scenario is complete');
    });

    for (const [area, keys] of AREAS) {
      test(`${area}: as dockerd 20.10`, () => {
        const present = keys.filter((k) => k in dockerd.observed);
        assert.ok(present.length > 0, `no recorded step for ${area}`);
        const problems: string[] = [];
        for (const [version, run] of Object.entries(runs)) {
          for (const k of present) {
            try {
              assert.deepEqual(run.observed[k], expectedOf(k, dockerd.observed[k]));
            } catch {
              problems.push(`API ${version}, ${k}: dockerd ${JSON.stringify(dockerd.observed[k])}, berth ${JSON.stringify(run.observed[k])}`);
            }
          }
        }
        assert.equal(problems.length, 0, problems.join('\n'));
      });
    }

    test('every answer dockerd gave has a way to be compared', () => {
      const known = new Set(SHAPES.map(([name]) => name));
      assert.deepEqual(Object.keys(dockerd.answers).filter((k) => !known.has(k)), []);
    });

    for (const [name, opts, prepare = (v: unknown) => v] of SHAPES.filter(([n]) => n in dockerd.answers)) {
      test(`answer ${name} (API 1.41) has dockerd's shape key by key`, () => {
        const diffs = shapeDiff(prepare(dockerd.answers[name]), prepare(runs['1.41']?.answers[name]), opts);
        assert.equal(diffs.length, 0, `${name} differs from dockerd 20.10:\n${describeDiffs(diffs)}`);
      });
    }

    test('container inspect (API 1.41) carries dockerd\'s full HostConfig and Config key sets', () => {
      const keys = (answer: unknown, part: 'HostConfig' | 'Config') => Object.keys(((answer ?? {}) as Record<string, Record<string, unknown>>)[part] ?? {}).sort();
      const web = runs['1.41']?.answers['container-inspect-web'];
      const ref = dockerd.answers['container-inspect-web'];
      for (const part of ['HostConfig', 'Config'] as const) {
        const missing = keys(ref, part).filter((k) => !keys(web, part).includes(k));
        assert.deepEqual(missing, [], `${part} lacks keys dockerd returns`);
      }
    });
  });
}
