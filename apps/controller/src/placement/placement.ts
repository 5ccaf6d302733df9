import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { effectiveAllocationRatios, hostAvailabilityZone, NoValidHostError, type HostState, type RequestSpec, type Scheduler } from '@minicloud/domain-scheduler';
import type { LeaderFence } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import { evaluateHostLiveness } from '@minicloud/domain-compute';
import type { AggregateStore } from '../store/aggregate-store';
import type { AllocationStore, ClaimResult, HostAllocations, ResourceRequest } from '../store/allocation-store';
import type { HostRecord, HostStore, HostUsageRecord } from '../store/host-store';
import type { HostStateCache, HostStateSnapshot } from './host-state-cache';

/** Where each instance landed: instance id -> host id. */
export type Placements = Map<string, string>;

/**
 * Scheduling plus claiming (Nova's conductor + scheduler + Placement), run by whichever replica
 * received the request (no leader involved): build HostState[] from the host-state cache (Nova's
 * HostManager: host records and allocations in memory, see host-state-cache.ts), run the filter
 * scheduler on that snapshot, then claim every selection with the atomic Lua script, falling back to
 * each selection's alternates; when a claim still fails (another replica or request won the race)
 * release everything claimed so far, mark the hosts that refused so the next snapshot re-reads them,
 * and try again, up to `rounds` times. NoValidHost on a cached view is answered only after a full
 * reload from Redis finds none either.
 */
export class Placement {
  /**
   * DPM hook: called when the scheduler finds no valid host; it may power a standby host on and
   * return true, and the request is scheduled again on a fresh snapshot (vSphere DPM's on-demand power-on).
   */
  onNoValidHost?: () => Promise<boolean>;

  constructor(
    private readonly deps: {
      hosts: HostStore;
      allocations: AllocationStore;
      /** In-memory host records, allocations and aggregates (fed by this replica's writes, resynced periodically). */
      cache: HostStateCache;
      aggregates: AggregateStore;
      scheduler: Scheduler;
      logger: Logger;
      downAfterMs: number;
      rounds: number;
      nowMs: () => number;
      /** Freshest heartbeat this replica has seen of a host (in-memory). */
      lastHeartbeatAtMs: (hostId: string) => number | undefined;
      /**
       * Usage the freshest heartbeat this replica has seen of a host carried (in-memory; its memory
       * state may be newer than the record's flushed copy); absent: the record's.
       */
      latestUsage?: (hostId: string) => HostUsageRecord | undefined;
    },
  ) {}

  /**
   * The scheduler's view of every registered host (disabled and down ones too, so rejections explain
   * them), with its aggregates (metadata: allocation ratios, weight multipliers, filter keys) and
   * availability zone (an AZ aggregate's, else the agent's profile, else `nova`). `groupMembers`:
   * server group id -> members per host id.
   */
  async hostStates(groupMembers?: { groupId: string; byHost: ReadonlyMap<string, number> }): Promise<HostState[]> {
    return this.statesOf(await this.deps.cache.snapshot(), groupMembers);
  }

  /** Every registered host's record, as the scheduler last read it (the host-state cache). */
  async hostRecords(): Promise<readonly HostRecord[]> {
    return (await this.deps.cache.snapshot()).records;
  }

  private statesOf(snap: HostStateSnapshot, groupMembers?: { groupId: string; byHost: ReadonlyMap<string, number> }): HostState[] {
    const nowMs = this.deps.nowMs();
    const none: HostAllocations = { vcpus: 0, ramMb: 0, diskGb: 0, byInstance: new Map() };
    return snap.records.map((h) => {
      const alloc = snap.allocations.get(h.hostId) ?? none;
      const lastHeartbeatAtMs = Math.max(h.lastHeartbeatAtMs ?? 0, this.deps.lastHeartbeatAtMs(h.hostId) ?? 0) || undefined;
      const live = evaluateHostLiveness(
        { state: h.state === 'maintenance' || h.state === 'standby' ? h.state : 'up', registeredAtMs: h.registeredAtMs, lastHeartbeatAtMs, nowMs },
        { downAfterMs: this.deps.downAfterMs },
      );
      const mine = snap.aggregates.filter((a) => a.hostIds.includes(h.hostId));
      const az = hostAvailabilityZone(h.hostId, h.profile.availabilityZone, mine);
      const groupCount = groupMembers?.byHost.get(h.hostId) ?? 0;
      return {
        hostId: h.hostId,
        availabilityZone: az,
        enabled: h.enabled,
        up: live.state === 'up',
        aggregates: mine.map((a) => ({ id: a.id, metadata: a.metadata })),
        serverGroupMembers: groupMembers && groupCount > 0 ? { [groupMembers.groupId]: groupCount } : undefined,
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
        instanceIds: snap.instanceIds.get(h.hostId) ?? new Set(),
        hypervisorType: h.profile.hypervisorType || 'qemu',
        architecture: h.profile.architecture || 'x86_64',
        cpuModel: h.profile.cpuModel,
        cpuFlags: h.profile.cpuFlags ?? [],
        memoryState: (this.deps.latestUsage?.(h.hostId) ?? h.usage)?.memoryState,
        failedBuilds: 0,
      } satisfies HostState;
    });
  }

