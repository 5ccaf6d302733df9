import { importJWK, jwtVerify } from 'jose';
import { events, identity } from '@minicloud/proto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { RevocationList } from '@minicloud/platform-auth';
import { connectBus, Subjects, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { FakeClock, startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { identityConfigSchema } from './config';
import { legacyScryptHash } from './password-hash';
import { wireIdentity } from './wire';

type Client = ServiceClient<typeof identity.IdentityServiceService>;

jest.setTimeout(60_000);

let redisServer: ServerHandle;
let natsServer: ServerHandle;
let redis: Redis;
let bus: Bus;
let server: RunningGrpcServer;
let client: Client;
let metrics: ReturnType<typeof createProcessMetrics>;
const abort = new AbortController();
const revokedEvents: events.TokenRevoked[] = [];
/** Identity's clock: reservation expiry is driven by it, not by waiting. Starts at the wall clock (tokens are checked by jose too). */
const clock = new FakeClock(Date.now());

const login = (userName: string, password: string, projectName = '') =>
  client.authenticate({ password: { userName, password, domainName: 'default' }, projectName });
const as = (token: string) => ({ token });

beforeAll(async () => {
  [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
  const config = loadConfig(identityConfigSchema, { REDIS_URL: redisServer.url, NATS_URL: natsServer.url, GRPC_PORT: '0',
    ADMIN_PASSWORD: 'adm1n',
    SERVICE_PASSWORD: 'minicloud-service-secret',
    SERVICE_ACCOUNTS: JSON.stringify([
      { name: 'svc-image', password: 'image-secret-1', role: 'admin' },
      { name: 'agent-7', password: 'agent-secret-7', role: 'compute_agent', hostIds: ['host-7', 'host-7b'] },
      // A service account given host ids by mistake does not carry them (it is admin anyway).
      { name: 'svc-odd', password: 'odd-secret-1', role: 'admin', hostIds: ['host-9'] },
    ]),
  });
  const logger = silentLogger();
  redis = await connectRedis({ url: redisServer.url, name: 'identity-test', logger });
  bus = await connectBus({ url: natsServer.url, name: 'identity-test', logger });
  const revocations = new RevocationList();
  bus.subscribe(Subjects.tokenRevoked, events.TokenRevoked, (ev) => void revokedEvents.push(ev));
  metrics = createProcessMetrics({ service: 'identity' });
  const wire = wireIdentity(config, { clock });
  // seeding twice must be harmless (replicas, restarts)
  await wire({ config, logger, metrics: createProcessMetrics({ service: 'identity' }), redis, bus, revocations });
  const wiring = await wire({ config, logger, metrics, redis, bus, revocations });
  server = await startGrpcServer({ port: 0, services: wiring.services, logger, verifier: wiring.verifier });
  await wiring.onListening?.(server);
  for (const r of wiring.runnables ?? []) void r.start(abort.signal);
  client = createServiceClient(identity.IdentityServiceService, server.address);
});

afterAll(async () => {
  abort.abort();
  client?.close();
  await server?.shutdown(1000);
  await bus?.close();
  await redis?.quit();
  await Promise.all([redisServer?.stop(), natsServer?.stop()]);
});

describe('identity service', () => {
  it('seeded admin logs in; the token verifies with GetPublicKeys keys and carries expanded roles', async () => {
    const res = await login('admin', 'adm1n');
    expect(res.info).toMatchObject({ userName: 'admin', projectName: 'admin', domainId: 'default' });
    expect([...(res.info?.roles ?? [])].sort()).toEqual(['admin', 'member', 'reader']);
    const { keys } = await client.getPublicKeys({});
    const [kid] = keys.map((k) => k.kid);
    const jwk = JSON.parse(keys[0].jwkJson);
    expect(jwk).not.toHaveProperty('d'); // never the private half
    const { payload } = await jwtVerify(res.token, await importJWK(jwk, 'EdDSA'));
    expect(payload).toMatchObject({ sub: res.info?.userId, project_id: res.info?.projectId });
    expect(kid).toBeTruthy();
    expect(res.catalog.find((e) => e.serviceType === 'identity')?.url).toBe(server.address);
    expect((await client.validateToken({}, as(res.token))).info?.tokenId).toBe(res.info?.tokenId);
    const text = await metrics.registry.getSingleMetricAsString('minicloud_identity_authentications_total');
    expect(text).toMatch(/outcome="success"[^\n]* [1-9]/);
  });

  it('the service user logs in to the service project', async () => {
    const res = await login('minicloud', 'minicloud-service-secret', 'service');
    expect(res.info?.roles).toContain('admin');
  });

  it("each service and agent account is seeded with its own password and role: a service's admin, an agent's compute_agent (reader, not admin)", async () => {
    expect((await login('svc-image', 'image-secret-1', 'service')).info?.roles).toContain('admin');
    const agentLogin = await login('agent-7', 'agent-secret-7', 'service');
    expect([...(agentLogin.info?.roles ?? [])].sort()).toEqual(['compute_agent', 'reader']);
    // The agent's hosts are bound to its account and carried by its tokens (password and token methods).
    expect(agentLogin.info?.hostIds).toEqual(['host-7', 'host-7b']);
    expect((await client.authenticate({ token: { token: agentLogin.token }, projectName: 'service' })).info?.hostIds).toEqual(['host-7', 'host-7b']);
    expect((await client.validateToken({}, as(agentLogin.token))).info?.hostIds).toEqual(['host-7', 'host-7b']);
    expect((await login('svc-odd', 'odd-secret-1', 'service')).info?.hostIds).toEqual([]);
    expect((await login('svc-image', 'image-secret-1', 'service')).info?.hostIds).toEqual([]);
    await expect(login('agent-7', 'image-secret-1', 'service')).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(client.listRevocations({}, as(agentLogin.token))).resolves.toBeTruthy();
    await expect(client.createUser({ name: 'x', password: 'x-password-1' }, as(agentLogin.token))).rejects.toThrow(/requires a cloud admin/);
  });

  it('wrong password and unknown user fail alike with UNAUTHENTICATED "invalid credentials"', async () => {
    const wrong = await login('admin', 'nope').catch((e) => e);
    const unknown = await login('ghost', 'adm1n').catch((e) => e);
    expect(wrong).toBeInstanceOf(UnauthenticatedError);
    expect(unknown).toBeInstanceOf(UnauthenticatedError);
    expect(wrong.message).toBe('invalid credentials');
    expect(unknown.message).toBe(wrong.message);
    await expect(client.createProject({ name: 'x' })).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  describe('with a member user', () => {
    let admin: string;
    let demo: identity.Project;
    let alice: identity.User;
    let aliceToken: string;

    beforeAll(async () => {
      admin = (await login('admin', 'adm1n')).token;
      demo = (await client.createProject({ name: 'demo', description: 'demo' }, as(admin))).project as identity.Project;
      alice = (await client.createUser({ name: 'alice', password: 'pw-alice', defaultProjectId: demo.id }, as(admin))).user as identity.User;
      await client.assignRole({ assignment: { roleName: 'member', userId: alice.id, projectId: demo.id } }, as(admin));
      aliceToken = (await login('alice', 'pw-alice')).token;
    });

    it('scopes to the default project with member+reader; a project without a role is refused (401)', async () => {
      const info = (await client.validateToken({ token: aliceToken }, as(admin))).info;
      expect(info).toMatchObject({ projectId: demo.id, userName: 'alice' });
      expect([...(info?.roles ?? [])].sort()).toEqual(['member', 'reader']);
      await expect(login('alice', 'pw-alice', 'admin')).rejects.toThrow(UnauthenticatedError);
    });

    it('duplicate names, missing fields and unknown ids give typed errors', async () => {
      await expect(client.createProject({ name: 'demo' }, as(admin))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(client.createUser({ name: 'bob' }, as(admin))).rejects.toMatchObject({ field: 'password' });
      await expect(client.getProject({ projectId: 'nope' }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('a member cannot create projects; sees only its own projects and user', async () => {
      await expect(client.createProject({ name: 'evil' }, as(aliceToken))).rejects.toBeInstanceOf(PermissionDeniedError);
      expect((await client.listProjects({}, as(aliceToken))).projects.map((p) => p.name)).toEqual(['demo']);
      expect((await client.listUsers({}, as(aliceToken))).users.map((u) => u.name)).toEqual(['alice']);
      const adminProject = (await client.listProjects({}, as(admin))).projects.find((p) => p.name === 'admin') as identity.Project;
      await expect(client.getProject({ projectId: adminProject.id }, as(aliceToken))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('roles via groups count', async () => {
      const bob = (await client.createUser({ name: 'bob', password: 'pw-bob' }, as(admin))).user as identity.User;
      const { groupId } = await client.createGroup({ name: 'readers' }, as(admin));
      await client.addUserToGroup({ groupId, userId: bob.id }, as(admin));
      await client.assignRole({ assignment: { roleName: 'reader', groupId, projectId: demo.id } }, as(admin));
      expect((await login('bob', 'pw-bob', 'demo')).info?.roles).toEqual(['reader']);
      // no scope and no default project: Keystone's unscoped token, no project and no roles
      const unscoped = await login('bob', 'pw-bob');
      expect(unscoped.info).toMatchObject({ userId: bob.id, projectId: '', roles: [] });
      // it lists its projects and re-scopes with the token method; alone it may do nothing else
      expect((await client.listProjects({}, as(unscoped.token))).projects.map((p) => p.name)).toEqual(['demo']);
      expect((await client.authenticate({ token: { token: unscoped.token }, projectName: 'demo' })).info?.roles).toEqual(['reader']);
      expect((await client.authenticate({ token: { token: unscoped.token } })).info?.projectId).toBe('');
      await expect(client.listRoles({}, as(unscoped.token))).rejects.toBeInstanceOf(PermissionDeniedError);
      // asked for explicitly, even with a default project
      expect((await client.authenticate({ password: { userName: 'alice', password: 'pw-alice', domainName: 'default' }, unscoped: true })).info?.projectId).toBe('');
    });

    it('token method: a valid token buys one of the same user and scope, expiring no later; a bad one is refused', async () => {
      const first = await login('alice', 'pw-alice');
      const again = await client.authenticate({ token: { token: first.token } });
      expect(again.info).toMatchObject({ userId: alice.id, projectId: demo.id });
      expect(again.info!.tokenId).not.toBe(first.info!.tokenId);
      expect(again.info!.expiresAt!.getTime()).toBeLessThanOrEqual(first.info!.expiresAt!.getTime());
      // re-scoping to a project the user has no role on is refused like a password login would be
      await expect(client.authenticate({ token: { token: first.token }, projectName: 'admin' })).rejects.toBeInstanceOf(UnauthenticatedError);
      await expect(client.authenticate({ token: { token: 'not-a-token' } })).rejects.toThrow('invalid credentials');
    });

    it('password by user id, and user and project domains by id', async () => {
      const byId = await client.authenticate({ password: { userId: alice.id, password: 'pw-alice' }, projectName: 'demo', projectDomainId: 'default' });
      expect(byId.info).toMatchObject({ userName: 'alice', projectId: demo.id });
      const byDomainId = await client.authenticate({ password: { userName: 'alice', password: 'pw-alice', domainId: 'default' } });
      expect(byDomainId.info?.userId).toBe(alice.id);
      await expect(client.authenticate({ password: { userName: 'alice', password: 'pw-alice', domainId: 'nope' } })).rejects.toThrow('invalid credentials');
      // Keystone's default domain is named "Default"; names match without regard to case.
      const byDomainName = await client.authenticate({ password: { userName: 'alice', password: 'pw-alice', domainName: 'Default' }, projectName: 'demo', projectDomainName: 'DEFAULT' });
      expect(byDomainName.info).toMatchObject({ userId: alice.id, projectId: demo.id });
      await expect(client.authenticate({ password: { userId: alice.id, password: 'wrong' } })).rejects.toThrow('invalid credentials');
    });

    it('revocation: logout refuses the token at once and publishes token.revoked', async () => {
      const t = await login('alice', 'pw-alice');
      await client.revokeToken({}, as(t.token));
      await expect(client.validateToken({}, as(t.token))).rejects.toThrow(/revoked/);
      // a bad subject token is not found; the caller's own token was fine
      await expect(client.validateToken({ token: t.token }, as(admin))).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/revoked/) });
      await expect(client.revokeToken({ token: 'not-a-token' }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
      await waitFor(() => revokedEvents.some((e) => e.tokenId === t.info?.tokenId));
      // someone else's token: only admin
      const other = await login('admin', 'adm1n');
      await expect(client.revokeToken({ token: other.token }, as(aliceToken))).rejects.toBeInstanceOf(PermissionDeniedError);
    });

    it('application credential: secret once, roles a subset, authenticates as its user', async () => {
      await expect(client.createApplicationCredential({ name: 'ci', roles: ['admin'] }, as(aliceToken))).rejects.toMatchObject({ field: 'roles' });
      const { credential, secret } = await client.createApplicationCredential({ name: 'ci', roles: ['reader'] }, as(aliceToken));
      const res = await client.authenticate({ applicationCredential: { id: credential?.id, secret } });
      expect(res.info).toMatchObject({ userId: alice.id, projectId: demo.id, roles: ['reader'] });
      await expect(client.authenticate({ applicationCredential: { id: credential?.id, secret: 'x' } })).rejects.toThrow('invalid credentials');
      expect((await client.listApplicationCredentials({}, as(aliceToken))).credentials).toHaveLength(1);
    });

    it('disabling a user revokes their tokens and refuses new logins', async () => {
      const carol = (await client.createUser({ name: 'carol', password: 'pw-carol', defaultProjectId: demo.id }, as(admin))).user as identity.User;
      await client.assignRole({ assignment: { roleName: 'member', userId: carol.id, projectId: demo.id } }, as(admin));
      const t = (await login('carol', 'pw-carol')).token;
      await client.updateUser({ userId: carol.id, enabled: false }, as(admin));
      await expect(client.validateToken({}, as(t))).rejects.toThrow(/revoked/);
      await expect(login('carol', 'pw-carol')).rejects.toThrow('user disabled');
      await waitFor(() => revokedEvents.some((e) => e.userId === carol.id && !!e.revokedBefore));
    });

    it('quota: 50 concurrent reservations of 1 instance against limit 10 -> exactly 10 succeed', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, () => client.reserveQuota({ projectId: demo.id, deltas: { instances: 1, cores: 1 } }, as(admin))),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(ok).toHaveLength(10);
      expect(refused.every((r) => r.reason instanceof ResourceExhaustedError)).toBe(true);
      expect(refused[0].reason.message).toBe('quota exceeded for instances: limit 10, in use 10, requested 1');
      const q = (await client.getQuota({}, as(aliceToken))).quota;
      expect(q?.reserved).toMatchObject({ instances: 10, cores: 10 });
      // commit one, roll back the rest -> in_use 1, reserved 0
      const ids = ok.map((r) => (r as PromiseFulfilledResult<identity.ReserveQuotaResponse>).value.reservationId);
      await client.commitQuotaReservation({ reservationId: ids[0] }, as(admin));
      await Promise.all(ids.slice(1).map((reservationId) => client.rollbackQuotaReservation({ reservationId }, as(admin))));
      await expect(client.commitQuotaReservation({ reservationId: ids[1] }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
      const after = (await client.getQuota({ projectId: demo.id }, as(admin))).quota;
      expect(after?.inUse).toMatchObject({ instances: 1, cores: 1 });
      expect(after?.reserved).toMatchObject({ instances: 0, cores: 0 });
      await client.releaseQuota({ projectId: demo.id, deltas: { instances: 1, cores: 1 } }, as(admin));
      expect((await client.getQuota({}, as(aliceToken))).quota?.inUse).toMatchObject({ instances: 0 });
    });

    it('quota: reserve/commit/rollback/release are service-only; a member is refused and usage stays', async () => {
      const r = await client.reserveQuota({ projectId: demo.id, deltas: { instances: 2, cores: 2 } }, as(admin));
      const committed = await client.reserveQuota({ projectId: demo.id, deltas: { instances: 1, cores: 1 } }, as(admin));
      await client.commitQuotaReservation({ reservationId: committed.reservationId }, as(admin));
      const before = (await client.getQuota({ projectId: demo.id }, as(admin))).quota;
      expect(before?.inUse).toMatchObject({ instances: 1, cores: 1 });
      const attacks = [
        () => client.releaseQuota({ deltas: { instances: 1, cores: 1 } }, as(aliceToken)),
        () => client.releaseQuota({ projectId: demo.id, deltas: { instances: 1, cores: 1 } }, as(aliceToken)),
        () => client.rollbackQuotaReservation({ reservationId: r.reservationId }, as(aliceToken)),
        () => client.commitQuotaReservation({ reservationId: r.reservationId }, as(aliceToken)),
        () => client.reserveQuota({ deltas: { instances: -1 } }, as(aliceToken)),
      ];
      for (const attack of attacks) await expect(attack()).rejects.toBeInstanceOf(PermissionDeniedError);
      expect((await client.getQuota({ projectId: demo.id }, as(admin))).quota).toEqual(before);
      await client.rollbackQuotaReservation({ reservationId: r.reservationId }, as(admin));
      await client.releaseQuota({ projectId: demo.id, deltas: { instances: 1, cores: 1 } }, as(admin));
      expect((await client.getQuota({ projectId: demo.id }, as(admin))).quota?.inUse).toMatchObject({ instances: 0, cores: 0 });
    });

    it('quota: all or nothing, expiry, admin-only limits and other projects', async () => {
      await client.setQuota({ projectId: demo.id, limits: { cores: 2 } }, as(admin));
      await expect(client.reserveQuota({ projectId: demo.id, deltas: { instances: 1, cores: 3 } }, as(admin))).rejects.toThrow('quota exceeded for cores: limit 2, in use 0, requested 3');
      expect((await client.getQuota({}, as(aliceToken))).quota?.reserved).toMatchObject({ instances: 0, cores: 0 });
      await expect(client.reserveQuota({ projectId: demo.id, deltas: { gpus: 1 } }, as(admin))).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(client.setQuota({ projectId: demo.id, limits: { cores: 5 } }, as(aliceToken))).rejects.toBeInstanceOf(PermissionDeniedError);
      const adminProject = (await client.listProjects({}, as(admin))).projects.find((p) => p.name === 'admin') as identity.Project;
      await expect(client.reserveQuota({ projectId: adminProject.id, deltas: { instances: 1 } }, as(aliceToken))).rejects.toBeInstanceOf(PermissionDeniedError);
      await client.reserveQuota({ projectId: demo.id, deltas: { cores: 2 }, expireSeconds: 1 }, as(admin));
      await expect(client.reserveQuota({ projectId: demo.id, deltas: { cores: 1 } }, as(admin))).rejects.toBeInstanceOf(ResourceExhaustedError);
      // not yet expired at 999 ms; at 1001 ms the reservation is rolled back lazily on the next reserve
      clock.advance(999);
      await expect(client.reserveQuota({ projectId: demo.id, deltas: { cores: 1 } }, as(admin))).rejects.toBeInstanceOf(ResourceExhaustedError);
      clock.advance(2);
      await expect(client.reserveQuota({ projectId: demo.id, deltas: { cores: 1 } }, as(admin))).resolves.toMatchObject({ reservationId: expect.any(String) });
      expect((await client.getQuota({}, as(aliceToken))).quota?.reserved).toMatchObject({ cores: 1 });
    });

    it('quota reset: the named resources return to their defaults, in one call with new limits; admin only; unknown names refused', async () => {
      await client.setQuota({ projectId: demo.id, limits: { volumes: 15, gigabytes: 20 } }, as(admin));
      await expect(client.setQuota({ projectId: demo.id, limits: {}, reset: ['volumes'] }, as(aliceToken))).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(client.setQuota({ projectId: demo.id, limits: {}, reset: ['volumes', 'gpus'] }, as(admin))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'reset.gpus' });
      expect((await client.getQuota({ projectId: demo.id }, as(admin))).quota?.limits).toMatchObject({ volumes: 15, gigabytes: 20 });
      const after = await client.setQuota({ projectId: demo.id, limits: { gigabytes: 30 }, reset: ['volumes', 'gigabytes'] }, as(admin));
      expect(after.quota?.limits).toMatchObject({ volumes: 10, gigabytes: 30 });
      await client.setQuota({ projectId: demo.id, limits: {}, reset: ['gigabytes'] }, as(admin));
      expect((await client.getQuota({ projectId: demo.id }, as(admin))).quota?.limits).toMatchObject({ volumes: 10, gigabytes: 1000 });
    });

    it('Keystone service catalog: seeded once; writes admin-only with cascades; region cycles and regions with endpoints refused; anonymous refused', async () => {
      const seed = {
        regions: [{ id: 'RegionOne', description: '', parentRegionId: '' }],
        services: [{ id: 'svc-compute', type: 'compute', name: 'nova', description: '', enabled: true }],
        endpoints: [{ id: 'ep-compute', serviceId: 'svc-compute', regionId: 'RegionOne', interface: 'public', url: '$(public_url)s/compute/v2.1', enabled: true }],
      };
      expect(await client.listServiceCatalog({}, as(aliceToken))).toEqual({ regions: [], services: [], endpoints: [] });
      await expect(client.seedServiceCatalog(seed, as(aliceToken))).rejects.toBeInstanceOf(PermissionDeniedError);
      expect(await client.seedServiceCatalog(seed, as(admin))).toEqual({ seeded: true });
      expect(await client.seedServiceCatalog({ ...seed, services: [] }, as(admin))).toEqual({ seeded: false });
      expect(await client.listServiceCatalog({}, as(aliceToken))).toEqual(seed);
      await expect(client.listServiceCatalog({})).rejects.toBeInstanceOf(UnauthenticatedError);

      const { service } = await client.createCatalogService({ type: 'dns', name: 'designate', description: '', enabled: true }, as(admin));
      await expect(client.createCatalogEndpoint({ serviceId: service!.id, regionId: 'RegionTwo', interface: 'public', url: 'http://dns:9001', enabled: true }, as(admin))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'region_id' });
      const { endpoint } = await client.createCatalogEndpoint({ serviceId: service!.id, regionId: 'RegionTwo', interface: 'public', url: 'http://dns:9001', enabled: true, createRegion: true }, as(admin));
      await expect(client.createCatalogEndpoint({ serviceId: 'nope', regionId: '', interface: 'public', url: 'http://x', enabled: true }, as(admin))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'service_id' });
      await expect(client.createCatalogEndpoint({ serviceId: service!.id, regionId: '', interface: 'sideways', url: 'http://x', enabled: true }, as(admin))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'interface' });
      await client.createRegion({ id: 'RegionTwoA', description: 'a', parentRegionId: 'RegionTwo' }, as(admin));
      await expect(client.createRegion({ id: 'RegionTwoA', description: '', parentRegionId: '' }, as(admin))).rejects.toBeInstanceOf(AlreadyExistsError);
      await expect(client.createRegion({ id: 'R3', description: '', parentRegionId: 'nope' }, as(admin))).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'region' });
      await expect(client.updateRegion({ regionId: 'RegionTwo', parentRegionId: 'RegionTwoA' }, as(admin))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'parent_region_id' });
      await expect(client.deleteRegion({ regionId: 'RegionTwo' }, as(admin))).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'region_has_endpoints' });

      for (const attempt of [
        () => client.createRegion({ id: 'R9', description: '', parentRegionId: '' }, as(aliceToken)),
        () => client.updateRegion({ regionId: 'RegionOne', description: 'x' }, as(aliceToken)),
        () => client.deleteRegion({ regionId: 'RegionTwoA' }, as(aliceToken)),
        () => client.createCatalogService({ type: 'x', name: '', description: '', enabled: true }, as(aliceToken)),
        () => client.updateCatalogService({ serviceId: service!.id, enabled: false }, as(aliceToken)),
        () => client.deleteCatalogService({ serviceId: service!.id }, as(aliceToken)),
        () => client.createCatalogEndpoint({ serviceId: service!.id, regionId: '', interface: 'public', url: 'http://evil', enabled: true }, as(aliceToken)),
        () => client.updateCatalogEndpoint({ endpointId: endpoint!.id, url: 'http://evil' }, as(aliceToken)),
        () => client.deleteCatalogEndpoint({ endpointId: endpoint!.id }, as(aliceToken)),
      ]) {
        await expect(attempt()).rejects.toBeInstanceOf(PermissionDeniedError);
      }
      await expect(client.deleteCatalogEndpoint({ endpointId: endpoint!.id })).rejects.toBeInstanceOf(UnauthenticatedError);

      expect((await client.updateCatalogEndpoint({ endpointId: endpoint!.id, url: 'http://dns:9002', enabled: false }, as(admin))).endpoint).toMatchObject({ url: 'http://dns:9002', enabled: false, regionId: 'RegionTwo' });
      await expect(client.updateCatalogEndpoint({ endpointId: endpoint!.id, regionId: 'RegionNine' }, as(admin))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'region_id' });
      expect((await client.updateCatalogEndpoint({ endpointId: endpoint!.id, regionId: 'RegionNine', createRegion: true }, as(admin))).endpoint).toMatchObject({ regionId: 'RegionNine' });
      await client.updateCatalogEndpoint({ endpointId: endpoint!.id, regionId: 'RegionTwo' }, as(admin));
      await client.deleteRegion({ regionId: 'RegionNine' }, as(admin));
      expect((await client.updateCatalogService({ serviceId: service!.id, name: 'dns' }, as(admin))).service).toMatchObject({ name: 'dns', type: 'dns', enabled: true });
      await client.deleteCatalogService({ serviceId: service!.id }, as(admin));
      await client.deleteRegion({ regionId: 'RegionTwo' }, as(admin)); // and its child RegionTwoA
      await expect(client.deleteCatalogEndpoint({ endpointId: endpoint!.id }, as(admin))).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'endpoint' });
      expect(await client.listServiceCatalog({}, as(aliceToken))).toEqual(seed);
      // a concurrent burst of writes loses none (compare-and-set of the one document)
      await Promise.all(Array.from({ length: 20 }, (_, i) => client.createRegion({ id: `burst-${i}`, description: '', parentRegionId: '' }, as(admin))));
      expect((await client.listServiceCatalog({}, as(admin))).regions).toHaveLength(21);
    });
  });

  it('rotation: new tokens use the new key, old tokens stay valid, both keys are published', async () => {
    const before = await login('admin', 'adm1n');
    const { kid } = await client.rotateSigningKey({}, as(before.token));
    const after = await login('admin', 'adm1n');
    const header = JSON.parse(Buffer.from(after.token.split('.')[0], 'base64url').toString());
    expect(header.kid).toBe(kid);
    await expect(client.validateToken({}, as(before.token))).resolves.toBeTruthy();
    await expect(client.validateToken({}, as(after.token))).resolves.toBeTruthy();
    const { keys } = await client.getPublicKeys({});
    expect(keys.map((k) => k.kid)).toContain(kid);
    expect(keys).toHaveLength(2);
    expect(keys.find((k) => k.kid !== kid)?.notAfter).toBeInstanceOf(Date);
  });

  it('catalog: RegisterEndpoint upserts by service type and interface (admin only)', async () => {
    const admin = (await login('admin', 'adm1n')).token;
    await client.registerEndpoint({ endpoint: { serviceType: 'image', url: '127.0.0.1:5001' } }, as(admin));
    await client.registerEndpoint({ endpoint: { serviceType: 'image', url: '127.0.0.1:6001' } }, as(admin));
    const images = (await client.getCatalog({})).catalog.filter((e) => e.serviceType === 'image');
    expect(images).toEqual([{ serviceType: 'image', url: '127.0.0.1:6001', region: 'RegionOne', interface: 'public' }]);
    await expect(client.registerEndpoint({ endpoint: { serviceType: 'image', url: 'nope' } }, as(admin))).rejects.toMatchObject({ field: 'endpoint.url' });
  });

  it('catalog: replicas (add_replica) are listed side by side, newest registration first, at most 8', async () => {
    const admin = (await login('admin', 'adm1n')).token;
    const urls = (t: string) => client.getCatalog({}).then((r) => r.catalog.filter((e) => e.serviceType === t).map((e) => e.url));
    await client.registerEndpoint({ endpoint: { serviceType: 'replicated', url: '127.0.0.1:7001' }, addReplica: true }, as(admin));
    await client.registerEndpoint({ endpoint: { serviceType: 'replicated', url: '127.0.0.1:7002' }, addReplica: true }, as(admin));
    expect(await urls('replicated')).toEqual(['127.0.0.1:7002', '127.0.0.1:7001']);
    // The first replica restarts (registers again): it comes first again, not twice.
    await client.registerEndpoint({ endpoint: { serviceType: 'replicated', url: '127.0.0.1:7001' }, addReplica: true }, as(admin));
    expect(await urls('replicated')).toEqual(['127.0.0.1:7001', '127.0.0.1:7002']);
    for (let i = 0; i < 9; i++) await client.registerEndpoint({ endpoint: { serviceType: 'replicated', url: `127.0.0.1:${7100 + i}` }, addReplica: true }, as(admin));
    expect(await urls('replicated')).toHaveLength(8);
    // A plain registration replaces every replica of the type.
    await client.registerEndpoint({ endpoint: { serviceType: 'replicated', url: '127.0.0.1:7999' } }, as(admin));
    expect(await urls('replicated')).toEqual(['127.0.0.1:7999']);
  });

  it('catalog: each region keeps its own endpoint (and replicas) of a type; a bad region is refused', async () => {
    const admin = (await login('admin', 'adm1n')).token;
    const of = (t: string) => client.getCatalog({}).then((r) => r.catalog.filter((e) => e.serviceType === t).map((e) => [e.region, e.url]));
    await client.registerEndpoint({ endpoint: { serviceType: 'regional', url: '127.0.0.1:8001' } }, as(admin));
    await client.registerEndpoint({ endpoint: { serviceType: 'regional', url: '127.0.0.1:9001', region: 'RegionTwo' } }, as(admin));
    expect(await of('regional')).toEqual([['RegionOne', '127.0.0.1:8001'], ['RegionTwo', '127.0.0.1:9001']]);
    // Re-registering in RegionTwo replaces only RegionTwo's endpoint.
    await client.registerEndpoint({ endpoint: { serviceType: 'regional', url: '127.0.0.1:9002', region: 'RegionTwo' } }, as(admin));
    expect(await of('regional')).toEqual([['RegionOne', '127.0.0.1:8001'], ['RegionTwo', '127.0.0.1:9002']]);
    await client.registerEndpoint({ endpoint: { serviceType: 'regionalr', url: '127.0.0.1:8101', region: 'RegionTwo' }, addReplica: true }, as(admin));
    await client.registerEndpoint({ endpoint: { serviceType: 'regionalr', url: '127.0.0.1:8102' }, addReplica: true }, as(admin));
    expect(await of('regionalr')).toEqual([['RegionOne', '127.0.0.1:8102'], ['RegionTwo', '127.0.0.1:8101']]);
    await expect(client.registerEndpoint({ endpoint: { serviceType: 'regional', url: '127.0.0.1:1', region: 'bad region|x' } }, as(admin))).rejects.toMatchObject({ field: 'endpoint.region' });
  });

  it('instance credential: the narrow instance role with instance_id and a signed identity document', async () => {
    const admin = await login('admin', 'adm1n');
    const res = await client.issueInstanceCredential({ instanceId: 'i-1', projectId: admin.info?.projectId, ttlSeconds: 60 }, as(admin.token));
    const info = (await client.validateToken({}, as(res.token))).info;
    expect(info).toMatchObject({ instanceId: 'i-1', projectId: admin.info?.projectId });
    // on the admin project, still no admin (nor member, nor reader) rights
    expect([...(info?.roles ?? [])]).toEqual(['instance']);
    await expect(client.listRoles({}, as(res.token))).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(client.getQuota({}, as(res.token))).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(res.document?.signature).toMatch(/^[\w-]+\.\.[\w-]+$/);
    await expect(client.issueInstanceCredential({ instanceId: 'i-2', projectId: admin.info?.projectId }, as(res.token))).rejects.toBeInstanceOf(PermissionDeniedError);
  });
});

