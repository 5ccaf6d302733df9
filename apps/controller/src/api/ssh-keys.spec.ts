import { createPrivateKey, X509Certificate } from 'node:crypto';
import { utils as sshUtils } from 'ssh2';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { thrownBy } from '@minicloud/testing';
import { checkKeypairName } from './keypair-handlers';
import { generateKeyPair, generateX509KeyPair, parsePublicKey, parseX509Certificate } from './ssh-keys';

describe('ssh keys', () => {
  it("fingerprints a known key as ssh-keygen -E md5 does", () => {
    // `ssh-keygen -l -E md5` of this key prints MD5:65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd
    const pub =
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl test@example';
    expect(parsePublicKey(pub)).toEqual({ publicKey: pub, fingerprint: '65:96:2d:fc:e8:d5:a9:11:64:0c:0f:ea:00:6e:5b:bd' });
  });

  it('generates an RSA 2048 pair whose private key holds the public key', () => {
    const g = generateKeyPair('k1');
    expect(g.publicKey).toMatch(/^ssh-rsa \S+ k1$/);
    const priv = sshUtils.parseKey(g.privateKey);
    if (priv instanceof Error || Array.isArray(priv)) throw new Error('private key does not parse');
    expect(priv.getPublicSSH().toString('base64')).toBe(g.publicKey.split(' ')[1]);
    expect(parsePublicKey(g.publicKey).fingerprint).toBe(g.fingerprint);
  });

  it.each([
    ['', 'empty'],
    ['ssh-rsa JUNK nova@ubuntu', 'not a key'],
    ['ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQ\nssh-rsa AAAA', 'two lines'],
  ])('refuses %j (%s) naming public_key', (text) => {
    expect(thrownBy(() => parsePublicKey(text))).toMatchObject({ field: 'public_key' });
  });

  it('refuses a private key given as the public key', () => {
    const priv = sshUtils.generateKeyPairSync('ed25519').private;
    expect(thrownBy(() => parsePublicKey(priv))).toBeInstanceOf(InvalidArgumentError);
  });

  it("takes Nova 2.1's key pair names and refuses the others", () => {
    for (const ok of ['a', 'my key', 'key-1_b', 'x'.repeat(255)]) expect(() => checkKeypairName(ok)).not.toThrow();
    for (const bad of ['', '   ', 'x'.repeat(256), 'key/.\\@:', 'dot.name', 'ünï']) expect(thrownBy(() => checkKeypairName(bad))).toMatchObject({ field: 'name' });
  });
});

describe('x509 key pairs (Nova 2.2)', () => {
  it('generates a self-signed certificate for the user whose fingerprint is the SHA-1 of its DER form, as openssl gives it', () => {
    const pair = generateX509KeyPair({ userId: 'u-1', projectId: 'p-1' }, Date.UTC(2026, 0, 1));
    expect(pair.publicKey).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----$/);
    expect(pair.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const cert = new X509Certificate(pair.publicKey);
    expect(cert.subject).toContain('CN=u-1');
    expect(cert.subject).toContain('OU=p-1');
    expect(cert.issuer).toBe(cert.subject);
    expect(cert.checkPrivateKey(createPrivateKey(pair.privateKey))).toBe(true);
    expect(new Date(cert.validFrom).getTime()).toBe(Date.UTC(2026, 0, 1));
    expect(pair.fingerprint).toBe(cert.fingerprint.toLowerCase());
    expect(pair.fingerprint).toMatch(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
  });

  it('imports a PEM certificate and refuses what is not one', () => {
    const made = generateX509KeyPair({ userId: 'u-2', projectId: 'p-2' }, Date.UTC(2026, 0, 1));
    expect(parseX509Certificate(`\n${made.publicKey}\n`)).toEqual({ publicKey: made.publicKey, fingerprint: made.fingerprint });
    for (const bad of ['', 'ssh-rsa AAAA', '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----']) {
      expect(() => parseX509Certificate(bad)).toThrow(InvalidArgumentError);
    }
  });
});
