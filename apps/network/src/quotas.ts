import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { StoreDeps } from './store/deps';
import type { Guard, Op } from './store/transact';
import { readJsonMany } from './store/json';
import { keys } from './store/keys';

/** The Neutron resources counted against a project's quota (identity's quota resource names). */
export const NETWORK_QUOTA_RESOURCES = ['networks', 'subnets', 'ports', 'routers', 'floating_ips', 'security_groups', 'security_group_rules'] as const;
export type NetworkQuotaResource = (typeof NETWORK_QUOTA_RESOURCES)[number];

/** Neutron's singular quota names, as its API and its OverQuota message use them. */
export const NEUTRON_QUOTA_NAMES: Record<NetworkQuotaResource, string> = {
  networks: 'network',
  subnets: 'subnet',
  ports: 'port',
  routers: 'router',
  floating_ips: 'floatingip',
  security_groups: 'security_group',
  security_group_rules: 'security_group_rule',
};

/** A project's limits by identity resource name (-1 unlimited); resources absent are unlimited. */
export type LimitsOf = (projectId: string) => Promise<Record<string, number>>;

const INDEX: Record<NetworkQuotaResource, { set: () => string; record: (id: string) => string }> = {
  networks: { set: keys.networks, record: keys.network },
  subnets: { set: keys.subnets, record: keys.subnet },
  ports: { set: keys.ports, record: keys.port },
  routers: { set: keys.routers, record: keys.router },
  floating_ips: { set: keys.floatingIps, record: keys.floatingIp },
  security_groups: { set: keys.securityGroups, record: keys.securityGroup },
  security_group_rules: { set: keys.securityGroups, record: keys.securityGroup },
};

/**
 * Counts the ports of every project from the port records into keys.projectPortCounts, once per
 * cloud (marker keys.projectPortCountsComplete), in one atomic step: increments made before it ran are
 * replaced by the true count, and every port create or delete after it adjusts the count in its own
 * transaction. KEYS: marker, counts hash, ports set; ARGV: port record key prefix.
 */
const COUNT_PORTS_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('DEL', KEYS[2])
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    local ok, p = pcall(cjson.decode, raw)
    if ok and type(p) == 'table' and type(p.projectId) == 'string' then redis.call('HINCRBY', KEYS[2], p.projectId, 1) end
  end
end
redis.call('SET', KEYS[1], '1')
return 1`;

/**
 * Neutron's quota check: the limits are identity's (which owns quotas), and a create that would go
 * over its project's limit is refused. Ports, which a cloud has many of, are counted by a per-project
 * counter that the port create and delete transactions keep ({@link portCountOps}), and a create's
 * limit is checked inside its transaction ({@link portQuotaGuard}), so creates racing at the limit
 * cannot overshoot it. The other resources are counted from their records, as Neutron's counting
 * driver does: their count and the write are not one atomic step, so creates racing at the limit
 * may overshoot it by their number. Without `limitsOf` (no identity, tests) nothing is limited.
 */
export class NetworkQuotas {
  constructor(
    private readonly d: StoreDeps,
    private readonly limitsOf?: LimitsOf,
  ) {}

  /** What `projectId` holds of each resource. */
  async usage(projectId: string): Promise<Record<NetworkQuotaResource, number>> {
    const counts = await Promise.all(NETWORK_QUOTA_RESOURCES.map((r) => this.count(projectId, r)));
    return Object.fromEntries(NETWORK_QUOTA_RESOURCES.map((r, i) => [r, counts[i]])) as Record<NetworkQuotaResource, number>;
  }

  private portsCounted?: Promise<void>;

  /** Makes sure the per-project port counts cover every port (once per process; the script itself runs once per cloud). */
  private ensurePortsCounted(): Promise<void> {
    this.portsCounted ??= (async () => {
      await this.d.redis.eval(COUNT_PORTS_LUA, 3, keys.projectPortCountsComplete(), keys.projectPortCounts(), keys.ports(), keys.port(''));
    })().catch((e) => {
      this.portsCounted = undefined;
      throw e;
    });
    return this.portsCounted;
  }

  /** How many of `resource` `projectId` holds (a security group's rules counted from its rule hash). */
  async count(projectId: string, resource: NetworkQuotaResource): Promise<number> {
    if (resource === 'ports') {
      await this.ensurePortsCounted();
      return Number((await this.d.redis.hget(keys.projectPortCounts(), projectId)) ?? 0);
    }
    const ids = await this.d.redis.smembers(INDEX[resource].set());
    const records = await readJsonMany<{ id: string; projectId: string }>(this.d.redis, ids.map(INDEX[resource].record));
    const mine = records.filter((x) => x.projectId === projectId);
    if (resource !== 'security_group_rules') return mine.length;
    const rules = await Promise.all(mine.map((g) => this.d.redis.hlen(keys.securityGroupRules(g.id))));
    return rules.reduce((a, b) => a + b, 0);
  }

  /**
   * Refuses a create of `adding` more of `resource` in `projectId` when it would exceed the limit.
   * @throws ResourceExhaustedError('over_quota') with Neutron's message ("Quota exceeded for resources: ['port'].")
   */
  async assertRoom(projectId: string, resource: NetworkQuotaResource, adding = 1): Promise<void> {
    if (!this.limitsOf) return;
    const limit = (await this.limitsOf(projectId))[resource];
    if (limit === undefined || limit < 0) return;
    const used = await this.count(projectId, resource);
    if (used + adding > limit) {
      throw overQuotaError(resource);
    }
  }

  /**
   * The guard a port create of `projectId` puts in its transaction: the project's port count is still
   * below its limit. Undefined when the project's ports are not limited.
   * @throws ResourceExhaustedError('over_quota') at once when the count has already reached the limit
   */
  async portQuotaGuard(projectId: string): Promise<Guard | undefined> {
    if (!this.limitsOf) return undefined;
    const limit = (await this.limitsOf(projectId)).ports;
    if (limit === undefined || limit < 0) return undefined;
    if ((await this.count(projectId, 'ports')) >= limit) throw overQuotaError('ports');
    return { kind: 'below', key: keys.projectPortCounts(), field: projectId, limit };
  }
}

/** The ops a port create (`delta` 1) or delete (-1) of `projectId` adds to its transaction to keep the project's port count. */
export function portCountOps(projectId: string, delta: 1 | -1): Op[] {
  return [{ kind: 'hincr', key: keys.projectPortCounts(), a1: projectId, a2: String(delta) }];
}

/** The error of a create refused by its quota (Neutron's OverQuota message). */
export function overQuotaError(resource: NetworkQuotaResource): ResourceExhaustedError {
  return new ResourceExhaustedError(`Quota exceeded for resources: ['${NEUTRON_QUOTA_NAMES[resource]}'].`, 'over_quota');
}
