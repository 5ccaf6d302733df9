import { randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type JWK, type KeyLike } from 'jose';
import type { AuthContext } from './auth-context';

/** Tokens are JWTs (RFC 7519) signed with Ed25519 (EdDSA, RFC 8037). */
export const TOKEN_ALG = 'EdDSA';
export const TOKEN_ISSUER = 'minicloud-identity';

/** A signing key pair as stored by identity: both halves as JWKs with a key id. */
export interface SigningKeyPair {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
  createdAtMs: number;
}

/** Makes a fresh Ed25519 key pair. */
export async function generateSigningKey(nowMs: number): Promise<SigningKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(TOKEN_ALG, { crv: 'Ed25519', extractable: true });
  const kid = randomUUID();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: TOKEN_ALG, use: 'sig' };
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: TOKEN_ALG };
  return { kid, privateJwk, publicJwk, createdAtMs: nowMs };
}

/**
 * Signs a token carrying an {@link AuthContext} (without tokenId/issuedAt/expiresAt, which are set
 * here). Claims: sub=user id, jti=token id, iat/exp in seconds, plus minicloud's own claims.
 * @returns the compact JWS and the context it carries
 */
export async function signToken(
  key: SigningKeyPair,
  claims: Omit<AuthContext, 'tokenId' | 'issuedAtMs' | 'expiresAtMs'>,
  opts: { nowMs: number; ttlSeconds: number },
): Promise<{ token: string; context: AuthContext }> {
  const tokenId = randomUUID();
  const iat = Math.floor(opts.nowMs / 1000);
  const exp = iat + opts.ttlSeconds;
  const privateKey = (await importJWK(key.privateJwk, TOKEN_ALG)) as KeyLike;
  const token = await new SignJWT({
    user_name: claims.userName,
    project_id: claims.projectId,
    project_name: claims.projectName,
    domain_id: claims.domainId,
    roles: claims.roles,
    ...(claims.instanceId ? { instance_id: claims.instanceId } : {}),
    ...(claims.applicationCredentialId ? { app_cred_id: claims.applicationCredentialId } : {}),
    ...(claims.hostIds?.length ? { host_ids: claims.hostIds } : {}),
    ...(claims.systemScope ? { system: claims.systemScope } : {}),
    ...(claims.isAdminProject ? { is_admin_project: true } : {}),
  })
    .setProtectedHeader({ alg: TOKEN_ALG, kid: key.kid, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(claims.userId)
    .setJti(tokenId)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(privateKey);
  return { token, context: { ...claims, tokenId, issuedAtMs: iat * 1000, expiresAtMs: exp * 1000 } };
}
