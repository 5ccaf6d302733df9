/** One endpoint of the service catalog identity returns with a token (Keystone's catalog, flattened). */
export interface CatalogEntry {
  /** identity, image, volume, network, compute. */
  serviceType: string;
  /** host:port of the gRPC server. */
  url: string;
  /** public or internal ('' counts as public). */
  interface: string;
  region: string;
}

/**
 * Every url of `serviceType` in the catalog, in failover order: public endpoints first (identity lists
 * a type's replicas newest registration first), then the others; duplicates dropped. Empty when the
 * catalog has none.
 */
export function endpointsOf(catalog: readonly CatalogEntry[], serviceType: string): string[] {
  const entries = catalog.filter((e) => e.serviceType === serviceType);
  const isPublic = (e: CatalogEntry) => e.interface === 'public' || !e.interface;
  return [...new Set([...entries.filter(isPublic), ...entries.filter((e) => !isPublic(e))].map((e) => e.url))];
}
