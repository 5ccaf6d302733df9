import { resolveProject, Session } from '@minicloud/client';
import { identity, network } from '@minicloud/proto';
import { PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { RevocationList } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, service, startGrpcServer, type CallContext, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { remoteTokenVerifier, syncRevocations } from '@minicloud/platform-service';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { identityConfigSchema } from './config';
import { wireIdentity } from './wire';

/**
 * Token propagation across services: identity plus a second service ("B") built from the same
 * platform pieces runService uses (remote key fetch, revocations synced from NATS and loaded from
 * identity at start). B answers ListNetworks with the caller it saw.
 */
jest.setTimeout(60_000);

type IdentityClient = ServiceClient<typeof identity.IdentityServiceService>;
type BClient = ServiceClient<typeof network.NetworkServiceService>;

let redisServer: ServerHandle;
let natsServer: ServerHandle;
let redis: Redis;
const buses: Bus[] = [];
let idServer: RunningGrpcServer;
let id: IdentityClient;
const logger = silentLogger();
const stops: (() => Promise<void> | void)[] = [];

/** Starts a service B with its own bus connection, revocation list and clock skew (ms). */
async function startServiceB(opts: { skewMs?: () => number } = {}): Promise<{ address: string; stop: () => Promise<void> }> {
  const bus = await connectBus({ url: natsServer.url, name: 'svc-b', logger });
  const list = new RevocationList();
  const serviceToken = (await id.authenticate({ password: { userName: 'minicloud', password: 'minicloud-service-secret', domainName: 'default' }, systemScope: 'all' })).token;
  const unsubscribe = await syncRevocations({ bus, list, load: () => id.listRevocations({}, { token: serviceToken }) });
  const handlers = Object.fromEntries(
    Object.keys(network.NetworkServiceService).map((m) => [m, async (_req: unknown, ctx: CallContext) => ({ networks: [{ id: ctx.auth?.tokenId, name: ctx.auth?.userName }] })]),
  );
  const server = await startGrpcServer({
    port: 0,
    logger,
    services: [service({ definition: network.NetworkServiceService, handlers: handlers as never })],
    verifier: remoteTokenVerifier(id, list, () => Date.now() + (opts.skewMs?.() ?? 0)),
  });
  const stop = async () => {
    unsubscribe();
    await server.shutdown(500);
    await bus.close();
  };
  stops.push(stop);
  return { address: server.address, stop };
}

const bClient = (address: string, token: string): BClient => createServiceClient(network.NetworkServiceService, address, { token: () => token });
const login = async (userName: string, password: string) => id.authenticate({ password: { userName, password, domainName: 'default' } });

beforeAll(async () => {
  [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
  const config = loadConfig(identityConfigSchema, { REDIS_URL: redisServer.url, NATS_URL: natsServer.url, GRPC_PORT: '0', ADMIN_PASSWORD: 'adm1n', SERVICE_PASSWORD: 'minicloud-service-secret', TOKEN_TTL_SECONDS: '600' });
  redis = await connectRedis({ url: redisServer.url, name: 'identity-test', logger });
  const bus = await connectBus({ url: natsServer.url, name: 'identity-test', logger });
  buses.push(bus);
  const wiring = await wireIdentity(config)({ config, logger, metrics: createProcessMetrics({ service: 'identity' }), redis, bus, revocations: new RevocationList() });
  idServer = await startGrpcServer({ port: 0, services: wiring.services, logger, verifier: wiring.verifier });
  id = createServiceClient(identity.IdentityServiceService, idServer.address);
  const admin = (await login('admin', 'adm1n')).token;
  const demo = (await id.createProject({ name: 'demo' }, { token: admin })).project as identity.Project;
  for (const name of ['alice', 'dave']) {
    const u = (await id.createUser({ name, password: `pw-${name}`, defaultProjectId: demo.id }, { token: admin })).user as identity.User;
    await id.assignRole({ assignment: { roleName: 'member', userId: u.id, projectId: demo.id } }, { token: admin });
  }
});

afterAll(async () => {
  for (const s of stops) await s();
  id?.close();
  await idServer?.shutdown(1000);
  for (const b of buses) await b.close();
  await redis?.quit();
  await Promise.all([redisServer?.stop(), natsServer?.stop()]);
});

describe('tokens across services', () => {
  it('a revoked token is refused by another service within a second', async () => {
    const b = await startServiceB();
    const t = await login('alice', 'pw-alice');
    const c = bClient(b.address, t.token);
    expect((await c.listNetworks({})).networks[0]).toMatchObject({ id: t.info?.tokenId, name: 'alice' });
    const revokedAt = Date.now();
    await id.revokeToken({}, { token: t.token });
    await waitFor(async () => (await c.listNetworks({}).catch((e) => e)) instanceof UnauthenticatedError, { timeoutMs: 1000, intervalMs: 10 });
    expect(Date.now() - revokedAt).toBeLessThan(1000);
    await expect(c.listNetworks({})).rejects.toThrow('token revoked');
    c.close();
  });

  it('a service that (re)starts refuses tokens revoked while it was down (ListRevocations)', async () => {
    const t = await login('alice', 'pw-alice');
    const dave = await login('dave', 'pw-dave');
    const admin = (await login('admin', 'adm1n')).token;
    await id.revokeToken({ token: t.token }, { token: admin });
    await id.updateUser({ userId: dave.info?.userId, enabled: false }, { token: admin });
    // only now does B start: no NATS event reaches it, the snapshot must
    const b = await startServiceB();
    await expect(bClient(b.address, t.token).listNetworks({})).rejects.toThrow('token revoked');
    await expect(bClient(b.address, dave.token).listNetworks({})).rejects.toThrow('token revoked');
    const snapshot = await id.listRevocations({}, { token: admin });
    expect(snapshot.tokens.map((x) => x.tokenId)).toContain(t.info?.tokenId);
    expect(snapshot.users.map((x) => x.userId)).toContain(dave.info?.userId);
    // the list is for services (admin), not for tenants
    const alice = (await login('alice', 'pw-alice')).token;
    await expect(id.listRevocations({}, { token: alice })).rejects.toBeInstanceOf(PermissionDeniedError);
  });

  it('key rotation: another service accepts old and new tokens, the old until it expires', async () => {
    let skewMs = 0;
    const b = await startServiceB({ skewMs: () => skewMs });
    const admin = (await login('admin', 'adm1n')).token;
    const old = await login('alice', 'pw-alice');
    await expect(bClient(b.address, old.token).listNetworks({})).resolves.toBeTruthy(); // B caches the old key
    const { kid } = await id.rotateSigningKey({}, { token: admin });
    const fresh = await login('alice', 'pw-alice');
    expect(JSON.parse(Buffer.from(fresh.token.split('.')[0], 'base64url').toString()).kid).toBe(kid);
    expect(JSON.parse(Buffer.from(old.token.split('.')[0], 'base64url').toString()).kid).not.toBe(kid);
    // B has never seen the new key: it fetches it once; the old token keeps working (no downtime)
    await expect(bClient(b.address, fresh.token).listNetworks({})).resolves.toBeTruthy();
    await expect(bClient(b.address, old.token).listNetworks({})).resolves.toBeTruthy();
    // at B, past the old token's expiry (600 s TTL), it is refused as expired
    skewMs = (old.info?.expiresAt?.getTime() ?? 0) - Date.now() + 1000;
    await expect(bClient(b.address, old.token).listNetworks({})).rejects.toThrow('token expired');
  });

  it('tampered, wrong-issuer-key and other-project tokens are refused at another service', async () => {
    const b = await startServiceB();
    const t = await login('alice', 'pw-alice');
    const [h, p, s] = t.token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, project_id: 'someone-else', roles: ['admin'] })).toString('base64url')}.${s}`;
    await expect(bClient(b.address, forged).listNetworks({})).rejects.toThrow('token signature or claims invalid');
    const unknownKid = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'not-a-key', typ: 'JWT' })).toString('base64url')}.${p}.${s}`;
    await expect(bClient(b.address, unknownKid).listNetworks({})).rejects.toThrow('token signed by an unknown key');
    // a project the user holds no role on: no token at all
    await expect(id.authenticate({ password: { userName: 'alice', password: 'pw-alice', domainName: 'default' }, projectName: 'admin' })).rejects.toBeInstanceOf(UnauthenticatedError);
  });
});

