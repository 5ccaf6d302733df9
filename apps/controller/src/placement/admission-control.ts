import { usableCapacity, type HostState } from '@minicloud/domain-scheduler';

/**
 * HA admission control (pure), vSphere's "host failures cluster tolerates" with the cluster resource
 * percentage policy: the allocations of the cluster must still fit when the N largest hosts fail.
 * Capacity per host and class is Placement's (total - reserved) * allocation_ratio.
 */
export interface AdmissionHost {
  readonly hostId: string;
  readonly vcpusCapacity: number;
  readonly ramMbCapacity: number;
  readonly diskGbCapacity: number;
  readonly vcpusUsed: number;
  readonly ramMbUsed: number;
  readonly diskGbUsed: number;
}

export interface AdmissionRequest {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
}

/**
 * A host as admission control counts it: capacities by the scheduler's one capacity rule
 * (usableCapacity: (total - reserved) x the allocation ratio in force, aggregate overrides included),
 * used amounts as claimed.
 */
export function admissionHostOf(h: HostState): AdmissionHost {
  return {
    hostId: h.hostId,
    vcpusCapacity: usableCapacity(h, 'vcpu'),
    ramMbCapacity: usableCapacity(h, 'ram'),
    diskGbCapacity: usableCapacity(h, 'disk'),
    vcpusUsed: h.vcpusUsed,
    ramMbUsed: h.ramMbUsed,
    diskGbUsed: h.diskGbUsed,
  };
}

export type AdmissionResult = { ok: true } | { ok: false; reason: string };

type Cls = { name: string; cap: (h: AdmissionHost) => number; used: (h: AdmissionHost) => number; req: (r: AdmissionRequest) => number };
const CLASSES: Cls[] = [
  { name: 'vcpus', cap: (h) => h.vcpusCapacity, used: (h) => h.vcpusUsed, req: (r) => r.vcpus },
  { name: 'ram_mb', cap: (h) => h.ramMbCapacity, used: (h) => h.ramMbUsed, req: (r) => r.ramMb },
  { name: 'disk_gb', cap: (h) => h.diskGbCapacity, used: (h) => h.diskGbUsed, req: (r) => r.diskGb },
];

/**
 * Checks that booting `count` instances of `req` keeps capacity for `hostFailures` failures of the
 * largest hosts: for each resource class, used + count * req <= sum(capacity) - sum(N largest
 * capacities). `hosts` are the usable hosts (up, enabled; failed/fenced hosts are already gone).
 * hostFailures 0 disables the check; a request that fits on no single host is left to the scheduler
 * (NoValidHost explains it better).
 * @returns ok, or a reason naming the class and the figures
 */
export function checkAdmission(hosts: readonly AdmissionHost[], req: AdmissionRequest, count: number, hostFailures: number): AdmissionResult {
  if (hostFailures <= 0) return { ok: true };
  // A request no single host could ever hold is the scheduler's to refuse (NoValidHost says why).
  const fitsSomewhere = hosts.some((h) => CLASSES.every((c) => c.req(req) <= c.cap(h)));
  if (!fitsSomewhere) return { ok: true };
  if (hosts.length <= hostFailures) {
    return { ok: false, reason: `${hosts.length} usable host(s) cannot tolerate ${hostFailures} host failure(s)` };
  }
  for (const c of CLASSES) {
    const need = c.req(req) * count;
    if (need === 0) continue;
    const caps = hosts.map(c.cap).sort((a, b) => b - a);
    const reserved = caps.slice(0, hostFailures).reduce((s, v) => s + v, 0);
    const usable = caps.reduce((s, v) => s + v, 0) - reserved;
    const used = hosts.reduce((s, h) => s + c.used(h), 0);
    if (used + need > usable) {
      return { ok: false, reason: `${c.name}: ${used} used + ${need} requested > ${usable} usable while keeping ${reserved} for ${hostFailures} host failure(s)` };
    }
  }
  return { ok: true };
}
