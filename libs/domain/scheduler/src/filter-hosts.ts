import { HostFilter } from './host-filter';
import { HostState } from './host-state';
import { HostRejection, RejectionCount } from './no-valid-host-error';
import { RequestSpec } from './request-spec';

/** Hosts that passed every filter, and the first rejection of each host that did not. */
export interface FilterOutcome {
  readonly passed: HostState[];
  readonly rejections: HostRejection[];
}

/**
 * Runs `filters` in order over `hosts`; a host stops at its first rejection (Nova's filter handler).
 * Pure; the returned `passed` holds the same objects as `hosts`.
 */
export function filterHosts(hosts: readonly HostState[], filters: readonly HostFilter[], spec: RequestSpec): FilterOutcome {
  const passed: HostState[] = [];
  const rejections: HostRejection[] = [];
  for (const host of hosts) {
    let ok = true;
    for (const filter of filters) {
      const result = filter.hostPasses(host, spec);
      if (!result.passed) {
        rejections.push({ hostId: host.hostId, filter: filter.name, reason: result.reason });
        ok = false;
        break;
      }
    }
    if (ok) passed.push(host);
  }
  return { passed, rejections };
}

/**
 * Groups rejections by filter for the NoValidHost summary, most frequent first (filter order on ties).
 */
export function countRejections(rejections: readonly HostRejection[], filters: readonly HostFilter[]): RejectionCount[] {
  const counts = new Map<string, number>();
  for (const r of rejections) counts.set(r.filter, (counts.get(r.filter) ?? 0) + 1);
  return filters
    .filter((f) => counts.has(f.name))
    .map((f) => {
      const count = counts.get(f.name) ?? 0;
      return { filter: f.name, count, phrase: count === 1 ? f.summary.one : f.summary.many };
    })
    .sort((a, b) => b.count - a.count);
}
