import { HttpError } from '../http/errors';

/** A Nova API microversion, "2.<minor>". */
export interface Microversion {
  major: number;
  minor: number;
}

/**
 * The microversions this front honours. Only 2.1 for now: every behaviour served is 2.1's (e.g.
 * `networks` may be omitted; "auto"/"none" need 2.37). Raise MAX_MICROVERSION only together with the
 * behaviour changes of each version in between.
 */
export const MIN_MICROVERSION: Microversion = { major: 2, minor: 1 };
export const MAX_MICROVERSION: Microversion = { major: 2, minor: 1 };

export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

export function compareMicroversion(a: Microversion, b: Microversion): number {
  return a.major - b.major || a.minor - b.minor;
}

/**
 * The microversion a request asks for, as Nova negotiates it: `OpenStack-API-Version: compute X.Y`
 * (takes precedence) or `X-OpenStack-Nova-API-Version: X.Y`; none means the minimum; "latest" means
 * the maximum.
 * @throws HttpError 400 for a malformed version, 406 for one outside [min, max] (Nova's message)
 */
export function negotiateMicroversion(headers: Record<string, string | string[] | undefined>, min = MIN_MICROVERSION, max = MAX_MICROVERSION): Microversion {
  const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);
  let raw: string | undefined;
  const generic = one(headers['openstack-api-version']);
  if (generic) {
    for (const part of generic.split(',')) {
      const [service, value] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && value) raw = value;
    }
  }
  raw ??= one(headers['x-openstack-nova-api-version'])?.trim();
  if (!raw) return min;
  if (raw.toLowerCase() === 'latest') return max;
  const m = /^(\d+)\.(\d+)$/.exec(raw);
  if (!m) throw new HttpError(400, `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  if (compareMicroversion(v, min) < 0 || compareMicroversion(v, max) > 0) {
    throw new HttpError(406, `Version ${raw} is not supported by the API. Minimum is ${formatMicroversion(min)} and maximum is ${formatMicroversion(max)}.`);
  }
  return v;
}

/** The response headers that say which microversion answered (both spellings, and Vary). */
export function microversionHeaders(v: Microversion): Record<string, string> {
  const s = formatMicroversion(v);
  return { 'openstack-api-version': `compute ${s}`, 'x-openstack-nova-api-version': s, vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version' };
}
