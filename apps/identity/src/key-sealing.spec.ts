import { randomBytes } from 'node:crypto';
import { ConfigError } from '@minicloud/platform-config';
import { aesGcmSealer, keySealerFor, plainSealer } from './key-sealing';

describe('signing-key sealing', () => {
  const key = randomBytes(32).toString('base64url');
  const secret = JSON.stringify({ kid: 'k1', privateJwk: { d: 'private-part' } });

  it('seals so that the stored text does not contain the secret, and opens it back', () => {
    const s = aesGcmSealer(key);
    const stored = s.seal(secret);
    expect(stored).toMatch(/^sealed:v1:/);
    expect(stored).not.toContain('private-part');
    expect(s.open(stored)).toBe(secret);
    expect(s.seal(secret)).not.toBe(stored);
  });

  it('refuses a sealed value under another key, or tampered with', () => {
    const stored = aesGcmSealer(key).seal(secret);
    expect(() => aesGcmSealer(randomBytes(32).toString('base64')).open(stored)).toThrow();
    const parts = stored.split(':');
    parts[4] = Buffer.from('x' + Buffer.from(parts[4], 'base64url').toString('latin1'), 'latin1').toString('base64url');
    expect(() => aesGcmSealer(key).open(parts.join(':'))).toThrow();
  });

  it('reads a value stored before sealing was configured as it is', () => {
    expect(aesGcmSealer(key).open(secret)).toBe(secret);
  });

  it('takes only a 32-byte key; no key means no sealing', () => {
    expect(() => aesGcmSealer(randomBytes(16).toString('base64'))).toThrow(ConfigError);
    expect(keySealerFor(undefined)).toBe(plainSealer);
  });
});
