import { applyRunCommand, CLEANUP_STEPS, InvalidRunTransitionError, isRunFinished, newRecoveryRun, nextStep, RECOVERY_RUN_TYPES, RecoveryRun, RUN_ACCEPTED_STATES, RUN_STEPS, RunCommand, RecoveryRunState } from './recovery-run';

function runAll(run: RecoveryRun, t0: number, stepMs: number): RecoveryRun {
  let r = run;
  let t = t0;
  for (let name = nextStep(r); name !== null; name = nextStep(r)) {
    r = applyRunCommand(r, { type: 'step_started', step: name, atMs: t });
    t += stepMs;
    r = applyRunCommand(r, { type: 'step_completed', step: name, atMs: t, detail: `${name} done` });
  }
  return r;
}

describe('recovery run state machine', () => {
  it.each(RECOVERY_RUN_TYPES)('%s: runs its steps in order and records timings', (type) => {
    let r = newRecoveryRun(type, 0);
    expect(r.state).toBe('pending');
    expect(r.steps.map((s) => s.name)).toEqual(RUN_STEPS[type]);
    r = applyRunCommand(r, { type: 'start', atMs: 100 });
    r = runAll(r, 100, 50);
    expect(r.state).toBe('succeeded');
    expect(r.finishedAtMs).toBe(100 + 50 * RUN_STEPS[type].length);
    expect(r.rtoMs).toBe(type === 'reprotect' ? null : 50 * RUN_STEPS[type].length);
    expect(r.steps.every((s) => s.state === 'succeeded' && s.finishedAtMs! - s.startedAtMs! === 50)).toBe(true);
    expect(isRunFinished(r)).toBe(true);
  });

  it('disaster recovery recovers volumes then powers servers on', () => {
    expect(RUN_STEPS.disaster_recovery).toEqual(['recover_volumes', 'power_on_servers']);
    expect(RUN_STEPS.planned_migration[0]).toBe('shutdown_protected_servers');
  });

  it('a failed step fails the run with the error', () => {
    let r = applyRunCommand(newRecoveryRun('disaster_recovery', 0), { type: 'start', atMs: 0 });
    r = applyRunCommand(r, { type: 'step_started', step: 'recover_volumes', atMs: 1 });
    r = applyRunCommand(r, { type: 'step_failed', step: 'recover_volumes', atMs: 2, error: 'no replica' });
    expect(r).toMatchObject({ state: 'failed', finishedAtMs: 2, error: 'recover_volumes: no replica', rtoMs: null });
    expect(r.steps[0]).toMatchObject({ state: 'failed', detail: 'no replica' });
    expect(r.steps[1].state).toBe('pending');
  });

  it('steps only in order', () => {
    const r = applyRunCommand(newRecoveryRun('disaster_recovery', 0), { type: 'start', atMs: 0 });
    expect(() => applyRunCommand(r, { type: 'step_started', step: 'power_on_servers', atMs: 1 })).toThrow(/next step is recover_volumes/);
    expect(() => applyRunCommand(r, { type: 'step_completed', step: 'recover_volumes', atMs: 1 })).toThrow(InvalidRunTransitionError);
    const started = applyRunCommand(r, { type: 'step_started', step: 'recover_volumes', atMs: 1 });
    expect(nextStep(started)).toBeNull();
    expect(() => applyRunCommand(started, { type: 'step_started', step: 'power_on_servers', atMs: 1 })).toThrow(InvalidRunTransitionError);
  });

  it('a test recovery is cleaned up with its own steps; other runs are not', () => {
    let r = runAll(applyRunCommand(newRecoveryRun('test_recovery', 0), { type: 'start', atMs: 0 }), 0, 10);
    r = applyRunCommand(r, { type: 'cleanup', atMs: 1000 });
    expect(r.state).toBe('cleaning_up');
    expect(nextStep(r)).toBe(CLEANUP_STEPS[0]);
    const rto = r.rtoMs;
    r = runAll(r, 1000, 10);
    expect(r.state).toBe('cleaned_up');
    expect(r.rtoMs).toBe(rto);
    const dr = runAll(applyRunCommand(newRecoveryRun('disaster_recovery', 0), { type: 'start', atMs: 0 }), 0, 10);
    expect(() => applyRunCommand(dr, { type: 'cleanup', atMs: 1 })).toThrow(/only a test recovery/);
  });

  it('cancel stops a pending or running run', () => {
    const r = applyRunCommand(newRecoveryRun('planned_migration', 0), { type: 'cancel', atMs: 5, reason: 'operator' });
    expect(r).toMatchObject({ state: 'cancelled', finishedAtMs: 5, error: 'operator' });
  });

  // Every (state, command) pair outside RUN_ACCEPTED_STATES is refused.
  const states: RecoveryRunState[] = ['pending', 'running', 'succeeded', 'failed', 'cancelled', 'cleaning_up', 'cleaned_up'];
  const commands: RunCommand[] = [
    { type: 'start', atMs: 0 },
    { type: 'step_started', step: 'x', atMs: 0 },
    { type: 'step_completed', step: 'x', atMs: 0 },
    { type: 'step_failed', step: 'x', atMs: 0, error: 'e' },
    { type: 'cancel', atMs: 0 },
    { type: 'cleanup', atMs: 0 },
  ];
  const pairs = states.flatMap((s) => commands.filter((c) => !RUN_ACCEPTED_STATES[c.type].includes(s)).map((c) => [s, c] as const));
  it.each(pairs)('refuses in state %s: %j', (state, cmd) => {
    const r: RecoveryRun = { ...newRecoveryRun('test_recovery', 0), state };
    expect(() => applyRunCommand(r, cmd)).toThrow(InvalidRunTransitionError);
  });

  it('rejects an unknown run type', () => {
    expect(() => newRecoveryRun('failover' as never, 0)).toThrow(/run_type/);
  });
});
