import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Nova's metadata proxy signature (nova/api/metadata/handler.py): HMAC-SHA256 of the instance id
 * keyed by the shared secret (`metadata_proxy_shared_secret`), lower-case hex. The proxy sends it as
 * `X-Instance-ID-Signature` with `X-Instance-ID` and `X-Tenant-ID`.
 */
export function instanceIdSignature(secret: string, instanceId: string): string {
  return createHmac('sha256', secret).update(instanceId, 'utf8').digest('hex');
}

/** True when `signature` is the signature of `instanceId` (constant-time compare, as Nova's). */
export function verifyInstanceIdSignature(secret: string, instanceId: string, signature: string): boolean {
  const want = Buffer.from(instanceIdSignature(secret, instanceId));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
