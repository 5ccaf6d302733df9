import { HttpError } from '../http/errors';

/** A Nova API microversion, "2.<minor>". */
export interface Microversion {
  major: number;
  minor: number;
}

/**
 * The microversions this front honours: 2.1 and 2.2 (key pair `type`, ssh or x509; create answers
 * 201 and delete 204). Everything else served is 2.1's (e.g. `networks` may be omitted; "auto"/"none"
 * need 2.37). Raise MAX_MICROVERSION only together with the behaviour changes of each version in
 * between (Nova's api-ref, "REST API Version History").
 */
export const MIN_MICROVERSION: Microversion = { major: 2, minor: 1 };
export const MAX_MICROVERSION: Microversion = { major: 2, minor: 2 };

/** The microversion each request was answered at (set by the v2.1 mount's hook). */
const negotiated = new WeakMap<object, Microversion>();

/** Records the microversion `req` is answered at. */
export function setRequestMicroversion(req: object, v: Microversion): void {
  negotiated.set(req, v);
}

/** The microversion `req` is answered at: the negotiated one, or the minimum (the legacy /v2 mount). */
export function microversionOf(req: object): Microversion {
  return negotiated.get(req) ?? MIN_MICROVERSION;
}

/** Is `req` answered at `minor` (2.minor) or later? */
export function atLeast(req: object, minor: number): boolean {
  return compareMicroversion(microversionOf(req), { major: 2, minor }) >= 0;
}

/** "2.<minor>", as the version headers carry it. */
export function formatMicroversion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

/** Negative, zero or positive as `a` is older than, the same as, or newer than `b`. */
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
