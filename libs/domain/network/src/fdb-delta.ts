import { FLOODING_IP, FLOODING_MAC, compareFdbEntries, fdbEntryKey, type FdbEntry } from './fdb';
import { applyFdbDiff } from './fdb-diff';

/**
 * One change of a host's tables, as Neutron's l2population driver sends it (`add_fdb_entries` /
 * `remove_fdb_entries`, and the host's own ports). Applying it twice changes nothing.
 */
export interface FdbDelta {
  /** FDB entries towards remote VTEPs, flooding entries included. */
  readonly add: readonly FdbEntry[];
  readonly remove: readonly FdbEntry[];
  /** The host's own bound ports (vNICs), towards its own VTEP. */
  readonly localPortsAdd: readonly FdbEntry[];
  readonly localPortsRemove: readonly FdbEntry[];
}

/** A delta that changes nothing (a bumped host whose tables this change leaves alone). */
export const EMPTY_FDB_DELTA: FdbDelta = { add: [], remove: [], localPortsAdd: [], localPortsRemove: [] };

/** One side of a port's binding change: where the port was bound (before) or is bound (after). */
export interface BindingSide {
  readonly hostId: string;
  /** The host's VTEP tunnel IP; '' when it has none (it takes no part in the overlay). */
  readonly tunnelIp: string;
  /** The port's fixed IPs on this side ([] = a port without addresses: one entry with IP ''). */
  readonly ipAddresses: readonly string[];
  /**
   * Bound ports of the host on the port's network, not counting this port: for `before`, after the
   * change (0 = the host left the network); for `after`, before it (0 = the host joins the network).
   */
  readonly otherPortsOnNetwork: number;
}

/**
 * A port's binding changed: bound (before absent), unbound or deleted (after absent), moved to another
 * host (both, different hosts), or its addresses changed while bound (both, same host).
 */
export interface PortBindingChange {
  readonly portId: string;
  readonly networkId: string;
  /** The network's VNI. */
  readonly segmentationId: number;
  /** False for a network without an overlay (not vxlan): no entries, only the generation moves. */
  readonly overlay: boolean;
  readonly macAddress: string;
  readonly before?: BindingSide;
  readonly after?: BindingSide;
  /** True when the port's own hosts must re-read their tables whatever the change (e.g. the port has a floating IP the host serves). */
  readonly ownHostsResync?: boolean;
}

function portEntries(c: PortBindingChange, side: BindingSide): FdbEntry[] {
  const ips = side.ipAddresses.length ? side.ipAddresses : [''];
  return ips.map((ipAddress) => ({ networkId: c.networkId, segmentationId: c.segmentationId, tunnelIp: side.tunnelIp, macAddress: c.macAddress, ipAddress, portId: c.portId }));
}

function floodingEntry(c: PortBindingChange, tunnelIp: string): FdbEntry {
  return { networkId: c.networkId, segmentationId: c.segmentationId, tunnelIp, macAddress: FLOODING_MAC, ipAddress: FLOODING_IP };
}

/** Removes what both lists hold (an entry removed and added again is no change), and sorts them. */
function cancel(add: FdbEntry[], remove: FdbEntry[]): { add: FdbEntry[]; remove: FdbEntry[] } {
  const addKeys = new Set(add.map(fdbEntryKey));
  const removeKeys = new Set(remove.map(fdbEntryKey));
  return {
    add: add.filter((e) => !removeKeys.has(fdbEntryKey(e))).sort(compareFdbEntries),
    remove: remove.filter((e) => !addKeys.has(fdbEntryKey(e))).sort(compareFdbEntries),
  };
}

/**
 * What one port binding change does to the tables of host `receiver`, which holds the port's network
 * (a bound port on it, or a distributed router joining it to one of the receiver's networks) or is
 * one of the port's own hosts, and has a VTEP (an agent applies deltas only after RegisterVtep, and a
 * VTEP is never removed). It matches {@link computeHostFdb} / computeHostLocalPorts before and
 * after the change:
 * - any other host: remove the port's entries towards the old VTEP (and the old host's flooding
 *   entry when it left the network), add them towards the new VTEP (and its flooding entry when it
 *   joined the network); a side whose host has no VTEP contributes nothing;
 * - the old host: its local port entries go;
 * - the new host: its local port entries come.
 * @returns the delta, or undefined when the receiver must re-read its whole table instead: the new
 *   host joins the network (its FDB gains every remote port of it), the old host leaves it (it loses
 *   them), or `ownHostsResync`
 */
