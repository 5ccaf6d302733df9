import { arpResponderFromFdb, compareFdbEntries, diffFdb, fdbEntryKey, type ArpResponderTable, type FdbDelta, type FdbDiff, type FdbEntry, type SwitchView } from '@minicloud/domain-network';

/**
 * One host's virtual switch: vNIC ports (MAC, port id, VNI), the VTEP (tunnel IP), the l2pop FDB
 * and the ARP responder derived from it. Tables only move forward: an answer older than the
 * generation already applied is ignored.
 *
 * The tables are kept by entry key, so a delta costs its own size. The sorted lists (`fdb`, `vnics`)
 * and the ARP responder are rebuilt only when read after a change: with one network of thousands of
 * ports, re-sorting the whole table and rebuilding the ARP responder on every delta was most of a
 * rack agent's CPU, and a burst of bindings sends many deltas between two reads.
 */
export class VirtualSwitch {
  private readonly fdbByKey = new Map<string, FdbEntry>();
  private readonly vnicsByKey = new Map<string, FdbEntry>();
  private fdbSorted?: FdbEntry[] = [];
  private vnicsSorted?: FdbEntry[] = [];
  private arpTable?: ArpResponderTable = new Map();
  generation = -1;
  /** Diffs applied, for observers (tests, logs). */
  lastDiff: FdbDiff = { add: [], remove: [] };

  constructor(
    readonly hostId: string,
    readonly tunnelIp: string,
  ) {}

  /** The FDB in compareFdbEntries order. */
  get fdb(): FdbEntry[] {
    return (this.fdbSorted ??= [...this.fdbByKey.values()].sort(compareFdbEntries));
  }

  /** The host's own vNIC ports in compareFdbEntries order. */
  get vnics(): FdbEntry[] {
    return (this.vnicsSorted ??= [...this.vnicsByKey.values()].sort(compareFdbEntries));
  }

  /** ARP responder of the FDB ({@link arpResponderFromFdb}). */
  get arp(): ArpResponderTable {
    return (this.arpTable ??= arpResponderFromFdb(this.fdb));
  }

  /** Number of FDB entries (no sort). */
  get fdbSize(): number {
    return this.fdbByKey.size;
  }

  /**
   * Applies the tables the network service computed at `generation` as a diff (l2pop
   * add_fdb_entries/remove_fdb_entries). `resync` (after RegisterVtep) applies whatever the generation.
   * @returns false when the answer was stale and ignored
   */
  apply(fdb: readonly FdbEntry[], vnics: readonly FdbEntry[], generation: number, resync = false): boolean {
    if (!resync && generation < this.generation) return false;
    this.lastDiff = diffFdb(this.fdb, fdb);
    this.change(this.lastDiff, diffFdb(this.vnics, vnics));
    this.generation = generation;
    return true;
  }

  /**
   * Applies one l2pop delta (FdbUpdated) computed from `generation - 1`; the caller checks the order
   * (FdbSequencer). Idempotent, like the diff it is.
   */
  applyDelta(delta: FdbDelta, generation: number): void {
    this.lastDiff = { add: [...delta.add], remove: [...delta.remove] };
    this.change(this.lastDiff, { add: delta.localPortsAdd, remove: delta.localPortsRemove });
    this.generation = generation;
  }

  view(): SwitchView {
    return { hostId: this.hostId, tunnelIp: this.tunnelIp, vnics: this.vnics, fdb: this.fdb };
  }

  /** Removals first, then additions (as applyFdbDiff), on both tables; the derived views are rebuilt at their next read. */
  private change(fdb: { add: readonly FdbEntry[]; remove: readonly FdbEntry[] }, vnics: { add: readonly FdbEntry[]; remove: readonly FdbEntry[] }): void {
    const fdbChanged = edit(this.fdbByKey, fdb);
    const vnicsChanged = edit(this.vnicsByKey, vnics);
    if (fdbChanged) {
      this.fdbSorted = undefined;
      this.arpTable = undefined;
    }
    if (vnicsChanged) this.vnicsSorted = undefined;
  }
}

/** @returns whether any entry was given (the table may have changed) */
function edit(table: Map<string, FdbEntry>, diff: { add: readonly FdbEntry[]; remove: readonly FdbEntry[] }): boolean {
  for (const e of diff.remove) table.delete(fdbEntryKey(e));
  for (const e of diff.add) table.set(fdbEntryKey(e), e);
  return diff.add.length + diff.remove.length > 0;
}
