import { Rng } from '@minicloud/domain-clock';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { consumeFromRequest } from './consume';
import { countRejections, filterHosts } from './filter-hosts';
import { HostFilter } from './host-filter';
import { HostState } from './host-state';
import { HostWeigher, weighHosts } from './host-weigher';
import { NoValidHostError } from './no-valid-host-error';
import { RequestSpec, validateRequestSpec } from './request-spec';

/** Where one instance goes: the chosen host and, in order, hosts to retry on (Nova's Selection). */
export interface Selection {
  readonly hostId: string;
  /** Other hosts that passed the filters for this instance, best first, at most `maxAlternates`. */
  readonly alternates: string[];
  /** The instance's uuid when the request gave `instanceUuids`. */
  readonly instanceUuid?: string;
}

/** Construction options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** Applied in order; put cheap, selective filters first. */
  readonly filters: readonly HostFilter[];
  readonly weighers: readonly HostWeigher[];
  /** Pick randomly among this many best hosts (Nova's `host_subset_size`, default 1). */
  readonly hostSubsetSize?: number;
  /** Alternates kept per selection (Nova's `max_attempts - 1`, default 2). */
  readonly maxAlternates?: number;
  /** Random source in [0, 1) for the subset pick. */
  readonly rng: Rng;
}

/** A configured filter scheduler. */
export interface Scheduler {
  /**
   * Places `spec.numInstances` instances on `hosts`: per instance, filter, weigh, pick randomly among
   * the best `hostSubsetSize`, keep alternates, then consume the flavor from the in-memory copy of the
   * chosen host, so later instances see earlier picks (capacity and server groups). `hosts` are not
   * mutated.
   * @returns one Selection per instance, in request order
   * @throws NoValidHostError when any instance cannot be placed (nothing is placed)
   * @throws InvalidArgumentError for a malformed spec or duplicate host ids (field `hosts`)
   */
  selectDestinations(hosts: readonly HostState[], spec: RequestSpec): Selection[];
}

function requireInteger(field: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgumentError(field, `must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/**
 * Builds a filter scheduler in the shape of Nova's FilterScheduler.
 * @throws InvalidArgumentError for hostSubsetSize < 1 or maxAlternates < 0 (non-integers too)
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const hostSubsetSize = requireInteger('hostSubsetSize', options.hostSubsetSize ?? 1, 1);
  const maxAlternates = requireInteger('maxAlternates', options.maxAlternates ?? 2, 0);
  const { filters, weighers, rng } = options;

  return {
    selectDestinations(hosts, spec) {
      validateRequestSpec(spec);
      const seen = new Set<string>();
      for (const h of hosts) {
        if (seen.has(h.hostId)) throw new InvalidArgumentError('hosts', `duplicate hostId ${h.hostId}`);
        seen.add(h.hostId);
      }
      // consumeFromRequest returns new objects, so the caller's hosts are never written: no deep copy.
      let working: readonly HostState[] = hosts;
      let workingSpec: RequestSpec = spec;
      const selections: Selection[] = [];

      for (let i = 0; i < spec.numInstances; i++) {
        const { passed, rejections } = filterHosts(working, filters, workingSpec);
        if (passed.length === 0) {
          throw new NoValidHostError({
            rejections,
            counts: countRejections(rejections, filters),
            instanceIndex: i,
            numInstances: spec.numInstances,
            hostCount: working.length,
          });
        }
        const ranked = weighHosts(passed, weighers, workingSpec);
        const subset = Math.min(hostSubsetSize, ranked.length);
        const pickIndex = subset > 1 ? Math.min(subset - 1, Math.floor(rng() * subset)) : 0;
        const chosen = ranked[pickIndex].host;
        const alternates = ranked
          .filter((_, k) => k !== pickIndex)
          .slice(0, maxAlternates)
          .map((w) => w.host.hostId);
        const instanceUuid = spec.instanceUuids?.[i];
        selections.push(instanceUuid === undefined ? { hostId: chosen.hostId, alternates } : { hostId: chosen.hostId, alternates, instanceUuid });

        const consumed = consumeFromRequest(chosen, spec.flavor, { instanceUuid, serverGroupId: spec.serverGroup?.id });
        working = working.map((h) => (h === chosen ? consumed : h));
        workingSpec = withChosenHost(workingSpec, chosen.hostId);
      }
      return selections;
    },
  };
}

/** Nova's `_consume_selected_host`: the group now also runs on `hostId`. */
function withChosenHost(spec: RequestSpec, hostId: string): RequestSpec {
  const group = spec.serverGroup;
  if (!group || group.hostIds.includes(hostId)) return spec;
  return { ...spec, serverGroup: { ...group, hostIds: [...group.hostIds, hostId] } };
}
