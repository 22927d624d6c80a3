// The API's JSON shapes, by object: networks and their endpoints, containers.
export { endpointSettings, endpointSummary, networkInspect, networkSummary } from './network-shapes.js';
export { containerInspect, containerSummary, statusText } from './container-shapes.js';
