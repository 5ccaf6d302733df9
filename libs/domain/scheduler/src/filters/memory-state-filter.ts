import { HostFilter, PASS, reject } from '../host-filter';

/**
 * A host whose last report puts it in ESXi's memory state `low` takes no new VM (ESXi blocks new
 * allocations there; the agent would refuse the spawn or the incoming migration), so the scheduler
 * leaves it out rather than have the build rescheduled after a refusal. Other states pass: they
 * reclaim memory (ballooning, compression, swap) but still admit VMs.
 */
export const memoryStateFilter: HostFilter = {
  name: 'MemoryStateFilter',
  summary: { one: 'is in memory state low', many: 'are in memory state low' },
  hostPasses(host) {
    return host.memoryState === 'low' ? reject('host memory state is low (free memory below 1 % of RAM): new VMs are blocked') : PASS;
  },
};
