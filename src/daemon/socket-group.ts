import { chownSync, readFileSync } from 'node:fs';

// The API socket is root's and one group's (mode 0660), as dockerd makes it with -G
// (default "docker"): members of that group may drive berthd, nobody else. A group that
// does not exist leaves it root's only, said in the log, as dockerd says it.

/** The gid of a group name (from /etc/group) or a numeric gid; undefined when unknown. */
export function gidOf(group: string, groupFile = '/etc/group'): number | undefined {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}

export function giveSocketToGroup(socketPath: string, group: string, log: (msg: string) => void): void {
  const gid = gidOf(group);
  if (gid === undefined) {
    log(`group ${group} not found: the API socket ${socketPath} stays root's only (-G names another group)`);
    return;
  }
  chownSync(socketPath, 0, gid);
}
