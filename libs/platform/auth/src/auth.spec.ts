import type { JWK as JsonWebKey } from 'jose';
import { generateSigningKey, signToken } from './token-signer';
import { createTokenVerifier, RevocationList } from './token-verifier';
import { authorize, defaultRuleFor } from './policy';
import { assertActsForHost, COMPUTE_AGENT_ROLE, expandRoles, INSTANCE_ROLE, isCloudAdmin, isProjectAdmin } from './auth-context';

const claims = {
  userId: 'u1',
  userName: 'alice',
  projectId: 'p1',
  projectName: 'demo',
  domainId: 'default',
  roles: expandRoles(['member']),
};

describe('tokens', () => {
  it('retires a rotated-out key: verifies its tokens until notAfter, never one expiring later, then forgets it', async () => {
    let now = 1_700_000_000_000;
    const old = await generateSigningKey(now);
    const published: { kid: string; jwk: JsonWebKey; notAfterMs?: number }[] = [{ kid: old.kid, jwk: old.publicJwk }];
    const verifier = createTokenVerifier({ keys: async () => published.map((k) => ({ ...k })), revocations: new RevocationList(), nowMs: () => now, minRefetchIntervalMs: 0 });
    const t1 = await signToken(old, claims, { nowMs: now, ttlSeconds: 3600 });
    await expect(verifier.verify(t1.token)).resolves.toBeTruthy();
    // identity rotates: the old key is retired now, published with notAfter = retirement + max TTL
    const fresh = await generateSigningKey(now);
    published[0].notAfterMs = now + 3600_000;
    published.push({ kid: fresh.kid, jwk: fresh.publicJwk });
    await verifier.verify((await signToken(fresh, claims, { nowMs: now, ttlSeconds: 3600 })).token); // refetch learns notAfter
    await expect(verifier.verify(t1.token)).resolves.toBeTruthy();
    // a token the leaked old key signs after retirement, expiring after notAfter, is refused
    now += 60_000;
    const forged = await signToken(old, claims, { nowMs: now, ttlSeconds: 3600 });
    await expect(verifier.verify(forged.token)).rejects.toThrow('token outlives its retired key');
    // past notAfter the key is gone from the verifier
    now += 3600_000;
    await expect(verifier.verify(t1.token)).rejects.toThrow('token expired (its signing key is retired)');
    published.shift();
    await expect(verifier.verify(t1.token)).rejects.toThrow('token signed by an unknown key');
  });


  it('verify, expire, revoke and rotate', async () => {
    let now = 1_700_000_000_000;
    const k1 = await generateSigningKey(now);
    const keys = [k1];
    const revocations = new RevocationList();
    const verifier = createTokenVerifier({
      keys: async () => keys.map((k) => ({ kid: k.kid, jwk: k.publicJwk })),
      revocations,
      nowMs: () => now,
      minRefetchIntervalMs: 0,
    });
    const { token, context } = await signToken(k1, claims, { nowMs: now, ttlSeconds: 3600 });
    const ctx = await verifier.verify(token);
    expect(ctx).toMatchObject({ userId: 'u1', projectId: 'p1', roles: ['member', 'reader'], tokenId: context.tokenId });

    // rotation: a new key signs new tokens, old ones stay valid
    const k2 = await generateSigningKey(now);
    keys.push(k2);
    const t2 = await signToken(k2, claims, { nowMs: now, ttlSeconds: 3600 });
    await expect(verifier.verify(t2.token)).resolves.toMatchObject({ userId: 'u1' });
    await expect(verifier.verify(token)).resolves.toBeTruthy();

    // tampered
    const [h, p, s] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), roles: ['admin'] })).toString('base64url');
    await expect(verifier.verify(`${h}.${forged}.${s}`)).rejects.toThrow(/signature/);
    await expect(verifier.verify('garbage')).rejects.toThrow(/malformed/);

    // revoked
    revocations.revokeToken(context.tokenId, context.expiresAtMs);
    await expect(verifier.verify(token)).rejects.toThrow(/revoked/);

    // expired
    now += 3601_000;
    await expect(verifier.verify(t2.token)).rejects.toThrow(/expired/);
  });

  it('remembers verified tokens, yet refuses one later revoked (per user too) or expired, even when the cache is full', async () => {
    let now = 1_700_000_000_000;
    const k = await generateSigningKey(now);
    const revocations = new RevocationList();
    const verifier = createTokenVerifier({ keys: async () => [{ kid: k.kid, jwk: k.publicJwk }], revocations, nowMs: () => now, maxVerifiedTokens: 2 });
    const tokens = await Promise.all(['u1', 'u2', 'u3'].map(async (userId) => (await signToken(k, { ...claims, userId }, { nowMs: now, ttlSeconds: 60 })).token));
    for (const t of [...tokens, ...tokens]) await expect(verifier.verify(t)).resolves.toBeTruthy();
    const ctx = await verifier.verify(tokens[0]);
    ctx.roles.push('admin');
    expect((await verifier.verify(tokens[0])).roles).toEqual(['member', 'reader']);
    revocations.revokeUserBefore('u2', now);
    await expect(verifier.verify(tokens[1])).rejects.toThrow(/revoked/);
    now += 60_000;
    await expect(verifier.verify(tokens[2])).rejects.toThrow(/expired/);
  });

  it('authorizes by role', () => {
    expect(defaultRuleFor('listServers')).toBe('project_reader');
    expect(defaultRuleFor('createServer')).toBe('project_member');
    const reader = { ...claims, roles: ['reader'], tokenId: 't', issuedAtMs: 0, expiresAtMs: 0 };
    expect(() => authorize('project_reader', 'listServers', reader)).not.toThrow();
    expect(() => authorize('project_member', 'createServer', reader)).toThrow(/createServer requires role member/);
    expect(() => authorize('admin_api', 'createFlavor', undefined)).toThrow();
    expect(expandRoles(['admin']).sort()).toEqual(['admin', 'member', 'reader']);
  });
});

