import { portsMatrix } from './ports-matrix.js';

// The reachability matrix of published ports and access control on bridges (ports-matrix.ts).
portsMatrix('bridge');
