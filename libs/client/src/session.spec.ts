import { UnauthenticatedError, UnavailableError } from '@minicloud/domain-errors';
import { Session, type AuthMethod } from './session';
import type { ConnectFn } from './services';

const T0 = Date.parse('2030-01-01T00:00:00Z');
const CATALOG = [
  { serviceType: 'compute', url: 'c2:5004', interface: 'public', region: 'r1' },
  { serviceType: 'compute', url: 'c1:5004', interface: 'public', region: 'r1' },
  { serviceType: 'compute', url: 'c0:5004', interface: 'internal', region: 'r1' },
];

/**
 * A fake cloud: identity issues tok-1, tok-2... valid one hour; compute answers listHosts with the
 * token it was called with, refusing tokens in `revoked`. `calls` records `<method>@<address> <token>`.
 */
function fakeCloud(opts: { authenticate?: (req: Record<string, unknown>) => void } = {}) {
  let now = T0;
  let issued = 0;
  const calls: string[] = [];
  const revoked = new Set<string>();
  const connect = ((type: string, address: string, token: () => string | undefined) => {
    const record = (method: string) => calls.push(`${method}@${address} ${token() ?? '-'}`);
    const methods: Record<string, (req: Record<string, unknown>, o?: { token?: string }) => unknown> =
      type === 'identity'
        ? {
            authenticate: (req) => {
              record('authenticate');
              opts.authenticate?.(req);
              issued += 1;
              return { token: `tok-${issued}`, info: { userId: 'u1', userName: 'admin', projectId: 'p1', projectName: 'admin', domainId: 'default', roles: ['admin'], expiresAt: new Date(now + 3_600_000) }, catalog: CATALOG };
            },
            validateToken: (req, o) => {
              record(`validateToken(${String(req.token)}) as ${o?.token}`);
              return { info: { userId: 'u2', userName: 'demo', projectId: 'p2', projectName: 'demo', domainId: 'default', roles: ['member'], expiresAt: new Date(now + 600_000) } };
            },
            getCatalog: () => ({ catalog: CATALOG }),
          }
        : {
            listHosts: (_req, o) => {
              record(`listHosts${(o as { requestId?: string } | undefined)?.requestId ? ` [${(o as { requestId: string }).requestId}]` : ''}`);
              const t = o?.token ?? token();
              if (t && revoked.has(t)) throw new UnauthenticatedError('token revoked');
              return { hosts: [{ id: t }] };
            },
            createServer: () => {
              record('createServer');
              throw new UnauthenticatedError('token revoked');
            },
          };
    const client: Record<string, unknown> = { close: () => undefined };
    for (const [name, fn] of Object.entries(methods)) client[name] = async (req: Record<string, unknown>, o?: { token?: string }) => fn(req, o);
    return client;
  }) as unknown as ConnectFn;
  const session = (auth: AuthMethod | undefined, extra: Partial<ConstructorParameters<typeof Session>[0]> = {}) =>
    new Session({ authUrl: 'id:5000', auth, connect, now: () => now, ...extra });
  return { calls, revoked, session, advance: (ms: number) => (now += ms) };
}

const PASSWORD: AuthMethod = { password: { userName: 'admin', password: 'secret' } };

