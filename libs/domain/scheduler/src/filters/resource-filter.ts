import { effectiveAllocationRatio, freeCapacity, ResourceKind, usableCapacity } from '../capacity';
import { HostFilter, PASS, reject } from '../host-filter';
import { FlavorSpec } from '../request-spec';

const REQUESTED: Record<ResourceKind, (f: FlavorSpec) => number> = {
  vcpu: (f) => f.vcpus,
  ram: (f) => f.ramMb,
  disk: (f) => f.diskGb,
};

/**
 * Builds a capacity filter for one resource: passes when (total - reserved) * ratio - used >=
 * requested, with the ratio overridable per aggregate (see effectiveAllocationRatio).
 */
export function resourceFilter(name: string, kind: ResourceKind, label: string, unit: string): HostFilter {
  return {
    name,
    summary: { one: `lacks ${label}`, many: `lack ${label}` },
    hostPasses(host, spec) {
      const requested = REQUESTED[kind](spec.flavor);
      const free = freeCapacity(host, kind);
      if (free >= requested) return PASS;
      const ratio = effectiveAllocationRatio(host, kind);
      return reject(
        `free ${label} ${round(free)} ${unit} < requested ${requested} ${unit} ` +
          `(usable ${round(usableCapacity(host, kind))} ${unit} at allocation ratio ${ratio})`,
      );
    },
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
