import type { CpuVm } from './cpu-scheduler';
import type { DiskIoLimits } from './token-bucket';

/**
 * Per-VM resource controls the host models enforce. The agent fills them from the flavor's `quota:*`
 * extra specs with `readFlavorResourceControls` of @minicloud/domain-compute (the one reader).
 */
export interface VmControls {
  readonly cpu?: Pick<CpuVm, 'shares' | 'reservationMhz' | 'limitMhz'>;
  readonly diskIo?: DiskIoLimits;
}
