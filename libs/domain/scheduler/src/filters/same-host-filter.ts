import { HostFilter, PASS, reject } from '../host-filter';

/** Nova's SameHostFilter: hint `same_host` lists instances of which the host must run at least one. */
export const sameHostFilter: HostFilter = {
  name: 'SameHostFilter',
  summary: { one: 'holds none of the same_host instances', many: 'hold none of the same_host instances' },
  hostPasses(host, spec) {
    const wanted = spec.schedulerHints.sameHost ?? [];
    if (wanted.length === 0 || wanted.some((id) => host.instanceIds.has(id))) return PASS;
    return reject(`host runs none of ${wanted.join(', ')} (same_host hint)`);
  },
};