export function fdbDeltaFor(receiver: string, c: PortBindingChange): FdbDelta | undefined {
  const { before, after } = c;
  const moved = !!before && !!after && before.hostId !== after.hostId;
  const isOld = !!before && before.hostId === receiver;
  const isNew = !!after && after.hostId === receiver;
  if ((isOld || isNew) && c.ownHostsResync) return undefined;
  if (isNew && after.otherPortsOnNetwork === 0 && (moved || !before)) return undefined;
  if (isOld && before.otherPortsOnNetwork === 0 && (moved || !after)) return undefined;
  if (!c.overlay) return EMPTY_FDB_DELTA;
  const add: FdbEntry[] = [];
  const remove: FdbEntry[] = [];
  const localAdd: FdbEntry[] = [];
  const localRemove: FdbEntry[] = [];
  if (before && before.tunnelIp) {
    if (isOld) localRemove.push(...portEntries(c, before));
    else {
      remove.push(...portEntries(c, before));
      if (before.otherPortsOnNetwork === 0 && (moved || !after)) remove.push(floodingEntry(c, before.tunnelIp));
    }
  }
  if (after && after.tunnelIp) {
    if (isNew) localAdd.push(...portEntries(c, after));
    else {
      add.push(...portEntries(c, after));
      if (after.otherPortsOnNetwork === 0 && (moved || !before)) add.push(floodingEntry(c, after.tunnelIp));
    }
  }
  const fdb = cancel(add, remove);
  const local = cancel(localAdd, localRemove);
  return { add: fdb.add, remove: fdb.remove, localPortsAdd: local.add, localPortsRemove: local.remove };
}

/** Applies a delta to a host's tables: removals first, then additions (idempotent, as applyFdbDiff). */
export function applyFdbDelta(tables: { fdb: readonly FdbEntry[]; localPorts: readonly FdbEntry[] }, d: FdbDelta): { fdb: FdbEntry[]; localPorts: FdbEntry[] } {
  return {
    fdb: applyFdbDiff(tables.fdb, { add: [...d.add], remove: [...d.remove] }),
    localPorts: applyFdbDiff(tables.localPorts, { add: [...d.localPortsAdd], remove: [...d.localPortsRemove] }),
  };
}

/** What the agent does with an FdbUpdated (see {@link FdbSequencer.offer}). */
export type FdbUpdateAction =
  /** Apply these deltas in order; the sequencer's generation is already the last one's. */
  | { kind: 'apply'; deltas: { generation: number; delta: FdbDelta }[] }
  /** Re-read the whole table (GetHostFdb), then call {@link FdbSequencer.resynced}. */
  | { kind: 'resync' }
  /** A delta arrived ahead of one still missing: held; resync if the gap is not filled soon. */
  | { kind: 'wait' }
  /** Already applied (a redelivery or an older event). */
  | { kind: 'ignore' };

/** How many deltas ahead of a gap are held before giving up and re-reading the table. */
export const MAX_HELD_FDB_DELTAS = 64;

/**
 * The agent's side of l2pop's per-host generation: a delta is applied only on top of the generation
 * it was computed from (generation - 1). A delta ahead of a missing one is held, like a reorder
 * buffer, until the gap fills; a missing one that never comes (a lost publish, a restart of the
 * network service between its write and its publish), an event without a delta, or too many held
 * deltas mean a full re-read. So a lost or reordered message heals, and a table is never built
 * from deltas with a hole between them.
 */
export class FdbSequencer {
  private held = new Map<number, FdbDelta>();

  /** @param generation the generation of the tables the host holds (-1: none yet) */
  constructor(public generation = -1) {}

  /** True while deltas wait for a missing one before them. */
  get waiting(): boolean {
    return this.held.size > 0;
  }

  /**
   * Offers FdbUpdated{generation, delta?}. Generations are integers >= 1.
   * @returns what to do; for 'apply' the generation has moved to the last delta returned
   */
  offer(generation: number, delta?: FdbDelta): FdbUpdateAction {
    if (generation <= this.generation) return { kind: 'ignore' };
    if (!delta || this.generation < 0) return { kind: 'resync' };
    if (generation === this.generation + 1) {
      this.generation = generation;
      return { kind: 'apply', deltas: [{ generation, delta }, ...this.drain()] };
    }
    this.held.set(generation, delta);
    if (this.held.size > MAX_HELD_FDB_DELTAS) return { kind: 'resync' };
    return { kind: 'wait' };
  }

  /**
   * The whole table was read at `generation` (read before the entries, so the entries are at least
   * that new). An answer older than what the host holds is ignored (the held tables are newer).
   * @returns whether to install the table, and the held deltas that now follow it, to apply after it
   */
  resynced(generation: number): { install: boolean; deltas: { generation: number; delta: FdbDelta }[] } {
    if (generation < this.generation) return { install: false, deltas: [] };
    this.generation = generation;
    for (const g of [...this.held.keys()]) if (g <= generation) this.held.delete(g);
    return { install: true, deltas: this.drain() };
  }

  private drain(): { generation: number; delta: FdbDelta }[] {
    const out: { generation: number; delta: FdbDelta }[] = [];
    for (let next = this.held.get(this.generation + 1); next; next = this.held.get(this.generation + 1)) {
      this.held.delete(this.generation + 1);
      this.generation += 1;
      out.push({ generation: this.generation, delta: next });
    }
    return out;
  }
}
