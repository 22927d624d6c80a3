import { UnavailableError } from '../util/errors.js';
import type { Router } from './router.js';

// Swarm mode: berth is never part of a swarm. Its endpoints answer as a dockerd outside
// any swarm does (recorded in test/fixtures/dockerd-20.10/swarm.json), not 404: the SDKs'
// clean-up paths call them (docker-py's swarm.leave(force=True), list services/secrets)
// and take the 503 for "no swarm here".

const NOT_IN_SWARM = 'This node is not part of a swarm';
const NOT_A_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** dockerd would start or join a swarm here; berth cannot, and says so (its own words: dockerd has none for this). */
const NO_SWARM_MODE = 'berth does not support swarm mode: this node cannot init or join a swarm';

/** Swarm objects with the same routes each: list, create, inspect, remove, update. */
const OBJECTS = ['nodes', 'services', 'secrets', 'configs'] as const;

export function swarmRoutes(router: Router): void {
  const refuse = (message: string) => () => {
    throw new UnavailableError(message);
  };
  const notManager = refuse(NOT_A_MANAGER);

  router.add('GET', '/swarm', notManager);
  router.add('POST', '/swarm/init', refuse(NO_SWARM_MODE));
  router.add('POST', '/swarm/join', refuse(NO_SWARM_MODE));
  router.add('POST', '/swarm/leave', refuse(NOT_IN_SWARM));
  router.add('POST', '/swarm/update', notManager);
  router.add('GET', '/swarm/unlockkey', notManager);
  router.add('POST', '/swarm/unlock', notManager);

  for (const kind of OBJECTS) {
    router.add('GET', `/${kind}`, notManager);
    // nodes join by `swarm join`; every other kind is made by POST /KIND/create
    if (kind !== 'nodes') router.add('POST', `/${kind}/create`, notManager);
    router.add('GET', `/${kind}/{id}`, notManager);
    router.add('DELETE', `/${kind}/{id}`, notManager);
    router.add('POST', `/${kind}/{id}/update`, notManager);
  }
  router.add('GET', '/services/{id}/logs', notManager);
  router.add('GET', '/tasks', notManager);
  router.add('GET', '/tasks/{id}', notManager);
  router.add('GET', '/tasks/{id}/logs', notManager);
}
