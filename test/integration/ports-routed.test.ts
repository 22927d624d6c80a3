import { portsMatrix } from './ports-matrix.js';

// The same matrix with net1 a routed network (no bridge: its containers' host ends routed,
// as -o berth.network.mode=routed makes them), every cell expected exactly as on a bridge.
portsMatrix('routed');
