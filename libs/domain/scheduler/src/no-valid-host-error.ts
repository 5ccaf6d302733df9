import { ResourceExhaustedError } from '@minicloud/domain-errors';

/** Why one host was rejected: the first filter that failed it, and that filter's reason. */
export interface HostRejection {
  readonly hostId: string;
  readonly filter: string;
  readonly reason: string;
}

/** One line of the summary: how many hosts a filter rejected, with its verb phrase. */
export interface RejectionCount {
  readonly filter: string;
  readonly count: number;
  /** e.g. "lack RAM" (plural form when count > 1). */
  readonly phrase: string;
}

/**
 * Nova's NoValidHost: some instance of the request fits on no host; nothing was placed
 * (all-or-nothing). RESOURCE_EXHAUSTED, reason `no_valid_host`. The message reads e.g.
 * "No valid host was found: 3 hosts: 2 lack RAM (RamFilter), 1 is disabled or down (ComputeFilter)".
 */
export class NoValidHostError extends ResourceExhaustedError {
  /** Per-host rejections for the instance that could not be placed. */
  readonly rejections: readonly HostRejection[];
  /** 0-based index of that instance in the request. */
  readonly instanceIndex: number;
  readonly numInstances: number;
  readonly hostCount: number;

  constructor(args: {
    rejections: readonly HostRejection[];
    counts: readonly RejectionCount[];
    instanceIndex: number;
    numInstances: number;
    hostCount: number;
  }) {
    super(NoValidHostError.describe(args), 'no_valid_host');
    // ResourceExhaustedError types `name` as its own literal; set ours without widening the base.
    Object.defineProperty(this, 'name', { value: 'NoValidHostError', enumerable: false });
    this.rejections = args.rejections;
    this.instanceIndex = args.instanceIndex;
    this.numInstances = args.numInstances;
    this.hostCount = args.hostCount;
  }

  private static describe(args: {
    counts: readonly RejectionCount[];
    instanceIndex: number;
    numInstances: number;
    hostCount: number;
  }): string {
    const which = args.numInstances > 1 ? ` for instance ${args.instanceIndex + 1} of ${args.numInstances}` : '';
    const hosts = `${args.hostCount} host${args.hostCount === 1 ? '' : 's'}`;
    const parts = args.counts.map((c) => `${c.count} ${c.phrase} (${c.filter})`);
    return `No valid host was found${which}: ${hosts}${parts.length ? `: ${parts.join(', ')}` : ''}`;
  }
}
