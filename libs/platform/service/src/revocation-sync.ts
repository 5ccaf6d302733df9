import { events, type identity } from '@minicloud/proto';
import type { RevocationList } from '@minicloud/platform-auth';
import { Subjects, type Bus } from '@minicloud/platform-bus';

/** Applies one identity `token.revoked` event (a token id, or a user's cut-off) to a revocation list. */
export function applyTokenRevoked(list: RevocationList, ev: events.TokenRevoked, nowMs: number): void {
  if (ev.tokenId) list.revokeToken(ev.tokenId, ev.expiresAt?.getTime() ?? nowMs + 86_400_000);
  if (ev.userId && ev.revokedBefore) list.revokeUserBefore(ev.userId, ev.revokedBefore.getTime());
}

/** Applies identity's ListRevocations answer (the revocations still in force) to a revocation list. */
export function applyRevocationSnapshot(list: RevocationList, snapshot: identity.ListRevocationsResponse, nowMs: number): void {
  for (const t of snapshot.tokens) list.revokeToken(t.tokenId, t.expiresAt?.getTime() ?? nowMs + 86_400_000);
  for (const u of snapshot.users) if (u.revokedBefore) list.revokeUserBefore(u.userId, u.revokedBefore.getTime());
}

/**
 * Keeps a process's revocation list current: subscribes to `token.revoked` first (core NATS: a
 * revocation reaches every service within milliseconds), then loads the revocations already in force
 * from identity (`load`, i.e. ListRevocations with the service token), so a service that starts or
 * restarts refuses tokens revoked while it was down. Subscribing before loading leaves no gap.
 * @returns a function that stops the subscription
 * @throws whatever `load` throws (the service should not start accepting tokens it cannot check)
 */
export async function syncRevocations(opts: {
  bus: Bus;
  list: RevocationList;
  load?: () => Promise<identity.ListRevocationsResponse>;
  nowMs?: () => number;
}): Promise<() => void> {
  const nowMs = opts.nowMs ?? (() => Date.now());
  const sub = opts.bus.subscribe(Subjects.tokenRevoked, events.TokenRevoked, (ev) => applyTokenRevoked(opts.list, ev, nowMs()));
  if (opts.load) applyRevocationSnapshot(opts.list, await opts.load(), nowMs());
  return () => sub.unsubscribe();
}
