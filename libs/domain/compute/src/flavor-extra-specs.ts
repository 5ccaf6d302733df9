import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * Per-VM resource controls a flavor asks for, in the host model's units. Every field is optional:
 * absent means "the host's default" (normal shares, no reservation, no limit).
 */
export interface FlavorResourceControls {
  readonly cpu?: {
    /** Relative CPU weight of the whole VM (vSphere scale: normal = 1000 per vCPU). */
    readonly shares?: number;
    /** Guaranteed MHz when demanded. */
    readonly reservationMhz?: number;
    /** Ceiling in MHz. */
    readonly limitMhz?: number;
  };
  readonly diskIo?: {
    /** Operations per second. */
    readonly iopsLimit?: number;
    /** Bytes per second. */
    readonly bytesPerSecondLimit?: number;
  };
}

/** Values an InstanceSpec carries itself, which win over the extra specs; 0 or undefined means unset. */
export interface ExplicitCpuControls {
  readonly shares?: number;
  readonly reservationMhz?: number;
  readonly limitMhz?: number;
}

/**
 * vSphere's CPU share levels per vCPU (vSphere Resource Management: low 500, normal 1000, high 2000
 * shares per vCPU), the scale `quota:cpu_shares_level` selects from.
 */
export const CPU_SHARES_PER_VCPU: Readonly<Record<string, number>> = { low: 500, normal: 1000, high: 2000 };

/** The `quota:*` extra-spec keys this reader understands (all others in the namespace are ignored). */
export const QUOTA_EXTRA_SPEC_KEYS = [
  'quota:cpu_shares_level',
  'quota:cpu_shares_share',
  'quota:cpu_shares',
  'quota:cpu_reservation',
  'quota:cpu_limit',
  'quota:disk_total_iops_sec',
  'quota:disk_read_iops_sec',
  'quota:disk_write_iops_sec',
  'quota:disk_total_bytes_sec',
  'quota:disk_read_bytes_sec',
  'quota:disk_write_bytes_sec',
] as const;

/** A set integer >= 0 as a number, undefined when absent, empty or 0 (Nova: 0 means no limit). */
function nonNegativeInt(specs: Readonly<Record<string, string>>, key: (typeof QUOTA_EXTRA_SPEC_KEYS)[number]): number | undefined {
  const raw = specs[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError(`extra_specs.${key}`, `must be an integer >= 0, got "${raw}"`);
  return n === 0 ? undefined : n;
}

/** The larger of the read and write limits, when one of them is set (the host models one total bucket). */
function largerOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined && b === undefined ? undefined : Math.max(a ?? 0, b ?? 0);
}

function withoutUnset<T extends object>(o: T): T | undefined {
  const entries = Object.entries(o).filter(([, v]) => v !== undefined);
  return entries.length ? (Object.fromEntries(entries) as T) : undefined;
}

/**
 * The one reader of a flavor's `quota:*` extra specs (the controller validates and stamps them on the
 * InstanceSpec with it; the compute agent resolves the VM's controls with it). Keys and value types
 * are Nova's, as `nova/api/validation/extra_specs/quota.py` declares them (all integers >= 0):
 * - CPU, Nova's VMware driver: `quota:cpu_shares_level` (low | normal | high | custom, scaled by
 *   {@link CPU_SHARES_PER_VCPU} x vcpus) with `quota:cpu_shares_share` (custom),
 *   `quota:cpu_reservation` (MHz), `quota:cpu_limit` (MHz);
 * - CPU, Nova's libvirt driver: `quota:cpu_shares` (the VM's relative weight), read when no
 *   `quota:cpu_shares_level` is set;
 * - disk, Nova's libvirt driver: `quota:disk_total_iops_sec` and `quota:disk_total_bytes_sec`, else
 *   the larger of the `quota:disk_read_*_sec` / `quota:disk_write_*_sec` pair (the host models one
 *   bucket for both directions).
 * A value of 0 means unset, as in Nova. `explicit` values (an InstanceSpec's own fields) win.
 * @param vcpus the flavor's vCPU count (for share levels)
 * @throws InvalidArgumentError naming the key (`extra_specs.quota:cpu_limit`) when a value is not an
 *   integer >= 0, or `quota:cpu_shares_level` is not one of the four levels
 */
export function readFlavorResourceControls(
  extraSpecs: Readonly<Record<string, string>>,
  vcpus: number,
  explicit: ExplicitCpuControls = {},
): FlavorResourceControls {
  const level = extraSpecs['quota:cpu_shares_level'];
  let shares: number | undefined;
  if (level === 'custom') shares = nonNegativeInt(extraSpecs, 'quota:cpu_shares_share');
  else if (level !== undefined && level !== '') {
    const perVcpu = Object.hasOwn(CPU_SHARES_PER_VCPU, level) ? CPU_SHARES_PER_VCPU[level] : undefined;
    if (!perVcpu) throw new InvalidArgumentError('extra_specs.quota:cpu_shares_level', `must be low, normal, high or custom, got "${level}"`);
    shares = perVcpu * vcpus;
  } else shares = nonNegativeInt(extraSpecs, 'quota:cpu_shares');
  const reservationMhz = nonNegativeInt(extraSpecs, 'quota:cpu_reservation');
  const limitMhz = nonNegativeInt(extraSpecs, 'quota:cpu_limit');
  const cpu = {
    shares: explicit.shares || shares,
    reservationMhz: explicit.reservationMhz || reservationMhz,
    limitMhz: explicit.limitMhz || limitMhz,
  };
  const iops =
    nonNegativeInt(extraSpecs, 'quota:disk_total_iops_sec') ??
    largerOf(nonNegativeInt(extraSpecs, 'quota:disk_read_iops_sec'), nonNegativeInt(extraSpecs, 'quota:disk_write_iops_sec'));
  const bytes =
    nonNegativeInt(extraSpecs, 'quota:disk_total_bytes_sec') ??
    largerOf(nonNegativeInt(extraSpecs, 'quota:disk_read_bytes_sec'), nonNegativeInt(extraSpecs, 'quota:disk_write_bytes_sec'));
  return { cpu: withoutUnset(cpu), diskIo: withoutUnset({ iopsLimit: iops, bytesPerSecondLimit: bytes }) };
}
