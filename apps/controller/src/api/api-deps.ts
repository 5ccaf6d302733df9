import type { InstanceRecord } from '@minicloud/domain-compute';
import type { KeyedWorkQueue } from '@minicloud/platform-lifecycle';
import type { AgentClient } from '../agent/agent-client';
import type { EvacuationRequestDeps } from '../ha/evacuation-request';
import type { ControllerMetrics } from '../metrics';
import type { MigrationWorker } from '../migration/migration-worker';
import type { Peers } from '../peers';
import type { Placement } from '../placement/placement';
import type { Quotas } from '../placement/quota';
import type { AggregateStore } from '../store/aggregate-store';
import type { AllocationStore } from '../store/allocation-store';
import type { FlavorStore } from '../store/flavor-store';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { KeypairStore } from '../store/keypair-store';
import type { MigrationStore } from '../store/migration-store';
import type { ServerGroupStore } from '../store/server-group-store';

/**
 * Everything the ComputeService handlers use, wired once in wire.ts. Each handler module takes only
 * the part it uses (a `Pick` of this), so what a handler can reach is visible in its signature.
 */
export interface ApiDeps {
  flavors: FlavorStore;
  instances: InstanceStore;
  hosts: HostStore;
  allocations: AllocationStore;
  aggregates: AggregateStore;
  serverGroups: ServerGroupStore;
  /** SSH key pairs, per user (os-keypairs). */
  keypairs: KeypairStore;
  /** Nova's key_pairs quota: most key pairs one user may hold (config KEY_PAIRS_QUOTA, Nova's default 100). */
  keyPairsQuota: number;
  placement: Placement;
  quotas: Quotas;
  peers: Peers;
  agents: AgentClient;
  metrics: ControllerMetrics;
  nowMs: () => number;
  /** Hands an instance to the instance worker (the build/action reconcile). */
  queue: Pick<KeyedWorkQueue, 'enqueue'>;
  /** CAS update of an instance that publishes InstanceStateChanged when a state moved (Conductor.transition). */
  transition: (id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined) => Promise<InstanceRecord | undefined>;
  /** Publishes InstanceStateChanged for a new record (Conductor.publish). */
  publishState: (r: InstanceRecord, oldVmState: InstanceRecord['vmState']) => Promise<void>;
  /** HA admission control (placement/admission-guard.ts); throws RESOURCE_EXHAUSTED "admission control: ...". */
  admission?: { check(req: { vcpus: number; ramMb: number; diskGb: number }, count: number): Promise<void> };
  /** Nova's allow_resize_to_same_host. */
  allowResizeToSameHost: boolean;
  /** Live migration (migration/migration-worker.ts): ServerAction migrate{live}, maintenance drain. */
  migrations: MigrationWorker;
  /** Migration records (ListMigrations history). */
  migrationRecords: MigrationStore;
  /** ServerAction evacuate: opens the HA loop's evacuation record (ha/evacuation-request.ts). */
  evacuations: EvacuationRequestDeps;
}
