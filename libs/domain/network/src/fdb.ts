import { ZERO_MAC } from './mac';

/** IP of an l2pop flooding entry (Neutron `FLOODING_ENTRY` = ("00:00:00:00:00:00", "0.0.0.0")). */
export const FLOODING_IP = '0.0.0.0';
/** MAC of an l2pop flooding entry: broadcast/unknown-unicast frames go to this VTEP. */
export const FLOODING_MAC = ZERO_MAC;

/** Where a port lives: one row per (port, fixed IP) that is bound to a host. */
export interface PortBinding {
  readonly portId: string;
  readonly networkId: string;
  /** The network's VNI. */
  readonly segmentationId: number;
  readonly macAddress: string;
  readonly ipAddress: string;
  /** `binding_host_id` of the port. */
  readonly hostId: string;
}

/**
 * One forwarding-database entry of a host's VTEP: on network `networkId` (VNI `segmentationId`),
 * frames for `macAddress`/`ipAddress` are tunnelled to `tunnelIp`. A flooding entry has
 * {@link FLOODING_MAC}/{@link FLOODING_IP} and no portId.
 */
export interface FdbEntry {
  readonly networkId: string;
  readonly segmentationId: number;
  readonly tunnelIp: string;
  readonly macAddress: string;
  readonly ipAddress: string;
  readonly portId?: string;
}

/** Host id -> tunnel IP of its VTEP (`tunnel_ip`). */
export type VtepMap = ReadonlyMap<string, string>;

/** True for a flooding entry (all-zero MAC and IP). */
export function isFloodingEntry(entry: FdbEntry): boolean {
  return entry.macAddress === FLOODING_MAC && entry.ipAddress === FLOODING_IP;
}

/** Identity of an entry; two entries with the same key are the same entry. */
export function fdbEntryKey(e: FdbEntry): string {
  return [e.networkId, e.segmentationId, e.tunnelIp, e.macAddress, e.ipAddress, e.portId ?? ''].join('|');
}

/** Deterministic order: network, tunnel IP, flooding entry first, then MAC, IP, port. */
export function compareFdbEntries(a: FdbEntry, b: FdbEntry): number {
  const fa = isFloodingEntry(a) ? 0 : 1;
  const fb = isFloodingEntry(b) ? 0 : 1;
  return (
    cmp(a.networkId, b.networkId) ||
    cmp(a.tunnelIp, b.tunnelIp) ||
    fa - fb ||
    cmp(a.macAddress, b.macAddress) ||
    cmp(a.ipAddress, b.ipAddress) ||
    cmp(a.portId ?? '', b.portId ?? '')
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The FDB one host must hold, with Neutron l2population semantics:
 * - only networks where `hostId` has at least one bound port;
 * - for every OTHER host with ports on such a network: one flooding entry towards its VTEP, plus
 *   one (mac, ip) entry per remote port;
 * - nothing for the host's own ports (they are local on its switch).
 * Bindings on a host that has no registered VTEP in `vteps` are ignored (it cannot be tunnelled to,
 * nor receive), and so is a host with no VTEP asking for its table: it gets [].
 * `routedNetworks`: networks the host reaches through a distributed router (Neutron DVR's l2pop: the
 * router's interface on every network it joins lives on each host with a port on one of them); they
 * count as the host's own networks.
 * @returns entries sorted by {@link compareFdbEntries}
 */
export function computeHostFdb(hostId: string, bindings: readonly PortBinding[], vteps: VtepMap, routedNetworks: ReadonlySet<string> = new Set()): FdbEntry[] {
  if (!vteps.has(hostId)) return [];
  const localNetworks = new Set(bindings.filter((b) => b.hostId === hostId).map((b) => b.networkId));
  for (const n of routedNetworks) localNetworks.add(n);
  const entries = new Map<string, FdbEntry>();
  for (const b of bindings) {
    const tunnelIp = vteps.get(b.hostId);
    if (b.hostId === hostId || tunnelIp === undefined || !localNetworks.has(b.networkId)) continue;
    const flooding: FdbEntry = {
      networkId: b.networkId,
      segmentationId: b.segmentationId,
      tunnelIp,
      macAddress: FLOODING_MAC,
      ipAddress: FLOODING_IP,
    };
    const port: FdbEntry = { ...flooding, macAddress: b.macAddress, ipAddress: b.ipAddress, portId: b.portId };
    entries.set(fdbEntryKey(flooding), flooding);
    entries.set(fdbEntryKey(port), port);
  }
  return [...entries.values()].sort(compareFdbEntries);
}

/**
 * The FDB of every host that has a VTEP: host id -> {@link computeHostFdb}. Hosts with no entries
 * map to [] so an agent can tell "empty" from "unknown".
 */
export function computeFdb(bindings: readonly PortBinding[], vteps: VtepMap): Map<string, FdbEntry[]> {
  const result = new Map<string, FdbEntry[]>();
  for (const hostId of vteps.keys()) result.set(hostId, computeHostFdb(hostId, bindings, vteps));
  return result;
}

/**
 * The networks a distributed router brings to a host: every network joined by one router to one of
 * `localNetworks` (one hop, as routers forward between their own interfaces only), less the local ones.
 * @param routers each router's networks (those of its interface ports)
 */
export function networksReachedByRouters(localNetworks: Iterable<string>, routers: readonly (readonly string[])[]): Set<string> {
  const local = new Set(localNetworks);
  const out = new Set<string>();
  for (const nets of routers) if (nets.some((n) => local.has(n))) for (const n of nets) if (!local.has(n)) out.add(n);
  return out;
}
