import { instanceIdSignature, METADATA_URL } from '@minicloud/domain-guest';

/** What the guest read from the metadata service. */
export interface MetadataReading {
  readonly metaData: { hostname?: unknown; public_keys?: unknown };
  readonly userData?: Uint8Array;
  /** vendor_data2.json (the instance's identity credential under its target name). */
  readonly vendorData2: Record<string, unknown>;
}

/** The guest's view of the metadata service (fetchMetadata in production, a fake in tests). */
export type MetadataReader = (instanceId: string, projectId: string) => Promise<MetadataReading>;

/** The metadata service could not be read: `url` is what the guest asked for (169.254.169.254), `reason` the failure. */
export class MetadataUnavailableError extends Error {
  override readonly name = 'MetadataUnavailableError';
  constructor(readonly url: string, readonly reason: string) {
    super(`metadata service ${url}: ${reason}`);
  }
}

/**
 * The agent as Neutron's metadata proxy: reads an instance's metadata from the metadata API at
 * `baseUrls` (every controller replica serves it), identifying the instance as the proxy does
 * (X-Instance-ID, X-Tenant-ID and X-Instance-ID-Signature = HMAC-SHA256 of the id with the shared
 * secret). Reads meta_data.json, user_data (404: none) and vendor_data2.json, each within `timeoutMs`.
 * A replica that cannot be reached or answers 5xx is skipped for the next one, as the proxy would
 * behind a load-balanced nova_metadata_host; the last replica that answered is asked first.
 * @throws MetadataUnavailableError naming the guest-side URL (http://169.254.169.254/openstack/...)
 *   when no replica answers, or on a 4xx (other than user_data's 404).
 */
export function metadataReader(baseUrls: string | readonly string[], sharedSecret: string, timeoutMs = 5000): MetadataReader {
  const bases = (typeof baseUrls === 'string' ? [baseUrls] : [...baseUrls]).map((u) => u.replace(/\/$/, ''));
  if (bases.length === 0) throw new Error('metadataReader: at least one metadata API URL is required');
  let preferred = 0;
  return async (instanceId, projectId) => {
    const headers = { 'X-Instance-ID': instanceId, 'X-Tenant-ID': projectId, 'X-Instance-ID-Signature': instanceIdSignature(sharedSecret, instanceId) };
    const get = async (path: string, allow404 = false): Promise<Response | undefined> => {
      const guestUrl = `${METADATA_URL}${path}`;
      let failure = '';
      for (let k = 0; k < bases.length; k++) {
        const i = (preferred + k) % bases.length;
        let res: Response;
        try {
          res = await fetch(`${bases[i]}${path}`, { headers, signal: AbortSignal.timeout(timeoutMs) });
        } catch (e) {
          failure = e instanceof Error ? `${e.message}${e.cause instanceof Error ? `: ${e.cause.message}` : ''}` : String(e);
          continue;
        }
        if (res.status >= 500) {
          failure = `HTTP ${res.status}`;
          continue;
        }
        preferred = i;
        if (res.status === 404 && allow404) return undefined;
        if (!res.ok) throw new MetadataUnavailableError(guestUrl, `HTTP ${res.status}`);
        return res;
      }
      throw new MetadataUnavailableError(guestUrl, failure);
    };
    const metaData = (await (await get('/openstack/latest/meta_data.json'))!.json()) as MetadataReading['metaData'];
    const ud = await get('/openstack/latest/user_data', true);
    const vendorData2 = (await (await get('/openstack/latest/vendor_data2.json'))!.json()) as Record<string, unknown>;
    return { metaData, userData: ud ? new Uint8Array(await ud.arrayBuffer()) : undefined, vendorData2 };
  };
}
