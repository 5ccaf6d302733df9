import { compareFdbEntries, fdbEntryKey, type FdbEntry } from './fdb';

/** Changes that turn one FDB into another (l2pop `add_fdb_entries` / `remove_fdb_entries`). */
export interface FdbDiff {
  readonly add: FdbEntry[];
  readonly remove: FdbEntry[];
}

/**
 * What to add and remove so a host's FDB goes from `previous` to `next`. A port that moved shows up
 * as one removal (old VTEP) and one addition (new VTEP). Both lists are sorted.
 */
export function diffFdb(previous: readonly FdbEntry[], next: readonly FdbEntry[]): FdbDiff {
  const before = new Map(previous.map((e) => [fdbEntryKey(e), e]));
  const after = new Map(next.map((e) => [fdbEntryKey(e), e]));
  return {
    add: [...after].filter(([k]) => !before.has(k)).map(([, e]) => e).sort(compareFdbEntries),
    remove: [...before].filter(([k]) => !after.has(k)).map(([, e]) => e).sort(compareFdbEntries),
  };
}

/**
 * Applies a diff to a table: removals first, then additions. Idempotent: removing an absent entry
 * or adding a present one changes nothing, so a redelivered diff is harmless.
 * @returns a new sorted table; `table` is not modified
 */
export function applyFdbDiff(table: readonly FdbEntry[], diff: FdbDiff): FdbEntry[] {
  const entries = new Map(table.map((e) => [fdbEntryKey(e), e]));
  for (const e of diff.remove) entries.delete(fdbEntryKey(e));
  for (const e of diff.add) entries.set(fdbEntryKey(e), e);
  return [...entries.values()].sort(compareFdbEntries);
}
