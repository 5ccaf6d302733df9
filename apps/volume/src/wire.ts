import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import { events } from '@minicloud/proto';
import type { TokenVerifier } from '@minicloud/platform-auth';
import { Subjects } from '@minicloud/platform-bus';
import { periodic, systemClock } from '@minicloud/platform-lifecycle';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import type { Logger } from '@minicloud/platform-logging';
import type { Redis } from '@minicloud/platform-state';
import { volumeService, type VolumeLogic } from './api/volume-handlers';
import { Attachments } from './attachments';
import { Backups } from './backups';
import { BlockStore } from './block-store';
import type { VolumeConfig } from './config';
import { grpcImageStore, type ImageStore } from './image-store';
import { VolumeUpload } from './volume-upload';
import { KeyedMutex } from './keyed-mutex';
import { Pools } from './pools';
import { QosSpecsStore } from './qos-specs';
import { Replication, type VolumeCounters } from './replication';
import { VolumeResync } from './resync';
import { Snapshots } from './snapshots';
import { loadVolumeScripts, type StatusPublisher } from './store/deps';
import { VolumeCreation } from './volume-creation';
import { VolumeData } from './volume-data';
import { registerVolumeCounters, registerVolumeGauges } from './volume-metrics';
import { VolumeTypes } from './volume-types';
import { Volumes } from './volumes';
import { identityVolumeQuota, type VolumeQuota } from './volume-quota';

/** Test seams: a clock (FakeClock), a token verifier signed by a test key, an image store. */
export interface VolumeWireOverrides {
  clock?: Clock;
  verifier?: TokenVerifier;
  images?: ImageStore;
  /** The project quota; default identity's through the service credentials (none without them). */
  quota?: VolumeQuota;
}

const unavailable = async (): Promise<never> => {
  throw new FailedPreconditionError('the image service is not reachable (no service credentials)', 'no_image_service');
};
/** An image store that refuses everything (no credentials: tests without images). */
const noImages: ImageStore = { getImage: unavailable, download: () => ({ [Symbol.asyncIterator]: () => ({ next: unavailable }) }), upload: unavailable, delete: unavailable, createAs: unavailable, uploadInto: unavailable };

/** The resource modules plus the resync and the block store (metrics read it). */
export interface VolumeModules extends VolumeLogic {
  resync: VolumeResync;
  blocks: BlockStore;
}

/**
 * Builds the resource modules on one Redis connection, each with the narrow deps it uses; they share
 * one block store and one per-volume lock (a volume's data and copies change under it).
 */
export function buildVolumeModules(
  redis: Redis,
  config: Pick<VolumeConfig, 'POOLS' | 'DEFAULT_VOLUME_TYPE' | 'VOLUME_CREATE_DELAY_MS' | 'CAPACITY_WEIGHT_MULTIPLIER' | 'VOLUME_TYPES'>,
  io: { clock: Clock; logger: Logger; images: ImageStore; publish: StatusPublisher; counters?: VolumeCounters; quota?: VolumeQuota },
): VolumeModules {
  const { clock, logger, images, publish, counters, quota } = io;
  const scripts = loadVolumeScripts(redis);
  const blocks = new BlockStore(redis);
  const locks = new KeyedMutex();
  const capacityWeightMultiplier = config.CAPACITY_WEIGHT_MULTIPLIER;
  const createDelayMs = config.VOLUME_CREATE_DELAY_MS;
  const pools = new Pools(redis, config.POOLS);
  const types = new VolumeTypes(redis, { defaultVolumeType: config.DEFAULT_VOLUME_TYPE, seedTypes: config.VOLUME_TYPES, poolTypes: config.POOLS.flatMap((p) => p.volume_types) });
  const volumes = new Volumes({ redis, scripts, locks, blocks, pools, types, publish, capacityWeightMultiplier, clock, quota, logger });
  const snapshots = new Snapshots({ redis, scripts, volumes, pools, blocks, locks, clock });
  const creation = new VolumeCreation({ redis, scripts, locks, blocks, pools, types, volumes, snapshots, images, clock, logger, publish, createDelayMs, capacityWeightMultiplier, quota });
  const upload = new VolumeUpload({ redis, scripts, volumes, blocks, images, publish, logger, clock });
  const replication = new Replication({ redis, scripts, volumes, types, pools, blocks, locks, logger, publish, counters, capacityWeightMultiplier });
  return {
    blocks,
    types,
    qos: new QosSpecsStore({ redis, types, clock }),
    pools,
    volumes,
    creation,
    snapshots,
    replication,
    data: new VolumeData({ volumes, pools, blocks, locks, snapshots }),
    attachments: new Attachments({ redis, scripts, volumes, clock, publish }),
    backups: new Backups({ redis, volumes, creation, blocks, locks, images, clock }),

    upload,
    resync: new VolumeResync({ redis, scripts, creation, volumes, replication, upload, clock, createDelayMs }),
  };
}

/**
 * Builds the volume service on shared deps: the resource modules (block store, replication), backups
 * (objects in the image service through the service token), its gRPC service, metrics, the
 * periodic resync (RESYNC_INTERVAL_MS) and the endpoint registration in identity's catalog (skipped
 * when a verifier override is given, i.e. in tests).
 * @returns the wiring for runService, plus the modules for tests
 */
export function wireVolume(config: VolumeConfig, overrides: VolumeWireOverrides = {}) {
  return async (deps: ServiceDeps): Promise<ServiceWiring & { modules: VolumeModules }> => {
    const clock = overrides.clock ?? systemClock;
    const creds = deps.credentials;
    const remote = !overrides.images && creds ? grpcImageStore({ endpoint: () => creds.endpoint('image'), serviceToken: () => creds.getToken() }) : undefined;
    const images = overrides.images ?? remote ?? noImages;
    const publish: StatusPublisher = async ({ volumeId, projectId, status, instanceId }) => {
      try {
        await deps.bus.publishEvent(Subjects.volumeStatusChanged, events.VolumeStatusChanged, {
          meta: { eventId: randomUUID(), occurredAt: new Date(clock.nowMs()), source: 'volume' },
          volumeId,
          projectId,
          status,
          instanceId: instanceId ?? '',
        });
      } catch (e) {
        deps.logger.warn({ err: e, volume_id: volumeId, status }, 'publishing volume status event failed');
      }
    };
    const counters = registerVolumeCounters(deps.metrics.registry);
    const quota = overrides.quota ?? (creds ? identityVolumeQuota(creds) : undefined);
    const m = buildVolumeModules(deps.redis, config, { clock, logger: deps.logger, images, publish, counters, quota });
    registerVolumeGauges(deps.metrics.registry, m);
    await m.types.seed();
    return {
      modules: m,
      services: [volumeService(m)],
      verifier: overrides.verifier,
      runnables: [
        periodic('volume resync', config.RESYNC_INTERVAL_MS, async () => {
          const r = await m.resync.run();
          if (r.created.length + r.deleted.length + r.repaired.length > 0) deps.logger.info({ ...r }, 'volume resync finished stuck volumes');
        }, (e) => deps.logger.warn({ err: e }, 'volume resync failed')),
      ],
      afterStop: [{ name: 'volume creation timers', run: () => { m.creation.stop(); remote?.close(); } }],
      onListening: overrides.verifier
        ? undefined
        : async (server) => {
            if (!creds) return;
            await creds.identity.registerEndpoint({ endpoint: { serviceType: 'volume', url: server.address, region: config.REGION, interface: 'public' } }, { token: await creds.getToken() });
          },
    };
  };
}
