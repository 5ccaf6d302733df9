import fc from 'fast-check';
import { FakeClock } from '@minicloud/testing';
import { evaluateHostLiveness, fenceDeadline, isHostDown, isolationFenceDecision, partitionSuspected, powerOnAfterRejoin, type HostLiveness, type IsolationRecord } from './host-liveness';

const legacy = { downAfterMs: 5000 };
const policy = { downAfterMs: 5000, suspectAfterMs: 2500, newHostGraceMs: 10_000, leaseTtlMs: 3000 };

describe('evaluateHostLiveness (two channels)', () => {
  // [case, input (times relative to registration at 0), expected state, reason]
  const table: [string, { state?: HostLiveness; hb?: number; lease?: number; now: number }, HostLiveness, string][] = [
    ['fresh heartbeat', { hb: 9000, lease: 9000, now: 10_000 }, 'up', 'heartbeat_fresh'],
    ['heartbeat at the suspect bound', { hb: 7500, lease: 9000, now: 10_000 }, 'up', 'heartbeat_fresh'],
    ['heartbeat late', { hb: 7000, lease: 9000, now: 10_000 }, 'suspect', 'heartbeat_late'],
    ['heartbeat late at the down bound', { hb: 5000, lease: 9000, now: 10_000 }, 'suspect', 'heartbeat_late'],
    ['both silent', { hb: 4000, lease: 4000, now: 10_000 }, 'failed', 'heartbeat_and_lease_lost'],
    ['lease never seen, heartbeat silent', { hb: 4000, now: 10_000 }, 'failed', 'heartbeat_and_lease_lost'],
    ['heartbeats silent, lease renewed', { hb: 4000, lease: 9500, now: 10_000 }, 'isolated', 'lease_renewed_heartbeat_lost'],
    ['lease renewed exactly lease_ttl ago', { hb: 4000, lease: 7000, now: 10_000 }, 'isolated', 'lease_renewed_heartbeat_lost'],
    ['lease renewed just over lease_ttl ago', { hb: 4000, lease: 6999, now: 10_000 }, 'failed', 'heartbeat_and_lease_lost'],
    ['new host within its grace', { now: 9000 }, 'up', 'new_host_grace'],
    ['new host past its grace', { now: 10_001 }, 'failed', 'heartbeat_and_lease_lost'],
    ['failed host heartbeats again', { state: 'failed', hb: 9900, now: 10_000 }, 'up', 'heartbeat_fresh'],
    ['isolated host heartbeats again', { state: 'isolated', hb: 9900, lease: 9900, now: 10_000 }, 'up', 'heartbeat_fresh'],
    ['fenced is sticky even with heartbeats', { state: 'fenced', hb: 9900, lease: 9900, now: 10_000 }, 'fenced', 'fenced'],
    ['maintenance is sticky when silent', { state: 'maintenance', now: 60_000 }, 'maintenance', 'maintenance'],
    ['DPM standby is sticky when silent (not failed)', { state: 'standby', now: 60_000 }, 'standby', 'standby'],
    ['DPM standby is sticky with heartbeats', { state: 'standby', hb: 9900, lease: 9900, now: 10_000 }, 'standby', 'standby'],
  ];
  it.each(table)('%s', (_name, i, state, reason) => {
    const d = evaluateHostLiveness({ state: i.state ?? 'up', registeredAtMs: 0, lastHeartbeatAtMs: i.hb, leaseRenewedAtMs: i.lease, nowMs: i.now }, policy);
    expect([d.state, d.reason]).toEqual([state, reason]);
  });

  it('walks up -> suspect -> failed as a fake clock advances after a kill, and back up on a heartbeat', () => {
    const clock = new FakeClock(0);
    let state: HostLiveness = 'up';
    const seen: HostLiveness[] = [];
    const lastHb = 1000;
    const lease = 1000;
    for (let t = 0; t < 8000; t += 250) {
      clock.advance(250);
      state = evaluateHostLiveness({ state, registeredAtMs: 0, lastHeartbeatAtMs: Math.min(lastHb, clock.nowMs()), leaseRenewedAtMs: lease, nowMs: clock.nowMs() }, policy).state;
      if (seen[seen.length - 1] !== state) seen.push(state);
    }
    expect(seen).toEqual(['up', 'suspect', 'failed']);
    expect(evaluateHostLiveness({ state, registeredAtMs: 0, lastHeartbeatAtMs: clock.nowMs(), nowMs: clock.nowMs() }, policy).state).toBe('up');
  });

  it('heartbeat-only callers get the legacy up/down verdict', () => {
    expect(evaluateHostLiveness({ state: 'up', registeredAtMs: 0, lastHeartbeatAtMs: 1000, nowMs: 6001 }, legacy)).toEqual({ state: 'down', reason: 'heartbeat_missed', silentForMs: 5001 });
    expect(evaluateHostLiveness({ state: 'up', registeredAtMs: 0, lastHeartbeatAtMs: 1000, nowMs: 6000 }, legacy).state).toBe('up');
  });

  it('is never up after downAfter of silence past the grace, and always up within suspectAfter', () => {
    fc.assert(
      fc.property(fc.nat(1e6), fc.nat(1e6), fc.nat(1e5), fc.option(fc.nat(2e6), { nil: undefined }), (reg, hbOffset, later, lease) => {
        const hb = reg + hbOffset;
        const nowMs = hb + later;
        const d = evaluateHostLiveness({ state: 'up', registeredAtMs: reg, lastHeartbeatAtMs: hb, leaseRenewedAtMs: lease, nowMs }, policy);
        if (later <= policy.suspectAfterMs) return d.state === 'up';
        if (later > policy.downAfterMs) return d.state === 'failed' || d.state === 'isolated';
        return d.state === 'suspect';
      }),
    );
  });
});

