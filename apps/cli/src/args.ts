import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * Local validation of command-line values. Each parser names the flag at fault
 * (`invalid --count: must be a positive integer`), so a typo fails before any call is made.
 */

/** Parses a whole number; throws InvalidArgumentError naming `flag` otherwise. */
export function parseInteger(flag: string, value: string): number {
  if (!/^[-+]?\d+$/.test(value.trim())) throw new InvalidArgumentError(flag, `must be an integer, got "${value}"`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(flag, `out of range: ${value}`);
  return n;
}

/** Parses an integer >= 1; throws InvalidArgumentError naming `flag` otherwise. */
export function parsePositiveInteger(flag: string, value: string): number {
  const n = parseInteger(flag, value);
  if (n < 1) throw new InvalidArgumentError(flag, `must be a positive integer, got ${n}`);
  return n;
}

/** Parses an integer >= 0; throws InvalidArgumentError naming `flag` otherwise. */
export function parseNonNegativeInteger(flag: string, value: string): number {
  const n = parseInteger(flag, value);
  if (n < 0) throw new InvalidArgumentError(flag, `must not be negative, got ${n}`);
  return n;
}

/**
 * Folds repeated `k=v` flags (`--property a=1 --property b=2`) into a map; a later key wins.
 * Throws InvalidArgumentError naming `flag` for an entry without `=` or with an empty key.
 */
export function parseKeyValues(flag: string, entries: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries ?? []) {
    const i = entry.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(flag, `expected key=value, got "${entry}"`);
    out[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return out;
}

/** Commander accumulator for repeatable options: `.option('--network <n>', '...', collect, [])`. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
