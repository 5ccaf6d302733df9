import { createHash } from 'node:crypto';
import { utils as sshUtils } from 'ssh2';
import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import type { InstanceRecord } from '@minicloud/domain-compute';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness } from './testing/controller-harness';
import { Keys } from './store/keys';

jest.setTimeout(60_000);

type ComputeClient = ServiceClient<typeof compute.ComputeServiceService>;

/** ssh-keygen -E md5 -l's fingerprint of an OpenSSH public key line. */
function md5Of(publicKey: string): string {
  const key = sshUtils.parseKey(publicKey);
  if (key instanceof Error || Array.isArray(key)) throw new Error('unparseable test key');
  return createHash('md5').update(key.getPublicSSH()).digest('hex').match(/../g)!.join(':');
}

/**
 * SSH key pairs through the real gRPC server and Redis: generate and import, per-user scoping,
 * admin's user_id, the policy and input limits, the key_pairs quota, and server create's key_name
 * (the public key copied to the instance record) and access addresses.
 */
describe('ComputeService key pairs (real Redis, gRPC)', () => {
  let h: ControllerHarness;
  let admin: ComputeClient;
  let alice: ComputeClient;
  let bob: ComputeClient;
  let reader: ComputeClient;
  let dave: ComputeClient;
  let anonymous: ComputeClient;
  const hosts: FakeHypervisor[] = [];

  beforeAll(async () => {
    h = await ControllerHarness.start('keypairs-test');
    const started = await h.startControllerWithFakePeers({ config: { KEY_PAIRS_QUOTA: '3' } });
    const addr = started.grpc.address;
    admin = h.client(compute.ComputeServiceService, addr, h.tokens.adminToken);
    alice = h.client(compute.ComputeServiceService, addr, await h.tokens.mint('alice', 'proj-a', ['member']));
    bob = h.client(compute.ComputeServiceService, addr, await h.tokens.mint('bob', 'proj-b', ['member']));
    reader = h.client(compute.ComputeServiceService, addr, await h.tokens.mint('carol', 'proj-a', ['reader']));
    dave = h.client(compute.ComputeServiceService, addr, await h.tokens.mint('dave', 'proj-d', ['member']));
    anonymous = h.client(compute.ComputeServiceService, addr, undefined);
    const registry = h.client(agent.HostRegistryServiceService, addr, h.tokens.adminToken);
    h.addDouble({ stop: async () => void (await Promise.all(hosts.map((x) => x.stop()))) });
    const host = new FakeHypervisor('h1', h.bus, { cores: 8, ramMb: 16384, diskGb: 400 });
    await host.start(registry);
    hosts.push(host);
    await admin.createFlavor({ id: 'f-small', name: 'm1.small', vcpus: 1, ramMb: 512, diskGb: 1 });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('generates an RSA pair: the private key once, the OpenSSH public key and its MD5 fingerprint kept', async () => {
    const res = await alice.createKeypair({ name: 'gen key_1' });
    expect(res.privateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
    const k = res.keypair!;
    expect(k).toMatchObject({ name: 'gen key_1', userId: 'alice', type: 'ssh' });
    expect(k.publicKey).toMatch(/^ssh-rsa AAAA/);
    expect(k.fingerprint).toBe(md5Of(k.publicKey));
    // the private key matches the public key
    const priv = sshUtils.parseKey(res.privateKey);
    expect(priv instanceof Error || Array.isArray(priv) ? '' : priv.getPublicSSH().toString('base64')).toBe(k.publicKey.split(' ')[1]);
    const shown = (await alice.getKeypair({ name: 'gen key_1' })).keypair!;
    expect(shown).toMatchObject({ name: 'gen key_1', publicKey: k.publicKey, fingerprint: k.fingerprint, id: k.id });
  });

  it('imports a public key (no private key answered) and lists the user\'s pairs by name', async () => {
    const pub = sshUtils.generateKeyPairSync('ed25519', { comment: 'me@laptop' }).public;
    const res = await alice.createKeypair({ name: 'imported', publicKey: pub });
    expect(res.privateKey).toBe('');
    expect(res.keypair).toMatchObject({ name: 'imported', publicKey: pub, fingerprint: md5Of(pub), type: 'ssh' });
    expect((await alice.listKeypairs({})).keypairs.map((k) => k.name)).toEqual(['gen key_1', 'imported']);
  });

  it('x509 (Nova 2.2): generates a certificate and key, imports a certificate, refuses an unknown type', async () => {
    const gen = await dave.createKeypair({ name: 'cert', type: 'x509' });
    expect(gen.keypair).toMatchObject({ name: 'cert', type: 'x509', publicKey: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/) });
    expect(gen.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect((await dave.getKeypair({ name: 'cert' })).keypair).toMatchObject({ type: 'x509', fingerprint: gen.keypair!.fingerprint });
    const imported = await dave.createKeypair({ name: 'cert copy', type: 'x509', publicKey: gen.keypair!.publicKey });
    expect([imported.keypair!.fingerprint, imported.privateKey]).toEqual([gen.keypair!.fingerprint, '']);
    await expect(dave.createKeypair({ name: 'cert bad', type: 'x509', publicKey: 'ssh-rsa AAAA' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'public_key' });
    await expect(dave.createKeypair({ name: 'pgp', type: 'pgp' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'type' });
    await dave.deleteKeypair({ name: 'cert' });
    await dave.deleteKeypair({ name: 'cert copy' });
  });

  it('refuses a duplicate name, a bad name and a bad public key', async () => {
    await expect(alice.createKeypair({ name: 'imported' })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(alice.createKeypair({ name: 'key/.@:' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(alice.createKeypair({ name: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(alice.createKeypair({ name: '   ' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(alice.createKeypair({ name: 'x'.repeat(256) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(alice.createKeypair({ name: 'junk', publicKey: 'ssh-rsa JUNK nova@ubuntu' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'public_key' });
    await expect(alice.createKeypair({ name: 'empty', publicKey: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'public_key' });
    await expect(alice.createKeypair({ name: 'long', publicKey: `ssh-rsa ${'A'.repeat(20_000)}` })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'public_key' });
    const priv = sshUtils.generateKeyPairSync('ed25519').private;
    await expect(alice.createKeypair({ name: 'private', publicKey: priv })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'public_key' });
  });

  it("keeps each user's pairs to that user; only an admin names another user", async () => {
    await expect(bob.getKeypair({ name: 'imported' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(bob.deleteKeypair({ name: 'imported' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await bob.listKeypairs({})).keypairs).toEqual([]);
    await expect(bob.getKeypair({ name: 'imported', userId: 'alice' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(bob.listKeypairs({ userId: 'alice' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(bob.createKeypair({ name: 'planted', userId: 'alice' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    expect((await admin.getKeypair({ name: 'imported', userId: 'alice' })).keypair!.userId).toBe('alice');
    expect((await admin.listKeypairs({ userId: 'alice' })).keypairs).toHaveLength(2);
    // bob may use the same name: names are per user
    await bob.createKeypair({ name: 'imported' });
  });

  it('refuses callers without credentials, and writes by a reader', async () => {
    await expect(anonymous.listKeypairs({})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(anonymous.createKeypair({ name: 'anon' })).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(reader.createKeypair({ name: 'r' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
    await expect(reader.deleteKeypair({ name: 'imported' })).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it("enforces the user's key_pairs quota", async () => {
    await alice.createKeypair({ name: 'third' });
    await expect(alice.createKeypair({ name: 'fourth' })).rejects.toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    await alice.deleteKeypair({ name: 'third' });
    await expect(alice.getKeypair({ name: 'third' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await alice.createKeypair({ name: 'fourth' });
    await alice.deleteKeypair({ name: 'fourth' });
  });

  it('copies the key pair\'s public key to a server created with key_name, and refuses an unknown key_name', async () => {
    const pub = (await alice.getKeypair({ name: 'imported' })).keypair!.publicKey;
    const boot = (c: ComputeClient, keyName: string, extra: Partial<compute.CreateServerRequest> = {}) =>
      c.createServer({ name: 'vm', flavorRef: 'f-small', imageRef: 'img', networks: [{ networkId: 'net-1' }], keyName, ...extra });
    await expect(boot(alice, 'nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'key_name' });
    await expect(boot(alice, 'imported', { accessIpV4: '1.2.3' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'access_ip_v4' });
    await expect(boot(alice, 'imported', { accessIpV6: '1.2.3.4' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'access_ip_v6' });
    const s = (await boot(alice, 'imported', { accessIpV4: '203.0.113.7', accessIpV6: '2001:db8::7' })).servers[0];
    expect(s).toMatchObject({ keyName: 'imported', accessIpV4: '203.0.113.7', accessIpV6: '2001:db8::7' });
    const record = JSON.parse((await h.redis.get(Keys.instance(s.id)))!) as InstanceRecord;
    expect(record.keyName).toBe('imported');
    expect(record.keyData).toBe(pub);
    // deleting the pair leaves the instance's copy
    await alice.deleteKeypair({ name: 'imported' });
    expect((await alice.getServer({ serverId: s.id })).server!.keyName).toBe('imported');
    expect((JSON.parse((await h.redis.get(Keys.instance(s.id)))!) as InstanceRecord).keyData).toBe(pub);
    // access addresses are updated and cleared
    const updated = (await alice.updateServer({ serverId: s.id, accessIpV4: '198.51.100.1', accessIpV6: '' })).server!;
    expect(updated).toMatchObject({ accessIpV4: '198.51.100.1', accessIpV6: '' });
    // IPv6 is kept in its canonical form, as Nova's IPAddress field keeps it
    const v6 = (await alice.updateServer({ serverId: s.id, accessIpV6: '0000:0000:0000:0000:0000:babe:220.12.22.2' })).server!;
    expect(v6.accessIpV6).toBe('::babe:dc0c:1602');
    await expect(alice.updateServer({ serverId: s.id, accessIpV6: 'not-an-ip' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'access_ip_v6' });
  });
});
