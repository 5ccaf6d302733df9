import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * Quota resources (Nova: instances, cores, ram; Cinder: volumes, gigabytes; Neutron: network,
 * subnet, port, router, floatingip, security_group, security_group_rule).
 */
export const QUOTA_RESOURCES = [
  'instances',
  'cores',
  'ram_mb',
  'volumes',
  'gigabytes',
  'networks',
  'subnets',
  'ports',
  'routers',
  'floating_ips',
  'security_groups',
  'security_group_rules',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type QuotaCounts = Partial<Record<string, number>>;

/** Limit meaning "no limit" (Nova/Neutron use -1). */
export const UNLIMITED = -1;

/**
 * Default limits per project, as Nova (instances 10, cores 20, ram 51200 MB), Cinder (volumes 10,
 * gigabytes 1000) and Neutron (network 100, subnet 100, port 500, router 10, floatingip 50,
 * security_group 10, security_group_rule 100: neutron's [quotas] defaults) ship them.
 */
export const DEFAULT_QUOTA_LIMITS: Readonly<Record<QuotaResource, number>> = {
  instances: 10,
  cores: 20,
  ram_mb: 51200,
  volumes: 10,
  gigabytes: 1000,
  networks: 100,
  subnets: 100,
  ports: 500,
  routers: 10,
  floating_ips: 50,
  security_groups: 10,
  security_group_rules: 100,
};

/** Whether `name` is one of the quota resources identity enforces (the keys of the default limits above). */
export function isQuotaResource(name: string): name is QuotaResource {
  return (QUOTA_RESOURCES as readonly string[]).includes(name);
}

/**
 * Checks a map of deltas (resource -> positive amount) for reserve/release.
 * @throws InvalidArgumentError('deltas', ...) when empty, naming an unknown resource, or a value that is not a positive integer
 */
export function validateDeltas(deltas: Record<string, number>, field = 'deltas'): Record<QuotaResource, number> {
  const entries = Object.entries(deltas).filter(([, v]) => v !== 0);
  if (entries.length === 0) throw new InvalidArgumentError(field, 'at least one non-zero delta is required');
  for (const [k, v] of entries) {
    if (!isQuotaResource(k)) throw new InvalidArgumentError(`${field}.${k}`, `unknown quota resource (one of ${QUOTA_RESOURCES.join(', ')})`);
    if (!Number.isInteger(v) || v < 0) throw new InvalidArgumentError(`${field}.${k}`, `must be a positive integer, got ${v}`);
  }
  return Object.fromEntries(entries) as Record<QuotaResource, number>;
}

/**
 * Checks limits for SetQuota: known resources, integers >= -1.
 * @throws InvalidArgumentError naming `limits.<resource>`
 */
export function validateLimits(limits: Record<string, number>): Record<QuotaResource, number> {
  for (const [k, v] of Object.entries(limits)) {
    if (!isQuotaResource(k)) throw new InvalidArgumentError(`limits.${k}`, `unknown quota resource (one of ${QUOTA_RESOURCES.join(', ')})`);
    if (!Number.isInteger(v) || v < UNLIMITED) throw new InvalidArgumentError(`limits.${k}`, `must be an integer >= -1 (-1 = unlimited), got ${v}`);
  }
  return limits as Record<QuotaResource, number>;
}

/** Limits with defaults filled in for every resource. */
export function effectiveLimits(stored: QuotaCounts): Record<QuotaResource, number> {
  const out = { ...DEFAULT_QUOTA_LIMITS };
  for (const r of QUOTA_RESOURCES) if (stored[r] !== undefined) out[r] = stored[r] as number;
  return out;
}

/** Why a reservation does not fit: `inUse` counts committed usage plus outstanding reservations. */
export interface QuotaOverrun {
  resource: string;
  limit: number;
  inUse: number;
  requested: number;
}

/**
 * The rule ReserveQuota applies atomically (its Lua script implements exactly this): a delta fits
 * when the limit is -1 or `limit >= in_use + reserved + delta`; all deltas must fit.
 * @returns the first resource (in request order) that does not fit, or undefined
 */
export function firstOverrun(limits: QuotaCounts, inUse: QuotaCounts, reserved: QuotaCounts, deltas: Record<string, number>): QuotaOverrun | undefined {
  const eff = effectiveLimits(limits);
  for (const [resource, delta] of Object.entries(deltas)) {
    if (delta <= 0) continue;
    const limit = isQuotaResource(resource) ? eff[resource] : 0;
    const used = (inUse[resource] ?? 0) + (reserved[resource] ?? 0);
    if (limit !== UNLIMITED && used + delta > limit) return { resource, limit, inUse: used, requested: delta };
  }
  return undefined;
}

/** Nova-like wording: "quota exceeded for instances: limit 10, in use 9, requested 2". */
export function quotaExceededMessage(o: QuotaOverrun): string {
  return `quota exceeded for ${o.resource}: limit ${o.limit}, in use ${o.inUse}, requested ${o.requested}`;
}
