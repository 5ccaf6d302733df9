import { IDENTITY_VENDOR_DATA_TARGET, metadataLookup, sanitizeHostname, verifyInstanceIdSignature, type InstanceMetadataSource } from '@minicloud/domain-guest';
import type { InstanceRecord } from '@minicloud/domain-compute';
import type { Logger } from '@minicloud/platform-logging';

/** A metadata service answer: status, content type and body. */
export interface MetadataResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

/** What the metadata service reads: instance records, the shared secret, and the identity credential issuer. */
export interface MetadataServiceDeps {
  readonly instances: { find(id: string): Promise<InstanceRecord | undefined> };
  /** Nova's `metadata_proxy_shared_secret`, shared with the agents (the metadata proxies). */
  readonly sharedSecret: string;
  /**
   * The instance's identity credential for vendor_data2.json (identity's IssueInstanceCredential
   * with the controller's service token): `{token, expires_at, identity_document}`.
   */
  readonly issueCredential: (instanceId: string, projectId: string) => Promise<Record<string, unknown>>;
  readonly logger: Logger;
}

const plain = (status: number, body: string): MetadataResponse => ({ status, contentType: 'text/plain; charset=UTF-8', body });

/** The metadata documents' view of an instance record (Nova's InstanceMetadata inputs). */
export function metadataSourceOf(r: InstanceRecord): InstanceMetadataSource {
  return {
    uuid: r.id,
    name: r.name,
    hostname: sanitizeHostname(r.name, `Server-${r.id}`),
    projectId: r.projectId,
    availabilityZone: r.availabilityZone,
    // minicloud keeps no launch index per instance of a multi-create; every instance answers 0.
    launchIndex: 0,
    reservationId: r.reservationId,
    flavorName: r.flavor.name,
    imageId: r.image.id,
    keyName: r.keyName || undefined,
    publicKey: r.keyData || undefined,
    meta: r.metadata,
    ports: r.ports,
    userData: r.userData,
    securityGroups: [],
  };
}

/**
 * Nova's metadata API behind Neutron's metadata proxy (nova/api/metadata/handler.py,
 * _handle_instance_id_request): the instance is named by `X-Instance-ID`, its project by
 * `X-Tenant-ID`, and `X-Instance-ID-Signature` must be the HMAC-SHA256 of the id with the shared
 * secret, so only a holder of the secret (an agent) can read an instance's data.
 * Answers: 400 when a header is missing (Nova's messages), 403 "Invalid proxy request signature."
 * for a wrong signature, 404 for an unknown instance, a project that is not the instance's, or a
 * path with nothing behind it, 405 for a method other than GET/HEAD, else metadataLookup's answer.
 * vendor_data2.json carries the instance's identity credential under `minicloud_identity` (Nova's
 * dynamic vendordata form), issued at each read.
 */
export async function serveMetadata(d: MetadataServiceDeps, method: string, path: string, headers: Record<string, string | string[] | undefined>): Promise<MetadataResponse> {
  if (method !== 'GET' && method !== 'HEAD') return plain(405, 'The method specified is not allowed for this resource.');
  const one = (name: string) => {
    const v = headers[name];
    return Array.isArray(v) ? (v.length === 1 ? v[0] : null) : v;
  };
  const instanceId = one('x-instance-id');
  const signature = one('x-instance-id-signature');
  const tenantId = one('x-tenant-id');
  if (instanceId === undefined) return plain(400, 'X-Instance-ID header is missing from request.');
  if (signature === undefined) return plain(400, 'X-Instance-ID-Signature header is missing from request.');
  if (tenantId === undefined) return plain(400, 'X-Tenant-ID header is missing from request.');
  if (instanceId === null) return plain(400, 'Multiple X-Instance-ID headers found within request.');
  if (tenantId === null) return plain(400, 'Multiple X-Tenant-ID headers found within request.');
  if (signature === null || !verifyInstanceIdSignature(d.sharedSecret, instanceId, signature)) {
    d.logger.warn({ instance_id: instanceId }, 'metadata request refused: X-Instance-ID-Signature does not match the expected value');
    return plain(403, 'Invalid proxy request signature.');
  }
  const r = await d.instances.find(instanceId);
  if (!r) return plain(404, 'The resource could not be found.');
  if (r.projectId !== tenantId) {
    d.logger.warn({ instance_id: instanceId, tenant_id: tenantId }, 'metadata request refused: X-Tenant-ID does not match the instance project');
    return plain(404, 'The resource could not be found.');
  }
  const pathOnly = path.split('?')[0];
  const needsCredential = /^\/openstack\/[^/]+\/vendor_data2\.json$/.test(pathOnly.replace(/\/+$/, ''));
  const credential = needsCredential ? await d.issueCredential(r.id, r.projectId) : undefined;
  const answer = metadataLookup(pathOnly, metadataSourceOf(r), () => (credential ? { [IDENTITY_VENDOR_DATA_TARGET]: credential } : {}));
  if (!answer) return plain(404, 'The resource could not be found.');
  return { status: 200, contentType: answer.contentType === 'text/plain' ? 'text/plain; charset=UTF-8' : answer.contentType, body: answer.body };
}
