import { randomBytes } from 'node:crypto';
import { AlreadyExistsError, ConflictError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { defineLuaScript, type LuaScript, type Redis } from '@minicloud/platform-state';

/** A Keystone region; `parentRegionId` '' for a top-level one. */
export interface RegionRecord { id: string; description: string; parentRegionId: string }
/** A Keystone service. */
export interface CatalogServiceRecord { id: string; type: string; name: string; description: string; enabled: boolean }
/** A Keystone endpoint (`url` may hold `$(public_url)s` and `$(project_id)s`, see the proto). */
export interface CatalogEndpointRecord { id: string; serviceId: string; regionId: string; interface: string; url: string; enabled: boolean }

/** The whole Keystone catalog, kept as one document (it is small: a few regions, tens of endpoints). */
export interface ServiceCatalog {
  regions: RegionRecord[];
  services: CatalogServiceRecord[];
  endpoints: CatalogEndpointRecord[];
}

/** Keystone's endpoint interfaces. */
export const ENDPOINT_INTERFACES = ['public', 'internal', 'admin'] as const;

/** Longest id, name, type, description and URL kept (Keystone's column sizes: 255 for most, 2048 for a description or URL). */
const MAX_ID = 255;
const MAX_TEXT = 255;
const MAX_LONG = 2048;
/** Most entries of each kind, so one document stays small. */
const MAX_ENTRIES = 1000;

/** Writes `ARGV[2]` when the key still holds `ARGV[1]` ('' = absent): compare-and-set of the whole document. */
const CAS_LUA = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1
`;

const newId = () => randomBytes(16).toString('hex');

function text(field: string, v: string, max = MAX_TEXT): string {
  if (v.length > max) throw new InvalidArgumentError(field, `must be at most ${max} characters`);
  return v;
}

function requiredId(field: string, v: string): string {
  if (!v) throw new InvalidArgumentError(field, 'is required');
  if (v.length > MAX_ID || /[\s/]/.test(v)) throw new InvalidArgumentError(field, `must be 1..${MAX_ID} characters without spaces or slashes`);
  return v;
}

function iface(v: string): string {
  if (!(ENDPOINT_INTERFACES as readonly string[]).includes(v)) throw new InvalidArgumentError('interface', `must be one of ${ENDPOINT_INTERFACES.join(', ')}`);
  return v;
}

function url(v: string): string {
  if (!v) throw new InvalidArgumentError('url', 'is required');
  return text('url', v, MAX_LONG);
}

/**
 * Keystone's service catalog (regions, services, endpoints) in one JSON document at
 * `mc:identity:service_catalog`; every change is a compare-and-set of the whole document (retried on
 * a concurrent change), so cascades (a service's endpoints, a region's children) are atomic across
 * identity replicas. An absent document is an unseeded catalog: {@link seed} fills it once.
 */
export class ServiceCatalogStore {
  private readonly cas: LuaScript;
  private readonly docKey: string;

  constructor(private readonly redis: Redis, key: (...p: string[]) => string) {
    this.cas = defineLuaScript(redis, CAS_LUA);
    this.docKey = key('service_catalog');
  }

  /** The catalog (empty lists before it is seeded). */
  async get(): Promise<ServiceCatalog> {
    return (await this.read()).doc;
  }

  /**
   * Stores `initial` when the catalog was never written (first start); afterwards a no-op, so what
   * an administrator changed or deleted stays so.
   * @returns true when it seeded
   */
  async seed(initial: ServiceCatalog): Promise<boolean> {
    for (const r of initial.regions) requiredId('regions.id', r.id);
    for (const sv of initial.services) requiredId('services.id', sv.id);
    for (const e of initial.endpoints) (requiredId('endpoints.id', e.id), iface(e.interface), url(e.url));
    if (Math.max(initial.regions.length, initial.services.length, initial.endpoints.length) > MAX_ENTRIES) throw new InvalidArgumentError('catalog', `at most ${MAX_ENTRIES} entries of each kind`);
    return (await this.redis.set(this.docKey, JSON.stringify(initial), 'NX')) === 'OK';
  }

  /** @throws InvalidArgumentError('id' | 'description' | 'parent_region_id'), AlreadyExistsError('region'), NotFoundError('region', parent) */
  async createRegion(input: { id: string; description: string; parentRegionId: string }): Promise<RegionRecord> {
    const rec: RegionRecord = { id: input.id ? requiredId('id', input.id) : newId(), description: text('description', input.description, MAX_LONG), parentRegionId: input.parentRegionId };
    return this.mutate((doc) => {
      if (doc.regions.some((r) => r.id === rec.id)) throw new AlreadyExistsError('region', rec.id);
      if (rec.parentRegionId && !doc.regions.some((r) => r.id === rec.parentRegionId)) throw new NotFoundError('region', rec.parentRegionId);
      this.room(doc.regions);
      doc.regions.push(rec);
      return rec;
    });
  }

  /** @throws NotFoundError('region'), InvalidArgumentError('parent_region_id') for a cycle, ('description') too long */
  async updateRegion(id: string, patch: { description?: string; parentRegionId?: string }): Promise<RegionRecord> {
    if (patch.description !== undefined) text('description', patch.description, MAX_LONG);
    return this.mutate((doc) => {
      const r = this.region(doc, id);
      if (patch.parentRegionId) {
        if (!doc.regions.some((x) => x.id === patch.parentRegionId)) throw new NotFoundError('region', patch.parentRegionId);
        // walking up from the new parent must not reach this region
        for (let p: string | undefined = patch.parentRegionId, hops = 0; p && hops <= doc.regions.length; p = doc.regions.find((x) => x.id === p)?.parentRegionId, hops++) {
          if (p === id) throw new InvalidArgumentError('parent_region_id', `region ${patch.parentRegionId} is ${id} or below it: a region cannot be its own ancestor`);
        }
      }
      Object.assign(r, { ...(patch.description !== undefined ? { description: patch.description } : {}), ...(patch.parentRegionId !== undefined ? { parentRegionId: patch.parentRegionId } : {}) });
      return { ...r };
    });
  }

  /**
   * Deletes a region and its child regions, as Keystone does, unless any of them has endpoints.
   * @throws NotFoundError('region'), FailedPreconditionError (reason region_has_endpoints)
   */
  async deleteRegion(id: string): Promise<void> {
    await this.mutate((doc) => {
      this.region(doc, id);
      const doomed = new Set([id]);
      for (let grew = true; grew; ) {
        grew = false;
        for (const r of doc.regions) if (r.parentRegionId && doomed.has(r.parentRegionId) && !doomed.has(r.id)) (doomed.add(r.id), (grew = true));
      }
      if (doc.endpoints.some((e) => doomed.has(e.regionId))) throw new FailedPreconditionError(`Unable to delete region ${id} because it or its child regions have associated endpoints.`, 'region_has_endpoints');
      doc.regions = doc.regions.filter((r) => !doomed.has(r.id));
    });
  }

  /** @throws InvalidArgumentError('type' | 'name' | 'description') */
  async createService(input: { type: string; name: string; description: string; enabled: boolean }): Promise<CatalogServiceRecord> {
    if (!input.type) throw new InvalidArgumentError('type', 'is required');
    const rec: CatalogServiceRecord = { id: newId(), type: text('type', input.type), name: text('name', input.name), description: text('description', input.description, MAX_LONG), enabled: input.enabled };
    return this.mutate((doc) => {
      this.room(doc.services);
      doc.services.push(rec);
      return rec;
    });
  }

  /** @throws NotFoundError('service'), InvalidArgumentError('type' | 'name' | 'description') */
  async updateService(id: string, patch: { type?: string; name?: string; description?: string; enabled?: boolean }): Promise<CatalogServiceRecord> {
    if (patch.type !== undefined && !patch.type) throw new InvalidArgumentError('type', 'must not be empty');
    if (patch.type !== undefined) text('type', patch.type);
    if (patch.name !== undefined) text('name', patch.name);
    if (patch.description !== undefined) text('description', patch.description, MAX_LONG);
    return this.mutate((doc) => {
      const s = this.service(doc, id);
      for (const k of ['type', 'name', 'description', 'enabled'] as const) if (patch[k] !== undefined) (s as unknown as Record<string, unknown>)[k] = patch[k];
      return { ...s };
    });
  }

  /** Deletes a service and its endpoints (Keystone's cascade). @throws NotFoundError('service') */
  async deleteService(id: string): Promise<void> {
    await this.mutate((doc) => {
      this.service(doc, id);
      doc.services = doc.services.filter((s) => s.id !== id);
      doc.endpoints = doc.endpoints.filter((e) => e.serviceId !== id);
    });
  }

  /**
   * Creates an endpoint; with `createRegion` a region not yet known is created with it (Keystone's
   * legacy `region`), otherwise it is refused.
   * @throws InvalidArgumentError('service_id' | 'interface' | 'url' | 'region_id')
   */
  async createEndpoint(input: { serviceId: string; regionId: string; interface: string; url: string; enabled: boolean; createRegion?: boolean }): Promise<CatalogEndpointRecord> {
    const rec: CatalogEndpointRecord = { id: newId(), serviceId: input.serviceId, regionId: input.regionId ? requiredId('region_id', input.regionId) : '', interface: iface(input.interface), url: url(input.url), enabled: input.enabled };
    if (!rec.serviceId) throw new InvalidArgumentError('service_id', 'is required');
    return this.mutate((doc) => {
      if (!doc.services.some((s) => s.id === rec.serviceId)) throw new InvalidArgumentError('service_id', `no service ${rec.serviceId}`);
      if (rec.regionId && !doc.regions.some((r) => r.id === rec.regionId)) {
        if (!input.createRegion) throw new InvalidArgumentError('region_id', `no region ${rec.regionId}`);
        doc.regions.push({ id: rec.regionId, description: '', parentRegionId: '' });
      }
      this.room(doc.endpoints);
      doc.endpoints.push(rec);
      return rec;
    });
  }

  /**
   * Changes an endpoint; with `createRegion` a new region_id not yet known is created (Keystone's legacy `region`).
   * @throws NotFoundError('endpoint'), InvalidArgumentError('service_id' | 'region_id' | 'interface' | 'url')
   */
  async updateEndpoint(id: string, patch: { serviceId?: string; regionId?: string; interface?: string; url?: string; enabled?: boolean }, createRegion = false): Promise<CatalogEndpointRecord> {
    if (patch.interface !== undefined) iface(patch.interface);
    if (patch.url !== undefined) url(patch.url);
    if (patch.regionId) requiredId('region_id', patch.regionId);
    return this.mutate((doc) => {
      const e = doc.endpoints.find((x) => x.id === id);
      if (!e) throw new NotFoundError('endpoint', id);
      if (patch.serviceId !== undefined && !doc.services.some((s) => s.id === patch.serviceId)) throw new InvalidArgumentError('service_id', `no service ${patch.serviceId}`);
      if (patch.regionId && !doc.regions.some((r) => r.id === patch.regionId)) {
        if (!createRegion) throw new InvalidArgumentError('region_id', `no region ${patch.regionId}`);
        doc.regions.push({ id: patch.regionId, description: '', parentRegionId: '' });
      }
      for (const k of ['serviceId', 'regionId', 'interface', 'url', 'enabled'] as const) if (patch[k] !== undefined) (e as unknown as Record<string, unknown>)[k] = patch[k];
      return { ...e };
    });
  }

  /** @throws NotFoundError('endpoint') */
  async deleteEndpoint(id: string): Promise<void> {
    await this.mutate((doc) => {
      if (!doc.endpoints.some((e) => e.id === id)) throw new NotFoundError('endpoint', id);
      doc.endpoints = doc.endpoints.filter((e) => e.id !== id);
    });
  }

  private region(doc: ServiceCatalog, id: string): RegionRecord {
    const r = doc.regions.find((x) => x.id === id);
    if (!r) throw new NotFoundError('region', id);
    return r;
  }

  private service(doc: ServiceCatalog, id: string): CatalogServiceRecord {
    const s = doc.services.find((x) => x.id === id);
    if (!s) throw new NotFoundError('service', id);
    return s;
  }

  private room(list: unknown[]): void {
    if (list.length >= MAX_ENTRIES) throw new FailedPreconditionError(`the catalog holds ${MAX_ENTRIES} entries of this kind already`, 'catalog_full');
  }

  private async read(): Promise<{ raw: string; doc: ServiceCatalog }> {
    const raw = (await this.redis.get(this.docKey)) ?? '';
    return { raw, doc: raw ? (JSON.parse(raw) as ServiceCatalog) : { regions: [], services: [], endpoints: [] } };
  }

  /** Applies `change` to the current document and writes it back if nobody wrote meanwhile; retries a few times. */
  private async mutate<T>(change: (doc: ServiceCatalog) => T): Promise<T> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const { raw, doc } = await this.read();
      const out = change(doc);
      if (Number(await this.cas([this.docKey], [raw, JSON.stringify(doc)])) === 1) return out;
    }
    throw new ConflictError('the service catalog changed concurrently too often; retry');
  }
}
