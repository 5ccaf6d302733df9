import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { commonConfigShape, portSchema } from '@minicloud/platform-config';

/** 10 GiB: the largest upload accepted by default (Glance's image_size_cap is 1 TiB; ours is smaller). */
export const DEFAULT_IMAGE_MAX_BYTES = 10 * 1024 ** 3;

/**
 * Environment of the image service: the common settings plus
 * - IMAGE_DATA_DIR: root of the content-addressed blob store (default `<os.tmpdir()>/minicloud/image`);
 * - IMAGE_MAX_BYTES: upload size cap in bytes (Glance's image_size_cap), default 10 GiB;
 * - IMAGE_REQUIRE_FORMAT_MATCH: Glance's `[image_format] require_image_format_match` (default true):
 *   false lets an upload whose bytes are not its declared disk_format through under the declared
 *   name (the relief valve Glance gives operators); the safety checks (backing files, parents,
 *   truncation) apply either way.
 */
export const imageConfigSchema = z.object({
  ...commonConfigShape,
  GRPC_PORT: portSchema.default(5001),
  IMAGE_DATA_DIR: z.string().min(1).default(join(tmpdir(), 'minicloud', 'image')),
  IMAGE_MAX_BYTES: z.coerce.number().int().positive().default(DEFAULT_IMAGE_MAX_BYTES),
  IMAGE_REQUIRE_FORMAT_MATCH: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});

export type ImageConfig = z.infer<typeof imageConfigSchema>;
