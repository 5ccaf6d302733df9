import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  HP_PROLIANT_ML110_G4_POWER,
  HP_PROLIANT_ML110_G5_POWER,
  PowerModel,
  specPowerModel,
} from './power-model';

/**
 * The hardware of one simulated hypervisor host (what `virsh capabilities` / `nodeinfo` report).
 * Units: `cpuMhz` per core, `ramMb` MiB, `diskGb` GiB of local instance storage, `nicGbps` Gbit/s.
 */
export interface HostProfile {
  readonly hostId: string;
  /** Catalog name the profile was made from, e.g. "hp-proliant-ml110-g4". */
  readonly profileName: string;
  readonly sockets: number;
  readonly coresPerSocket: number;
  /** 1 without SMT, 2 with Hyper-Threading. */
  readonly threadsPerCore: number;
  readonly cpuMhz: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly nicGbps: number;
  readonly cpuModel: string;
  /** CPU feature flags as in /proc/cpuinfo (used by CPU-model compatibility checks). */
  readonly cpuFlags: readonly string[];
  readonly numaNodes: number;
  readonly powerModel: PowerModel;
  readonly hypervisorType: 'qemu';
  readonly architecture: 'x86_64';
}

/** A catalog entry: a profile without the host id. */
export type HostProfileSpec = Omit<HostProfile, 'hostId'>;

/** CPU flag sets of the catalog's processor generations (as /proc/cpuinfo lists them, reduced). */
export const CORE2_FLAGS: readonly string[] = ['fpu', 'pae', 'cx8', 'apic', 'sse', 'sse2', 'ssse3', 'lm', 'nx', 'vmx'];
export const SKYLAKE_SP_FLAGS: readonly string[] = [...CORE2_FLAGS, 'sse4_1', 'sse4_2', 'popcnt', 'aes', 'avx', 'avx2', 'fma', 'avx512f', 'ept'];
export const ICELAKE_SP_FLAGS: readonly string[] = [...SKYLAKE_SP_FLAGS, 'avx512_vnni', 'sha_ni'];
export const ZEN3_FLAGS: readonly string[] = [...CORE2_FLAGS.filter((f) => f !== 'vmx'), 'svm', 'npt', 'sse4_1', 'sse4_2', 'popcnt', 'aes', 'avx', 'avx2', 'fma', 'sha_ni'];

// Modern servers: illustrative SPECpower-shaped curves (idle ~25-30 % of peak, as typical 2-socket
// results of that generation show). NOT copies of a published result; replace with a real one if a
// study depends on absolute watts.
const ILLUSTRATIVE = 'illustrative SPECpower_ssj2008-shaped curve, not a published result';

/**
 * Named host profiles. The two HP ProLiant ML110 hosts are CloudSim's (examples/power/Constants.java,
 * Beloglazov & Buyya CCPE 2012): 2 cores, 4096 MB, 1 Gbit/s, 1 TB storage (HOST_STORAGE = 1,000,000 MB).
 * The others are current-generation servers for the default cloud.
 */
export const HOST_PROFILE_CATALOG = {
  'hp-proliant-ml110-g4': spec({
    profileName: 'hp-proliant-ml110-g4', sockets: 1, coresPerSocket: 2, threadsPerCore: 1, cpuMhz: 1860,
    ramMb: 4096, diskGb: 1000, nicGbps: 1, cpuModel: 'Intel Xeon 3040', cpuFlags: CORE2_FLAGS, numaNodes: 1,
    powerModel: HP_PROLIANT_ML110_G4_POWER,
  }),
  'hp-proliant-ml110-g5': spec({
    profileName: 'hp-proliant-ml110-g5', sockets: 1, coresPerSocket: 2, threadsPerCore: 1, cpuMhz: 2660,
    ramMb: 4096, diskGb: 1000, nicGbps: 1, cpuModel: 'Intel Xeon 3075', cpuFlags: CORE2_FLAGS, numaNodes: 1,
    powerModel: HP_PROLIANT_ML110_G5_POWER,
  }),
  'std-2s32c-256g': spec({
    profileName: 'std-2s32c-256g', sockets: 2, coresPerSocket: 16, threadsPerCore: 2, cpuMhz: 2600,
    ramMb: 262144, diskGb: 3840, nicGbps: 25, cpuModel: 'Intel Xeon Gold 6142', cpuFlags: SKYLAKE_SP_FLAGS,
    numaNodes: 2,
    powerModel: specPowerModel('std-2s32c-256g', [110, 140, 165, 190, 215, 240, 268, 298, 330, 365, 400], ILLUSTRATIVE),
  }),
  'large-2s64c-512g': spec({
    profileName: 'large-2s64c-512g', sockets: 2, coresPerSocket: 32, threadsPerCore: 2, cpuMhz: 2800,
    ramMb: 524288, diskGb: 7680, nicGbps: 100, cpuModel: 'AMD EPYC 7543', cpuFlags: ZEN3_FLAGS, numaNodes: 2,
    powerModel: specPowerModel('large-2s64c-512g', [150, 200, 240, 280, 320, 360, 400, 440, 480, 520, 560], ILLUSTRATIVE),
  }),
  'compact-1s24c-128g': spec({
    profileName: 'compact-1s24c-128g', sockets: 1, coresPerSocket: 24, threadsPerCore: 2, cpuMhz: 2400,
    ramMb: 131072, diskGb: 1920, nicGbps: 25, cpuModel: 'Intel Xeon Gold 5317', cpuFlags: ICELAKE_SP_FLAGS,
    numaNodes: 1,
    powerModel: specPowerModel('compact-1s24c-128g', [70, 90, 105, 120, 135, 150, 166, 183, 200, 218, 235], ILLUSTRATIVE),
  }),
} as const satisfies Record<string, HostProfileSpec>;

