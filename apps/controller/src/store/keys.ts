import { keyspace } from '@minicloud/platform-state';

const k = keyspace('controller');

/** Every Redis key the controller owns (`mc:controller:*`). */
export const Keys = {
  flavor: (id: string) => k('flavor', id),
  flavorByName: (name: string) => k('flavor_name', name),
  flavors: () => k('flavors'),
  /** Set of project ids granted a private flavor (Nova's flavor access). */
  flavorProjects: (id: string) => k('flavor', id, 'projects'),
  /** Counter of hosts' integer service ids (Nova's os-services id). */
  hostServiceSequence: () => k('host_service_seq'),
  /** Counter of aggregates' integer ids (Nova's aggregate id). */
  aggregateSequence: () => k('aggregate_seq'),
  host: (hostId: string) => k('host', hostId),
  hostEpoch: (hostId: string) => k('host', hostId, 'epoch'),
  /** Hash {vcpus, ram_mb, disk_gb}: sum of the host's claims. */
  hostUsage: (hostId: string) => k('host', hostId, 'usage'),
  /** Hash instance_id -> "vcpus,ram_mb,disk_gb": the host's claims (Placement allocations). */
  hostAllocations: (hostId: string) => k('host', hostId, 'allocations'),
  hosts: () => k('hosts'),
  instance: (id: string) => k('instance', id),
  instanceActions: (id: string) => k('instance', id, 'actions'),
  instances: () => k('instances'),
  projectInstances: (projectId: string) => k('project', projectId, 'instances'),
  /** Sorted sets of instance ids scored by created-at ms: the list order, paged without reading every record. */
  instancesByCreated: () => k('instances', 'by_created'),
  projectInstancesByCreated: (projectId: string) => k('project', projectId, 'instances', 'by_created'),
  /** Hash vm_state -> number of instances in it, kept by every write of an instance record. */
  instanceCountsByVmState: () => k('instances', 'by_vm_state'),
  /** Set once the counts above were computed from every record (after which the writes keep them). */
  instanceCountsComplete: () => k('instances', 'by_vm_state', 'complete'),
  reservation: (reservationId: string) => k('reservation', reservationId),
  clientToken: (projectId: string, token: string) => k('client_token', projectId, token),
  /** The lease of the create that holds a client token, while it has made no server yet. */
  clientTokenLease: (projectId: string, token: string) => k('client_token', projectId, token, 'lease'),
  leader: () => k('leader'),
  aggregate: (id: string) => k('aggregate', id),
  aggregates: () => k('aggregates'),
  serverGroup: (id: string) => k('server_group', id),
  serverGroups: () => k('server_groups'),
  projectServerGroups: (projectId: string) => k('project', projectId, 'server_groups'),
  /** Short lock serialising placement of one server group's members (anti-affinity across replicas). */
  serverGroupLock: (id: string) => k('server_group', id, 'lock'),
  /** List of a VM's CPU utilisation ratios, newest first (one per consolidation round; CloudSim's 30-sample history). */
  consolidationHistory: (instanceId: string) => k('consolidation', 'history', instanceId),
  /** A migration record (JSON; live and cold migrations, kept after completion for ListMigrations). */
  migration: (id: string) => k('migration', id),
  migrations: () => k('migrations'),
  instanceMigrations: (instanceId: string) => k('instance', instanceId, 'migrations'),
  /** HA: one restart in progress (JSON EvacuationRecord), durable so a new leader finishes it. */
  evacuation: (instanceId: string) => k('ha', 'evacuation', instanceId),
  /** HA: ids of the open evacuations. */
  evacuations: () => k('ha', 'evacuations'),
  /** Hash key pair name -> JSON KeypairRecord: one user's SSH key pairs (Nova keeps key pairs per user). */
  userKeypairs: (userId: string) => k('user', userId, 'keypairs'),
  /** Counter of key pair ids. */
  keypairSequence: () => k('keypair_seq'),
};