describe("Keystone's behaviours", () => {
  let admin: string;
  let proj: identity.Project;
  const member = async (name: string, project = proj) => {
    const u = (await client.createUser({ name, password: `pw-${name}`, defaultProjectId: project.id }, as(admin))).user as identity.User;
    await client.assignRole({ assignment: { roleName: 'member', userId: u.id, projectId: project.id } }, as(admin));
    return u;
  };

  beforeAll(async () => {
    admin = (await login('admin', 'adm1n')).token;
    proj = (await client.createProject({ name: 'kb' }, as(admin))).project as identity.Project;
  });

  it('an application credential cannot create another, and a password change ends it', async () => {
    const u = await member('erin');
    const { credential, secret } = await client.createApplicationCredential({ name: 'ci' }, as((await login('erin', 'pw-erin')).token));
    const viaCred = (await client.authenticate({ applicationCredential: { id: credential?.id, secret } })).token;
    await expect(client.createApplicationCredential({ name: 'forever' }, as(viaCred))).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await client.listApplicationCredentials({}, as(viaCred))).credentials).toHaveLength(1);
    await client.updateUser({ userId: u.id, password: 'pw-erin-2' }, as(admin));
    await expect(client.authenticate({ applicationCredential: { id: credential?.id, secret } })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(client.validateToken({}, as(viaCred))).rejects.toThrow(/revoked/);
  });

  it("DeleteProject revokes the tokens of the project's members (direct and via a group)", async () => {
    const doomed = (await client.createProject({ name: 'doomed' }, as(admin))).project as identity.Project;
    const frank = await member('frank', doomed);
    const gina = (await client.createUser({ name: 'gina', password: 'pw-gina', defaultProjectId: doomed.id }, as(admin))).user as identity.User;
    const { groupId } = await client.createGroup({ name: 'doomed-members' }, as(admin));
    await client.addUserToGroup({ groupId, userId: gina.id }, as(admin));
    await client.assignRole({ assignment: { roleName: 'member', groupId, projectId: doomed.id } }, as(admin));
    const tokens = [(await login('frank', 'pw-frank')).token, (await login('gina', 'pw-gina')).token];
    await client.deleteProject({ projectId: doomed.id }, as(admin));
    for (const t of tokens) await expect(client.validateToken({}, as(t))).rejects.toThrow(/revoked/);
    await waitFor(() => revokedEvents.some((e) => e.userId === frank.id) && revokedEvents.some((e) => e.userId === gina.id));
  });

  it('an old scrypt hash verifies once and is rehashed to argon2id on login', async () => {
    const u = await member('hank');
    const userKey = (await redis.keys('mc:identity:user:*')).find((k) => k.endsWith(u.id)) as string;
    await redis.hset(userKey, 'password_hash', await legacyScryptHash('pw-old'));
    await login('hank', 'pw-old');
    expect(await redis.hget(userKey, 'password_hash')).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(login('hank', 'pw-old')).resolves.toMatchObject({ info: { userId: u.id } });
    await expect(login('hank', 'pw-older')).rejects.toThrow('invalid credentials');
  });

  it('locks a name after 6 failures for 1800 s after the last one (unknown names too, not the service user); others log in meanwhile', async () => {
    await member('ivy');
    await member('jack');
    const outcomes = async () => {
      const values = (await metrics.registry.getSingleMetric('minicloud_identity_authentications_total')!.get()).values;
      const of = (outcome: string) => values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
      return { invalid: of('invalid_credentials'), locked: of('locked_out') };
    };
    const before = await outcomes();
    // a flood of 1,000 simultaneous guesses: only the first 6 reach password hashing, the rest are refused before it
    const failures = await Promise.allSettled(Array.from({ length: 1000 }, () => login('ivy', 'guess')));
    expect(failures.every((r) => r.status === 'rejected' && r.reason instanceof UnauthenticatedError)).toBe(true);
    expect(await outcomes()).toEqual({ invalid: before.invalid + 6, locked: before.locked + 994 });
    await expect(login('ivy', 'pw-ivy')).rejects.toThrow('account locked');
    for (let i = 0; i < 6; i++) await login('nobody-here', 'guess').catch(() => undefined);
    await expect(login('nobody-here', 'guess')).rejects.toThrow('account locked');
    await expect(login('jack', 'pw-jack')).resolves.toMatchObject({ info: { userName: 'jack' } });
    for (let i = 0; i < 8; i++) await login('minicloud', 'guess', 'service').catch(() => undefined);
    await expect(login('minicloud', 'minicloud-service-secret', 'service')).resolves.toBeTruthy();
    clock.advance(1799_000);
    await expect(login('ivy', 'pw-ivy')).rejects.toThrow('account locked');
    clock.advance(2_000);
    await expect(login('ivy', 'pw-ivy')).resolves.toMatchObject({ info: { userName: 'ivy' } });
  });
});

