import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * The run types of SRM ("Site Recovery Manager Administration", Recovery Plans): a non-disruptive
 * test into an isolated network, a planned migration (source shut down, final sync, no data lost),
 * a disaster recovery (the source is gone: last replica), reprotect (reverse the replication), and
 * failback (a planned migration back once reprotected).
 */
export type RecoveryRunType = 'test_recovery' | 'planned_migration' | 'disaster_recovery' | 'reprotect' | 'failback';

export const RECOVERY_RUN_TYPES: readonly RecoveryRunType[] = ['test_recovery', 'planned_migration', 'disaster_recovery', 'reprotect', 'failback'];

/** A run's state: pending -> running -> succeeded | failed | cancelled; a test then cleaning_up -> cleaned_up. */
export type RecoveryRunState = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'cleaning_up' | 'cleaned_up';

export type RunStepState = 'pending' | 'running' | 'succeeded' | 'failed';

/** The steps of each run type, in order (SRM's recovery steps, reduced to what minicloud does). */
export const RUN_STEPS: Readonly<Record<RecoveryRunType, readonly string[]>> = {
  test_recovery: ['synchronize_storage', 'create_test_network', 'recover_volumes', 'power_on_servers'],
  planned_migration: ['shutdown_protected_servers', 'synchronize_storage', 'recover_volumes', 'power_on_servers'],
  disaster_recovery: ['recover_volumes', 'power_on_servers'],
  reprotect: ['reverse_replication', 'synchronize_storage'],
  failback: ['shutdown_protected_servers', 'synchronize_storage', 'recover_volumes', 'power_on_servers'],
};

/** The steps of a test recovery's cleanup (SRM's "Cleanup" of a test). */
export const CLEANUP_STEPS: readonly string[] = ['power_off_test_servers', 'delete_test_servers', 'delete_test_volumes', 'delete_test_network'];

/** One step of a run, with its timings (ms on the caller's clock) and an outcome note. */
export interface RunStep {
  readonly name: string;
  readonly state: RunStepState;
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  /** What it did ("3 volumes from replicas") or why it failed. */
  readonly detail: string;
}

/** A recovery run. Immutable: {@link applyRunCommand} returns a new record. */
export interface RecoveryRun {
  readonly runType: RecoveryRunType;
  readonly state: RecoveryRunState;
  readonly steps: readonly RunStep[];
  readonly createdAtMs: number;
  readonly startedAtMs: number | null;
  readonly finishedAtMs: number | null;
  /**
   * Recovery time: from the run's start to its last recovery step's completion, ms; null until a
   * run that recovers servers (not reprotect) has succeeded.
   */
  readonly rtoMs: number | null;
  /** Why the run failed or was cancelled; '' otherwise. */
  readonly error: string;
}

/** Every event of a run, one variant each. */
export type RunCommand =
  | { type: 'start'; atMs: number }
  | { type: 'step_started'; step: string; atMs: number }
  | { type: 'step_completed'; step: string; atMs: number; detail?: string }
  | { type: 'step_failed'; step: string; atMs: number; error: string }
  | { type: 'cancel'; atMs: number; reason?: string }
  | { type: 'cleanup'; atMs: number };

export type RunCommandType = RunCommand['type'];

/** The run states each command is accepted in. */
export const RUN_ACCEPTED_STATES: Readonly<Record<RunCommandType, readonly RecoveryRunState[]>> = {
  start: ['pending'],
  step_started: ['running', 'cleaning_up'],
  step_completed: ['running', 'cleaning_up'],
  step_failed: ['running', 'cleaning_up'],
  cancel: ['pending', 'running'],
  cleanup: ['succeeded', 'failed', 'cancelled'],
};

/** A command the run's state does not allow: FAILED_PRECONDITION, reason "invalid_run_transition". */
export class InvalidRunTransitionError extends FailedPreconditionError {
  constructor(run: Pick<RecoveryRun, 'state' | 'runType'>, command: RunCommandType, why?: string) {
    super(`cannot ${command} a ${run.runType} run in state ${run.state}${why ? `: ${why}` : ''}`, 'invalid_run_transition');
  }
}