describe('Session', () => {
  it('logs in with a password, scoped to a project, on first use and reuses the token', async () => {
    let request: Record<string, unknown> = {};
    const cloud = fakeCloud({ authenticate: (req) => (request = req) });
    const s = cloud.session(PASSWORD, { scope: { projectName: 'admin' } });
    expect((await s.client('compute').listHosts({})).hosts[0].id).toBe('tok-1');
    expect((await s.client('compute').listHosts({})).hosts[0].id).toBe('tok-1');
    expect(request).toMatchObject({ password: { userName: 'admin', password: 'secret' }, projectName: 'admin' });
    expect(cloud.calls.filter((c) => c.startsWith('authenticate'))).toHaveLength(1);
  });

  it('shares one login between concurrent callers', async () => {
    const cloud = fakeCloud();
    const grants: string[] = [];
    const s = cloud.session(PASSWORD, { onGrant: (g) => grants.push(g.token) });
    await Promise.all([s.client('compute').listHosts({}), s.client('compute').listHosts({}), s.grant()]);
    expect(grants).toEqual(['tok-1']);
  });

  it('logs in with an application credential', async () => {
    let request: Record<string, unknown> = {};
    const cloud = fakeCloud({ authenticate: (req) => (request = req) });
    await cloud.session({ applicationCredential: { id: 'ac1', secret: 's' } }).grant();
    expect(request).toMatchObject({ applicationCredential: { id: 'ac1', secret: 's' } });
    expect(request.password).toBeUndefined();
  });

  it('adopts an existing token: validated with itself, catalog read, never renewed', async () => {
    const cloud = fakeCloud();
    const s = cloud.session({ token: 'user-tok' });
    const g = await s.grant();
    expect(g).toMatchObject({ token: 'user-tok', userName: 'demo', projectId: 'p2', roles: ['member'] });
    expect(await s.endpoints('compute')).toEqual(['c2:5004', 'c1:5004', 'c0:5004']);
    expect(cloud.calls).toContain('validateToken(user-tok) as user-tok@id:5000 -');
    cloud.advance(600_000);
    await expect(s.grant()).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(cloud.calls.filter((c) => c.startsWith('authenticate'))).toHaveLength(0);
  });

  it('renews the token a refresh margin before it expires, not earlier', async () => {
    const cloud = fakeCloud();
    const grants: string[] = [];
    const s = cloud.session(PASSWORD, { onGrant: (g) => grants.push(g.token) });
    await s.client('compute').listHosts({});
    cloud.advance(3_600_000 - 60_001);
    expect((await s.client('compute').listHosts({})).hosts[0].id).toBe('tok-1');
    cloud.advance(2);
    expect((await s.client('compute').listHosts({})).hosts[0].id).toBe('tok-2');
    expect(grants).toEqual(['tok-1', 'tok-2']);
  });

  it('logs in again once and retries when a call is refused UNAUTHENTICATED', async () => {
    const cloud = fakeCloud();
    const s = cloud.session(PASSWORD);
    await s.client('compute').listHosts({});
    cloud.revoked.add('tok-1');
    expect((await s.client('compute').listHosts({})).hosts[0].id).toBe('tok-2');
    // Refused again after the new login: the error is the caller's, no third login.
    await expect(s.client('compute').createServer({})).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(cloud.calls.filter((c) => c.startsWith('createServer'))).toHaveLength(2);
    expect(cloud.calls.filter((c) => c.startsWith('authenticate'))).toHaveLength(3);
  });

  it('does not log in again for a call made with its own token (acting for a caller)', async () => {
    const cloud = fakeCloud();
    const s = cloud.session(PASSWORD);
    cloud.revoked.add('caller');
    await expect(s.client('compute', { token: 'caller' }).listHosts({})).rejects.toBeInstanceOf(UnauthenticatedError);
    // One login for the session's own catalog; none more for the caller's refused token.
    expect(cloud.calls.filter((c) => c.startsWith('authenticate'))).toHaveLength(1);
  });

  it('passes a request id through to every call of a client view, a call\'s own options winning', async () => {
    const cloud = fakeCloud();
    const c = cloud.session(PASSWORD).client('compute', { requestId: 'req-1' });
    await c.listHosts({});
    await c.listHosts({}, { requestId: 'req-2' });
    expect(cloud.calls.filter((x) => x.startsWith('listHosts'))).toEqual(['listHosts [req-1]@c2:5004 tok-1', 'listHosts [req-2]@c2:5004 tok-1']);
  });

  it('without credentials: a valid given grant is used until expiry, then noCredentials', async () => {
    const cloud = fakeCloud();
    const grant = { token: 'stored', expiresAt: new Date(T0 + 1000), userId: 'u', userName: 'u', projectId: 'p', projectName: 'p', domainId: '', roles: [], catalog: CATALOG };
    const s = cloud.session(undefined, { grant, noCredentials: (expired) => new Error(expired ? 'expired' : 'none') });
    expect((await s.client('compute').listHosts({})).hosts[0].id).toBe('stored');
    cloud.advance(1000);
    await expect(s.client('compute').listHosts({})).rejects.toThrow('expired');
    await expect(cloud.session(undefined, { noCredentials: () => new Error('none') }).grant()).rejects.toThrow('none');
  });

  it('reads endpoints from the catalog, public first; identity falls back to the auth URL; a missing type is NOT_FOUND', async () => {
    const s = fakeCloud().session(PASSWORD);
    expect(await s.endpoints('compute')).toEqual(['c2:5004', 'c1:5004', 'c0:5004']);
    expect(await s.endpoints('identity')).toEqual(['id:5000']);
    await expect(s.endpoints('volume')).rejects.toThrow('endpoint volume not found: not in the service catalog');
  });

  it('passes the identity error of a failed login through, annotated with the endpoint', async () => {
    const cloud = fakeCloud({
      authenticate: () => {
        throw new UnauthenticatedError('invalid user name or password');
      },
    });
    const err = await cloud.session(PASSWORD).grant().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthenticatedError);
    expect((err as { service?: unknown }).service).toEqual({ type: 'identity', address: 'id:5000' });
    expect(err).not.toBeInstanceOf(UnavailableError);
  });
});

describe('Session regions', () => {
  const TWO = [
    { serviceType: 'identity', url: 'id:5000', interface: 'public', region: 'RegionOne' },
    { serviceType: 'volume', url: 'v1:5002', interface: 'public', region: 'RegionOne' },
    { serviceType: 'volume', url: 'v2:6002', interface: 'public', region: 'RegionTwo' },
  ];
  const session = (region?: string) =>
    new Session({ authUrl: 'auth:5000', region, grant: { token: 't', expiresAt: new Date(Date.now() + 3_600_000), userId: 'u', userName: 'u', projectId: 'p', projectName: 'p', domainId: '', roles: [], catalog: TWO } });

  it('picks the endpoints of its region; none named: RegionOne; identity wherever it runs', async () => {
    expect(await session('RegionTwo').endpoints('volume')).toEqual(['v2:6002']);
    expect(await session().endpoints('volume')).toEqual(['v1:5002']);
    expect(await session('RegionTwo').endpoints('identity')).toEqual(['id:5000']);
    await expect(session('RegionThree').endpoints('volume')).rejects.toThrow('endpoint volume not found: not in the service catalog of region RegionThree');
  });
});
