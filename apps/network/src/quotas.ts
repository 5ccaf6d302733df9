import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { StoreDeps } from './store/deps';
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
 * Neutron's quota check as its counting driver does it: usage is counted from the records (so it
 * never drifts from what exists), the limits are identity's (which owns quotas), and a create that
 * would go over its project's limit is refused before anything is written. The count and the write
 * are not one atomic step: creates racing at the limit may overshoot it by their number, as
 * Neutron's counting driver may without reservations. Without `limitsOf` (no identity, tests)
 * nothing is limited.
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

  /** How many of `resource` `projectId` holds (a security group's rules counted from its rule hash). */
  async count(projectId: string, resource: NetworkQuotaResource): Promise<number> {
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
      throw new ResourceExhaustedError(`Quota exceeded for resources: ['${NEUTRON_QUOTA_NAMES[resource]}'].`, 'over_quota');
    }
  }
}
