import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * ESXi's host free-memory states ("Understanding Memory Resource Management in VMware vSphere 5.0",
 * VMware 2011; Denneman, "ESXi memory states"): high (TPS only), soft (ballooning), hard (ballooning +
 * compression + swap), low (as hard; new allocations are blocked).
 */
export type MemoryState = 'high' | 'soft' | 'hard' | 'low';

/**
 * Memory reclamation settings. Free-memory thresholds are ratios of host RAM (ESXi 5.x: 6/4/2/1 %).
 * Reclamation starts when free memory falls BELOW a threshold and aims ABOVE the one before (hysteresis):
 * ballooning starts below `softFreeRatio` and inflates until free >= `highFreeRatio`; compression then
 * swap start below `hardFreeRatio` (after ballooning) and reclaim until free >= `softFreeRatio`.
 */
export interface MemoryConfig {
  readonly highFreeRatio: number;
  readonly softFreeRatio: number;
  readonly hardFreeRatio: number;
  readonly lowFreeRatio: number;
  /** Fraction of a VM's touched memory identical across VMs booted from the same image (TPS). */
  readonly shareRatio: number;
  /** Most of a VM's RAM the balloon driver may take (ESXi Mem.CtlMaxPercent = 65 %). */
  readonly balloonMaxRatio: number;
  /** How fast a balloon inflates/deflates towards its target, MB per second of simulated time. */
  readonly balloonRateMbPerSecond: number;
  /** Compressed size / original size (ESXi keeps a 4 KB page only when it compresses to <= 2 KB). */
  readonly compressionRatio: number;
  /** Compression cache cap per VM as a ratio of its RAM (ESXi Mem.MemZipMaxPct = 10 %). */
  readonly compressionMaxRatio: number;
}

export const DEFAULT_MEMORY_CONFIG: MemoryConfig = Object.freeze({
  highFreeRatio: 0.06, softFreeRatio: 0.04, hardFreeRatio: 0.02, lowFreeRatio: 0.01,
  shareRatio: 0.1, balloonMaxRatio: 0.65, balloonRateMbPerSecond: 64, compressionRatio: 0.5, compressionMaxRatio: 0.1,
});

/** One VM's memory this interval. MB = MiB. */
export interface MemoryVm {
  readonly id: string;
  /** Configured RAM (flavor ram_mb). */
  readonly ramMb: number;
  /** Memory the guest has ever touched (<= ramMb): what it would hold without reclamation. */
  readonly touchedMb: number;
  /** Recently used memory (<= touchedMb): never ballooned or compressed first. */
  readonly activeMb: number;
  /** Base image id: VMs from the same image share pages (TPS); undefined = no sharing. */
  readonly imageId?: string;
  /** Current balloon size (from the previous interval), MB. */
  readonly balloonMb: number;
}

/** vSphere's per-VM memory counters, MB: for one VM, or summed over a host's VMs. */
export interface MemoryCounters {
  readonly grantedMb: number;
  readonly activeMb: number;
  readonly sharedMb: number;
  readonly balloonedMb: number;
  readonly compressedMb: number;
  readonly swappedMb: number;
}

/** Per-VM outcome, MB. granted = touched - ballooned - compressed - swapped (pages the VM has in RAM, shared or not). */
export interface MemoryVmResult extends MemoryCounters {
  readonly id: string;
  /** Host RAM this VM costs: granted - its part of the sharing savings + compressed x compressionRatio. */
  readonly consumedMb: number;
}

/** Host outcome, MB; the counters are the sums over its VMs. */
export interface MemoryResult extends MemoryCounters {
  readonly vms: readonly MemoryVmResult[];
  /** State from free memory after page sharing, before ballooning: what triggers reclamation. */
  readonly state: MemoryState;
  /** State after this interval's reclamation. */
  readonly stateAfter: MemoryState;
  readonly ramMb: number;
  readonly freeMb: number;
  readonly consumedMb: number;
  readonly sharedSavedMb: number;
}

/**
 * Whether a host in memory state `state` takes a new VM (a spawn or an incoming live migration): not in
 * `low`, where ESXi blocks new allocations (VMware, "Understanding Memory Resource Management in
 * VMware vSphere 5.0"), so the VM goes to another host (Nova's reschedule; DRS places elsewhere).
 */