describe("Keystone's system scope and admin project", () => {
  let admin: string;
  let system: string;
  beforeAll(async () => {
    admin = (await login('admin', 'adm1n', 'admin')).token;
    system = (await client.authenticate({ password: { userName: 'admin', password: 'adm1n', domainName: 'default' }, systemScope: 'all' })).token;
  });

  it('seeds admin (and each service user) with admin on the system; a system token has no project', async () => {
    const info = (await client.validateToken({ token: system }, as(system))).info!;
    expect(info).toMatchObject({ system: 'all', projectId: '', isAdminProject: false });
    expect([...info.roles].sort()).toEqual(['admin', 'member', 'reader']);
    const onAdminProject = (await client.validateToken({ token: admin }, as(admin))).info!;
    expect(onAdminProject).toMatchObject({ system: '', projectName: 'admin', isAdminProject: true });
    const svc = await client.authenticate({ password: { userName: 'svc-image', password: 'image-secret-1', domainName: 'default' }, systemScope: 'all' });
    expect(svc.info).toMatchObject({ system: 'all', userName: 'svc-image' });
    const agent = await client.authenticate({ password: { userName: 'agent-7', password: 'agent-secret-7', domainName: 'default' }, systemScope: 'all' });
    expect([...agent.info!.roles].sort()).toEqual(['compute_agent', 'reader']);
    expect(agent.info!.hostIds).toEqual(['host-7', 'host-7b']);
    const listed = await client.listRoleAssignments({ system: 'all', userId: info.userId }, as(system));
    expect(listed.assignments.map((a) => [a.system, a.roleName, a.projectId])).toEqual([['all', 'admin', '']]);
  });

  it('gives role admin on another project only that project: no cloud-admin call, no other project', async () => {
    const p = (await client.createProject({ name: 'own-admin-proj' }, as(system))).project!;
    const u = (await client.createUser({ name: 'own-admin', password: 'pw-own-admin', defaultProjectId: p.id }, as(system))).user!;
    await client.assignRole({ assignment: { userId: u.id, projectId: p.id, roleName: 'admin' } }, as(system));
    const own = await login('own-admin', 'pw-own-admin', 'own-admin-proj');
    expect(own.info).toMatchObject({ isAdminProject: false, system: '' });
    expect([...own.info!.roles].sort()).toEqual(['admin', 'member', 'reader']);
    const t = as(own.token);
    await expect(client.createProject({ name: 'sneaky' }, t)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(client.assignRole({ assignment: { userId: u.id, projectId: (await client.listProjects({}, as(system))).projects.find((x) => x.name === 'admin')!.id, roleName: 'admin' } }, t)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(client.getQuota({ projectId: own.info!.projectId }, t)).resolves.toBeTruthy();
    const adminProjectId = (await client.validateToken({ token: admin }, as(admin))).info!.projectId;
    await expect(client.getQuota({ projectId: adminProjectId }, t)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(client.getProject({ projectId: adminProjectId }, t)).rejects.toBeInstanceOf(NotFoundError);
    expect((await client.listProjects({}, t)).projects.map((x) => x.name)).toEqual(['own-admin-proj']);
    // no system role: no system-scoped token either
    await expect(client.authenticate({ password: { userName: 'own-admin', password: 'pw-own-admin', domainName: 'default' }, systemScope: 'all' })).rejects.toThrow(/no role on the system/);
    // the system admin can grant a system role, then the user gets a system token; removing it revokes
    await client.assignRole({ assignment: { userId: u.id, system: 'all', roleName: 'reader' } }, as(system));
    const sysReader = await client.authenticate({ password: { userName: 'own-admin', password: 'pw-own-admin', domainName: 'default' }, systemScope: 'all' });
    expect([...sysReader.info!.roles]).toEqual(['reader']);
    await expect(client.createProject({ name: 'sneaky' }, as(sysReader.token))).rejects.toBeInstanceOf(PermissionDeniedError);
    await client.unassignRole({ assignment: { userId: u.id, system: 'all', roleName: 'reader' } }, as(system));
    await expect(client.validateToken({}, as(sysReader.token))).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it('re-scopes with the token method to and from the system; refuses a malformed scope', async () => {
    const fromSystem = await client.authenticate({ token: { token: system } });
    expect(fromSystem.info).toMatchObject({ system: 'all', projectId: '' });
    const toProject = await client.authenticate({ token: { token: system }, projectName: 'admin' });
    expect(toProject.info).toMatchObject({ system: '', projectName: 'admin', isAdminProject: true });
    const toSystem = await client.authenticate({ token: { token: admin }, systemScope: 'all' });
    expect(toSystem.info).toMatchObject({ system: 'all' });
    const pw = { userName: 'admin', password: 'adm1n', domainName: 'default' };
    await expect(client.authenticate({ password: pw, systemScope: 'domain' })).rejects.toMatchObject({ field: 'system_scope' });
    await expect(client.authenticate({ password: pw, systemScope: 'all', projectName: 'admin' })).rejects.toMatchObject({ field: 'system_scope' });
    await expect(client.assignRole({ assignment: { userId: 'x', system: 'some', roleName: 'admin' } }, as(system))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.listRoleAssignments({ system: 'some' }, as(system))).rejects.toMatchObject({ field: 'system' });
  });
});
