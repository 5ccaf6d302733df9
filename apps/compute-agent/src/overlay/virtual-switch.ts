import { applyFdbDelta, applyFdbDiff, arpResponderFromFdb, diffFdb, type ArpResponderTable, type FdbDelta, type FdbDiff, type FdbEntry, type SwitchView } from '@minicloud/domain-network';

/**
 * One host's virtual switch: vNIC ports (MAC, port id, VNI), the VTEP (tunnel IP), the l2pop FDB
 * and the ARP responder derived from it. Tables only move forward: an answer older than the
 * generation already applied is ignored.
 */
export class VirtualSwitch {
  fdb: FdbEntry[] = [];
  vnics: FdbEntry[] = [];
  arp: ArpResponderTable = new Map();
  generation = -1;
  /** Diffs applied, for observers (tests, logs). */
  lastDiff: FdbDiff = { add: [], remove: [] };

  constructor(
    readonly hostId: string,
    readonly tunnelIp: string,
  ) {}

  /**
   * Applies the tables the network service computed at `generation` as a diff (l2pop
   * add_fdb_entries/remove_fdb_entries). `resync` (after RegisterVtep) applies whatever the generation.
   * @returns false when the answer was stale and ignored
   */
  apply(fdb: readonly FdbEntry[], vnics: readonly FdbEntry[], generation: number, resync = false): boolean {
    if (!resync && generation < this.generation) return false;
    this.lastDiff = diffFdb(this.fdb, fdb);
    this.fdb = applyFdbDiff(this.fdb, this.lastDiff);
    this.vnics = applyFdbDiff(this.vnics, diffFdb(this.vnics, vnics));
    this.arp = arpResponderFromFdb(this.fdb);
    this.generation = generation;
    return true;
  }

  /**
   * Applies one l2pop delta (FdbUpdated) computed from `generation - 1`; the caller checks the order
   * (FdbSequencer). Idempotent, like the diff it is.
   */
  applyDelta(delta: FdbDelta, generation: number): void {
    const next = applyFdbDelta({ fdb: this.fdb, localPorts: this.vnics }, delta);
    this.lastDiff = { add: [...delta.add], remove: [...delta.remove] };
    this.fdb = next.fdb;
    this.vnics = next.localPorts;
    this.arp = arpResponderFromFdb(this.fdb);
    this.generation = generation;
  }

  view(): SwitchView {
    return { hostId: this.hostId, tunnelIp: this.tunnelIp, vnics: this.vnics, fdb: this.fdb };
  }
}
