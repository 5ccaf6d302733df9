import { InvalidArgumentError } from '@minicloud/domain-errors';

/** When a scheduled action fires: once at an instant, or every day at a second of the (simulated) day. */
export type Recurrence = { readonly kind: 'once'; readonly atMs: number } | { readonly kind: 'daily'; readonly secondOfDay: number };

/**
 * A scheduled action (AWS ScheduledUpdateGroupAction): at its time, sets any of min, max and desired.
 */
export interface ScheduledAction {
  readonly name: string;
  readonly recurrence: Recurrence;
  readonly minSize?: number;
  readonly maxSize?: number;
  readonly desiredCapacity?: number;
}

const DAY_MS = 86_400_000;

/** @throws InvalidArgumentError naming `name`, `recurrence` or the sizes (none given, or negative). */
export function validateScheduledAction(a: ScheduledAction): void {
  if (!a.name) throw new InvalidArgumentError('name', 'must not be empty');
  if (a.recurrence.kind === 'daily' && !(a.recurrence.secondOfDay >= 0 && a.recurrence.secondOfDay < 86400)) {
    throw new InvalidArgumentError('recurrence.second_of_day', `must be in [0, 86400), got ${a.recurrence.secondOfDay}`);
  }
  if (a.minSize === undefined && a.maxSize === undefined && a.desiredCapacity === undefined) {
    throw new InvalidArgumentError('desired_capacity', 'a scheduled action sets at least one of min_size, max_size, desired_capacity');
  }
  for (const [f, v] of [['min_size', a.minSize], ['max_size', a.maxSize], ['desired_capacity', a.desiredCapacity]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new InvalidArgumentError(f, `must be a non-negative integer, got ${v}`);
  }
}

/** The instant in (fromMs, toMs] at which the action fires, or null (the latest one for a daily action). */
export function dueTime(a: ScheduledAction, fromMs: number, toMs: number): number | null {
  if (a.recurrence.kind === 'once') return a.recurrence.atMs > fromMs && a.recurrence.atMs <= toMs ? a.recurrence.atMs : null;
  const offset = a.recurrence.secondOfDay * 1000;
  const latest = Math.floor((toMs - offset) / DAY_MS) * DAY_MS + offset;
  return latest > fromMs ? latest : null;
}

/**
 * The actions due in the window (fromMs, toMs], in firing order (ties by name), so a loop that
 * evaluates every period fires each action exactly once per occurrence.
 */
export function dueScheduledActions(actions: readonly ScheduledAction[], fromMs: number, toMs: number): ScheduledAction[] {
  return actions
    .map((a) => ({ a, t: dueTime(a, fromMs, toMs) }))
    .filter((x): x is { a: ScheduledAction; t: number } => x.t !== null)
    .sort((x, y) => x.t - y.t || x.a.name.localeCompare(y.a.name))
    .map((x) => x.a);
}
