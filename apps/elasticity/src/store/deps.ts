import type { Clock } from '@minicloud/domain-clock';
import type { ElasticityEntity } from '@minicloud/platform-bus';

/** One resource event (ElasticityResourceChanged); events are hints, failures are logged not raised. */
export interface ResourceEvent {
  readonly entity: ElasticityEntity;
  readonly action: 'created' | 'updated' | 'deleted' | 'scaled';
  readonly resourceId: string;
  readonly projectId: string;
  readonly fromCapacity?: number;
  readonly toCapacity?: number;
  readonly cause?: string;
}

export type EventPublisher = (ev: ResourceEvent) => Promise<void>;

/** What every resource module gets. */
export interface ModuleDeps {
  readonly clock: Clock;
  readonly publish: EventPublisher;
}
