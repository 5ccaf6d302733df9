import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { Redis } from '@minicloud/platform-state';

/** One catalog endpoint: service type (identity, image, volume, network, compute) -> host:port. */
export interface EndpointRecord { serviceType: string; url: string; region: string; interface: string }

export const SERVICE_TYPES = ['identity', 'image', 'volume', 'network', 'compute'] as const;
export const DEFAULT_REGION = 'RegionOne';

/** The service catalog in one Redis hash `mc:identity:catalog`, field `<service_type>|<interface>`. */
export class CatalogStore {
  constructor(private readonly redis: Redis, private readonly key: (...p: string[]) => string) {}

  /**
   * Inserts or replaces the endpoint of (service_type, interface); interface defaults to public,
   * region to RegionOne.
   * @throws InvalidArgumentError('endpoint.service_type'|'endpoint.url'|'endpoint.interface')
   */
  async register(e: Partial<EndpointRecord>): Promise<EndpointRecord> {
    if (!e.serviceType || !/^[a-z][a-z0-9-]{0,31}$/.test(e.serviceType)) throw new InvalidArgumentError('endpoint.service_type', 'is required (e.g. image)');
    if (!e.url || !/^[^\s:]+:\d{1,5}$/.test(e.url)) throw new InvalidArgumentError('endpoint.url', 'must be host:port');
    const iface = e.interface || 'public';
    if (iface !== 'public' && iface !== 'internal') throw new InvalidArgumentError('endpoint.interface', 'must be public or internal');
    const rec: EndpointRecord = { serviceType: e.serviceType, url: e.url, region: e.region || DEFAULT_REGION, interface: iface };
    await this.redis.hset(this.key('catalog'), `${rec.serviceType}|${rec.interface}`, JSON.stringify(rec));
    return rec;
  }

  async list(): Promise<EndpointRecord[]> {
    const raw = await this.redis.hgetall(this.key('catalog'));
    return Object.values(raw)
      .map((v) => JSON.parse(v) as EndpointRecord)
      .sort((a, b) => a.serviceType.localeCompare(b.serviceType) || a.interface.localeCompare(b.interface));
  }
}
