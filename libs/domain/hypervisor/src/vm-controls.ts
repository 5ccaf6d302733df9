import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { CpuVm } from './cpu-scheduler';
import type { DiskIoLimits } from './token-bucket';

/** Per-VM resource controls the host models enforce. */
export interface VmControls {
  readonly cpu?: Pick<CpuVm, 'shares' | 'reservationMhz' | 'limitMhz'>;
  readonly diskIo?: DiskIoLimits;
}

/**
 * vSphere's CPU share levels per vCPU (vSphere Resource Management: low 500, normal 1000, high 2000
 * shares per vCPU).
 */
export const CPU_SHARES_PER_VCPU: Readonly<Record<string, number>> = { low: 500, normal: 1000, high: 2000 };

function positive(specs: Readonly<Record<string, string>>, key: string): number | undefined {
  const raw = specs[key];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`extra_specs.${key}`, `must be a number >= 0, got "${raw}"`);
  return n === 0 ? undefined : n;
}

/**
 * Resource controls from flavor extra specs, with the keys Nova's drivers use:
 * - CPU (Nova's VMware driver): `quota:cpu_limit` (MHz), `quota:cpu_reservation` (MHz),
 *   `quota:cpu_shares_level` (low | normal | high | custom) and `quota:cpu_shares_share` (custom);
 * - disk (Nova's libvirt driver): `quota:disk_total_iops_sec` (or the larger of `quota:disk_read_iops_sec`
 *   / `quota:disk_write_iops_sec`) and `quota:disk_total_bytes_sec`.
 * Explicit values (e.g. the InstanceSpec's cpu_reservation_mhz) override the extra specs. 0 means unset.
 * @throws InvalidArgumentError naming the extra spec when a value is not a number >= 0, or a share level unknown
 */
export function vmControlsFromExtraSpecs(
  extraSpecs: Readonly<Record<string, string>>,
  vcpus: number,
  explicit: { reservationMhz?: number; limitMhz?: number; shares?: number } = {},
): VmControls {
  const level = extraSpecs['quota:cpu_shares_level'];
  let shares: number | undefined;
  if (level === 'custom') shares = positive(extraSpecs, 'quota:cpu_shares_share');
  else if (level !== undefined && level !== '') {
    const perVcpu = CPU_SHARES_PER_VCPU[level];
    if (!perVcpu) throw new InvalidArgumentError('extra_specs.quota:cpu_shares_level', `must be low, normal, high or custom, got "${level}"`);
    shares = perVcpu * vcpus;
  }
  const cpu = {
    shares: explicit.shares || shares,
    reservationMhz: explicit.reservationMhz || positive(extraSpecs, 'quota:cpu_reservation'),
    limitMhz: explicit.limitMhz || positive(extraSpecs, 'quota:cpu_limit'),
  };
  const iops =
    positive(extraSpecs, 'quota:disk_total_iops_sec') ??
    (() => {
      const r = positive(extraSpecs, 'quota:disk_read_iops_sec');
      const w = positive(extraSpecs, 'quota:disk_write_iops_sec');
      return r === undefined && w === undefined ? undefined : Math.max(r ?? 0, w ?? 0);
    })();
  const bytes = positive(extraSpecs, 'quota:disk_total_bytes_sec');
  const strip = <T extends object>(o: T): T | undefined => {
    const entries = Object.entries(o).filter(([, v]) => v !== undefined);
    return entries.length ? (Object.fromEntries(entries) as T) : undefined;
  };
  return { cpu: strip(cpu), diskIo: strip({ iopsLimit: iops, bytesPerSecondLimit: bytes }) };
}
