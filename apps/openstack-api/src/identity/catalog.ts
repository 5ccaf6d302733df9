import { createHash } from 'node:crypto';
import type { identity } from '@minicloud/proto';

/**
 * One OpenStack API this front serves: Keystone service type and name, and its path under the base
 * URL; `$(project_id)s` in a path is the token's project, as Keystone substitutes it (an endpoint
 * that needs it is left out of a catalog without a project).
 */
export interface ServedApi {
  type: string;
  name: string;
  path: string;
}

/** Keystone's placeholder for the token's project id in an endpoint URL. */
export const PROJECT_ID_PLACEHOLDER = '$(project_id)s';

/**
 * What this front serves, at devstack's path prefixes: the Keystone catalog a cloud starts with
 * ({@link catalogSeed}; an API is added here when its routes are). Compute's endpoint is versioned as
 * devstack registers it.
 */
export const SERVED_APIS: readonly ServedApi[] = [
  { type: 'identity', name: 'keystone', path: '/identity' },
  { type: 'compute', name: 'nova', path: '/compute/v2.1' },
  { type: 'image', name: 'glance', path: '/image' },
  { type: 'network', name: 'neutron', path: '/network' },
  // Cinder v3 under both types devstack registers (cinderclient asks for volumev3, openstacksdk for block-storage)
  { type: 'volumev3', name: 'cinderv3', path: `/volume/v3/${PROJECT_ID_PLACEHOLDER}` },
  { type: 'block-storage', name: 'cinder', path: `/volume/v3/${PROJECT_ID_PLACEHOLDER}` },
];

/** Keystone's catalog interfaces: one endpoint each per service (one port serves them all). */
export const INTERFACES = ['public', 'internal', 'admin'] as const;

/** A stable 32-hex id (Keystone's id form) derived from a name, so every replica gives the same ids. */
export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32);
}

/**
 * Placeholder for this front's own base URL in a stored endpoint URL: the catalog is seeded with it
 * (the front answers at whatever base URL the request, or PUBLIC_URL, names), and the front puts its
 * base URL in whenever it shows an endpoint.
 */
export const PUBLIC_URL_PLACEHOLDER = '$(public_url)s';

/**
 * The catalog identity keeps at first start: what this front serves (SERVED_APIS) in `region`,
 * every interface, with the ids the front has always given them (derived from type, interface and
 * region), so a fresh cloud's catalog is the one it served before the catalog could be changed.
 */
export function catalogSeed(region: string): identity.SeedServiceCatalogRequest {
  return {
    regions: [{ id: region, description: '', parentRegionId: '' }],
    services: SERVED_APIS.map((api) => ({ id: stableId('service', api.type), type: api.type, name: api.name, description: '', enabled: true })),
    endpoints: SERVED_APIS.flatMap((api) =>
      INTERFACES.map((iface) => ({ id: stableId('endpoint', api.type, iface, region), serviceId: stableId('service', api.type), regionId: region, interface: iface, url: `${PUBLIC_URL_PLACEHOLDER}${api.path}`, enabled: true })),
    ),
  };
}

/** A stored endpoint URL with this front's base URL put in (`$(project_id)s` is left as Keystone shows it outside a token). */
export function endpointUrl(url: string, baseUrl: string): string {
  return url.split(PUBLIC_URL_PLACEHOLDER).join(baseUrl);
}

/** One Keystone v3 catalog entry (`token.catalog[]`, `GET /v3/auth/catalog`). */
export interface KeystoneCatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string; region_id: string; url: string }[];
}

/**
 * The Keystone catalog of a token from identity's catalog, at this front's `baseUrl`: every enabled
 * service with its enabled endpoints, as Keystone lists them; `projectId` (the token's project)
 * fills `$(project_id)s`, and without one such endpoints are left out, as is a service left with none.
 */
export function keystoneCatalog(cat: identity.ListServiceCatalogResponse, baseUrl: string, projectId?: string): KeystoneCatalogEntry[] {
  return cat.services
    .filter((s) => s.enabled)
    .map((s) => ({
      id: s.id,
      type: s.type,
      name: s.name,
      endpoints: cat.endpoints
        .filter((e) => e.serviceId === s.id && e.enabled && (projectId || !e.url.includes(PROJECT_ID_PLACEHOLDER)))
        .map((e) => ({ id: e.id, interface: e.interface, region: e.regionId, region_id: e.regionId, url: endpointUrl(e.url, baseUrl).split(PROJECT_ID_PLACEHOLDER).join(projectId ?? '') })),
    }))
    .filter((s) => s.endpoints.length > 0);
}
