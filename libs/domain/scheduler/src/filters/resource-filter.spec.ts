import type { ResourceKind } from '../capacity';
import type { HostFilter } from '../host-filter';
import { makeHost, makeSpec } from '../testing';
import { coreFilter } from './core-filter';
import { diskFilter } from './disk-filter';
import { ramFilter } from './ram-filter';

/** One capacity case: the host's total, used, reserved and ratio of the resource, aggregate ratios, the flavor's request. */
interface CapacityCase {
  name: string;
  total: number;
  used: number;
  reserved: number;
  ratio: number;
  aggs: string[];
  req: number;
  passed: boolean;
}

/** A host whose `kind` resource is as in `c` (the other resources stay at makeHost's defaults). */
function hostWith(kind: ResourceKind, c: CapacityCase) {
  const ratioKey = { vcpu: 'cpu_allocation_ratio', ram: 'ram_allocation_ratio', disk: 'disk_allocation_ratio' }[kind];
  const aggregates = c.aggs.map((v, i) => ({ id: `a${i}`, metadata: { [ratioKey]: v } }));
  if (kind === 'vcpu') return makeHost({ hostId: 'h1', vcpusTotal: c.total, vcpusUsed: c.used, vcpusReserved: c.reserved, cpuAllocationRatio: c.ratio, aggregates });
  if (kind === 'ram') return makeHost({ hostId: 'h1', ramMbTotal: c.total, ramMbUsed: c.used, ramMbReserved: c.reserved, ramAllocationRatio: c.ratio, aggregates });
  return makeHost({ hostId: 'h1', diskGbTotal: c.total, diskGbUsed: c.used, diskGbReserved: c.reserved, diskAllocationRatio: c.ratio, aggregates });
}

/** A flavor requesting `req` of `kind` and nothing else (RamFilter's cases ask 1 vCPU, as before). */
function flavorFor(kind: ResourceKind, req: number) {
  if (kind === 'vcpu') return { vcpus: req, ramMb: 0, diskGb: 0, extraSpecs: {} };
  if (kind === 'ram') return { vcpus: 1, ramMb: req, diskGb: 0, extraSpecs: {} };
  return { vcpus: 0, ramMb: 0, diskGb: req, extraSpecs: {} };
}

/** Runs `filter` on each case and checks the verdict, and the reason of a refusal when `reason` is given. */
function describeCapacityFilter(filter: HostFilter, kind: ResourceKind, reason: RegExp | undefined, cases: CapacityCase[]): void {
  describe(filter.name, () => {
    it.each(cases)('$name', (c) => {
      const result = filter.hostPasses(hostWith(kind, c), makeSpec({ flavor: flavorFor(kind, c.req) }));
      expect(result.passed).toBe(c.passed);
      if (!result.passed && reason) expect(result.reason).toMatch(reason);
    });
  });
}

describeCapacityFilter(coreFilter, 'vcpu', /vCPUs/, [
  { name: 'fits', total: 8, used: 6, reserved: 0, ratio: 1, aggs: [], req: 2, passed: true },
  { name: 'full', total: 8, used: 7, reserved: 0, ratio: 1, aggs: [], req: 2, passed: false },
  { name: 'ratio 16 (Nova 16.0 default)', total: 8, used: 100, reserved: 0, ratio: 16, aggs: [], req: 28, passed: true },
  { name: 'reserved host cpus', total: 8, used: 6, reserved: 2, ratio: 1, aggs: [], req: 1, passed: false },
  { name: 'minimum across aggregates wins', total: 8, used: 8, reserved: 0, ratio: 16, aggs: ['4', '1'], req: 1, passed: false },
  { name: 'one aggregate with ratio', total: 8, used: 8, reserved: 0, ratio: 16, aggs: ['4'], req: 24, passed: true },
]);

// usable = (total - reserved) * ratio; free = usable - used
describeCapacityFilter(ramFilter, 'ram', /free RAM .* MB < requested \d+ MB/, [
  { name: 'fits exactly', total: 4096, used: 3072, reserved: 0, ratio: 1, aggs: [], req: 1024, passed: true },
  { name: 'one MB short', total: 4096, used: 3073, reserved: 0, ratio: 1, aggs: [], req: 1024, passed: false },
  { name: 'reserved is not usable', total: 4096, used: 2048, reserved: 1536, ratio: 1, aggs: [], req: 1024, passed: false },
  { name: 'ratio 1.5 overcommits', total: 4096, used: 4096, reserved: 0, ratio: 1.5, aggs: [], req: 2048, passed: true },
  { name: 'reserved taken before ratio', total: 4096, used: 4096, reserved: 1024, ratio: 2, aggs: [], req: 2048, passed: true },
  { name: 'reserved taken before ratio, short', total: 4096, used: 4096, reserved: 1024, ratio: 2, aggs: [], req: 2049, passed: false },
  { name: 'aggregate ratio lowers host ratio', total: 4096, used: 4096, reserved: 0, ratio: 1.5, aggs: ['1.0'], req: 1, passed: false },
  { name: 'aggregate ratio raises host ratio', total: 4096, used: 4096, reserved: 0, ratio: 1, aggs: ['2'], req: 4096, passed: true },
  { name: 'unparsable aggregate ratio ignored', total: 4096, used: 0, reserved: 0, ratio: 1, aggs: ['lots'], req: 4096, passed: true },
]);

describeCapacityFilter(diskFilter, 'disk', undefined, [
  { name: 'fits', total: 100, used: 80, reserved: 0, ratio: 1, aggs: [], req: 20, passed: true },
  { name: 'short', total: 100, used: 81, reserved: 0, ratio: 1, aggs: [], req: 20, passed: false },
  { name: 'reserved', total: 100, used: 50, reserved: 40, ratio: 1, aggs: [], req: 20, passed: false },
  { name: 'ratio 2', total: 100, used: 150, reserved: 0, ratio: 2, aggs: [], req: 50, passed: true },
  { name: 'aggregate disk_allocation_ratio', total: 100, used: 150, reserved: 0, ratio: 2, aggs: ['1.5'], req: 1, passed: false },
  { name: 'zero-disk flavor on a full host', total: 100, used: 100, reserved: 0, ratio: 1, aggs: [], req: 0, passed: true },
]);
