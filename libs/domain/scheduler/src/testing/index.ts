/**
 * Test helpers (not for production code): HostState and RequestSpec builders with sensible
 * defaults, so a spec states only what matters to it.
 */
import { HostState } from '../host-state';
import { RequestSpec } from '../request-spec';

/** A healthy 16-vCPU / 64 GiB / 1 TB qemu x86_64 host in zone "nova", ratios 1.0, nothing used. */
export function makeHost(overrides: Partial<HostState> & { hostId: string }): HostState {
  return {
    availabilityZone: 'nova',
    enabled: true,
    up: true,
    aggregates: [],
    vcpusTotal: 16,
    vcpusUsed: 0,
    ramMbTotal: 65536,
    ramMbUsed: 0,
    ramMbReserved: 0,
    diskGbTotal: 1000,
    diskGbUsed: 0,
    cpuAllocationRatio: 1,
    ramAllocationRatio: 1,
    diskAllocationRatio: 1,
    numInstances: 0,
    numIoOps: 0,
    instanceIds: new Set<string>(),
    hypervisorType: 'qemu',
    architecture: 'x86_64',
    cpuModel: 'Haswell',
    failedBuilds: 0,
    ...overrides,
  };
}

/** One instance of a 1 vCPU / 1024 MB / 10 GB flavor, no hints, no group. */
export function makeSpec(overrides: Partial<RequestSpec> = {}): RequestSpec {
  return {
    numInstances: 1,
    flavor: { vcpus: 1, ramMb: 1024, diskGb: 10, extraSpecs: {} },
    image: { properties: {} },
    schedulerHints: {},
    ...overrides,
  };
}