export function admitsNewVms(state: MemoryState): boolean {
  return state !== 'low';
}

/** The state for a free-memory amount: >= soft threshold is high, then soft, hard, low. */
export function memoryStateOf(freeMb: number, ramMb: number, c: MemoryConfig = DEFAULT_MEMORY_CONFIG): MemoryState {
  if (freeMb >= c.softFreeRatio * ramMb) return 'high';
  if (freeMb >= c.hardFreeRatio * ramMb) return 'soft';
  if (freeMb >= c.lowFreeRatio * ramMb) return 'hard';
  return 'low';
}

/**
 * One interval of ESXi memory management on a host, in ESXi's order: (1) transparent page sharing,
 * always on: VMs of the same image (2 or more) each share `shareRatio` x touched, one copy of the
 * largest such set is kept; (2) when the state is soft or worse, balloons move towards targets that
 * bring free memory back to the high threshold, at most `balloonRateMbPerSecond` x dt per VM, targets
 * spread in proportion to idle memory (touched - active, ESXi's idle-memory tax) and capped by
 * min(idle, balloonMaxRatio x RAM); (3) if free memory after ballooning is still below the hard
 * threshold, cold pages are compressed (up to compressionMaxRatio x RAM per VM), then (4) swapped
 * to host swap, until free reaches the soft threshold. Compression and swap are recomputed every
 * interval (pages come back when the pressure goes); balloons carry over through `balloonMb`.
 * @param dtSeconds simulated seconds since the previous interval (>= 0)
 * @throws InvalidArgumentError naming the field (`ram_mb`, `dt_seconds`, `vms[i].touched_mb`,
 *   `vms[i].active_mb`, `config.*`) for negative or inconsistent sizes and unordered thresholds.
 */
export function reclaimMemory(ramMb: number, vms: readonly MemoryVm[], dtSeconds: number, c: MemoryConfig = DEFAULT_MEMORY_CONFIG): MemoryResult {
  validate(ramMb, vms, dtSeconds, c);
  const shared = pageSharing(vms, c.shareRatio);
  const touched = sum(vms.map((v) => v.touchedMb));
  const afterSharing = touched - shared.savedMb;
  const state = memoryStateOf(ramMb - afterSharing, ramMb, c);

  // (2) balloon
  const idle = vms.map((v) => Math.max(0, Math.min(v.touchedMb - v.activeMb, c.balloonMaxRatio * v.ramMb)));
  const balloonNeed = state === 'high' ? 0 : Math.max(0, afterSharing - (1 - c.highFreeRatio) * ramMb);
  const targets = spread(balloonNeed, idle);
  const step = c.balloonRateMbPerSecond * dtSeconds;
  const balloon = vms.map((v, i) => {
    const from = Math.min(v.balloonMb, idle[i]);
    return targets[i] >= from ? Math.min(targets[i], from + step) : Math.max(targets[i], from - step);
  });
  let consumed = afterSharing - sum(balloon);

  // (3) compression, (4) swap
  let compressed = vms.map(() => 0);
  let swapped = vms.map(() => 0);
  if (ramMb - consumed < c.hardFreeRatio * ramMb) {
    let need = consumed - (1 - c.softFreeRatio) * ramMb;
    const cold = vms.map((v, i) => Math.max(0, v.touchedMb - v.activeMb - balloon[i]));
    const compressible = cold.map((x, i) => Math.min(x, c.compressionMaxRatio * vms[i].ramMb));
    const saving = 1 - c.compressionRatio;
    const compressTotal = saving > 0 ? Math.min(sum(compressible), need / saving) : 0;
    compressed = spread(compressTotal, compressible);
    need -= compressTotal * saving;
    const swappable = vms.map((v, i) => Math.max(0, v.touchedMb - balloon[i] - compressed[i]));
    swapped = spread(Math.max(0, Math.min(need, sum(swappable))), swappable);
    consumed -= compressTotal * saving + sum(swapped);
  }

  const results = vms.map((v, i) => {
    const granted = Math.max(0, v.touchedMb - balloon[i] - compressed[i] - swapped[i]);
    const sharedMb = Math.min(shared.perVm[i], granted);
    return {
      id: v.id, grantedMb: granted, activeMb: Math.min(v.activeMb, granted), sharedMb, balloonedMb: balloon[i],
      compressedMb: compressed[i], swappedMb: swapped[i],
      consumedMb: granted - Math.min(shared.savedPerVm[i], sharedMb) + compressed[i] * c.compressionRatio,
    };
  });
  return {
    vms: results, state, stateAfter: memoryStateOf(ramMb - consumed, ramMb, c), ramMb, freeMb: ramMb - consumed, consumedMb: consumed,
    sharedSavedMb: shared.savedMb, grantedMb: sum(results.map((r) => r.grantedMb)), activeMb: sum(results.map((r) => r.activeMb)),
    sharedMb: sum(results.map((r) => r.sharedMb)), balloonedMb: sum(balloon), compressedMb: sum(compressed), swappedMb: sum(swapped),
  };
}

