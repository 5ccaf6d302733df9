import { compareFdbEntries, type FdbEntry, type PortBinding, type VtepMap } from './fdb';

/**
 * The host's own bound ports (its vNICs on the local switch), as entries towards its own VTEP:
 * one per (port, fixed IP) bound to `hostId` on a network with a VNI. A host without a VTEP in
 * `vteps` gets [] (it takes no part in the overlay).
 * @returns entries sorted by {@link compareFdbEntries}
 */
export function computeHostLocalPorts(hostId: string, bindings: readonly PortBinding[], vteps: VtepMap): FdbEntry[] {
  const tunnelIp = vteps.get(hostId);
  if (tunnelIp === undefined) return [];
  return bindings
    .filter((b) => b.hostId === hostId)
    .map((b) => ({ networkId: b.networkId, segmentationId: b.segmentationId, tunnelIp, macAddress: b.macAddress, ipAddress: b.ipAddress, portId: b.portId }))
    .sort(compareFdbEntries);
}