describe('@minicloud/client Session against identity', () => {
  const alice = () => new Session({ authUrl: idServer.address, auth: { password: { userName: 'alice', password: 'pw-alice' } }, scope: { projectName: 'demo' } });

  it('logs in with a password, reads its catalog and resolves a project by name', async () => {
    const s = alice();
    const g = await s.grant();
    expect(g).toMatchObject({ userName: 'alice', projectName: 'demo', roles: expect.arrayContaining(['member']) });
    expect(await s.endpoints('identity')).toEqual([idServer.address]);
    expect((await resolveProject(s.client('identity'), 'demo')).id).toBe(g.projectId);
    await expect(resolveProject(s.client('identity'), 'no-such-project')).rejects.toThrow('project no-such-project not found');
    s.close();
  });

  it('logs in again once when its token is revoked, and the call succeeds', async () => {
    const grants: string[] = [];
    const s = new Session({ authUrl: idServer.address, auth: { password: { userName: 'alice', password: 'pw-alice' } }, onGrant: (g) => grants.push(g.token) });
    await s.client('identity').validateToken({ token: await s.token() });
    await id.revokeToken({}, { token: grants[0] });
    const info = (await s.client('identity').validateToken({ token: '' })).info;
    expect(grants).toHaveLength(2);
    expect(info?.userName).toBe('alice');
    s.close();
  });

  it('logs in with an application credential, and adopts an existing token without renewing it', async () => {
    const s = alice();
    const created = await s.client('identity').createApplicationCredential({ name: 'ci' });
    const app = new Session({ authUrl: idServer.address, auth: { applicationCredential: { id: created.credential!.id, secret: created.secret } } });
    expect(await app.grant()).toMatchObject({ userName: 'alice', projectId: created.credential!.projectId });
    const adopted = new Session({ authUrl: idServer.address, auth: { token: await app.token() } });
    expect((await adopted.grant()).token).toBe(await app.token());
    expect(await adopted.catalog()).toEqual(await app.catalog());
    for (const x of [s, app, adopted]) x.close();
  });
});
