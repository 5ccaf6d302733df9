import type { Peers } from '../peers';

/** Quota deltas the compute service accounts (identity's resource names instances, cores, ram_mb). */
export interface ComputeUsage {
  instances: number;
  cores: number;
  ramMb: number;
}

function deltas(u: ComputeUsage): Record<string, number> {
  const out: Record<string, number> = {};
  if (u.instances) out.instances = u.instances;
  if (u.cores) out.cores = u.cores;
  if (u.ramMb) out.ram_mb = u.ramMb;
  return out;
}

/**
 * Nova's quota engine, delegated to identity (which owns quotas): reserve before the claim, commit
 * once the claim succeeded, roll back on any failure, release on delete. Calls use the controller's
 * service token with an explicit project_id. With `enabled` false every call is a no-op (tests
 * without identity).
 */
export class Quotas {
  constructor(
    private readonly peers: Peers,
    private readonly enabled: boolean,
  ) {}

  /**
   * Reserves `usage` for `projectId` (expires after 120 s if never committed).
   * @returns the reservation id ('' when disabled or nothing to reserve)
   * @throws ResourceExhaustedError from identity naming the resource over quota
   */
  async reserve(projectId: string, usage: ComputeUsage): Promise<string> {
    const d = deltas(usage);
    if (!this.enabled || Object.keys(d).length === 0) return '';
    const c = await this.peers.identity();
    return (await c.reserveQuota({ projectId, deltas: d, expireSeconds: 120 })).reservationId;
  }

  /** Whether quota is accounted (records remember what to release only then). */
  enabledFor(): boolean {
    return this.enabled;
  }

  async commit(reservationId: string): Promise<void> {
    if (!this.enabled || !reservationId) return;
    await (await this.peers.identity()).commitQuotaReservation({ reservationId });
  }

  /** Best effort: an uncommitted reservation also expires by itself. */
  async rollback(reservationId: string): Promise<void> {
    if (!this.enabled || !reservationId) return;
    await (await this.peers.identity()).rollbackQuotaReservation({ reservationId }).catch(() => undefined);
  }

  /** Gives back committed usage (delete, resize revert/confirm to a smaller flavor). */
  async release(projectId: string, usage: ComputeUsage): Promise<void> {
    const d = deltas(usage);
    if (!this.enabled || Object.keys(d).length === 0) return;
    await (await this.peers.identity()).releaseQuota({ projectId, deltas: d });
  }
}