export type HostProfileName = keyof typeof HOST_PROFILE_CATALOG;

/** Default cloud: modern hosts, mixed so placement has something to choose between. */
export const DEFAULT_PROFILE_ROTATION: readonly HostProfileName[] = ['std-2s32c-256g', 'large-2s64c-512g', 'compact-1s24c-128g'];

/** CloudSim's PlanetLab setup: host i is G4 when i is even, G5 when odd (Helper.createHostList). */
export const CLOUDSIM_PROFILE_ROTATION: readonly HostProfileName[] = ['hp-proliant-ml110-g4', 'hp-proliant-ml110-g5'];

/**
 * The profile of the `index`-th agent: `rotation[index % rotation.length]` with the given host id, so N
 * agents started with indexes 0..N-1 get different (round-robin) hardware.
 * @throws InvalidArgumentError (field `index`) unless index is a non-negative integer, or (field
 *   `rotation`) when it is empty.
 */
export function pickProfile(
  index: number,
  hostId = `host-${index}`,
  rotation: readonly HostProfileName[] = DEFAULT_PROFILE_ROTATION,
): HostProfile {
  if (!Number.isInteger(index) || index < 0) throw new InvalidArgumentError('index', `must be an integer >= 0, got ${index}`);
  if (rotation.length === 0) throw new InvalidArgumentError('rotation', 'must name at least one profile');
  return profileByName(rotation[index % rotation.length], hostId);
}

/**
 * The catalog profile `name` for host `hostId`.
 * @throws NotFoundError ("host_profile") for an unknown name.
 */
export function profileByName(name: string, hostId: string): HostProfile {
  if (!Object.prototype.hasOwnProperty.call(HOST_PROFILE_CATALOG, name)) throw new NotFoundError('host_profile', name);
  return { ...HOST_PROFILE_CATALOG[name as HostProfileName], hostId };
}

/** Physical cores: sockets x cores per socket. */
export function physicalCores(p: Pick<HostProfile, 'sockets' | 'coresPerSocket'>): number {
  return p.sockets * p.coresPerSocket;
}

/** Logical CPUs (what the guest scheduler sees as pCPUs): sockets x cores x threads. */
export function logicalCpus(p: Pick<HostProfile, 'sockets' | 'coresPerSocket' | 'threadsPerCore'>): number {
  return p.sockets * p.coresPerSocket * p.threadsPerCore;
}

/**
 * CPU capacity in MHz: physical cores x cpuMhz. SMT threads add no MHz, as vSphere counts host CPU
 * capacity and as CloudSim counts MIPS (one Pe per core).
 */
export function totalCpuMhz(p: Pick<HostProfile, 'sockets' | 'coresPerSocket' | 'cpuMhz'>): number {
  return physicalCores(p) * p.cpuMhz;
}

/**
 * Checks a profile (e.g. a custom one from config).
 * @throws InvalidArgumentError naming the field (`host_profile.<field>`) when a count is not a positive
 *   integer, a size/speed is not positive, or the host id is empty.
 */
export function validateHostProfile(p: HostProfile): HostProfile {
  if (!p.hostId) throw new InvalidArgumentError('host_profile.host_id', 'must not be empty');
  const ints: [string, number][] = [
    ['sockets', p.sockets], ['cores_per_socket', p.coresPerSocket], ['threads_per_core', p.threadsPerCore],
    ['numa_nodes', p.numaNodes], ['ram_mb', p.ramMb],
  ];
  for (const [field, v] of ints) {
    if (!Number.isInteger(v) || v <= 0) throw new InvalidArgumentError(`host_profile.${field}`, `must be a positive integer, got ${v}`);
  }
  const positives: [string, number][] = [['cpu_mhz', p.cpuMhz], ['disk_gb', p.diskGb], ['nic_gbps', p.nicGbps]];
  for (const [field, v] of positives) {
    if (!Number.isFinite(v) || v <= 0) throw new InvalidArgumentError(`host_profile.${field}`, `must be > 0, got ${v}`);
  }
  return p;
}

function spec(s: Omit<HostProfileSpec, 'hypervisorType' | 'architecture'>): HostProfileSpec {
  return Object.freeze({ ...s, cpuFlags: Object.freeze([...s.cpuFlags]), hypervisorType: 'qemu', architecture: 'x86_64' });
}
