import { computeHostFdb, isFloodingEntry, type FdbEntry, type PortBinding, type VtepMap } from './fdb';

/** Network id -> (IP address -> MAC address) that a host's ARP responder answers with. */
export type ArpResponderTable = Map<string, Map<string, string>>;

/**
 * The ARP responder table derived from a host's FDB, as Neutron's l2pop agent extension does:
 * each non-flooding entry lets the local switch answer "who has <ip>" with <mac> on that network,
 * so ARP requests for remote ports are not flooded over the tunnels. Local ports answer themselves.
 */
export function arpResponderFromFdb(entries: readonly FdbEntry[]): ArpResponderTable {
  const table: ArpResponderTable = new Map();
  for (const e of entries) {
    if (isFloodingEntry(e)) continue;
    let perNetwork = table.get(e.networkId);
    if (!perNetwork) table.set(e.networkId, (perNetwork = new Map()));
    perNetwork.set(e.ipAddress, e.macAddress);
  }
  return table;
}

/** The ARP responder table of `hostId`: {@link arpResponderFromFdb} of {@link computeHostFdb}. */
export function computeArpResponder(hostId: string, bindings: readonly PortBinding[], vteps: VtepMap): ArpResponderTable {
  return arpResponderFromFdb(computeHostFdb(hostId, bindings, vteps));
}
