import type { ServiceCredentials } from '@minicloud/platform-service';

/** What a volume counts against its project's quota (identity's resource names: Cinder's volumes and gigabytes). */
export interface VolumeQuotaDeltas {
  volumes?: number;
  /** GB. */
  gigabytes?: number;
}

/**
 * Cinder's volume quotas, which identity owns: reserve before a volume is placed (or grown),
 * commit once it is stored, roll back when it could not be made, release when it is deleted.
 * Usage counts every volume that exists, in error too, until it is deleted (as Cinder's does).
 */
export interface VolumeQuota {
  /** @returns the reservation id; @throws ResourceExhaustedError from identity when over quota */
  reserve(projectId: string, deltas: VolumeQuotaDeltas): Promise<string>;
  commit(reservationId: string): Promise<void>;
  /** Best effort: an uncommitted reservation also expires by itself. */
  rollback(reservationId: string): Promise<void>;
  release(projectId: string, deltas: VolumeQuotaDeltas): Promise<void>;
}

/** How long an uncommitted reservation lives (s): a create or extend commits well within it. */
const RESERVATION_SECONDS = 120;

const nonZero = (d: VolumeQuotaDeltas): Record<string, number> => Object.fromEntries(Object.entries(d).filter(([, v]) => v !== undefined && v !== 0)) as Record<string, number>;

/** The quota through identity's Reserve/Commit/Rollback/ReleaseQuota, with the volume service's own token. */
export function identityVolumeQuota(creds: ServiceCredentials): VolumeQuota {
  const opts = async () => ({ token: await creds.getToken() });
  return {
    reserve: async (projectId, deltas) => (await creds.identity.reserveQuota({ projectId, deltas: nonZero(deltas), expireSeconds: RESERVATION_SECONDS }, await opts())).reservationId,
    commit: async (reservationId) => void (await creds.identity.commitQuotaReservation({ reservationId }, await opts())),
    rollback: async (reservationId) => void (await creds.identity.rollbackQuotaReservation({ reservationId }, await opts()).catch(() => undefined)),
    release: async (projectId, deltas) => void (await creds.identity.releaseQuota({ projectId, deltas: nonZero(deltas) }, await opts())),
  };
}
