// Published ports: parse (-p, --expose), allocate and reserve host ports, map them in the
// firewall, and show them the way Docker does.
export * from './spec.js';
export * from './allocator.js';
export * from './mapper.js';
export * from './format.js';
export * from './links.js';
