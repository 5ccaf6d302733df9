import { randomUUID } from 'node:crypto';
import type { TokenVerifier } from '@minicloud/platform-auth';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import type { Logger } from '@minicloud/platform-logging';
import type { Registry } from '@minicloud/platform-metrics';
import type { ServiceDeps, ServiceWiring } from '@minicloud/platform-service';
import type { Redis } from '@minicloud/platform-state';
import { events } from '@minicloud/proto';
import { imageServiceRegistration } from './api/image-handlers';
import { BlobStore } from './blob-store';
import type { ImageConfig } from './config';
import { createImageMetrics } from './image-metrics';
import type { ImageRecord } from './image-record';
import { ImageService } from './image-service';
import { ImageRepository } from './store/image-repository';

/** What {@link wireImageService} needs: adapters plus the image settings. */
export interface ImageWiringDeps {
  logger: Logger;
  redis: Redis;
  bus: Bus;
  registry: Registry;
  /** IMAGE_DATA_DIR. */
  dataDir: string;
  /** IMAGE_MAX_BYTES. */
  maxBytes: number;
  /** IMAGE_REQUIRE_FORMAT_MATCH (default true). */
  requireFormatMatch?: boolean;
  /** Overrides the remote verifier (tests sign tokens with their own key). */
  verifier?: TokenVerifier;
  nowMs?: () => number;
}

/**
 * Builds the image service: blob store (its directories made and crash leftovers swept), Redis
 * repository, metrics, events.ImageStatusChanged on Subjects.imageStatusChanged, and the gRPC
 * registration. Used by main.ts (through runService) and by the integration tests in-process.
 */
export async function wireImageService(d: ImageWiringDeps): Promise<ServiceWiring & { images: ImageService; blobs: BlobStore }> {
  const nowMs = d.nowMs ?? (() => Date.now());
  const blobs = new BlobStore(d.dataDir);
  await blobs.init();
  const repo = new ImageRepository(d.redis);
  const metrics = createImageMetrics(d.registry, repo);
  const onStatusChanged = async (image: ImageRecord, requestId: string) => {
    try {
      await d.bus.publishEvent(
        Subjects.imageStatusChanged,
        events.ImageStatusChanged,
        {
          meta: { eventId: randomUUID(), occurredAt: new Date(nowMs()), requestId, source: 'image' },
          imageId: image.id,
          projectId: image.ownerProjectId,
          status: image.status,
        },
        { requestId },
      );
    } catch (err) {
      // Events are hints; the state change is already durable in Redis.
      d.logger.warn({ err, image_id: image.id, status: image.status }, 'image status event not published');
    }
  };
  const images = new ImageService({
    repo,
    blobs,
    maxBytes: d.maxBytes,
    requireFormatMatch: d.requireFormatMatch ?? true,
    nowMs,
    newId: randomUUID,
    onStatusChanged,
    onUploadBytes: (n) => metrics.uploadBytes.inc(n),
  });
  return {
    services: [imageServiceRegistration(images)],
    verifier: d.verifier,
    images,
    blobs,
  };
}

/**
 * The image process's wiring for runService: {@link wireImageService} on the process's adapters and
 * IMAGE_DATA_DIR / IMAGE_MAX_BYTES, and, once listening, its public endpoint registered in the catalog
 * as `image` (skipped when the process runs without service credentials).
 */
export function wireImageProcess(config: ImageConfig) {
  return async (deps: ServiceDeps): Promise<ServiceWiring> => {
    const wiring = await wireImageService({
      logger: deps.logger,
      redis: deps.redis,
      bus: deps.bus,
      registry: deps.metrics.registry,
      dataDir: config.IMAGE_DATA_DIR,
      maxBytes: config.IMAGE_MAX_BYTES,
      requireFormatMatch: config.IMAGE_REQUIRE_FORMAT_MATCH,
    });
    return {
      services: wiring.services,
      onListening: async (server) => {
        if (!deps.credentials) return;
        const token = await deps.credentials.getToken();
        await deps.credentials.identity.registerEndpoint(
          { endpoint: { serviceType: 'image', url: server.address, region: config.REGION, interface: 'public' } },
          { token },
        );
      },
    };
  };
}
