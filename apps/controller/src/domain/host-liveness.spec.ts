import fc from 'fast-check';
import { evaluateHostLiveness } from './host-liveness';

const policy = { downAfterMs: 5000 };

describe('evaluateHostLiveness', () => {
  it('keeps a freshly registered host up before its first heartbeat', () => {
    expect(evaluateHostLiveness({ state: 'up', registeredAtMs: 1000, nowMs: 5999 }, policy).state).toBe('up');
  });

  it('marks a host down once it has been silent longer than downAfterMs', () => {
    const d = evaluateHostLiveness({ state: 'up', registeredAtMs: 0, lastHeartbeatAtMs: 1000, nowMs: 6001 }, policy);
    expect(d).toEqual({ state: 'down', reason: 'heartbeat_missed', silentForMs: 5001 });
    expect(evaluateHostLiveness({ state: 'up', registeredAtMs: 0, lastHeartbeatAtMs: 1000, nowMs: 6000 }, policy).state).toBe('up');
  });

  it('brings a down host back up on a fresh heartbeat', () => {
    expect(evaluateHostLiveness({ state: 'down', registeredAtMs: 0, lastHeartbeatAtMs: 9000, nowMs: 9500 }, policy).state).toBe('up');
  });

  it('keeps maintenance regardless of heartbeats', () => {
    expect(evaluateHostLiveness({ state: 'maintenance', registeredAtMs: 0, nowMs: 60_000 }, policy).state).toBe('maintenance');
  });

  it('is up exactly when the last sign of life is within the window', () => {
    fc.assert(
      fc.property(fc.nat(1e6), fc.option(fc.nat(1e6), { nil: undefined }), fc.nat(1e6), (reg, hb, later) => {
        const lastSeen = Math.max(reg, hb ?? 0);
        const nowMs = lastSeen + later;
        const d = evaluateHostLiveness({ state: 'up', registeredAtMs: reg, lastHeartbeatAtMs: hb, nowMs }, policy);
        expect(d.state === 'up').toBe(later <= policy.downAfterMs);
      }),
    );
  });
});
