import { DOCKERODE_SCENARIO, sdkSuite } from '../compat/sdk-suite.js';

// Issue 10: dockerode (npm) against berthd, observed and answered as by dockerd 20.10.

sdkSuite({
  name: 'dockerode',
  fixture: 'sdk-dockerode.json',
  argv: (socket, version, tar) => ['node', DOCKERODE_SCENARIO, socket, version === 'auto' ? 'auto' : `v${version}`, tar],
});
