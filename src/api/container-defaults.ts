import { parseLink } from '../engine/links.js';
import type { ContainerRecord } from '../store/records.js';

// The parts of container inspect that berth has no concept of (resources, storage,
// logging), with the values dockerd 20.10 shows for a container that set none of them
// (test/fixtures/dockerd-20.10/container-*.json): clients read these keys
// (.RestartPolicy.Name, .LogConfig.Type) and must find them; and the security keys berth
// does obey (CapAdd, CapDrop, Privileged, SecurityOpt), shown as sent.
// Where berth does differ, it says so: it makes no cgroup namespace ("host"), masks
// and write-protects no /proc paths ([]), and runs containers with its own shim.

const RESOURCES = {
  BlkioWeight: 0,
  BlkioWeightDevice: [],
  BlkioDeviceReadBps: null,
  BlkioDeviceWriteBps: null,
  BlkioDeviceReadIOps: null,
  BlkioDeviceWriteIOps: null,
  CgroupParent: '',
  CpuCount: 0,
  CpuPercent: 0,
  CpuPeriod: 0,
  CpuQuota: 0,
  CpuRealtimePeriod: 0,
  CpuRealtimeRuntime: 0,
  CpuShares: 0,
  CpusetCpus: '',
  CpusetMems: '',
  DeviceCgroupRules: null,
  DeviceRequests: null,
  Devices: [],
  IOMaximumBandwidth: 0,
  IOMaximumIOps: 0,
  KernelMemory: 0,
  KernelMemoryTCP: 0,
  Memory: 0,
  MemoryReservation: 0,
  MemorySwap: 0,
  MemorySwappiness: null,
  NanoCpus: 0,
  OomKillDisable: null,
  PidsLimit: null,
  Ulimits: null,
} as const;

/**
 * HostConfig, every key dockerd 20.10 prints, berth's values first. `nameOf` gives a
 * container's name by name or id (undefined once it is gone): dockerd prints a legacy link
 * as "/TARGET:/PARENT/ALIAS", and a link whose target is gone not at all.
 */
export function hostConfigShape(c: ContainerRecord, nameOf: (term: string) => string | undefined = (t) => t): Record<string, unknown> {
  const hc = c.hostConfig;
  return {
    Binds: null,
    ContainerIDFile: '',
    LogConfig: { Type: 'json-file', Config: {} },
    NetworkMode: hc.networkMode,
    PortBindings: hc.portBindings,
    RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
    AutoRemove: hc.autoRemove,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: hc.capAdd ?? null,
    CapDrop: hc.capDrop ?? null,
    CgroupnsMode: 'host',
    Dns: hc.dns,
    DnsOptions: hc.dnsOptions,
    DnsSearch: hc.dnsSearch,
    ExtraHosts: hc.extraHosts.length ? hc.extraHosts : null,
    GroupAdd: null,
    IpcMode: 'private',
    Cgroup: '',
    Links: linksShape(c, nameOf),
    OomScoreAdj: 0,
    PidMode: hc.pidMode ?? '',
    Privileged: hc.privileged ?? false,
    PublishAllPorts: hc.publishAllPorts,
    ReadonlyRootfs: false,
    SecurityOpt: hc.securityOpt ?? null,
    UTSMode: '',
    UsernsMode: '',
    ShmSize: 67108864,
    Runtime: 'berth',
    ConsoleSize: [0, 0],
    Isolation: '',
    ...RESOURCES,
    MaskedPaths: [],
    ReadonlyPaths: [],
  };
}

/** Config, every key dockerd 20.10 prints (ExposedPorts and MacAddress only when set). */
export function configShape(c: ContainerRecord): Record<string, unknown> {
  const cfg = c.config;
  // records from before attach was kept: what berth showed then
  const attach = cfg.attach ?? { stdin: cfg.openStdin, stdout: true, stderr: true };
  // berth runs one argv: its first entrypointLength words are the entrypoint
  const entrypoint = cfg.cmd.slice(0, cfg.entrypointLength ?? 0);
  const cmd = cfg.cmd.slice(entrypoint.length);
  return {
    Hostname: cfg.hostname,
    Domainname: cfg.domainname,
    User: '',
    AttachStdin: attach.stdin,
    AttachStdout: attach.stdout,
    AttachStderr: attach.stderr,
    // omitted when empty, as dockerd does (templates test it with {{if .Config.ExposedPorts}})
    ...(cfg.exposedPorts.length ? { ExposedPorts: Object.fromEntries(cfg.exposedPorts.map((p) => [p, {}])) } : {}),
    Tty: cfg.tty,
    OpenStdin: cfg.openStdin,
    StdinOnce: cfg.openStdin,
    Env: cfg.env,
    Cmd: cmd.length ? cmd : null,
    Image: cfg.image,
    Volumes: null,
    WorkingDir: cfg.workdir,
    Entrypoint: entrypoint.length ? entrypoint : null,
    OnBuild: null,
    Labels: cfg.labels,
    ...(cfg.macAddress ? { MacAddress: cfg.macAddress } : {}),
  };
}

function linksShape(c: ContainerRecord, nameOf: (term: string) => string | undefined): string[] | null {
  const out: string[] = [];
  for (const { name, alias } of c.hostConfig.links.map(parseLink)) {
    const target = nameOf(name);
    if (target) out.push(`/${target}:/${c.name}/${alias}`);
  }
  return out.length ? out : null;
}
