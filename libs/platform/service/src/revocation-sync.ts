import { events, type identity } from '@minicloud/proto';
import type { RevocationList } from '@minicloud/platform-auth';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';

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

/** How a revocation sync runs: its first load, and reloads after reconnections and on a period. */
export interface RevocationSyncOptions {
  bus: Bus;
  list: RevocationList;
  /** ListRevocations with the service's token (identity has none: it reads its own store). */
  load?: () => Promise<identity.ListRevocationsResponse>;
  nowMs?: () => number;
  /**
   * Reloads every this many ms whatever the connection did (0 or undefined: never). This bounds the
   * loss of a `token.revoked` event that identity could not publish (identity itself cut off from
   * NATS, while this service stayed connected).
   */
  resyncIntervalMs?: number;
  /** First wait between failed reloads (doubles up to 5 s); default 100 ms. */
  retryDelayMs?: number;
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** Called after each successful reload with why it ran (tests, metrics). */
  onReloaded?: (reason: 'reconnect' | 'interval') => void;
}

/**
 * Keeps a process's revocation list current:
 * - subscribes to `token.revoked` first (core NATS: a revocation reaches every service within
 *   milliseconds), then loads the revocations already in force from identity (`load`, i.e.
 *   ListRevocations with the service token), so a service that starts or restarts refuses tokens
 *   revoked while it was down. Subscribing before loading leaves no gap.
 * - after every NATS reconnection, loads them again (retrying until it succeeds or the sync is
 *   stopped): core NATS does not replay what was published while this process was disconnected, so
 *   without this a token revoked meanwhile would be accepted until the next restart. The load runs
 *   after the subscription is back, so again nothing falls between the two.
 * - with `resyncIntervalMs`, also on that period.
 * The list only grows between prunes, so a reload never forgets a revocation.
 * @returns a function that stops the subscription, the reloads and any retry in progress
 * @throws whatever the first `load` throws (the service should not start accepting tokens it cannot check)
 */
export async function syncRevocations(opts: RevocationSyncOptions): Promise<() => void> {
  const nowMs = opts.nowMs ?? (() => Date.now());
  const sub = opts.bus.subscribe(Subjects.tokenRevoked, events.TokenRevoked, (ev) => applyTokenRevoked(opts.list, ev, nowMs()));
  const load = opts.load;
  if (!load) return () => sub.unsubscribe();
  applyRevocationSnapshot(opts.list, await load(), nowMs());

  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let again = false;
  // One reload at a time; a reconnection during a reload asks for one more after it.
  const reload = (reason: 'reconnect' | 'interval') => {
    if (stop.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      let delayMs = opts.retryDelayMs ?? 100;
      while (!stop.signal.aborted) {
        try {
          applyRevocationSnapshot(opts.list, await load(), nowMs());
          opts.logger?.info({ reason }, 'revocations reloaded');
          opts.onReloaded?.(reason);
          if (!again) return;
          again = false;
        } catch (e) {
          opts.logger?.warn({ err: e, reason, retry_in_ms: delayMs }, 'reloading revocations failed; retrying');
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, delayMs);
            stop.signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
          });
          delayMs = Math.min(delayMs * 2, 5_000);
        }
      }
    })().finally(() => (running = undefined));
  };
  const offReconnect = opts.bus.onReconnect(() => reload('reconnect'));
  const timer = opts.resyncIntervalMs ? setInterval(() => reload('interval'), opts.resyncIntervalMs) : undefined;
  timer?.unref?.();
  return () => {
    stop.abort();
    offReconnect();
    if (timer) clearInterval(timer);
    sub.unsubscribe();
  };
}