/** Per VM: shared MB and its part of the savings (shared minus its part of the kept copy). */
function pageSharing(vms: readonly MemoryVm[], shareRatio: number): { perVm: number[]; savedPerVm: number[]; savedMb: number } {
  const groups = new Map<string, number[]>();
  vms.forEach((v, i) => v.imageId && (groups.get(v.imageId) ?? groups.set(v.imageId, []).get(v.imageId)!).push(i));
  const perVm = vms.map(() => 0);
  const savedPerVm = vms.map(() => 0);
  for (const idx of groups.values()) {
    if (idx.length < 2) continue;
    const each = idx.map((i) => shareRatio * vms[i].touchedMb);
    const total = sum(each);
    const kept = Math.max(...each);
    idx.forEach((i, k) => {
      perVm[i] = each[k];
      savedPerVm[i] = total > 0 ? (each[k] * (total - kept)) / total : 0;
    });
  }
  return { perVm, savedPerVm, savedMb: sum(savedPerVm) };
}

/** Splits `amount` in proportion to `caps`, never above a cap (amount is clipped to sum(caps)). */
function spread(amount: number, caps: readonly number[]): number[] {
  const total = sum(caps);
  if (!(amount > 0) || total <= 0) return caps.map(() => 0);
  const f = Math.min(1, amount / total);
  return caps.map((x) => x * f);
}

function validate(ramMb: number, vms: readonly MemoryVm[], dt: number, c: MemoryConfig): void {
  if (!(ramMb > 0)) throw new InvalidArgumentError('ram_mb', `must be > 0, got ${ramMb}`);
  if (!(dt >= 0) || !Number.isFinite(dt)) throw new InvalidArgumentError('dt_seconds', `must be >= 0, got ${dt}`);
  if (!(1 > c.highFreeRatio && c.highFreeRatio >= c.softFreeRatio && c.softFreeRatio >= c.hardFreeRatio && c.hardFreeRatio >= c.lowFreeRatio && c.lowFreeRatio >= 0)) {
    throw new InvalidArgumentError('config.high_free_ratio', 'thresholds must satisfy 1 > high >= soft >= hard >= low >= 0');
  }
  for (const [k, v] of [['share_ratio', c.shareRatio], ['balloon_max_ratio', c.balloonMaxRatio], ['compression_ratio', c.compressionRatio], ['compression_max_ratio', c.compressionMaxRatio]] as const) {
    if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(`config.${k}`, `must be in [0, 1], got ${v}`);
  }
  if (!(c.balloonRateMbPerSecond >= 0)) throw new InvalidArgumentError('config.balloon_rate_mb_per_second', `must be >= 0, got ${c.balloonRateMbPerSecond}`);
  vms.forEach((v, i) => {
    if (!(v.touchedMb >= 0 && v.touchedMb <= v.ramMb)) throw new InvalidArgumentError(`vms[${i}].touched_mb`, `must be in [0, ram_mb ${v.ramMb}], got ${v.touchedMb}`);
    if (!(v.activeMb >= 0 && v.activeMb <= v.touchedMb)) throw new InvalidArgumentError(`vms[${i}].active_mb`, `must be in [0, touched_mb ${v.touchedMb}], got ${v.activeMb}`);
    if (!(v.balloonMb >= 0)) throw new InvalidArgumentError(`vms[${i}].balloon_mb`, `must be >= 0, got ${v.balloonMb}`);
  });
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
