import type { FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors';

/**
 * The Cinder microversions this front honours: 3.0 only. Every behaviour served is 3.0's (e.g. no
 * `group_id`, `provider_id` or `shared_targets` in a volume, legacy attach actions); raise it only
 * with the behaviour of each version in between.
 */
export const VOLUME_MIN_VERSION = '3.0';
export const VOLUME_MAX_VERSION = '3.0';

/**
 * The microversion a Cinder request asks for in `OpenStack-API-Version: volume X.Y` (none: the
 * minimum; "latest": the maximum).
 * @throws HttpError 400 for a malformed version, 406 for one outside [min, max] (Cinder's message)
 */
export function negotiateVolumeVersion(req: FastifyRequest): string {
  const h = req.headers['openstack-api-version'];
  const raw = (Array.isArray(h) ? h.join(',') : h ?? '')
    .split(',')
    .map((p) => p.trim().split(/\s+/, 2))
    .find(([service]) => service?.toLowerCase() === 'volume')?.[1];
  if (!raw) return VOLUME_MIN_VERSION;
  if (raw.toLowerCase() === 'latest') return VOLUME_MAX_VERSION;
  const m = /^(\d+)\.(\d+)$/.exec(raw);
  if (!m) throw new HttpError(400, `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  if (Number(m[1]) !== 3 || Number(m[2]) !== 0) throw new HttpError(406, `Version ${raw} is not supported by the API. Minimum is ${VOLUME_MIN_VERSION} and maximum is ${VOLUME_MAX_VERSION}.`);
  return `${Number(m[1])}.${Number(m[2])}`;
}
