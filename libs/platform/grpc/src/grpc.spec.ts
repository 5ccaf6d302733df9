import { identity, image } from '@minicloud/proto';
import { InvalidArgumentError, NotFoundError, UnauthenticatedError, PermissionDeniedError } from '@minicloud/domain-errors';
import { createTokenVerifier, expandRoles, generateSigningKey, RevocationList, signToken } from '@minicloud/platform-auth';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { Counter } from '@minicloud/platform-metrics';
import { startGrpcServer, service, type DeniedCall, type RunningGrpcServer } from './server';
import { createServiceClient } from './client';

describe('gRPC server and client', () => {
  let server: RunningGrpcServer;
  let token: string;
  let readerToken: string;
  const metrics = createProcessMetrics({ service: 'test' });
  const denied: DeniedCall[] = [];
  const deniedCounter = new Counter({ name: 'test_auth_denied_total', help: 'h', labelNames: ['grpc_method', 'reason'] as const, registers: [] });

  beforeAll(async () => {
    const key = await generateSigningKey(Date.now());
    const verifier = createTokenVerifier({
      keys: async () => [{ kid: key.kid, jwk: key.publicJwk }],
      revocations: new RevocationList(),
      nowMs: () => Date.now(),
    });
    const claims = { userId: 'u', userName: 'a', projectId: 'p', projectName: 'demo', domainId: 'default' };
    token = (await signToken(key, { ...claims, roles: expandRoles(['member']) }, { nowMs: Date.now(), ttlSeconds: 60 })).token;
    readerToken = (await signToken(key, { ...claims, roles: ['reader'] }, { nowMs: Date.now(), ttlSeconds: 60 })).token;
    const images = new Map<string, Buffer>();
    server = await startGrpcServer({
      port: 0,
      logger: silentLogger(),
      metrics: metrics.grpc,
      verifier,
      deniedCounter,
      onDenied: (d) => void denied.push(d),
      services: [
        service({
          definition: image.ImageServiceService,
          handlers: {
            createImage: async (req, ctx) => {
              if (!req.name) throw new InvalidArgumentError('name', 'must not be empty');
              return { image: { id: 'img-1', name: req.name, ownerProjectId: ctx.auth?.projectId } };
            },
            getImage: async (req) => {
              throw new NotFoundError('image', req.imageId);
            },
            uploadImage: async (reqs) => {
              let id = '';
              const chunks: Buffer[] = [];
              for await (const r of reqs) {
                if (r.imageId) id = r.imageId;
                if (r.chunk) chunks.push(Buffer.from(r.chunk));
              }
              images.set(id, Buffer.concat(chunks));
              return { image: { id, sizeBytes: Buffer.concat(chunks).length } };
            },
            downloadImage: async function* (req) {
              const data = images.get(req.imageId);
              if (!data) throw new NotFoundError('image', req.imageId);
              yield { chunk: data.subarray(0, 1) };
              for (let i = 0; i < data.length; i += 4) yield { chunk: data.subarray(i, i + 4) };
            },
            listImages: async () => ({ images: [] }),
            updateImage: async () => ({}),
            deleteImage: async () => ({}),
            deactivateImage: async () => ({}),
            reactivateImage: async () => ({}),
            addImageMember: async () => ({}),
            updateImageMember: async () => ({}),
            removeImageMember: async () => ({}),
            listImageMembers: async () => ({}),
          },
        }),
      ],
    });
  });
  afterAll(() => server.shutdown());

  it('round-trips partial requests and responses with auth context', async () => {
    const c = createServiceClient(image.ImageServiceService, server.address, { token: () => token });
    const res = await c.createImage({ name: 'cirros' });
    expect(res.image).toMatchObject({ id: 'img-1', name: 'cirros', ownerProjectId: 'p', sizeBytes: 0 });
    c.close();
  });

  it('maps typed errors to statuses and back', async () => {
    const c = createServiceClient(image.ImageServiceService, server.address, { token: () => token });
    await expect(c.createImage({ name: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name', message: 'invalid name: must not be empty' });
    await expect(c.getImage({ imageId: 'nope' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(c.getImage({ imageId: 'nope' })).rejects.toMatchObject({ resourceType: 'image', resourceId: 'nope' });
    const anon = createServiceClient(image.ImageServiceService, server.address);
    await expect(anon.listImages({})).rejects.toBeInstanceOf(UnauthenticatedError);
    const bad = createServiceClient(image.ImageServiceService, server.address, { token: () => 'x.y.z' });
    await expect(bad.listImages({})).rejects.toBeInstanceOf(UnauthenticatedError);
    const reader = createServiceClient(image.ImageServiceService, server.address, { token: () => readerToken });
    await expect(reader.listImages({})).resolves.toBeTruthy();
    await expect(reader.createImage({ name: 'x' })).rejects.toBeInstanceOf(PermissionDeniedError);
    [c, anon, bad, reader].forEach((x) => x.close());
  });

  it('counts and reports every call the interceptor refuses, with the reason', async () => {
    denied.length = 0;
    const anon = createServiceClient(image.ImageServiceService, server.address);
    const bad = createServiceClient(image.ImageServiceService, server.address, { token: () => 'x.y.z' });
    const reader = createServiceClient(image.ImageServiceService, server.address, { token: () => readerToken });
    await expect(anon.deleteImage({ imageId: 'a' })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(bad.getImage({ imageId: 'a' })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(reader.deactivateImage({ imageId: 'a' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(reader.getImage({ imageId: 'a' })).rejects.toBeInstanceOf(NotFoundError); // allowed: not a denial
    expect(denied.map((d) => [d.method, d.reason, d.rule])).toEqual([
      ['deleteImage', 'missing_token', 'project_member'],
      ['getImage', 'malformed_token', 'project_reader'],
      ['deactivateImage', 'role_required', 'admin_api'],
    ]);
    expect(denied[2]).toMatchObject({ path: '/minicloud.image.v1.ImageService/DeactivateImage', auth: { userId: 'u', projectId: 'p' } });
    expect((await deniedCounter.get()).values.map((v) => [v.labels.grpc_method, v.labels.reason, v.value])).toEqual(
      expect.arrayContaining([['deleteImage', 'missing_token', 1], ['getImage', 'malformed_token', 1], ['deactivateImage', 'role_required', 1]]),
    );
    [anon, bad, reader].forEach((x) => x.close());
  });

  it('streams both ways', async () => {
    const c = createServiceClient(image.ImageServiceService, server.address, { token: () => token });
    const up = await c.uploadImage([{ imageId: 'i1' }, { chunk: Buffer.from('hello ') }, { chunk: Buffer.from('world') }]);
    expect(up.image?.sizeBytes).toBe(11);
    const parts: Buffer[] = [];
    for await (const m of c.downloadImage({ imageId: 'i1' })) parts.push(Buffer.from(m.chunk));
    expect(Buffer.concat(parts).toString()).toBe('hhello world');
    expect(parts.length).toBe(4);
    c.close();
  });

  it('ends a server stream with the typed error at once (not at the deadline)', async () => {
    const c = createServiceClient(image.ImageServiceService, server.address, { token: () => token, deadlineMs: 5000 });
    const started = Date.now();
    const read = async () => {
      for await (const _ of c.downloadImage({ imageId: 'missing' })) void _;
    };
    await expect(read()).rejects.toMatchObject({ code: 'NOT_FOUND', resourceType: 'image', resourceId: 'missing' });
    expect(Date.now() - started).toBeLessThan(2000);
    c.close();
  });

  it('records per-method metrics', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/minicloud_grpc_server_handled_total\{.*grpc_method="createImage".*grpc_code="OK".*\} \d+/);
    expect(text).toMatch(/grpc_code="INVALID_ARGUMENT"/);
    expect(text).toMatch(/minicloud_grpc_server_handling_seconds_bucket/);
  });

  it('fails clearly when the server is down (UNAVAILABLE after retries for reads)', async () => {
    const c = createServiceClient(identity.IdentityServiceService, '127.0.0.1:1', { retryBaseMs: 1, maxAttempts: 2, deadlineMs: 500 });
    await expect(c.getCatalog({})).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    c.close();
  });
});