describe("a compute agent's hosts", () => {
  it('travel in the token (claim host_ids) and bind what the agent may act for', async () => {
    const now = 1_700_000_000_000;
    const key = await generateSigningKey(now);
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => now });
    const agentClaims = { ...claims, userName: 'agent-1', roles: expandRoles([COMPUTE_AGENT_ROLE]), hostIds: ['host-1', 'host-1b'] };
    const agent = await verifier.verify((await signToken(key, agentClaims, { nowMs: now, ttlSeconds: 600 })).token);
    expect(agent.hostIds).toEqual(['host-1', 'host-1b']);
    expect(() => assertActsForHost(agent, 'host-1b', 'host_id')).not.toThrow();
    expect(() => assertActsForHost(agent, 'host-2', 'profile.host_id')).toThrow(/profile.host_id: user agent-1 may not act for host host-2/);
    expect(() => assertActsForHost(agent, '', 'host_id')).toThrow(/may not act for host/);
    // An agent whose account has no hosts acts for none (fail closed); neither does a member.
    const unbound = await verifier.verify((await signToken(key, { ...agentClaims, hostIds: undefined }, { nowMs: now, ttlSeconds: 600 })).token);
    expect(unbound.hostIds).toBeUndefined();
    expect(() => assertActsForHost(unbound, 'host-1', 'host_id')).toThrow(/may not act for host host-1/);
    const member = await verifier.verify((await signToken(key, claims, { nowMs: now, ttlSeconds: 600 })).token);
    expect(() => assertActsForHost(member, 'host-1', 'host_id')).toThrow(/may not act for host/);
    // A cloud admin (the controller, an operator) acts for any host; a project's admin for none.
    const admin = await verifier.verify((await signToken(key, { ...claims, roles: expandRoles(['admin']), systemScope: 'all' }, { nowMs: now, ttlSeconds: 600 })).token);
    expect(() => assertActsForHost(admin, 'host-2', 'host_id')).not.toThrow();
    const projectAdmin = await verifier.verify((await signToken(key, { ...claims, roles: expandRoles(['admin']) }, { nowMs: now, ttlSeconds: 600 })).token);
    expect(() => assertActsForHost(projectAdmin, 'host-2', 'host_id')).toThrow(/may not act for host host-2/);
  });
});

describe('key fetching', () => {
  it('shares one fetch between concurrent verifications of a new key id', async () => {
    const now = Date.now();
    const key = await generateSigningKey(now);
    let fetches = 0;
    const verifier = createTokenVerifier({
      keys: async () => {
        fetches++;
        await new Promise((r) => setImmediate(r));
        return [{ kid: key.kid, jwk: key.publicJwk }];
      },
      revocations: new RevocationList(),
      nowMs: () => now,
    });
    const { token } = await signToken(key, claims, { nowMs: now, ttlSeconds: 60 });
    const results = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
    expect(results.every((r) => r.userId === 'u1')).toBe(true);
    expect(fetches).toBe(1);
  });

  it('says UNAVAILABLE, not UNAUTHENTICATED, when identity cannot be reached', async () => {
    const key = await generateSigningKey(Date.now());
    const verifier = createTokenVerifier({
      keys: async () => {
        throw new Error('connect ECONNREFUSED');
      },
      revocations: new RevocationList(),
      nowMs: () => Date.now(),
    });
    const { token } = await signToken(key, claims, { nowMs: Date.now(), ttlSeconds: 60 });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });
});

