import { HostState } from './host-state';

/** Every value of metadata `key` across the host's aggregates (Nova's `aggregate_values_from_key`). */
export function aggregateValues(host: HostState, key: string): string[] {
  const values: string[] = [];
  for (const aggregate of host.aggregates) {
    const value = aggregate.metadata[key];
    if (value !== undefined) values.push(value);
  }
  return values;
}

/**
 * The minimum numeric value of metadata `key` across the host's aggregates, or `fallback` when no
 * aggregate sets it. Unparsable values are ignored, as Nova's `validate_num_values` falls back to the
 * default with a warning. Used for allocation ratios and weight multipliers.
 */
export function minAggregateNumber(host: HostState, key: string, fallback: number): number {
  let min = Infinity;
  for (const raw of aggregateValues(host, key)) {
    const value = Number(raw.trim());
    if (raw.trim() !== '' && Number.isFinite(value) && value < min) min = value;
  }
  return min === Infinity ? fallback : min;
}