  /**
   * Availability zone of each of `hostIds` (hostAvailabilityZone: an aggregate's, else the agent's, else `nova`).
   * @returns host id -> zone ('nova' for an unknown host)
   */
  async zonesOf(hostIds: readonly string[]): Promise<Map<string, string>> {
    const snap = await this.deps.cache.snapshot();
    const byId = new Map(snap.records.map((h) => [h.hostId, h]));
    const zones = new Map(hostIds.map((id) => [id, hostAvailabilityZone(id, byId.get(id)?.profile.availabilityZone, snap.aggregates)]));
    // A host the cache does not know yet (registered on another replica since its last reload): read it.
    const unknown = hostIds.filter((id) => !byId.has(id));
    if (unknown.length === 0) return zones;
    const [hosts, aggregates] = await Promise.all([Promise.all(unknown.map((id) => this.deps.hosts.find(id))), this.deps.aggregates.list()]);
    unknown.forEach((id, i) => zones.set(id, hostAvailabilityZone(id, hosts[i]?.profile.availabilityZone, aggregates)));
    return zones;
  }

  /**
   * The zone an instance is in, and must stay in when it moves (HA restart, migration, resize,
   * reschedule): its host's zone, or the recorded one while it has no host (shelved offloaded).
   */
  async instanceZone(r: { hostId: string; availabilityZone: string }): Promise<string> {
    return r.hostId ? (await this.zonesOf([r.hostId])).get(r.hostId)! : r.availabilityZone;
  }

  /**
   * Claims `req` for `consumer` on `hostId` under the capacity rule every placement uses: the host's
   * HostState, aggregate allocation-ratio overrides included (Nova's `migrate --host`, which bypasses
   * the filters but not the claim). `fence`: a leader loop's claim, made only under its fencing token.
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing claimed
   */
  async claimOn(hostId: string, consumer: string, req: ResourceRequest, fence?: LeaderFence): Promise<ClaimResult> {
    const host = (await this.hostStates()).find((h) => h.hostId === hostId);
    return this.deps.allocations.claim(hostId, consumer, req, ratiosOf(host), fence);
  }

  /**
   * Places and claims every instance of `spec` (all or nothing). `opts.fence`: claims of a leader loop
   * (HA restarts), each made only under this replica's fencing token.
   * @throws NoValidHostError (RESOURCE_EXHAUSTED, reason no_valid_host) when the scheduler finds no
   *   host for some instance; ResourceExhaustedError when claims keep losing races after `rounds`;
   *   LeaderFenceLostError (with `opts.fence`) when this replica no longer leads (nothing left claimed)
   */
  async placeAll(
    spec: RequestSpec & { instanceUuids: readonly string[] },
    req: ResourceRequest,
    opts: { consumerSuffix?: string; groupMembers?: { groupId: string; byHost: ReadonlyMap<string, number> }; requestedHostId?: string; ignoreHostIds?: readonly string[]; fence?: LeaderFence } = {},
  ): Promise<Placements> {
    let lastConflict = '';
    const suffix = opts.consumerSuffix ?? '';
    // The view is reloaded from Redis before any NoValidHost answer (once per request).
    let reloaded = false;
    for (let round = 1; round <= this.deps.rounds; round++) {
      // requested_destination: the scheduler sees only that host (its filters still decide).
      // ignore_hosts: hosts that already refused this request (a build's reschedule).
      const ignored = new Set(opts.ignoreHostIds ?? []);
      const hosts = (await this.hostStates(opts.groupMembers)).filter((h) => (!opts.requestedHostId || h.hostId === opts.requestedHostId) && !ignored.has(h.hostId));
      const byId = new Map(hosts.map((h) => [h.hostId, h]));
      let selections;
      try {
        selections = this.deps.scheduler.selectDestinations(hosts, spec);
      } catch (e) {
        if (e instanceof NoValidHostError && !reloaded) {
          reloaded = true;
          await this.deps.cache.reload();
          round--;
          continue;
        }
        if (e instanceof NoValidHostError && this.onNoValidHost && (await this.onNoValidHost())) continue;
        throw e;
      }
      const placed: Placements = new Map();
      let failed = false;
      for (const sel of selections) {
        const instanceId = sel.instanceUuid!;
        let host: string | undefined;
        for (const candidate of [sel.hostId, ...sel.alternates]) {
          let r: ClaimResult;
          try {
            r = await this.deps.allocations.claim(candidate, instanceId + suffix, req, ratiosOf(byId.get(candidate)), opts.fence);
          } catch (e) {
            // All or nothing also when a claim throws (a fenced claim of a replica that lost the lead).
            await this.rollback(placed, suffix);
            throw e;
          }
          if (r.ok) {
            host = candidate;
            break;
          }
          lastConflict = `host ${candidate} lacks ${r.reason}`;
          // The view of this host was stale: re-read it (a vanished host: reload everything).
          if (r.reason === 'no_host') this.deps.cache.markRecordsChanged();
          else this.deps.cache.markAllocationsChanged(candidate);
        }
        if (!host) {
          failed = true;
          break;
        }
        placed.set(instanceId, host);
      }
      if (!failed) return placed;
      await this.rollback(placed, suffix);
      this.deps.logger.info({ round, conflict: lastConflict }, 'claim conflict; rescheduling on a fresh snapshot');
      // Replicas that lost the same race would pick the same next host again: desynchronise them.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 10 * round)));
    }
    throw new ResourceExhaustedError(`No valid host was found: claims kept conflicting (${lastConflict})`, 'no_valid_host');
  }

  /** Releases claims made for a request that could not be completed. */
  async rollback(placed: Placements, consumerSuffix = ''): Promise<void> {
    await Promise.all([...placed].map(([instanceId, hostId]) => this.deps.allocations.release(hostId, instanceId + consumerSuffix)));
  }
}

/** Aggregate allocation-ratio overrides in force on `host` for the claim script (none: the host's own). */
function ratiosOf(host: HostState | undefined): { cpu?: number; ram?: number; disk?: number } {
  if (!host || host.aggregates.length === 0) return {};
  return effectiveAllocationRatios(host);
}

export { NoValidHostError };
