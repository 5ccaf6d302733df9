import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import { events } from '@minicloud/proto';
import type { TokenVerifier } from '@minicloud/platform-auth';
import { Subjects } from '@minicloud/platform-bus';
import { periodic, systemClock } from '@minicloud/platform-lifecycle';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import { volumeService } from './api/volume-handlers';
import { BackupManager } from './backup-manager';
import type { VolumeConfig } from './config';
import { grpcImageStore, type ImageStore } from './image-store';
import { registerVolumeMetrics } from './volume-metrics';
import { VolumeManager } from './volume-manager';

/** Test seams: a clock (FakeClock), a token verifier signed by a test key, an image store. */
export interface VolumeWireOverrides {
  clock?: Clock;
  verifier?: TokenVerifier;
  images?: ImageStore;
}

const unavailable = async (): Promise<never> => {
  throw new FailedPreconditionError('the image service is not reachable (no service credentials)', 'no_image_service');
};
/** An image store that refuses everything (no credentials: tests without images). */
const noImages: ImageStore = { getImage: unavailable, download: () => ({ [Symbol.asyncIterator]: () => ({ next: unavailable }) }), upload: unavailable, delete: unavailable };

/**
 * Builds the volume service on shared deps: the manager (block store, replication), the backup
 * manager (objects in the image service through the service token), its gRPC service, metrics, the
 * periodic resync (RESYNC_INTERVAL_MS) and the endpoint registration in identity's catalog (skipped
 * when a verifier override is given, i.e. in tests).
 * @returns the wiring for runService, plus the managers for tests
 */
export function wireVolume(config: VolumeConfig, overrides: VolumeWireOverrides = {}) {
  return async (deps: ServiceDeps): Promise<ServiceWiring & { manager: VolumeManager; backups: BackupManager }> => {
    const clock = overrides.clock ?? systemClock;
    const creds = deps.credentials;
    const remote = !overrides.images && creds ? grpcImageStore({ endpoint: () => creds.endpoint('image'), serviceToken: () => creds.getToken() }) : undefined;
    const images = overrides.images ?? remote ?? noImages;
    let manager: VolumeManager | undefined;
    const counters = registerVolumeMetrics(deps.metrics.registry, () => manager!);
    manager = new VolumeManager(deps.redis, {
      pools: config.POOLS,
      defaultVolumeType: config.DEFAULT_VOLUME_TYPE,
      createDelayMs: config.VOLUME_CREATE_DELAY_MS,
      capacityWeightMultiplier: config.CAPACITY_WEIGHT_MULTIPLIER,
      seedTypes: config.VOLUME_TYPES,
      clock,
      logger: deps.logger,
      images,
      counters,
      publish: async ({ volumeId, projectId, status, instanceId }) => {
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
      },
    });
    const backups = new BackupManager(deps.redis, manager, images, clock);
    await manager.seedVolumeTypes();
    const mgr = manager;
    return {
      manager: mgr,
      backups,
      services: [volumeService(mgr, backups)],
      verifier: overrides.verifier,
      runnables: [
        periodic('volume resync', config.RESYNC_INTERVAL_MS, async () => {
          const r = await mgr.resync();
          if (r.created.length + r.deleted.length + r.repaired.length > 0) deps.logger.info({ ...r }, 'volume resync finished stuck volumes');
        }, (e) => deps.logger.warn({ err: e }, 'volume resync failed')),
      ],
      afterStop: [{ name: 'volume creation timers', run: () => { mgr.stop(); remote?.close(); } }],
      onListening: overrides.verifier
        ? undefined
        : async (server) => {
            if (!creds) return;
            await creds.identity.registerEndpoint({ endpoint: { serviceType: 'volume', url: server.address, interface: 'public' } }, { token: await creds.getToken() });
          },
    };
  };
}
