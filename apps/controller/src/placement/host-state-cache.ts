import type { AggregateRecord, AggregateStore } from '../store/aggregate-store';
import type { AllocationStore, HostAllocations } from '../store/allocation-store';
import type { HostRecord, HostStore } from '../store/host-store';

/** What the scheduler reads of every host: records (sorted by id), aggregates and allocations. */
export interface HostStateSnapshot {
  records: readonly HostRecord[];
  aggregates: readonly AggregateRecord[];
  allocations: ReadonlyMap<string, HostAllocations>;
  /** Host id -> ids of the consumers it holds claims of (the same-/different-host filters read them). */
  instanceIds: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * The scheduler's in-memory copy of every host's record, allocations and the aggregates, kept as
 * Nova's scheduler HostManager keeps its HostState: loaded in full once, then updated incrementally,
 * so a placement reads O(hosts changed) from Redis instead of O(all hosts).
 * - This replica's own writes mark what they changed (the stores' change hooks): a claim, release or
 *   move marks that host's allocations, re-read at the next snapshot; a registration, enable/disable,
 *   liveness state or aggregate change marks the records, reloaded in full at the next snapshot.
 * - Every `resyncMs` the next snapshot reloads everything, which catches other replicas' writes
 *   (the same bound on staleness as Nova's periodic HostManager refresh).
 * Staleness is never a correctness matter: the claim is still the atomic Lua script, which checks
 * capacity against Redis; Placement marks a host whose claim failed and reloads before it answers
 * NoValidHost. A stale heartbeat time can only make a host look down, never up (heartbeat times only
 * move forward, and this replica's own freshest heartbeats are read from memory by Placement).
 */
export class HostStateCache {
  private records: HostRecord[] = [];
  private aggregates: AggregateRecord[] = [];
  private readonly allocations = new Map<string, HostAllocations>();
  private readonly instanceIds = new Map<string, ReadonlySet<string>>();
  private loadedAtMs = Number.NEGATIVE_INFINITY;
  private recordsStale = true;
  private readonly dirty = new Set<string>();
  /** Hosts marked while a reload ran: its read may predate their write, so they are re-read after it. */
  private markedDuringReload = new Set<string>();
  private readonly pending = new Map<string, Promise<void>>();
  private reloading?: Promise<void>;

  constructor(
    private readonly d: {
      hosts: Pick<HostStore, 'list'>;
      allocations: Pick<AllocationStore, 'get'>;
      aggregates: Pick<AggregateStore, 'list'>;
      nowMs: () => number;
      /** Full reload period (catches other replicas' writes). */
      resyncMs: number;
    },
  ) {}

  /** A host's allocations changed (claim, release, move): re-read them at the next snapshot. */
  markAllocationsChanged(hostId: string): void {
    if (!hostId) return;
    this.dirty.add(hostId);
    if (this.reloading) this.markedDuringReload.add(hostId);
  }

  /** A host record or an aggregate changed: reload everything at the next snapshot. */
  markRecordsChanged(): void {
    this.recordsStale = true;
  }

  /** Reads everything from Redis now (one reload at a time; callers share it). */
  reload(): Promise<void> {
    this.reloading ??= this.readAll().finally(() => {
      this.reloading = undefined;
      for (const id of this.markedDuringReload) this.dirty.add(id);
      this.markedDuringReload = new Set();
    });
    return this.reloading;
  }

  /**
   * The current view: reloaded in full when the records changed or `resyncMs` passed, else the
   * allocations of the hosts marked since the last snapshot re-read (and any re-read in flight awaited,
   * so a snapshot reflects every write of this replica that completed before it was asked for).
   */
  async snapshot(): Promise<HostStateSnapshot> {
    // A reload in flight is awaited too: it started after a mark this caller must see.
    for (let i = 0; i < 3 && (this.reloading || this.recordsStale || this.d.nowMs() - this.loadedAtMs >= this.d.resyncMs); i++) await this.reload();
    for (const id of this.dirty) {
      const prev = this.pending.get(id) ?? Promise.resolve();
      const read: Promise<void> = prev
        .then(() => this.d.allocations.get(id))
        .then((a) => this.setAllocations(id, a))
        .finally(() => {
          if (this.pending.get(id) === read) this.pending.delete(id);
        });
      this.pending.set(id, read);
    }
    this.dirty.clear();
    await Promise.all(this.pending.values());
    return { records: this.records, aggregates: this.aggregates, allocations: this.allocations, instanceIds: this.instanceIds };
  }

  private setAllocations(hostId: string, a: HostAllocations): void {
    this.allocations.set(hostId, a);
    this.instanceIds.set(hostId, new Set(a.byInstance.keys()));
  }

  private async readAll(): Promise<void> {
    const startedAtMs = this.d.nowMs();
    this.recordsStale = false;
    this.dirty.clear();
    const [records, aggregates] = await Promise.all([this.d.hosts.list(), this.d.aggregates.list()]);
    const allocations = await Promise.all(records.map((h) => this.d.allocations.get(h.hostId)));
    this.records = records;
    this.aggregates = aggregates;
    this.allocations.clear();
    this.instanceIds.clear();
    records.forEach((h, i) => this.setAllocations(h.hostId, allocations[i]));
    this.loadedAtMs = startedAtMs;
  }
}
