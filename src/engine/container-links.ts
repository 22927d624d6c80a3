import type { Firewall } from '../drivers/bridge/firewall.js';
import type { ContainerRecord } from '../store/records.js';
import { ConflictError, NotFoundError } from '../util/errors.js';
import type { KeyedLock } from './keyed-lock.js';
import { LinkOpenings } from './link-openings.js';
import { parseLink } from './links.js';
import type { Observers } from './observer.js';
import type { State } from './state.js';

// Links while containers come and go: what a parent's legacy links open in an icc=false
// firewall follows their targets, a parent's /etc/hosts follows a target's new address,
// and `docker rm --link` takes a link back. (At create and start, the links themselves are
// checked and written by containers.ts and container-files.ts.)

export class ContainerLinks {
  private readonly openings: LinkOpenings;

  constructor(
    private readonly state: State,
    private readonly lock: KeyedLock,
    private readonly observers: Observers,
    firewall: Firewall,
    /** rewrites a running container's hosts, hostname and resolv.conf in place */
    private readonly rewriteFiles: (c: ContainerRecord) => void,
  ) {
    this.openings = new LinkOpenings(state, firewall);
  }

  /** The firewall openings of the container's legacy links, as its links and their targets are now. */
  open(c: ContainerRecord): Promise<void> {
    return this.openings.update(c);
  }

  /** The container stopped: its openings go (best effort). */
  close(c: ContainerRecord): Promise<void> {
    return this.openings.close(c);
  }

  /**
   * A legacy link target started or stopped: each running parent's openings follow it and,
   * when it starts, its /etc/hosts entry gets the new address (dockerd's parent update; the
   * link's environment variables stay as they were at the parent's start). Best effort: a
   * parent that cannot be updated must not fail the target.
   */
  async targetChanged(target: ContainerRecord, started: boolean): Promise<void> {
    for (const p of this.openings.parentsOf(target)) {
      await this.lock.run([p.id], async () => {
        if (p.state.status !== 'running') return;
        await this.openings.update(p);
        if (started) this.rewriteFiles(p);
      }).catch(() => undefined);
    }
  }

  /**
   * `docker rm --link PARENT/ALIAS`: the parent forgets the link. A running parent loses
   * what the link gave it: the /etc/hosts entry (the file is rewritten in place), the
   * firewall elements it opened on an icc=false bridge, the DNS alias on a user-defined
   * network. Its environment stays, as under dockerd. Messages as dockerd's. dockerd itself
   * answers 404 for a link on a user-defined network (such links get no name of their own
   * there); berth removes those too, so an alias can be taken back without a restart.
   */
  async remove(term: string): Promise<void> {
    const name = term.replace(/^\//, '');
    const slash = name.lastIndexOf('/');
    if (slash < 0) {
      this.state.findContainer(term);
      throw new ConflictError('Conflict, cannot remove the default link name of the container');
    }
    const alias = name.slice(slash + 1);
    const parent = this.state.tryFindContainer(name.slice(0, slash));
    if (!parent) throw new NotFoundError(`No such container: ${term}`);
    const other = (l: string) => parseLink(l).alias !== alias;
    await this.lock.run([parent.id], async () => {
      const eps = this.state.endpointsOf({ containerId: parent.id });
      if ([...parent.hostConfig.links, ...eps.flatMap((e) => e.links)].every(other)) throw new NotFoundError(`No such container: ${term}`);
      parent.hostConfig.links = parent.hostConfig.links.filter(other);
      for (const ep of eps) ep.links = ep.links.filter(other);
      this.state.saveContainerWithEndpoints(parent, eps);
      if (parent.state.status !== 'running') return;
      await this.openings.update(parent);
      this.rewriteFiles(parent);
      await this.observers.containerChanged(parent);
    });
  }
}
