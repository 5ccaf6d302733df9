import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { NoValidHostError, type HostState, type RequestSpec, type Scheduler } from '@minicloud/domain-scheduler';
import type { Logger } from '@minicloud/platform-logging';
import { evaluateHostLiveness } from '../domain/host-liveness';
import type { AllocationStore, ResourceRequest } from '../store/allocation-store';
import type { HostStore } from '../store/host-store';

/** Nova's default_availability_zone for hosts in no AZ. */
export const DEFAULT_AVAILABILITY_ZONE = 'nova';

/** Where each instance landed: instance id -> host id. */
export type Placements = Map<string, string>;

/**
 * Scheduling plus claiming (Nova's conductor + scheduler + Placement): build HostState[] from Redis,
 * run the filter scheduler on that snapshot, then claim every selection with the atomic Lua script,
 * falling back to each selection's alternates; when a claim still fails (another replica won the
 * race) release everything claimed so far, refresh the snapshot and try again, up to `rounds` times.
 */
export class Placement {
  constructor(
    private readonly deps: {
      hosts: HostStore;
      allocations: AllocationStore;
      scheduler: Scheduler;
      logger: Logger;
      downAfterMs: number;
      rounds: number;
      nowMs: () => number;
      /** Freshest heartbeat this replica has seen of a host (in-memory). */
      lastHeartbeatAtMs: (hostId: string) => number | undefined;
    },
  ) {}

  /** The scheduler's view of every registered host (disabled and down ones too, so rejections explain them). */
  async hostStates(): Promise<HostState[]> {
    const hosts = await this.deps.hosts.list();
    return Promise.all(
      hosts.map(async (h) => {
        const alloc = await this.deps.allocations.get(h.hostId);
        const lastHeartbeatAtMs = Math.max(h.lastHeartbeatAtMs ?? 0, this.deps.lastHeartbeatAtMs(h.hostId) ?? 0) || undefined;
        const live = evaluateHostLiveness(
          { state: h.state === 'maintenance' ? 'maintenance' : 'up', registeredAtMs: h.registeredAtMs, lastHeartbeatAtMs, nowMs: this.deps.nowMs() },
          { downAfterMs: this.deps.downAfterMs },
        );
        return {
          hostId: h.hostId,
          availabilityZone: h.profile.availabilityZone || DEFAULT_AVAILABILITY_ZONE,
          enabled: h.enabled,
          up: live.state === 'up',
          aggregates: [],
          vcpusTotal: h.vcpusTotal,
          vcpusUsed: alloc.vcpus,
          ramMbTotal: h.ramMbTotal,
          ramMbUsed: alloc.ramMb,
          ramMbReserved: h.ramMbReserved,
          diskGbTotal: h.diskGbTotal,
          diskGbUsed: alloc.diskGb,
          cpuAllocationRatio: h.cpuAllocationRatio,
          ramAllocationRatio: h.ramAllocationRatio,
          diskAllocationRatio: h.diskAllocationRatio,
          numInstances: alloc.byInstance.size,
          numIoOps: 0,
          instanceIds: new Set(alloc.byInstance.keys()),
          hypervisorType: h.profile.hypervisorType || 'qemu',
          architecture: h.profile.architecture || 'x86_64',
          cpuModel: h.profile.cpuModel,
          failedBuilds: 0,
        } satisfies HostState;
      }),
    );
  }

  /**
   * Places and claims every instance of `spec` (all or nothing).
   * @throws NoValidHostError (RESOURCE_EXHAUSTED, reason no_valid_host) when the scheduler finds no
   *   host for some instance; ResourceExhaustedError when claims keep losing races after `rounds`
   */
  async placeAll(spec: RequestSpec & { instanceUuids: readonly string[] }, req: ResourceRequest): Promise<Placements> {
    let lastConflict = '';
    for (let round = 1; round <= this.deps.rounds; round++) {
      const hosts = await this.hostStates();
      const selections = this.deps.scheduler.selectDestinations(hosts, spec);
      const placed: Placements = new Map();
      let failed = false;
      for (const sel of selections) {
        const instanceId = sel.instanceUuid!;
        let host: string | undefined;
        for (const candidate of [sel.hostId, ...sel.alternates]) {
          const r = await this.deps.allocations.claim(candidate, instanceId, req);
          if (r.ok) {
            host = candidate;
            break;
          }
          lastConflict = `host ${candidate} lacks ${r.reason}`;
        }
        if (!host) {
          failed = true;
          break;
        }
        placed.set(instanceId, host);
      }
      if (!failed) return placed;
      await this.rollback(placed);
      this.deps.logger.info({ round, conflict: lastConflict }, 'claim conflict; rescheduling on a fresh snapshot');
    }
    throw new ResourceExhaustedError(`No valid host was found: claims kept conflicting (${lastConflict})`, 'no_valid_host');
  }

  /** Releases claims made for a request that could not be completed. */
  async rollback(placed: Placements): Promise<void> {
    await Promise.all([...placed].map(([instanceId, hostId]) => this.deps.allocations.release(hostId, instanceId)));
  }
}

export { NoValidHostError };
