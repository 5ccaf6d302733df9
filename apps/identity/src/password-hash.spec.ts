import { dummySecretHash, hashSecret, legacyScryptHash, needsRehash, verifySecret } from './password-hash';

describe('password hashing (argon2id, legacy scrypt verified)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashSecret('s3cret');
    expect(h).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[\w+/]+\$[\w+/]+$/);
    expect(h).not.toContain('s3cret');
    await expect(verifySecret('s3cret', h)).resolves.toBe(true);
    await expect(verifySecret('s3cret ', h)).resolves.toBe(false);
    await expect(verifySecret('', h)).resolves.toBe(false);
    expect(needsRehash(h)).toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashSecret('pw'), hashSecret('pw')]);
    expect(a).not.toEqual(b);
    await expect(verifySecret('pw', b)).resolves.toBe(true);
  });

  it('still verifies an old scrypt hash, and asks for it (or weaker argon2) to be rehashed', async () => {
    const old = await legacyScryptHash('pw');
    await expect(verifySecret('pw', old)).resolves.toBe(true);
    await expect(verifySecret('px', old)).resolves.toBe(false);
    expect(needsRehash(old)).toBe(true);
    expect(needsRehash('$argon2id$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
    expect(needsRehash('$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA')).toBe(true);
  });

  it('never verifies a malformed or tampered hash', async () => {
    const h = await hashSecret('pw');
    await expect(verifySecret('pw', 'plain-text')).resolves.toBe(false);
    await expect(verifySecret('pw', '$argon2id$garbage')).resolves.toBe(false);
    const tampered = h.slice(0, -2) + (h.endsWith('A') ? 'BB' : 'AA');
    await expect(verifySecret('pw', tampered)).resolves.toBe(false);
    const old = (await legacyScryptHash('pw')).split('$');
    const key = Buffer.from(old[5], 'base64url');
    key[0] ^= 1;
    old[5] = key.toString('base64url');
    await expect(verifySecret('pw', old.join('$'))).resolves.toBe(false);
    await expect(verifySecret('pw', await dummySecretHash())).resolves.toBe(false);
  });
});
