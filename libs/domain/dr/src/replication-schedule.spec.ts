import { checkRpoSeconds, completeSync, decideSync, replicationLagMs, ReplicationState } from './replication-schedule';

const fresh: ReplicationState = { protectedSinceMs: 0, lastRecoveryPointMs: null, syncStartedAtMs: null };

describe('decideSync (RPO scheduling)', () => {
  it.each<[string, ReplicationState, number, number, number, { action: string; dueAtMs: number; lagMs: number; rpoViolated: boolean }]>([
    ['first sync starts at once', fresh, 60, 5000, 1000, { action: 'start', dueAtMs: 1000, lagMs: 1000, rpoViolated: false }],
    ['first sync in flight', { ...fresh, syncStartedAtMs: 10 }, 60, 5000, 1000, { action: 'in_progress', dueAtMs: 10, lagMs: 1000, rpoViolated: false }],
    ['waits until RPO - sync time after the point', { ...fresh, lastRecoveryPointMs: 10_000 }, 60, 5000, 20_000, { action: 'wait', dueAtMs: 65_000, lagMs: 10_000, rpoViolated: false }],
    ['starts when due', { ...fresh, lastRecoveryPointMs: 10_000 }, 60, 5000, 65_000, { action: 'start', dueAtMs: 65_000, lagMs: 55_000, rpoViolated: false }],
    ['a sync slower than the RPO starts right after the point', { ...fresh, lastRecoveryPointMs: 10_000 }, 60, 90_000, 10_000, { action: 'start', dueAtMs: 10_000, lagMs: 0, rpoViolated: false }],
    ['lag past the RPO is a violation', { ...fresh, lastRecoveryPointMs: 0, syncStartedAtMs: 50_000 }, 60, 5000, 61_000, { action: 'in_progress', dueAtMs: 55_000, lagMs: 61_000, rpoViolated: true }],
    ['no replica for longer than the RPO is a violation', fresh, 60, 0, 60_001, { action: 'start', dueAtMs: 60_001, lagMs: 60_001, rpoViolated: true }],
  ])('%s', (_name, state, rpo, est, now, expected) => {
    expect(decideSync(state, rpo, est, now)).toEqual(expected);
  });

  it('keeps the lag within the RPO when the estimate is right (simulated cycles)', () => {
    const rpoS = 30;
    const syncMs = 4000;
    let s: ReplicationState = fresh;
    let maxLag = 0;
    for (let t = 0; t < 600_000; t += 100) {
      if (s.syncStartedAtMs !== null && t >= s.syncStartedAtMs + syncMs) s = completeSync(s, s.syncStartedAtMs);
      const d = decideSync(s, rpoS, syncMs, t);
      if (s.lastRecoveryPointMs !== null) maxLag = Math.max(maxLag, d.lagMs);
      if (d.action === 'start') s = { ...s, syncStartedAtMs: t };
    }
    expect(maxLag).toBeLessThanOrEqual(rpoS * 1000);
    expect(maxLag).toBeGreaterThan(rpoS * 1000 - syncMs - 200);
  });

  it('misses the RPO when the link cannot keep up', () => {
    let s: ReplicationState = { ...fresh, lastRecoveryPointMs: 0 };
    s = { ...s, syncStartedAtMs: decideSync(s, 10, 15_000, 0).action === 'start' ? 0 : null };
    expect(s.syncStartedAtMs).toBe(0);
    expect(decideSync(s, 10, 15_000, 12_000).rpoViolated).toBe(true);
  });

  it('rejects bad numbers naming the field', () => {
    expect(() => decideSync(fresh, 0, 0, 0)).toThrow(/rpo_seconds/);
    expect(() => decideSync(fresh, 1, -1, 0)).toThrow(/estimated_sync_ms/);
    expect(() => decideSync(fresh, 1, 0, NaN)).toThrow(/now_ms/);
  });
});

describe('completeSync / replicationLagMs', () => {
  it('the sync start becomes the recovery point and never moves back', () => {
    const s = completeSync({ ...fresh, syncStartedAtMs: 500 }, 500);
    expect(s).toEqual({ protectedSinceMs: 0, lastRecoveryPointMs: 500, syncStartedAtMs: null });
    expect(completeSync(s, 100).lastRecoveryPointMs).toBe(500);
    expect(replicationLagMs(s, 2500)).toBe(2000);
    expect(replicationLagMs(s, 0)).toBe(0);
  });
});

describe('checkRpoSeconds', () => {
  it.each([1, 300, 86_400])('accepts %d', (v) => expect(() => checkRpoSeconds(v)).not.toThrow());
  it.each([0, -5, 1.5, 86_401, NaN])('rejects %d', (v) => expect(() => checkRpoSeconds(v)).toThrow(/rpo_seconds/));
});
