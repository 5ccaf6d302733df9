/**
 * Restart policy of HA (pure): which instances of a fenced host are restarted and in what order
 * (vSphere HA's VM restart priority, Masakari's instance recovery). Priorities: high, medium, low,
 * disabled; restart order high -> medium -> low, then oldest first (stable across replicas).
 */
export type RestartPriority = 'high' | 'medium' | 'low' | 'disabled';

export const RESTART_PRIORITIES: readonly RestartPriority[] = ['high', 'medium', 'low', 'disabled'];

/** Normalises a stored/requested priority ('' -> medium). @returns undefined when not a known value */
export function parseRestartPriority(v: string | undefined): RestartPriority | undefined {
  const s = (v ?? '').trim().toLowerCase() || 'medium';
  return (RESTART_PRIORITIES as readonly string[]).includes(s) ? (s as RestartPriority) : undefined;
}

/** What the policy needs of an instance. */
export interface RestartCandidate {
  readonly id: string;
  readonly haEnabled: boolean;
  readonly restartPriority: string;
  readonly createdAtMs: number;
  readonly vmState: string;
  readonly taskState: string | null;
}

/**
 * True when HA restarts this instance after its host failed: ha_enabled, priority not disabled, and it
 * was meant to run (vm_state active, no delete in progress), as vSphere HA restarts powered-on VMs only.
 * Stopped, errored or building instances stay on the fenced host (their record keeps it).
 */
export function isRestartable(c: RestartCandidate): boolean {
  if (!c.haEnabled || parseRestartPriority(c.restartPriority) === 'disabled') return false;
  return c.vmState === 'active' && c.taskState !== 'deleting';
}

const RANK: Record<RestartPriority, number> = { high: 0, medium: 1, low: 2, disabled: 3 };

/** Restart order: priority (high first), then created_at, then id. Does not mutate its input. */
export function orderRestarts<T extends RestartCandidate>(cs: readonly T[]): T[] {
  return [...cs].sort(
    (a, b) =>
      RANK[parseRestartPriority(a.restartPriority) ?? 'medium'] - RANK[parseRestartPriority(b.restartPriority) ?? 'medium'] ||
      a.createdAtMs - b.createdAtMs ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/**
 * Per-zone token bucket (pure state + injected time): at most `burst` restarts at once per zone,
 * refilled at `perSecond`. Keeps a zone's surviving hosts (and the image service) from a boot storm.
 */
export class ZoneRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();

  /** @throws RangeError when perSecond <= 0 or burst < 1 */
  constructor(private readonly o: { perSecond: number; burst: number }) {
    if (!(o.perSecond > 0)) throw new RangeError(`perSecond must be > 0, got ${o.perSecond}`);
    if (!(o.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${o.burst}`);
  }

  /** Takes one token for `zone` at `nowMs`; false when the zone is over its rate. */
  tryTake(zone: string, nowMs: number): boolean {
    const b = this.buckets.get(zone) ?? { tokens: this.o.burst, atMs: nowMs };
    b.tokens = Math.min(this.o.burst, b.tokens + (Math.max(0, nowMs - b.atMs) / 1000) * this.o.perSecond);
    b.atMs = nowMs;
    this.buckets.set(zone, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}
