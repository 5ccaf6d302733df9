import type { agent } from '@minicloud/proto';
import { toProtoPowerState, toProtoRuntime } from './api/mapping';
import type { SimulatedHost } from './simulated-host';

/**
 * The host's VM inventory as the controller's power sync reads it: every VM defined on the host, in
 * any power state, each flagged when it takes part in a live migration here (either side), since
 * then no instance record owns it on this host alone. Carried by RegisterHost, ListInstances
 * (`runtimesOf`) and every heartbeat (`inventoryOf`).
 */
export function runtimesOf(host: SimulatedHost): agent.InstanceRuntime[] {
  return host.runtimes().map((rt) => ({ ...toProtoRuntime(rt), migrating: host.migrationOf(rt.instanceId) !== undefined }));
}

/** The lean inventory of a heartbeat: id, power state and the migration flag of every VM (see runtimesOf). */
export function inventoryOf(host: SimulatedHost): agent.HostInstance[] {
  return host.runtimes().map((rt) => ({ instanceId: rt.instanceId, powerState: toProtoPowerState(rt.powerState), migrating: host.migrationOf(rt.instanceId) !== undefined }));
}
