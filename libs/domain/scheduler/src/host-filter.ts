import { HostState } from './host-state';
import { RequestSpec } from './request-spec';

/** A filter's verdict on one host: pass, or reject with a reason for people. */
export type FilterResult = { readonly passed: true } | { readonly passed: false; readonly reason: string };

/** The passing verdict (shared, allocation-free). */
export const PASS: FilterResult = { passed: true };

/** A rejecting verdict with `reason`, e.g. "free RAM 512 MB < requested 1024 MB". */
export function reject(reason: string): FilterResult {
  return { passed: false, reason };
}

/**
 * One feasibility predicate (Nova's BaseHostFilter, Nomad's FeasibilityChecker). Pure: reads only the
 * HostState and RequestSpec.
 */
export interface HostFilter {
  /** Nova's class name, e.g. "RamFilter"; appears in NoValidHost summaries. */
  readonly name: string;
  /** Verb phrase for summaries, singular and plural: {one: 'lacks RAM', many: 'lack RAM'}. */
  readonly summary: { readonly one: string; readonly many: string };
  hostPasses(host: HostState, spec: RequestSpec): FilterResult;
}
