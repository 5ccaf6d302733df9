import { createHash } from 'node:crypto';

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
 * What this front serves, at devstack's path prefixes. The Keystone catalog lists exactly these (an
 * API is added here when its routes are). Compute's endpoint is versioned as devstack registers it.
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

/** One Keystone v3 catalog entry (`token.catalog[]`, `GET /v3/auth/catalog`). */
export interface KeystoneCatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string; region_id: string; url: string }[];
}

/**
 * The Keystone catalog of this front at `baseUrl` in `region`: every served API, every interface;
 * `projectId` (the token's project) fills `$(project_id)s`, and without one such APIs are left out.
 */
export function keystoneCatalog(baseUrl: string, region: string, projectId?: string): KeystoneCatalogEntry[] {
  const served = SERVED_APIS.filter((api) => projectId || !api.path.includes(PROJECT_ID_PLACEHOLDER)).map((api) => ({ ...api, path: api.path.split(PROJECT_ID_PLACEHOLDER).join(projectId ?? '') }));
  return served.map((api) => ({
    id: stableId('service', api.type),
    type: api.type,
    name: api.name,
    endpoints: INTERFACES.map((iface) => ({ id: stableId('endpoint', api.type, iface, region), interface: iface, region, region_id: region, url: `${baseUrl}${api.path}` })),
  }));
}
