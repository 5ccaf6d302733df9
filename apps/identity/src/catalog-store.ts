import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';

/** One catalog endpoint: service type (identity, image, volume, network, compute) -> host:port. */
export interface EndpointRecord { serviceType: string; url: string; region: string; interface: string }

export const SERVICE_TYPES = ['identity', 'image', 'volume', 'network', 'compute'] as const;
export const DEFAULT_REGION = 'RegionOne';

/** Replicas kept per (service_type, interface); older registrations are dropped. */
export const MAX_REPLICAS = 8;

/**
 * The service catalog in one Redis hash `mc:identity:catalog`. A single service has one field
 * `<service_type>|<interface>`; replicas (RegisterEndpoint add_replica) one field each,
 * `<service_type>|<interface>|<url>`, valued with a registration sequence number (`mc:identity:catalog_seq`)
 * so the newest comes first. Regions share this identity: an endpoint of a region other than
 * RegionOne has `@<region>` after its interface (`volume|public@RegionTwo`), so each region keeps its
 * own endpoint (or replicas) of every type.
 */
export class CatalogStore {
  constructor(private readonly redis: Redis, private readonly key: (...p: string[]) => string) {}

  /**
   * Inserts or replaces the endpoint of (service_type, interface) (interface defaults to public,
   * region to RegionOne); with `addReplica`, adds it beside the type's other replicas instead (the
   * same url registering again only refreshes it), keeping the newest {@link MAX_REPLICAS}.
   * @throws InvalidArgumentError('endpoint.service_type'|'endpoint.url'|'endpoint.interface'|'endpoint.region')
   */
  async register(e: Partial<EndpointRecord>, opts: { addReplica?: boolean } = {}): Promise<EndpointRecord> {
    if (!e.serviceType || !/^[a-z][a-z0-9-]{0,31}$/.test(e.serviceType)) throw new InvalidArgumentError('endpoint.service_type', 'is required (e.g. image)');
    if (!e.url || !/^[^\s:]+:\d{1,5}$/.test(e.url)) throw new InvalidArgumentError('endpoint.url', 'must be host:port');
    const iface = e.interface || 'public';
    if (iface !== 'public' && iface !== 'internal') throw new InvalidArgumentError('endpoint.interface', 'must be public or internal');
    const rec: EndpointRecord = { serviceType: e.serviceType, url: e.url, region: e.region || DEFAULT_REGION, interface: iface };
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(rec.region)) throw new InvalidArgumentError('endpoint.region', 'must be a region id: letters, digits, _ . -, at most 64');
    const prefix = `${rec.serviceType}|${rec.interface}${rec.region === DEFAULT_REGION ? '' : `@${rec.region}`}`;
    const key = this.key('catalog');
    const same = Object.keys(await this.redis.hgetall(key)).filter((f) => f === prefix || f.startsWith(`${prefix}|`));
    const value = JSON.stringify({ ...rec, registeredSeq: await this.redis.incr(this.key('catalog_seq')) });
    if (!opts.addReplica) {
      const tx = this.redis.multi();
      if (same.length > 0) tx.hdel(key, ...same);
      await tx.hset(key, prefix, value).exec();
      return rec;
    }
    await this.redis.multi().hdel(key, prefix).hset(key, `${prefix}|${rec.url}`, value).exec();
    const replicas = (await this.list()).filter((x) => x.serviceType === rec.serviceType && x.interface === rec.interface && x.region === rec.region);
    const drop = replicas.slice(MAX_REPLICAS).map((x) => `${prefix}|${x.url}`);
    if (drop.length > 0) await this.redis.hdel(key, ...drop);
    return rec;
  }

  /** Every endpoint by service type, interface and region; a type's replicas newest registration first. */
  async list(): Promise<EndpointRecord[]> {
    const raw = await this.redis.hgetall(this.key('catalog'));
    return Object.values(raw)
      .map((v) => JSON.parse(v) as EndpointRecord & { registeredSeq?: number })
      .sort((a, b) => a.serviceType.localeCompare(b.serviceType) || a.interface.localeCompare(b.interface) || a.region.localeCompare(b.region) || (b.registeredSeq ?? 0) - (a.registeredSeq ?? 0) || a.url.localeCompare(b.url))
      .map(({ serviceType, url, region, interface: i }) => ({ serviceType, url, region, interface: i }));
  }
}
