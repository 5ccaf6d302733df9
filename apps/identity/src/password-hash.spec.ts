import { dummySecretHash, hashSecret, verifySecret } from './password-hash';

describe('password hashing (scrypt)', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const h = await hashSecret('s3cret');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(h).not.toContain('s3cret');
    await expect(verifySecret('s3cret', h)).resolves.toBe(true);
    await expect(verifySecret('s3cret ', h)).resolves.toBe(false);
    await expect(verifySecret('', h)).resolves.toBe(false);
  });

  it('salts: the same password hashes differently each time', async () => {
    const [a, b] = await Promise.all([hashSecret('pw'), hashSecret('pw')]);
    expect(a).not.toEqual(b);
    await expect(verifySecret('pw', b)).resolves.toBe(true);
  });

  it('never verifies a malformed or tampered hash', async () => {
    const h = await hashSecret('pw');
    await expect(verifySecret('pw', 'plain-text')).resolves.toBe(false);
    // Flip one bit of the stored key (editing the last base64 character may only touch padding bits).
    const parts = h.split('$');
    const key = Buffer.from(parts[5], 'base64url');
    key[0] ^= 1;
    parts[5] = key.toString('base64url');
    await expect(verifySecret('pw', parts.join('$'))).resolves.toBe(false);
    await expect(verifySecret('pw', await dummySecretHash())).resolves.toBe(false);
  });
});
