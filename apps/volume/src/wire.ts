import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { events } from '@minicloud/proto';
import type { TokenVerifier } from '@minicloud/platform-auth';
import { Subjects } from '@minicloud/platform-bus';
import { systemClock } from '@minicloud/platform-lifecycle';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import { volumeService } from './api/volume-handlers';
import type { VolumeConfig } from './config';
import { registerVolumeMetrics } from './volume-metrics';
import { VolumeManager } from './volume-manager';

/** Test seams: a clock (FakeClock) and a token verifier signed by a test key. */
export interface VolumeWireOverrides {
  clock?: Clock;
  verifier?: TokenVerifier;
}

/**
 * Builds the volume service on shared deps: the manager, its gRPC service, metrics, and the endpoint
 * registration in identity's catalog (skipped when a verifier override is given, i.e. in tests).
 * @returns the wiring for runService, plus the manager for tests
 */
export function wireVolume(config: VolumeConfig, overrides: VolumeWireOverrides = {}) {
  return async (deps: ServiceDeps): Promise<ServiceWiring & { manager: VolumeManager }> => {
    const manager = new VolumeManager(deps.redis, {
      pools: config.POOLS,
      defaultVolumeType: config.DEFAULT_VOLUME_TYPE,
      createDelayMs: config.VOLUME_CREATE_DELAY_MS,
      capacityWeightMultiplier: config.CAPACITY_WEIGHT_MULTIPLIER,
      clock: overrides.clock ?? systemClock,
      logger: deps.logger,
      publish: async ({ volumeId, projectId, status, instanceId }) => {
        try {
          await deps.bus.publishEvent(Subjects.volumeStatusChanged, events.VolumeStatusChanged, {
            meta: { eventId: randomUUID(), occurredAt: new Date((overrides.clock ?? systemClock).nowMs()), source: 'volume' },
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
    await manager.seedVolumeTypes();
    registerVolumeMetrics(deps.metrics.registry, manager);
    return {
      manager,
      services: [volumeService(manager)],
      verifier: overrides.verifier,
      afterStop: [{ name: 'volume creation timers', run: () => manager.stop() }],
      onListening: overrides.verifier
        ? undefined
        : async (server) => {
            const creds = deps.credentials;
            if (!creds) return;
            await creds.identity.registerEndpoint({ endpoint: { serviceType: 'volume', url: server.address, interface: 'public' } }, { token: await creds.getToken() });
          },
    };
  };
}
