import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { TokenVerifier } from '@minicloud/platform-auth';
import { elasticitySubject } from '@minicloud/platform-bus';
import { KeyedWorkQueue, LeaderElector, leaderOnly, periodic, systemClock } from '@minicloud/platform-lifecycle';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import type { Redis } from '@minicloud/platform-state';
import { events } from '@minicloud/proto';
import { elasticityService } from './api/handlers';
import { grpcCloudPort, type CloudPort } from './cloud-port';
import type { ElasticityConfig } from './config';
import { registerElasticityMetrics } from './elasticity-metrics';
import { LoadBalancers } from './load-balancers';
import { Pools } from './pools';
import { GroupReconciler, type GroupFigures } from './reconcile/group-reconciler';
import { ScalingGroups } from './scaling-groups';
import type { EventPublisher } from './store/deps';
import { keys } from './store/keys';
import { RecordStore } from './store/record-store';
import type { ListenerRecord, LoadBalancerRecord, PoolMemberRecord, PoolRecord, ScalingGroupRecord, ScalingPolicyRecord } from './store/records';

/** Test seams: a clock, a verifier signed by a test key, the other services' APIs. */
export interface ElasticityWireOverrides {
  clock?: Clock;
  verifier?: TokenVerifier;
  cloud?: CloudPort;
}

/** The resource modules, the stores and the reconciler (tests drive the reconciler directly). */
export interface ElasticityModules {
  loadBalancers: LoadBalancers;
  pools: Pools;
  groups: ScalingGroups;
  reconciler: GroupReconciler;
  stores: {
    lbs: RecordStore<LoadBalancerRecord>;
    listeners: RecordStore<ListenerRecord>;
    pools: RecordStore<PoolRecord>;
    members: RecordStore<PoolMemberRecord>;
    groups: RecordStore<ScalingGroupRecord>;
    policies: RecordStore<ScalingPolicyRecord>;
  };
}

const unreachable: CloudPort = {
  getSubnet: async () => {
    throw new FailedPreconditionError('the network service is not reachable (no service credentials)', 'no_network_service');
  },
  getFlavor: async () => {
    throw new FailedPreconditionError('the compute service is not reachable (no service credentials)', 'no_compute_service');
  },
  createServer: async () => {
    throw new FailedPreconditionError('the compute service is not reachable (no service credentials)', 'no_compute_service');
  },
  getServer: async () => null,
  deleteServer: async () => undefined,
  setServerMetadata: async () => undefined,
};

/** Builds the modules on one Redis connection. */
export function buildElasticityModules(
  redis: Redis,
  io: { clock: Clock; cloud: CloudPort; publish: EventPublisher; enqueue: (groupId: string) => void; evaluationPeriodMs: number; onFigures?: (f: GroupFigures) => void },
): ElasticityModules {
  const stores = {
    lbs: new RecordStore<LoadBalancerRecord>(redis, 'load_balancer'),
    listeners: new RecordStore<ListenerRecord>(redis, 'listener'),
    pools: new RecordStore<PoolRecord>(redis, 'pool'),
    members: new RecordStore<PoolMemberRecord>(redis, 'member'),
    groups: new RecordStore<ScalingGroupRecord>(redis, 'scaling_group'),
    policies: new RecordStore<ScalingPolicyRecord>(redis, 'scaling_policy'),
  };
  const base = { clock: io.clock, publish: io.publish };
  return {
    stores,
    loadBalancers: new LoadBalancers({ ...base, lbs: stores.lbs, listeners: stores.listeners, pools: stores.pools, cloud: io.cloud }),
    pools: new Pools({ ...base, listeners: stores.listeners, pools: stores.pools, members: stores.members, groups: stores.groups }),
    groups: new ScalingGroups({ ...base, groups: stores.groups, policies: stores.policies, pools: stores.pools, cloud: io.cloud, enqueue: io.enqueue }),
    reconciler: new GroupReconciler({ ...base, cloud: io.cloud, ...stores, evaluationPeriodMs: io.evaluationPeriodMs, onFigures: io.onFigures }),
  };
}

/**
 * Builds the elasticity service on shared deps: the resource modules, its gRPC service, metrics, the
 * leader-only reconcile queue of scaling groups with a periodic resync (every group re-enqueued),
 * and the endpoint registration in identity's catalog (service types `load-balancer` and
 * `clustering`; skipped when a verifier override is given, i.e. in tests).
 */
export function wireElasticity(config: ElasticityConfig, overrides: ElasticityWireOverrides = {}) {
  return async (deps: ServiceDeps): Promise<ServiceWiring & { modules: ElasticityModules }> => {
    const clock = overrides.clock ?? systemClock;
    const creds = deps.credentials;
    const remote = !overrides.cloud && creds ? grpcCloudPort({ endpoint: (t) => creds.endpoint(t), serviceToken: () => creds.getToken() }) : undefined;
    const cloud = overrides.cloud ?? remote ?? unreachable;
    const publish: EventPublisher = async (ev) => {
      try {
        await deps.bus.publishEvent(elasticitySubject(ev.entity, ev.action), events.ElasticityResourceChanged, {
          meta: { eventId: randomUUID(), occurredAt: new Date(clock.nowMs()), source: 'elasticity' },
          entity: ev.entity,
          action: ev.action,
          resourceId: ev.resourceId,
          projectId: ev.projectId,
          fromCapacity: ev.fromCapacity ?? 0,
          toCapacity: ev.toCapacity ?? 0,
          cause: ev.cause ?? '',
        });
      } catch (e) {
        deps.logger.warn({ err: e, entity: ev.entity, resource_id: ev.resourceId }, 'publishing elasticity event failed');
      }
    };
    let queue: KeyedWorkQueue | undefined;
    const m = buildElasticityModules(deps.redis, {
      clock,
      cloud,
      publish,
      enqueue: (id) => queue?.enqueue(id),
      evaluationPeriodMs: config.EVALUATION_PERIOD_MS,
      onFigures: registerElasticityMetrics(deps.metrics.registry),
    });
    queue = new KeyedWorkQueue('scaling-groups', async (id, _signal, log) => {
      const again = await m.reconciler.reconcile(id, log);
      return again === undefined ? undefined : Math.max(1000, again);
    }, { concurrency: 4, logger: deps.logger, idField: 'scaling_group_id', registry: deps.metrics.registry });
    const elector = new LeaderElector(deps.redis, { key: keys.leader(), ttlMs: config.LEADER_TTL_MS, logger: deps.logger, holderId: `pid-${process.pid}-${randomUUID()}` });
    const q = queue;
    return {
      modules: m,
      services: [elasticityService(m)],
      verifier: overrides.verifier,
      runnables: [
        elector,
        leaderOnly(elector, q),
        leaderOnly(elector, periodic('scaling-group resync', config.RESYNC_INTERVAL_MS, async () => {
          for (const g of await m.stores.groups.all()) q.enqueue(g.id);
        }, (e) => deps.logger.warn({ err: e }, 'scaling group resync failed'))),
      ],
      afterStop: [{ name: 'cloud clients', run: () => remote?.close() }],
      onListening: overrides.verifier
        ? undefined
        : async (server) => {
            if (!creds) return;
            const token = await creds.getToken();
            for (const serviceType of ['load-balancer', 'clustering']) {
              await creds.identity.registerEndpoint({ endpoint: { serviceType, url: server.address, interface: 'public' } }, { token });
            }
          },
    };
  };
}
