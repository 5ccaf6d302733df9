import { HostFilter, PASS, reject } from '../host-filter';

/** Nova's DifferentHostFilter: hint `different_host` lists instances the new one must not share a host with. */
export const differentHostFilter: HostFilter = {
  name: 'DifferentHostFilter',
  summary: { one: 'holds a different_host instance', many: 'hold different_host instances' },
  hostPasses(host, spec) {
    const clash = (spec.schedulerHints.differentHost ?? []).filter((id) => host.instanceIds.has(id));
    if (clash.length === 0) return PASS;
    return reject(`host runs ${clash.join(', ')} (different_host hint)`);
  },
};
