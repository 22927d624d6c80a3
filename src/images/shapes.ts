import type { ImageRecord } from './store.js';

// Image records → the Docker Engine API's image JSON (GET /images/json, /images/{name}/json).

function containerConfig(img: ImageRecord): Record<string, unknown> {
  const c = img.config;
  return {
    Hostname: '', Domainname: '', User: c.user,
    AttachStdin: false, AttachStdout: false, AttachStderr: false,
    ExposedPorts: c.exposedPorts.length ? Object.fromEntries(c.exposedPorts.map((p) => [p, {}])) : null,
    Tty: false, OpenStdin: false, StdinOnce: false,
    Env: c.env.length ? c.env : null,
    Cmd: c.cmd,
    Image: '', Volumes: null,
    WorkingDir: c.workdir,
    Entrypoint: c.entrypoint,
    OnBuild: null,
    Labels: Object.keys(c.labels).length ? c.labels : null,
  };
}

export function imageSummary(img: ImageRecord, containers: number): Record<string, unknown> {
  return {
    Containers: containers,
    Created: Math.floor(Date.parse(img.created) / 1000),
    Id: `sha256:${img.id}`,
    Labels: Object.keys(img.config.labels).length ? img.config.labels : null,
    ParentId: '',
    RepoDigests: img.repoTags.length ? [] : ['<none>@<none>'],
    RepoTags: img.repoTags.length ? img.repoTags : ['<none>:<none>'],
    SharedSize: -1,
    Size: img.size,
    VirtualSize: img.size,
  };
}

export function imageInspect(img: ImageRecord): Record<string, unknown> {
  return {
    Id: `sha256:${img.id}`,
    RepoTags: img.repoTags,
    RepoDigests: [],
    Parent: '',
    Comment: img.comment,
    Created: img.created,
    Container: '',
    ContainerConfig: { ...containerConfig(img), Cmd: null, Env: null },
    DockerVersion: '',
    Author: '',
    Config: containerConfig(img),
    Architecture: process.arch === 'x64' ? 'amd64' : process.arch,
    Os: 'linux',
    Size: img.size,
    VirtualSize: img.size,
    GraphDriver: { Data: null, Name: 'berth' },
    RootFS: { Type: 'layers', Layers: [img.layerDigest] },
    Metadata: { LastTagTime: img.created },
  };
}
