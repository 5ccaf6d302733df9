import { keyspace } from './redis';

const agentKey = keyspace('compute-agent');
const controllerKey = keyspace('controller');

/**
 * The Redis keys of the HA protocol between the controller and the compute agents: the only keys one
 * side writes and the other reads (ARCHITECTURE.md section 5; docs/agent-protocol.md), as vSphere HA's
 * datastore heartbeat files. Kept here, like the NATS subjects in platform-bus, so both sides name them once.
 * - `lease(host)`: the agent's "datastore heartbeat" (value = its epoch, PX = lease_ttl); the controller reads it.
 * - `isolation(host)`: the agent's record of an applied isolation response (JSON {epoch, response,
 *   powered_off_ids, applied_at_ms}), vSphere's "poweron file"; the controller reads it.
 * - `clusterView()`: the HA leader's view (JSON {hosts_up, at_ms}, short TTL); an agent reads it before
 *   applying its isolation response.
 */
export const HaProtocolKeys = {
  lease: (hostId: string): string => agentKey('lease', hostId),
  isolation: (hostId: string): string => agentKey('isolation', hostId),
  clusterView: (): string => controllerKey('ha', 'cluster_view'),
};
