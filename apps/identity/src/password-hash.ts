import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';

/** @node-rs/argon2's Algorithm.Argon2id (a const enum, which isolated modules cannot read). */
const ARGON2ID = 2;

/**
 * argon2id parameters: OWASP's Password Storage Cheat Sheet first choice, m=19 MiB (19456 KiB), t=2,
 * p=1 (RFC 9106's argon2id). Hashing runs on libuv's thread pool (@node-rs/argon2's async API), so a
 * flood of logins does not block the event loop.
 */
export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Parameters of the older `scrypt$N$r$p$salt$hash` format, still verified (then rehashed on login). */
export const LEGACY_SCRYPT_PARAMS = { N: 16384, r: 8, p: 1, keyLength: 64, saltBytes: 16 } as const;

function scryptAsync(secret: string, salt: Buffer, keyLength: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(secret, salt, keyLength, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * Hashes a password or secret with argon2id and a fresh random salt.
 * @returns the PHC string `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>` (self-describing).
 */
export function hashSecret(secret: string): Promise<string> {
  return argon2Hash(secret, { algorithm: ARGON2ID, ...ARGON2_PARAMS });
}

/**
 * Checks a secret against a stored hash (argon2id PHC string, or the legacy scrypt format) in
 * constant time. A malformed stored hash never verifies.
 */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  if (stored.startsWith('$argon2')) return argon2Verify(stored, secret).catch(() => false);
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], 'base64url');
  const expected = Buffer.from(parts[5], 'base64url');
  if (!N || !r || !p || N > 1 << 20 || expected.length === 0) return false;
  const actual = await scryptAsync(secret, salt, expected.length, { N, r, p, maxmem: 256 * N * r });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Whether a stored hash should be replaced at the next successful login: anything but argon2id at
 * ARGON2_PARAMS or stronger (Keystone and passlib rehash transparently the same way).
 */
export function needsRehash(stored: string): boolean {
  const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
  if (!m) return true;
  const [mem, t, p] = m.slice(1).map(Number);
  return mem < ARGON2_PARAMS.memoryCost || t < ARGON2_PARAMS.timeCost || p < ARGON2_PARAMS.parallelism;
}

/** A hash nobody's password matches, verified against for unknown users so timing does not reveal them. */
let dummyHash: Promise<string> | undefined;
export function dummySecretHash(): Promise<string> {
  dummyHash ??= hashSecret(randomBytes(16).toString('hex'));
  return dummyHash;
}

/** The legacy scrypt hash of `secret` (for tests of the rehash path and of old stored hashes). */
export async function legacyScryptHash(secret: string): Promise<string> {
  const { N, r, p, keyLength, saltBytes } = LEGACY_SCRYPT_PARAMS;
  const salt = randomBytes(saltBytes);
  const key = await scryptAsync(secret, salt, keyLength, { N, r, p });
  return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
}
