import { applyMemberCommand, canApplyMember, failureDetectionSeconds, InvalidMemberTransitionError, MemberCommand, MemberRecord, newMember, receivesTraffic } from './member-state-machine';

const check = (passed: boolean): MemberCommand => ({ type: 'health_check', passed, maxRetries: 2, maxRetriesDown: 3 });
const run = (m: MemberRecord, cmds: MemberCommand[]) => cmds.reduce(applyMemberCommand, m);
const active = (monitored = true) => applyMemberCommand(newMember('m1', monitored), { type: 'provisioned' });

describe('member state machine', () => {
  it('starts PENDING_CREATE, OFFLINE with a monitor and NO_MONITOR without', () => {
    expect(newMember('m1', true)).toMatchObject({ provisioningStatus: 'PENDING_CREATE', operatingStatus: 'OFFLINE' });
    expect(newMember('m1', false)).toMatchObject({ operatingStatus: 'NO_MONITOR' });
    expect(() => newMember('', true)).toThrow('member_id');
  });

  it.each([
    { probes: [true], status: 'OFFLINE' },
    { probes: [true, true], status: 'ONLINE' },
    { probes: [true, false, true], status: 'OFFLINE' },
    { probes: [true, true, false, false], status: 'ONLINE' },
    { probes: [true, true, false, false, false], status: 'ERROR' },
    { probes: [true, true, false, true, false, false], status: 'ONLINE' },
    { probes: [false, false, false], status: 'ERROR' },
    { probes: [true, true, false, false, false, true, true], status: 'ONLINE' },
  ])('max_retries 2 / max_retries_down 3: probes $probes -> $status', ({ probes, status }) => {
    expect(run(active(), probes.map(check)).operatingStatus).toBe(status);
  });

  it('does not move an unmonitored member on probes', () => {
    expect(run(active(false), [check(false), check(false), check(false)]).operatingStatus).toBe('NO_MONITOR');
  });

  it('drains: no new traffic, probes keep counting, status stays DRAINING', () => {
    const online = run(active(), [check(true), check(true)]);
    const d = applyMemberCommand(online, { type: 'drain', nowMs: 5000 });
    expect(d).toMatchObject({ operatingStatus: 'DRAINING', drainStartedMs: 5000 });
    expect(receivesTraffic(d, 1)).toBe(false);
    const after = run(d, [check(false), check(false), check(false)]);
    expect(after.operatingStatus).toBe('DRAINING');
    expect(after.consecutiveFailures).toBe(3);
    expect(applyMemberCommand(d, { type: 'drain', nowMs: 9000 }).drainStartedMs).toBe(5000);
  });

  it('admin down -> OFFLINE, admin up -> needs the monitor again', () => {
    const online = run(active(), [check(true), check(true)]);
    const down = applyMemberCommand(online, { type: 'admin_down' });
    expect(down.operatingStatus).toBe('OFFLINE');
    expect(applyMemberCommand(down, check(true)).operatingStatus).toBe('OFFLINE');
    const up = applyMemberCommand(down, { type: 'admin_up' });
    expect(run(up, [check(true), check(true)]).operatingStatus).toBe('ONLINE');
  });

  it('monitor attach/detach moves between OFFLINE and NO_MONITOR', () => {
    const m = active(false);
    expect(applyMemberCommand(m, { type: 'monitor_attached' }).operatingStatus).toBe('OFFLINE');
    expect(applyMemberCommand(active(true), { type: 'monitor_detached' }).operatingStatus).toBe('NO_MONITOR');
  });

  it('delete then deleted; a deleted member accepts nothing', () => {
    const gone = run(active(), [{ type: 'delete' }, { type: 'deleted' }]);
    expect(gone.provisioningStatus).toBe('DELETED');
    for (const cmd of [{ type: 'provisioned' }, check(true), { type: 'drain', nowMs: 0 }, { type: 'delete' }] as MemberCommand[]) {
      expect(canApplyMember(gone, cmd)).toBe(false);
      expect(() => applyMemberCommand(gone, cmd)).toThrow(InvalidMemberTransitionError);
    }
  });

  it('refuses a drain before provisioning with a FAILED_PRECONDITION naming the status', () => {
    expect(() => applyMemberCommand(newMember('m1', true), { type: 'drain', nowMs: 0 })).toThrow(/PENDING_CREATE/);
  });

  it.each([
    ['ONLINE', 1, true],
    ['ONLINE', 0, false],
    ['NO_MONITOR', 1, true],
    ['ERROR', 1, false],
    ['OFFLINE', 1, false],
    ['DRAINING', 1, false],
  ] as const)('receivesTraffic(%s, weight %d) = %s', (status, weight, expected) => {
    expect(receivesTraffic({ ...active(), operatingStatus: status }, weight)).toBe(expected);
  });

  it('detection time is delay x max_retries_down + timeout', () => {
    expect(failureDetectionSeconds(5, 3, 3)).toBe(18);
  });
});
