import { HostFilter, PASS, reject } from '../host-filter';

/** Nova's ComputeFilter: the host's compute service is enabled and its heartbeats are fresh. */
export const computeFilter: HostFilter = {
  name: 'ComputeFilter',
  summary: { one: 'is disabled or down', many: 'are disabled or down' },
  hostPasses(host) {
    if (!host.enabled) return reject('compute service is disabled');
    if (!host.up) return reject('compute service is down (no recent heartbeat)');
    return PASS;
  },
};
