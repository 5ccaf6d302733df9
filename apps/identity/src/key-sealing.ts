import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '@minicloud/platform-config';

/** Seals and opens a stored secret (identity's signing private keys) with a key kept out of Redis. */
export interface KeySealer {
  /** The text to store for `plain`. */
  seal(plain: string): string;
  /**
   * The plain text of a stored value; a value stored before sealing was configured (not `sealed:`)
   * is returned as it is, and is sealed at its next write.
   * @throws Error when a sealed value does not open with this key (wrong key or tampered data)
   */
  open(stored: string): string;
}

const PREFIX = 'sealed:v1:';
/** Binds a sealed value to what it is, so a sealed value of another kind cannot be passed off as a signing key. */
const AAD = Buffer.from('minicloud identity signing key');

/** No sealing: what is stored is the plain text (no key configured). */
export const plainSealer: KeySealer = { seal: (p) => p, open: (s) => s };

/**
 * AES-256-GCM sealing (random 96-bit IV per value, 128-bit tag): `sealed:v1:<iv>:<tag>:<ciphertext>`,
 * each part base64url.
 * @param keyBase64 32 bytes in base64 or base64url (SIGNING_KEY_ENCRYPTION_KEY)
 * @throws ConfigError when the key is not 32 bytes
 */
export function aesGcmSealer(keyBase64: string): KeySealer {
  const key = Buffer.from(keyBase64, 'base64url');
  if (key.length !== 32) throw new ConfigError([`SIGNING_KEY_ENCRYPTION_KEY: must be 32 bytes in base64, got ${key.length}`]);
  return {
    seal(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv).setAAD(AAD);
      const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return PREFIX + [iv, c.getAuthTag(), data].map((b) => b.toString('base64url')).join(':');
    },
    open(stored) {
      if (!stored.startsWith(PREFIX)) return stored;
      const [iv, tag, data] = stored.slice(PREFIX.length).split(':').map((p) => Buffer.from(p, 'base64url'));
      const d = createDecipheriv('aes-256-gcm', key, iv).setAAD(AAD);
      d.setAuthTag(tag);
      return Buffer.concat([d.update(data), d.final()]).toString('utf8');
    },
  };
}

/** The sealer for identity's configuration: AES-GCM with SIGNING_KEY_ENCRYPTION_KEY when set, else none. */
export function keySealerFor(encryptionKey: string | undefined): KeySealer {
  return encryptionKey ? aesGcmSealer(encryptionKey) : plainSealer;
}
