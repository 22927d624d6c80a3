import { createReadStream } from 'node:fs';
import type { Command } from 'commander';
import type { Client } from './client.js';
import { DaemonError, readAll } from './client.js';
import { collect, eachName } from './args.js';

// `berth import`, `images`, `rmi`: root filesystems from tarballs (berth does not pull).

interface ImageSummary {
  Id: string;
  RepoTags: string[] | null;
  Created: number;
  Size: number;
}

export function imageCommands(program: Command, client: () => Client): void {
  program.command('import')
    .description('Import a root filesystem tarball as an image (berth import FILE|- [REPOSITORY[:TAG]])')
    .argument('<file>', 'a tar file, or - for standard input')
    .argument('[reference]', 'REPOSITORY[:TAG]')
    .option('-c, --change <instruction>', 'apply a Dockerfile instruction (ENV, CMD, ENTRYPOINT, WORKDIR, …)', collect, [])
    .option('-m, --message <text>', 'commit message for the imported image')
    .action(async (file: string, reference: string | undefined, o) => {
      const q = new URLSearchParams({ fromSrc: '-' });
      if (reference) {
        const i = reference.lastIndexOf(':');
        const hasTag = i > reference.lastIndexOf('/');
        q.set('repo', hasTag ? reference.slice(0, i) : reference);
        if (hasTag) q.set('tag', reference.slice(i + 1));
      }
      for (const c of o.change as string[]) q.append('changes', c);
      if (o.message) q.set('message', o.message);
      const body = file === '-' ? process.stdin : createReadStream(file);
      const text = await upload(client(), `/images/create?${q}`, body);
      const status = /"status"\s*:\s*"([^"]+)"/.exec(text)?.[1];
      process.stdout.write(`${status ?? text.trim()}\n`);
    });

  program.command('images')
    .description('List images')
    .option('-q, --quiet', 'only show image IDs', false)
    .action(async (o) => {
      const list = (await client().call('GET', '/images/json')).body as ImageSummary[];
      const { formatTable, timeAgo } = await import('./format.js');
      if (o.quiet) {
        for (const i of list) process.stdout.write(i.Id.replace(/^sha256:/, '').slice(0, 12) + '\n');
        return;
      }
      const rows = list.flatMap((i) => (i.RepoTags?.length ? i.RepoTags : ['<none>:<none>']).map((t) => {
        const at = t.lastIndexOf(':');
        return [t.slice(0, at), t.slice(at + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), timeAgo(i.Created * 1000), `${(i.Size / 1e6).toFixed(1)}MB`];
      }));
      process.stdout.write(formatTable(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
    });

  program.command('rmi')
    .description('Remove one or more images')
    .argument('<image...>')
    .option('-f, --force', 'force removal of the image', false)
    .action(async (names: string[], o) => {
      await eachName(names, (n) => client().call('DELETE', `/images/${encodeURIComponent(n)}?force=${o.force ? 1 : 0}`), { printed: (n) => `Untagged: ${n}` });
    });
}

/** POSTs a stream as the request body (a tarball can be large: never buffered whole). */
async function upload(client: Client, path: string, body: NodeJS.ReadableStream): Promise<string> {
  const req = await client.request({ method: 'POST', path, headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } });
  return new Promise((resolve, reject) => {
    req.on('response', async (res) => {
      const text = await readAll(res);
      if ((res.statusCode ?? 500) >= 400) {
        let message = text;
        try {
          message = JSON.parse(text).message ?? text;
        } catch {
          /* plain text */
        }
        reject(new DaemonError(message, res.statusCode ?? 500));
      } else resolve(text);
    });
    req.on('error', reject);
    body.on('error', reject);
    body.pipe(req);
  });
}
