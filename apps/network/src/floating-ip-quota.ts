import type { ServiceCredentials } from '@minicloud/platform-service';

/**
 * The floating_ips quota (identity owns quotas): reserve one before the address is allocated, commit
 * once the floating IP exists, roll back when it could not be made, release when it is deleted.
 */
export interface FloatingIpQuota {
  /** @returns the reservation id; @throws ResourceExhaustedError from identity when over quota */
  reserve(projectId: string): Promise<string>;
  commit(reservationId: string): Promise<void>;
  /** Best effort: an uncommitted reservation also expires by itself. */
  rollback(reservationId: string): Promise<void>;
  release(projectId: string): Promise<void>;
}

/** How long an uncommitted reservation lives (s): a create takes well under a second. */
const RESERVATION_SECONDS = 120;

/** The quota through identity's Reserve/Commit/Rollback/ReleaseQuota, with the network service's own token. */
export function identityFloatingIpQuota(creds: ServiceCredentials): FloatingIpQuota {
  const opts = async () => ({ token: await creds.getToken() });
  return {
    reserve: async (projectId) => (await creds.identity.reserveQuota({ projectId, deltas: { floating_ips: 1 }, expireSeconds: RESERVATION_SECONDS }, await opts())).reservationId,
    commit: async (reservationId) => void (await creds.identity.commitQuotaReservation({ reservationId }, await opts())),
    rollback: async (reservationId) => void (await creds.identity.rollbackQuotaReservation({ reservationId }, await opts()).catch(() => undefined)),
    release: async (projectId) => void (await creds.identity.releaseQuota({ projectId, deltas: { floating_ips: 1 } }, await opts())),
  };
}