/** A new run of `runType`, pending, with its steps. @throws InvalidArgumentError (`run_type`) for an unknown type */
export function newRecoveryRun(runType: RecoveryRunType, createdAtMs: number): RecoveryRun {
  if (!RECOVERY_RUN_TYPES.includes(runType)) throw new InvalidArgumentError('run_type', `must be one of ${RECOVERY_RUN_TYPES.join(', ')}, got ${runType}`);
  return { runType, state: 'pending', steps: RUN_STEPS[runType].map(pendingStep), createdAtMs, startedAtMs: null, finishedAtMs: null, rtoMs: null, error: '' };
}

/**
 * Applies one command. Steps run strictly in order: `step_started` only for the first pending step,
 * `step_completed`/`step_failed` only for the running one. The last step's completion ends the run
 * (succeeded, with its RTO); a failed step fails the run. Only a test recovery may be cleaned up; its
 * cleanup steps are appended and run the same way, ending in cleaned_up.
 * @throws InvalidRunTransitionError when the state or the step order does not allow the command
 */
export function applyRunCommand(run: RecoveryRun, cmd: RunCommand): RecoveryRun {
  if (!RUN_ACCEPTED_STATES[cmd.type].includes(run.state)) throw new InvalidRunTransitionError(run, cmd.type);
  switch (cmd.type) {
    case 'start':
      return { ...run, state: 'running', startedAtMs: cmd.atMs };
    case 'cancel':
      return { ...run, state: 'cancelled', finishedAtMs: cmd.atMs, error: cmd.reason ?? 'cancelled' };
    case 'cleanup':
      if (run.runType !== 'test_recovery') throw new InvalidRunTransitionError(run, cmd.type, 'only a test recovery is cleaned up');
      return { ...run, state: 'cleaning_up', steps: [...run.steps, ...CLEANUP_STEPS.map(pendingStep)] };
    case 'step_started': {
      const i = run.steps.findIndex((s) => s.state === 'pending');
      if (i < 0 || run.steps[i].name !== cmd.step || run.steps.some((s) => s.state === 'running')) {
        throw new InvalidRunTransitionError(run, cmd.type, `next step is ${i < 0 ? 'none' : run.steps[i].name}, not ${cmd.step}`);
      }
      return withStep(run, i, { state: 'running', startedAtMs: cmd.atMs });
    }
    case 'step_completed':
    case 'step_failed': {
      const i = run.steps.findIndex((s) => s.state === 'running');
      if (i < 0 || run.steps[i].name !== cmd.step) throw new InvalidRunTransitionError(run, cmd.type, `step ${cmd.step} is not running`);
      if (cmd.type === 'step_failed') {
        const failed = withStep(run, i, { state: 'failed', finishedAtMs: cmd.atMs, detail: cmd.error });
        return { ...failed, state: 'failed', finishedAtMs: cmd.atMs, error: `${cmd.step}: ${cmd.error}` };
      }
      const next = withStep(run, i, { state: 'succeeded', finishedAtMs: cmd.atMs, detail: cmd.detail ?? '' });
      if (next.steps.some((s) => s.state === 'pending')) return next;
      if (run.state === 'cleaning_up') return { ...next, state: 'cleaned_up' };
      const rtoMs = run.runType === 'reprotect' || run.startedAtMs === null ? null : cmd.atMs - run.startedAtMs;
      return { ...next, state: 'succeeded', finishedAtMs: cmd.atMs, rtoMs };
    }
  }
}

/** The step to run next, or null when none is pending (or one is running). */
export function nextStep(run: RecoveryRun): string | null {
  if (run.steps.some((s) => s.state === 'running')) return null;
  return run.steps.find((s) => s.state === 'pending')?.name ?? null;
}

/** True once nothing more will happen to the run without a new command from a user. */
export function isRunFinished(run: RecoveryRun): boolean {
  return run.state === 'succeeded' || run.state === 'failed' || run.state === 'cancelled' || run.state === 'cleaned_up';
}

function pendingStep(name: string): RunStep {
  return { name, state: 'pending', startedAtMs: null, finishedAtMs: null, detail: '' };
}

function withStep(run: RecoveryRun, i: number, patch: Partial<RunStep>): RecoveryRun {
  return { ...run, steps: run.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) };
}
