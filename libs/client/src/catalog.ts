/** One endpoint of the service catalog identity returns with a token (Keystone's catalog, flattened). */
export interface CatalogEntry {
  /** identity, image, volume, network, compute. */
  serviceType: string;
  /** host:port of the gRPC server. */
  url: string;
  /** public or internal ('' counts as public). */
  interface: string;
  /** Keystone region id ('' counts as {@link DEFAULT_REGION}). */
  region: string;
}

/** The region of a one-region cloud and of a client that names none (Keystone's devstack default). */
export const DEFAULT_REGION = 'RegionOne';

/**
 * Every url of `serviceType` in `region` of the catalog, in failover order: public endpoints first
 * (identity lists a type's replicas newest registration first), then the others; duplicates dropped.
 * Empty when the region has none. With no region asked for: {@link DEFAULT_REGION}'s endpoints when
 * it has some, else those of the first region (by id) that has the type, so that a one-region cloud
 * whatever its region's name is served, and two regions' endpoints are never mixed in one failover
 * list. Regions share one identity, so identity is listed in the region that runs it only.
 */
export function endpointsOf(catalog: readonly CatalogEntry[], serviceType: string, region?: string): string[] {
  const ofType = catalog.filter((e) => e.serviceType === serviceType);
  const regionOf = (e: CatalogEntry) => e.region || DEFAULT_REGION;
  const wanted = region ?? (ofType.some((e) => regionOf(e) === DEFAULT_REGION) ? DEFAULT_REGION : ofType.map(regionOf).sort()[0]);
  const entries = ofType.filter((e) => regionOf(e) === wanted);
  const isPublic = (e: CatalogEntry) => e.interface === 'public' || !e.interface;
  return [...new Set([...entries.filter(isPublic), ...entries.filter((e) => !isPublic(e))].map((e) => e.url))];
}

/** The regions the catalog lists endpoints in, sorted. */
export function regionsOf(catalog: readonly CatalogEntry[]): string[] {
  return [...new Set(catalog.map((e) => e.region || DEFAULT_REGION))].sort();
}