describe('key rotation at a verifying service', () => {
  it('fetches a new key at its first use even right after a fetch; forged kids cost one fetch a second', async () => {
    let now = 1_700_000_000_000;
    const k1 = await generateSigningKey(now);
    const published = [k1];
    let fetches = 0;
    const verifier = createTokenVerifier({
      keys: async () => {
        fetches++;
        return published.map((k) => ({ kid: k.kid, jwk: k.publicJwk }));
      },
      revocations: new RevocationList(),
      nowMs: () => now,
    });
    const old = await signToken(k1, claims, { nowMs: now, ttlSeconds: 600 });
    await verifier.verify(old.token);
    const k2 = await generateSigningKey(now);
    published.push(k2);
    const fresh = await signToken(k2, claims, { nowMs: now, ttlSeconds: 600 });
    now += 10; // well within the refetch interval: rotation must not cause a refusal window
    await expect(verifier.verify(fresh.token)).resolves.toMatchObject({ userId: 'u1' });
    await expect(verifier.verify(old.token)).resolves.toMatchObject({ userId: 'u1' });
    expect(fetches).toBe(2);
    const [, p, s] = old.token.split('.');
    const forge = (kid: string) => `${Buffer.from(JSON.stringify({ alg: 'EdDSA', kid })).toString('base64url')}.${p}.${s}`;
    for (let i = 0; i < 20; i++) await expect(verifier.verify(forge(`forged-${i}`))).rejects.toThrow(/unknown key/);
    expect(fetches).toBe(3);
    now += 600_001;
    await expect(verifier.verify(old.token)).rejects.toThrow(/expired/);
  });
});

describe('cloud admin versus project admin (Keystone system scope and admin_project)', () => {
  const now = 1_700_000_000_000;
  const ctxOf = async (extra: Partial<typeof claims> & { systemScope?: 'all'; isAdminProject?: boolean; instanceId?: string }) => {
    const key = await generateSigningKey(now);
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => now });
    return verifier.verify((await signToken(key, { ...claims, ...extra }, { nowMs: now, ttlSeconds: 600 })).token);
  };

  it('carries the system scope and is_admin_project in the token (claims system, is_admin_project)', async () => {
    const system = await ctxOf({ roles: expandRoles(['admin']), projectId: '', projectName: '', systemScope: 'all' });
    expect(system.systemScope).toBe('all');
    expect(system.isAdminProject).toBeUndefined();
    const onAdminProject = await ctxOf({ roles: expandRoles(['admin']), isAdminProject: true });
    expect(onAdminProject.isAdminProject).toBe(true);
    expect(onAdminProject.systemScope).toBeUndefined();
  });

  it('is a cloud admin only with role admin on the system or on the admin project', async () => {
    const system = await ctxOf({ roles: expandRoles(['admin']), projectId: '', systemScope: 'all' });
    const adminProject = await ctxOf({ roles: expandRoles(['admin']), isAdminProject: true });
    const otherProjectAdmin = await ctxOf({ roles: expandRoles(['admin']) });
    const systemReader = await ctxOf({ roles: expandRoles(['reader']), projectId: '', systemScope: 'all' });
    const memberOfAdminProject = await ctxOf({ roles: expandRoles(['member']), isAdminProject: true });
    expect([system, adminProject, otherProjectAdmin, systemReader, memberOfAdminProject].map(isCloudAdmin)).toEqual([true, true, false, false, false]);
    expect(isProjectAdmin(otherProjectAdmin)).toBe(true);
    expect(isProjectAdmin(system)).toBe(false);
    expect(isCloudAdmin(undefined)).toBe(false);
  });

  it('gives admin_api to cloud admins only; a project admin passes the project rules only', async () => {
    const otherProjectAdmin = await ctxOf({ roles: expandRoles(['admin']) });
    expect(() => authorize('admin_api', 'createFlavor', otherProjectAdmin)).toThrow(/createFlavor requires a cloud admin/);
    expect(() => authorize('agent', 'registerHost', otherProjectAdmin)).toThrow(/requires a cloud admin or role compute_agent/);
    expect(() => authorize('project_member', 'createServer', otherProjectAdmin)).not.toThrow();
    expect(() => authorize('project_reader', 'listServers', otherProjectAdmin)).not.toThrow();
    for (const cloudAdmin of [await ctxOf({ roles: expandRoles(['admin']), projectId: '', systemScope: 'all' }), await ctxOf({ roles: expandRoles(['admin']), isAdminProject: true })]) {
      for (const rule of ['admin_api', 'agent', 'project_member', 'project_reader', 'project_reader_or_instance'] as const) expect(() => authorize(rule, 'm', cloudAdmin)).not.toThrow();
    }
  });

  it('lets an instance credential read its own instance only: no project_reader, no project_member', async () => {
    const instance = await ctxOf({ roles: [INSTANCE_ROLE], instanceId: 'vm-1', userId: 'instance:vm-1' });
    expect(expandRoles([INSTANCE_ROLE])).toEqual([INSTANCE_ROLE]);
    expect(() => authorize('project_reader_or_instance', 'getServer', instance)).not.toThrow();
    expect(() => authorize('project_reader', 'listServers', instance)).toThrow(/listServers requires role reader/);
    expect(() => authorize('project_member', 'createServer', instance)).toThrow(/createServer requires role member/);
    // the role alone, without the instance_id claim, is not an instance credential
    const forged = await ctxOf({ roles: [INSTANCE_ROLE] });
    expect(() => authorize('project_reader_or_instance', 'getServer', forged)).toThrow(/requires role reader/);
  });
});