describe('fenceDeadline', () => {
  it('allows a restart only self_fence_after past the first absent-lease observation (>= lease_ttl + self_fence_after past the last renewal)', () => {
    const t = { selfFenceAfterMs: 6000 };
    expect(fenceDeadline({ nowMs: 10_999, leaseMissingSinceMs: 5000 }, t)).toEqual({ restartAtMs: 11_000, ready: false });
    expect(fenceDeadline({ nowMs: 11_000, leaseMissingSinceMs: 5000 }, t).ready).toBe(true);
  });

  it('is safe for every last renewal the observation allows', () => {
    const leaseTtlMs = 3000;
    const selfFenceAfterMs = 6000;
    fc.assert(
      fc.property(fc.nat(1e6), fc.nat(5000), (renewedAtMs, lateObservationMs) => {
        const missingSince = renewedAtMs + leaseTtlMs + lateObservationMs; // observed after expiry
        const { restartAtMs } = fenceDeadline({ nowMs: 0, leaseMissingSinceMs: missingSince }, { selfFenceAfterMs });
        return restartAtMs >= renewedAtMs + leaseTtlMs + selfFenceAfterMs;
      }),
    );
  });
});

describe('partitionSuspected / isHostDown', () => {
  it.each<[HostLiveness[], boolean]>([
    [['isolated', 'isolated', 'isolated'], true],
    [['failed', 'suspect', 'isolated'], true],
    [['failed', 'failed', 'up'], false],
    [['failed', 'maintenance'], false],
    [['failed', 'fenced', 'up'], false],
    [['failed', 'failed', 'fenced'], true],
    [['failed', 'standby', 'standby'], false],
    [['failed', 'failed', 'standby'], true],
    [['failed'], false],
  ])('%j -> %s', (states, expected) => expect(partitionSuspected(states)).toBe(expected));

  it('treats failed/fenced/isolated/down as down, up/suspect/maintenance as not', () => {
    expect((['failed', 'fenced', 'isolated', 'down'] as HostLiveness[]).every(isHostDown)).toBe(true);
    expect((['up', 'suspect', 'maintenance', 'standby'] as HostLiveness[]).some(isHostDown)).toBe(false);
  });
});

describe('isolationFenceDecision (isolation response applied -> fence)', () => {
  const rec = (over: Partial<IsolationRecord> = {}): IsolationRecord => ({ epoch: 7, response: 'power_off', poweredOffIds: ['i1'], appliedAtMs: 1000, ...over });
  const table: [string, { state: HostLiveness; epoch: number; record?: IsolationRecord }, boolean, string][] = [
    ['power_off applied at the current epoch', { state: 'isolated', epoch: 7, record: rec() }, true, 'response_applied'],
    ['shutdown applied at the current epoch', { state: 'isolated', epoch: 7, record: rec({ response: 'shutdown' }) }, true, 'response_applied'],
    ['leave_running never fences', { state: 'isolated', epoch: 7, record: rec({ response: 'leave_running', poweredOffIds: [] }) }, false, 'leave_running'],
    ['isolated, no record yet (response not applied)', { state: 'isolated', epoch: 7 }, false, 'no_record'],
    ['record of an older epoch (a previous episode)', { state: 'isolated', epoch: 8, record: rec() }, false, 'stale_record'],
    ['record but the host heartbeats again', { state: 'up', epoch: 7, record: rec() }, false, 'not_isolated'],
    ['record but both channels lost: the failed path decides', { state: 'failed', epoch: 7, record: rec() }, false, 'not_isolated'],
    ['already fenced', { state: 'fenced', epoch: 7, record: rec() }, false, 'not_isolated'],
  ];
  it.each(table)('%s', (_n, i, fence, reason) => {
    expect(isolationFenceDecision({ state: i.state, hostEpoch: i.epoch, record: i.record })).toEqual({ fence, reason });
  });
});

describe('powerOnAfterRejoin (self-powered-off VMs come back when not restarted elsewhere)', () => {
  const base = { vmState: 'active', taskState: null as string | null, powerState: 'shutdown' };
  const instances = [
    { id: 'off-here', hostId: 'h1', ...base },
    { id: 'crashed-here', hostId: 'h1', ...base, powerState: 'crashed' },
    { id: 'running', hostId: 'h1', ...base, powerState: 'running' },
    { id: 'user-stopped', hostId: 'h1', ...base, vmState: 'stopped' },
    { id: 'in-task', hostId: 'h1', ...base, taskState: 'powering_on' },
    { id: 'evacuating', hostId: 'h1', ...base },
    { id: 'host-not-up', hostId: 'h2', ...base },
  ];
  it('picks only active, task-less, powered-off instances of up hosts without an open evacuation', () => {
    expect(powerOnAfterRejoin(instances, new Set(['h1']), new Set(['evacuating'])).map((r) => r.id)).toEqual(['off-here', 'crashed-here']);
  });
  it('picks nothing when no host is up', () => {
    expect(powerOnAfterRejoin(instances, new Set(), new Set())).toEqual([]);
  });
});
