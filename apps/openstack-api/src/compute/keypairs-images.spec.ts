import type { FastifyInstance } from 'fastify';
import { compute, identity, image, network } from '@minicloud/proto';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall } from '../http/test-kit';

const NET = '0b6ac1f7-2f3b-4f3e-9b1e-5f7b8c1d2e3f';

/**
 * Nova's key pairs, server ips and access addresses, rebuild's extra attributes, the image proxy,
 * the versions list and create's 400s, over real HTTP with fake gRPC services that decide as the
 * controller does: key pairs per user (token "alice"/"bob": members of p1/p2), no token
 * UNAUTHENTICATED, another project's server NOT_FOUND.
 */
describe('Nova key pairs, ips, access addresses, images proxy (real HTTP, fake gRPC)', () => {
  let app: FastifyInstance;
  let calls: RecordedCall[];
  const keys = new Map<string, compute.Keypair>();
  const caller = fakeCaller({ alice: { userId: 'u-alice', projectId: 'p1' }, bob: { userId: 'u-bob', projectId: 'p2' } });
  const sent = (method: string) => calls.filter((c) => c.method === method).map((c) => c.req);

  const server = (over: Partial<compute.Server> = {}) =>
    compute.Server.fromPartial({
      id: 's1',
      name: 'web',
      projectId: 'p1',
      status: 'SHUTOFF',
      vmState: compute.VmState.VM_STATE_STOPPED,
      accessIpV4: '203.0.113.7',
      accessIpV6: '2001:db8::7',
      keyName: 'k1',
      addresses: [
        { networkId: NET, networkName: 'private', portId: 'port-1', ipAddress: '10.0.0.5', macAddress: 'fa:16:3e:00:00:01', type: 'fixed' },
        { networkId: NET, networkName: 'private', portId: 'port-1', ipAddress: 'fd00::5', macAddress: 'fa:16:3e:00:00:01', type: 'fixed' },
      ],
      createdAt: new Date('2026-01-01T00:00:00Z'),
      ...over,
    });
  const img = (over: Partial<image.Image> = {}) =>
    image.Image.fromPartial({
      id: 'img-1',
      name: 'cirros',
      status: image.ImageStatus.IMAGE_STATUS_ACTIVE,
      sizeBytes: 1024,
      minRamMb: 64,
      minDiskGb: 1,
      properties: { os_distro: 'cirros' },
      createdAt: new Date('2026-01-01T00:00:00Z'),
      ...over,
    });

  beforeAll(async () => {
    const images = new Map([
      ['img-1', img()],
      ['snap-1', img({ id: 'snap-1', name: 'snap', status: image.ImageStatus.IMAGE_STATUS_QUEUED, sourceInstanceId: 's1', properties: { image_type: 'snapshot' }, createdAt: new Date('2026-01-02T00:00:00Z') })],
    ]);
    const scopedServer = (r: { serverId: string }, opts: RecordedCall['opts']) => {
      if (caller(opts).projectId !== 'p1') throw new NotFoundError('server', r.serverId);
      return server();
    };
    calls = [];
    app = await listenFront(
      fakeBackends(calls, {
        validateToken: (_r, opts) => ({ info: identity.TokenInfo.fromPartial({ ...caller(opts), roles: ['member'] }) }),
        createKeypair: (r: compute.CreateKeypairRequest, opts) => {
          const { userId } = caller(opts);
          if (!/^[A-Za-z0-9 _-]{1,255}$/.test(r.name)) throw new InvalidArgumentError('name', 'Keypair name contains unsafe characters');
          if (r.publicKey !== undefined && !r.publicKey.startsWith('ssh-')) throw new InvalidArgumentError('public_key', 'Keypair data is invalid');
          if (keys.has(`${userId}/${r.name}`)) throw new AlreadyExistsError('keypair', r.name);
          if (r.name === 'one too many') throw new ResourceExhaustedError('Quota exceeded, too many key pairs.');
          const k = compute.Keypair.fromPartial({ id: keys.size + 1, name: r.name, userId, type: r.type || 'ssh', publicKey: r.publicKey ?? 'ssh-rsa AAAAgen', fingerprint: 'aa:bb', createdAt: new Date('2026-01-01T00:00:00Z') });
          keys.set(`${userId}/${r.name}`, k);
          return { keypair: k, privateKey: r.publicKey === undefined ? '-----BEGIN OPENSSH PRIVATE KEY-----\n' : '' };
        },
        getKeypair: (r: compute.GetKeypairRequest, opts) => {
          const k = keys.get(`${caller(opts).userId}/${r.name}`);
          if (!k) throw new NotFoundError('keypair', r.name);
          return { keypair: k };
        },
        listKeypairs: (_r, opts) => ({ keypairs: [...keys.values()].filter((k) => k.userId === caller(opts).userId) }),
        deleteKeypair: (r: compute.DeleteKeypairRequest, opts) => {
          if (!keys.delete(`${caller(opts).userId}/${r.name}`)) throw new NotFoundError('keypair', r.name);
          return {};
        },
        getServer: (r: compute.GetServerRequest, opts) => ({ server: scopedServer(r, opts) }),
        updateServer: (r: compute.UpdateServerRequest, opts) => ({ server: { ...scopedServer(r, opts), name: r.name ?? 'web', accessIpV4: r.accessIpV4 ?? '203.0.113.7' } }),
        serverAction: (r: compute.ServerActionRequest, opts) => {
          if (r.resize?.flavorRef === 'nope') throw new NotFoundError('flavor', 'nope');
          if (r.rebuild?.imageRef === 'nope') throw new NotFoundError('image', 'nope');
          return { server: scopedServer(r, opts) };
        },
        createServer: (r: compute.CreateServerRequest, opts) => {
          caller(opts);
          if (r.networks[0]?.networkId === 'ffffffff-ffff-ffff-ffff-ffffffffffff') throw new NotFoundError('network', r.networks[0].networkId);
          if (r.flavorRef === 'nope') throw new NotFoundError('flavor', r.flavorRef);
          if (r.keyName === 'missing') throw new InvalidArgumentError('key_name', 'Invalid key_name provided.');
          return { servers: [server({ id: 's9' })], reservationId: 'r-1' };
        },
        listServers: (r: { marker?: string }, opts) => {
          caller(opts);
          // the controller's answer to a marker that is not in the listing
          if (r.marker && r.marker !== 's1') throw new InvalidArgumentError('marker', `marker [${r.marker}] not found`);
          return { servers: r.marker ? [] : [server()], page: { nextPageToken: '' } };
        },
        listPorts: (_r, opts) => (caller(opts), { ports: [], page: { nextPageToken: '' } }),
        // the caller's floating IPs: one associated with s1's port, one with another port, one free
        listFloatingIps: (_r, opts) => (
          caller(opts),
          {
            floatingIps: [
              network.FloatingIp.fromPartial({ id: 'f1', floatingIpAddress: '127.24.4.9', portId: 'port-1', fixedIpAddress: '10.0.0.5', status: 'ACTIVE' }),
              network.FloatingIp.fromPartial({ id: 'f2', floatingIpAddress: '127.24.4.10', portId: 'port-9', fixedIpAddress: '10.0.0.9', status: 'ACTIVE' }),
              network.FloatingIp.fromPartial({ id: 'f3', floatingIpAddress: '127.24.4.11', status: 'DOWN' }),
            ],
          }
        ),
        listImages: (_r, opts) => (caller(opts), { images: [...images.values()], page: { nextPageToken: '' } }),
        getImage: (r: image.GetImageRequest, opts) => {
          caller(opts);
          const i = images.get(r.imageId);
          if (!i) throw new NotFoundError('image', r.imageId);
          return { image: i };
        },
        updateImage: (r: image.UpdateImageRequest, opts) => {
          caller(opts);
          const i = images.get(r.imageId)!;
          const properties = { ...i.properties, ...r.setProperties };
          for (const k of r.removeProperties) delete properties[k];
          images.set(i.id, { ...i, properties });
          return { image: images.get(i.id) };
        },
        deleteImage: (r: image.DeleteImageRequest, opts) => {
          caller(opts);
          if (r.imageId === 'protected') throw new PermissionDeniedError('image protected is protected');
          return {};
        },
      }),
    );
  });
  afterAll(() => app.close());
  beforeEach(() => calls.splice(0));

  const call = (token: string, method: string, url: string, payload?: unknown) => requestAs(app, { method, url: `/compute/v2.1${url}`, payload }, token);

  it('os-keypairs: generate (200, private key once), import, list, show, delete (202) for the caller', async () => {
    const gen = await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'k1' } });
    expect(gen.statusCode).toBe(200);
    expect(gen.json().keypair).toEqual({ name: 'k1', public_key: 'ssh-rsa AAAAgen', fingerprint: 'aa:bb', user_id: 'u-alice', private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\n' });
    expect(sent('createKeypair')[0]).toEqual({ name: 'k1', publicKey: undefined, userId: '', type: '' });
    const imp = await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'k2', public_key: 'ssh-ed25519 AAAAx me' } });
    expect(imp.json().keypair).toEqual({ name: 'k2', public_key: 'ssh-ed25519 AAAAx me', fingerprint: 'aa:bb', user_id: 'u-alice' });
    expect((await call('alice', 'GET', '/os-keypairs')).json()).toEqual({
      keypairs: [{ keypair: { name: 'k1', public_key: 'ssh-rsa AAAAgen', fingerprint: 'aa:bb' } }, { keypair: { name: 'k2', public_key: 'ssh-ed25519 AAAAx me', fingerprint: 'aa:bb' } }],
    });
    expect((await call('alice', 'GET', '/os-keypairs/k1')).json().keypair).toEqual({
      name: 'k1', public_key: 'ssh-rsa AAAAgen', fingerprint: 'aa:bb', user_id: 'u-alice', id: 1, created_at: '2026-01-01T00:00:00Z', updated_at: null, deleted_at: null, deleted: false,
    });
    expect((await call('alice', 'DELETE', '/os-keypairs/k2')).statusCode).toBe(202);
    expect((await call('alice', 'GET', '/os-keypairs/k2')).statusCode).toBe(404);
  });

  it('os-keypairs at 2.2: type (ssh default, x509) in create, list and show; create 201, delete 204', async () => {
    const v22 = (method: string, url: string, payload?: unknown) =>
      requestAs(app, { method, url: `/compute/v2.1${url}`, payload, headers: { 'x-openstack-nova-api-version': '2.2' } }, 'alice');
    const cert = await v22('POST', '/os-keypairs', { keypair: { name: 'c22', type: 'x509' } });
    expect([cert.statusCode, cert.headers['x-openstack-nova-api-version'], cert.json().keypair.type]).toEqual([201, '2.2', 'x509']);
    expect(sent('createKeypair')[0]).toMatchObject({ name: 'c22', type: 'x509' });
    const plain = await v22('POST', '/os-keypairs', { keypair: { name: 's22' } });
    expect([plain.statusCode, plain.json().keypair.type]).toEqual([201, 'ssh']);
    expect((await v22('GET', '/os-keypairs/c22')).json().keypair.type).toBe('x509');
    expect((await v22('GET', '/os-keypairs')).json().keypairs.map((k: { keypair: { name: string; type: string } }) => [k.keypair.name, k.keypair.type])).toEqual(
      expect.arrayContaining([['c22', 'x509'], ['s22', 'ssh']]),
    );
    // the same pairs at 2.1 show no type
    expect((await call('alice', 'GET', '/os-keypairs/c22')).json().keypair).not.toHaveProperty('type');
    expect((await v22('POST', '/os-keypairs', { keypair: { name: 'bad', type: 'pgp' } })).statusCode).toBe(400);
    expect((await v22('DELETE', '/os-keypairs/c22')).statusCode).toBe(204);
    expect((await v22('DELETE', '/os-keypairs/s22')).statusCode).toBe(204);
  });

  it("os-keypairs errors: duplicate 409, bad name or key 400, over quota 403, another user's pair 404, no token 401, malformed body 400", async () => {
    await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'dup' } });
    const dup = await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'dup' } });
    expect([dup.statusCode, Object.keys(dup.json())]).toEqual([409, ['conflictingRequest']]);
    expect((await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'a/b' } })).statusCode).toBe(400);
    expect((await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'bad', public_key: 'JUNK' } })).statusCode).toBe(400);
    const quota = await call('alice', 'POST', '/os-keypairs', { keypair: { name: 'one too many' } });
    expect([quota.statusCode, quota.json().forbidden.message]).toEqual([403, 'Quota exceeded, too many key pairs.']);
    expect((await call('bob', 'GET', '/os-keypairs/dup')).statusCode).toBe(404);
    expect((await call('bob', 'DELETE', '/os-keypairs/dup')).statusCode).toBe(404);
    expect((await call('bob', 'GET', '/os-keypairs')).json()).toEqual({ keypairs: [] });
    expect((await call('', 'GET', '/os-keypairs')).statusCode).toBe(401);
    expect((await call('', 'POST', '/os-keypairs', { keypair: { name: 'x' } })).statusCode).toBe(401);
    for (const body of [{}, { keypair: {} }, { keypair: { name: 5 } }, { keypair: { name: 'x', type: 'x509' } }, { keypair: { name: 'x', user_id: 'u-bob' } }]) {
      const res = await call('alice', 'POST', '/os-keypairs', body);
      expect([res.statusCode, Object.keys(res.json())]).toEqual([400, ['badRequest']]);
    }
  });

  it('server ips: all networks with version and addr, the floating IP after the fixed address it maps to; one network by label; unknown label 404; another project 404', async () => {
    const all = await call('alice', 'GET', '/servers/s1/ips');
    const privateAddrs = [{ version: 4, addr: '10.0.0.5' }, { version: 4, addr: '127.24.4.9' }, { version: 6, addr: 'fd00::5' }];
    expect(all.json()).toEqual({ addresses: { private: privateAddrs } });
    expect((await call('alice', 'GET', '/servers/s1/ips/private')).json()).toEqual({ private: privateAddrs });
    const unknown = await call('alice', 'GET', '/servers/s1/ips/public');
    expect([unknown.statusCode, unknown.json().itemNotFound.code]).toEqual([404, 404]);
    expect((await call('bob', 'GET', '/servers/s1/ips')).statusCode).toBe(404);
  });

  it('block_device_mapping_v2: boot from volume passes the mappings to the controller (boot_index null -1, vdb -> /dev/vdb, Nova booleans); a malformed entry is 400 and nothing is asked', async () => {
    const bfv = await call('alice', 'POST', '/servers', {
      server: {
        name: 'bfv', flavorRef: 'm1', imageRef: '', networks: [{ uuid: NET }],
        block_device_mapping_v2: [
          { source_type: 'image', destination_type: 'volume', uuid: 'img-1', volume_size: '2', boot_index: 0, delete_on_termination: 'True' },
          { source_type: 'blank', destination_type: 'volume', volume_size: 1, boot_index: null, device_name: 'vdb' },
        ],
      },
    });
    expect(bfv.statusCode).toBe(202);
    expect((sent('createServer')[0] as compute.CreateServerRequest).blockDeviceMappings).toEqual([
      { sourceType: 'image', destinationType: 'volume', uuid: 'img-1', volumeSizeGb: 2, bootIndex: 0, deleteOnTermination: true, deviceName: '' },
      { sourceType: 'blank', destinationType: 'volume', uuid: '', volumeSizeGb: 1, bootIndex: -1, deleteOnTermination: false, deviceName: '/dev/vdb' },
    ]);
    for (const bad of [{ source_type: 'disk', uuid: 'x' }, { source_type: 'volume', uuid: 'v1', tag: 'db' }, { source_type: 'blank', volume_size: 0 }, { destination_type: 'volume', uuid: 'v1' }]) {
      const r = await call('alice', 'POST', '/servers', { server: { name: 'bfv', flavorRef: 'm1', networks: [{ uuid: NET }], block_device_mapping_v2: [bad] } });
      expect([r.statusCode, Object.keys(r.json())]).toEqual([400, ['badRequest']]);
    }
    expect(sent('createServer')).toHaveLength(1);
    expect((await call('', 'POST', '/servers', { server: { name: 'bfv', flavorRef: 'm1', block_device_mapping_v2: [] } })).statusCode).toBe(401);
  });

  it('access addresses and key_name: shown; taken on create and update; update and rebuild answer the basic view (no progress when SHUTOFF)', async () => {
    const shown = (await call('alice', 'GET', '/servers/s1')).json().server;
    expect(shown).toMatchObject({ accessIPv4: '203.0.113.7', accessIPv6: '2001:db8::7', key_name: 'k1' });
    // the floating IP of the server's port follows the fixed address it maps to, as Nova's network info cache shows it
    expect(shown.addresses.private).toEqual([
      { version: 4, addr: '10.0.0.5', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' },
      { version: 4, addr: '127.24.4.9', 'OS-EXT-IPS:type': 'floating', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' },
      { version: 6, addr: 'fd00::5', 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': 'fa:16:3e:00:00:01' },
    ]);
    expect((await call('alice', 'GET', '/servers/detail')).json().servers[0].addresses).toEqual(shown.addresses);
    expect(shown).not.toHaveProperty('progress');
    const created = await call('alice', 'POST', '/servers', { server: { name: 'web', flavorRef: 'm1', imageRef: 'img-1', networks: [{ uuid: NET }], key_name: 'k1', accessIPv4: '203.0.113.9', accessIPv6: '2001:db8::9' } });
    expect(sent('createServer')[0]).toMatchObject({ keyName: 'k1', accessIpV4: '203.0.113.9', accessIpV6: '2001:db8::9' });
    // no adminPass given: Nova's generated one (12 characters, a digit, an upper and a lower case letter), sent and answered
    const generated = created.json().server.adminPass as string;
    expect(generated).toMatch(/^[2-9A-HJ-NP-Za-km-z]{12}$/);
    expect(generated).toMatch(/[2-9]/);
    expect(generated).toMatch(/[A-Z]/);
    expect(generated).toMatch(/[a-z]/);
    expect((sent('createServer')[0] as compute.CreateServerRequest).adminPass).toBe(generated);
    const given = await call('alice', 'POST', '/servers', { server: { name: 'web', flavorRef: 'm1', imageRef: 'img-1', networks: [{ uuid: NET }], adminPass: 'MySecretPass' } });
    expect([given.statusCode, given.json().server.adminPass]).toEqual([202, 'MySecretPass']);
    expect((sent('createServer')[1] as compute.CreateServerRequest).adminPass).toBe('MySecretPass');
    expect((await call('alice', 'POST', '/servers', { server: { name: 'web', flavorRef: 'm1', imageRef: 'img-1', networks: [{ uuid: NET }], adminPass: 12 } })).statusCode).toBe(400);
    const upd = await call('alice', 'PUT', '/servers/s1', { server: { accessIPv4: '198.51.100.1', accessIPv6: '2001:db8::1' } });
    expect(upd.statusCode).toBe(200);
    expect(sent('updateServer')[0]).toMatchObject({ accessIpV4: '198.51.100.1', accessIpV6: '2001:db8::1' });
    expect(Object.keys(upd.json().server).sort()).toEqual(
      ['OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'addresses', 'created', 'flavor', 'hostId', 'id', 'image', 'links', 'metadata', 'name', 'status', 'tenant_id', 'updated', 'user_id'].sort(),
    );
    expect(upd.json().server.addresses).toEqual({ private: [{ version: 4, addr: '10.0.0.5' }, { version: 6, addr: 'fd00::5' }] });
    expect((await call('alice', 'PUT', '/servers/s1', { server: { accessIPv4: '' } })).statusCode).toBe(400);
    // rebuild: adminPass passed on and answered (generated when absent), preserve_ephemeral, access addresses
    const rebuilt = await call('alice', 'POST', '/servers/s1/action', { rebuild: { imageRef: 'img-1', adminPass: 'secret', preserve_ephemeral: false, accessIPv4: '192.0.2.1', name: 'web2' } });
    expect(rebuilt.statusCode).toBe(202);
    expect(rebuilt.json().server.adminPass).toBe('secret');
    expect(rebuilt.json().server).not.toHaveProperty('OS-EXT-STS:vm_state');
    expect(sent('serverAction')[0]).toEqual({ serverId: 's1', rebuild: { imageRef: 'img-1', adminPass: 'secret' } });
    const regenerated = await call('alice', 'POST', '/servers/s1/action', { rebuild: { imageRef: 'img-1' } });
    expect(regenerated.json().server.adminPass).toMatch(/^[2-9A-HJ-NP-Za-km-z]{12}$/);
    expect((sent('serverAction')[1] as compute.ServerActionRequest).rebuild?.adminPass).toBe(regenerated.json().server.adminPass);
    expect(sent('updateServer')[1]).toMatchObject({ name: 'web2', accessIpV4: '192.0.2.1' });
  });

  it("create: a network uuid not in uuid form, an unknown network, flavor or key_name are 400 as Nova answers; resize/rebuild's unknown flavor/image 400", async () => {
    const create = (over: Record<string, unknown>) => call('alice', 'POST', '/servers', { server: { name: 'web', flavorRef: 'm1', imageRef: 'img-1', networks: [{ uuid: NET }], ...over } });
    const badUuid = await create({ networks: [{ uuid: 'a-b-c-d-e-f-g-h-i-j' }] });
    expect([badUuid.statusCode, badUuid.json().badRequest.message]).toEqual([400, 'Bad networks format: network uuid is not in proper format (a-b-c-d-e-f-g-h-i-j)']);
    expect(sent('createServer')).toHaveLength(0);
    const unknownNet = await create({ networks: [{ uuid: 'ffffffff-ffff-ffff-ffff-ffffffffffff' }] });
    expect([unknownNet.statusCode, unknownNet.json().badRequest.message]).toEqual([400, 'Network ffffffff-ffff-ffff-ffff-ffffffffffff could not be found.']);
    expect((await create({ flavorRef: 'nope' })).json().badRequest.message).toBe('Flavor nope could not be found.');
    expect((await create({ key_name: 'missing' })).statusCode).toBe(400);
    // the same for a resize to a flavor, or a rebuild from an image, that does not exist
    const resize = await call('alice', 'POST', '/servers/s1/action', { resize: { flavorRef: 'nope' } });
    expect([resize.statusCode, resize.json().badRequest.message]).toEqual([400, 'Unable to locate requested flavor.']);
    expect((await call('alice', 'POST', '/servers/s1/action', { rebuild: { imageRef: 'nope' } })).statusCode).toBe(400);
    expect((await call('bob', 'POST', '/servers/s1/action', { resize: { flavorRef: 'm1' } })).statusCode).toBe(404);
    expect((await create({ name: '   ' })).statusCode).toBe(400);
    expect((await create({ name: 'x'.repeat(256) })).statusCode).toBe(400);
  });

  it('list: changes-since must be ISO 8601 (400 otherwise); limit and marker 400 when malformed or unknown', async () => {
    expect((await call('alice', 'GET', '/servers?changes-since=2011/01/01')).statusCode).toBe(400);
    expect((await call('alice', 'GET', '/servers/detail?changes-since=2011-01-01T00:00:00Z')).json().servers).toHaveLength(1);
    expect((await call('alice', 'GET', '/servers?limit=-1')).statusCode).toBe(400);
    const marker = await call('alice', 'GET', '/servers?marker=nope');
    expect([marker.statusCode, marker.json().badRequest.message]).toEqual([400, 'marker [nope] not found']);
  });

  it('images proxy: list, detail (Nova status, progress, minRam/minDisk, metadata, size, server link), show, delete, metadata', async () => {
    expect((await call('alice', 'GET', '/images')).json().images.map((i: { id: string; links: unknown[] }) => [i.id, i.links.length])).toEqual([['snap-1', 3], ['img-1', 3]]);
    const detail = (await call('alice', 'GET', '/images/detail')).json().images;
    expect(detail[1]).toMatchObject({ id: 'img-1', status: 'ACTIVE', progress: 100, minRam: 64, minDisk: 1, metadata: { os_distro: 'cirros' }, 'OS-EXT-IMG-SIZE:size': 1024, created: '2026-01-01T00:00:00Z' });
    expect(detail[1]).not.toHaveProperty('server');
    expect(detail[0]).toMatchObject({ id: 'snap-1', status: 'SAVING', progress: 25, server: { id: 's1' } });
    expect((await call('alice', 'GET', '/images/detail?status=ACTIVE')).json().images.map((i: { id: string }) => i.id)).toEqual(['img-1']);
    expect((await call('alice', 'GET', '/images?server=s1')).json().images.map((i: { id: string }) => i.id)).toEqual(['snap-1']);
    const byUrl = encodeURIComponent('http://api.test:5080/compute/v2.1/servers/s1');
    expect((await call('alice', 'GET', `/images/detail?server=${byUrl}`)).json().images.map((i: { id: string }) => i.id)).toEqual(['snap-1']);
    expect((await call('alice', 'GET', '/images?limit=1')).json().images_links[0].href).toBe('http://api.test:5080/compute/v2.1/images?limit=1&marker=snap-1');
    expect((await call('alice', 'GET', '/images/img-1')).json().image.links[2]).toEqual({ rel: 'alternate', type: 'application/vnd.openstack.image', href: 'http://api.test:5080/image/v2/images/img-1' });
    expect((await call('alice', 'GET', '/images/nope')).statusCode).toBe(404);
    expect((await call('alice', 'DELETE', '/images/img-1')).statusCode).toBe(204);
    expect((await call('alice', 'DELETE', '/images/protected')).statusCode).toBe(403);
    expect((await call('', 'GET', '/images')).statusCode).toBe(401);
    expect((await call('alice', 'GET', '/images/img-1/metadata')).json()).toEqual({ metadata: { os_distro: 'cirros' } });
    expect((await call('alice', 'POST', '/images/img-1/metadata', { metadata: { a: '1' } })).json()).toEqual({ metadata: { os_distro: 'cirros', a: '1' } });
    expect((await call('alice', 'PUT', '/images/img-1/metadata', { metadata: { b: '2' } })).json()).toEqual({ metadata: { b: '2' } });
    expect((await call('alice', 'GET', '/images/img-1/metadata/b')).json()).toEqual({ meta: { b: '2' } });
    expect((await call('alice', 'PUT', '/images/img-1/metadata/c', { meta: { c: '3' } })).json()).toEqual({ meta: { c: '3' } });
    expect((await call('alice', 'PUT', '/images/img-1/metadata/c', { meta: { d: '3' } })).statusCode).toBe(400);
    expect((await call('alice', 'DELETE', '/images/img-1/metadata/c')).statusCode).toBe(204);
    expect((await call('alice', 'GET', '/images/img-1/metadata/c')).statusCode).toBe(404);
  });

  it('versions: the root lists v2.0 (SUPPORTED, at /v2) and v2.1 (CURRENT); /v2 serves the same API without microversion headers', async () => {
    const root = (await requestAs(app, { url: '/compute/' }, '')).json();
    expect(root.versions.map((v: { id: string; status: string; links: { href: string }[] }) => [v.id, v.status, v.links[0].href])).toEqual([
      ['v2.0', 'SUPPORTED', 'http://api.test:5080/compute/v2/'],
      ['v2.1', 'CURRENT', 'http://api.test:5080/compute/v2.1/'],
    ]);
    const v2 = await requestAs(app, { url: '/compute/v2/' }, '');
    expect(v2.json().version).toMatchObject({ id: 'v2.0', version: '', min_version: '' });
    const list = await requestAs(app, { url: '/compute/v2/os-keypairs' }, 'alice');
    expect(list.statusCode).toBe(200);
    expect(list.headers).not.toHaveProperty('x-openstack-nova-api-version');
    expect((await requestAs(app, { url: '/compute/v2/servers/s1' }, 'alice')).json().server.links[0].href).toBe('http://api.test:5080/compute/v2/servers/s1');
  });
});
