import { events, identity } from '@minicloud/proto';
import { InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { RevocationList } from '@minicloud/platform-auth';
import { connectBus, Subjects, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { FakeClock, startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { identityConfigSchema } from './config';
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
  const config = loadConfig(identityConfigSchema, { REDIS_URL: redisServer.url, NATS_URL: natsServer.url, GRPC_PORT: '0', ADMIN_PASSWORD: 'adm1n', SERVICE_PASSWORD: 'svc-secret-for-tests' });
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


/** A user with `role` (default member) on `project`, and their token scoped there. */
async function userOn(admin: string, name: string, project: identity.Project, role = 'member'): Promise<{ user: identity.User; token: string }> {
  const user = (await client.createUser({ name, password: `pw-${name}`, defaultProjectId: project.id }, as(admin))).user as identity.User;
  await client.assignRole({ assignment: { roleName: role, userId: user.id, projectId: project.id } }, as(admin));
  return { user, token: (await login(name, `pw-${name}`)).token };
}

describe('identity directory administration (Keystone v3 admin CRUD)', () => {
  let admin: string;
  let team: identity.Project;
  let other: identity.Project;

  beforeAll(async () => {
    admin = (await login('admin', 'adm1n')).token;
    team = (await client.createProject({ name: 'team' }, as(admin))).project as identity.Project;
    other = (await client.createProject({ name: 'other' }, as(admin))).project as identity.Project;
  });

  it('names are Keystone\'s: any text but control characters, 64 characters for projects, 255 for users', async () => {
    const p = (await client.createProject({ name: 'Team Blue (eu)' }, as(admin))).project as identity.Project;
    expect(p.name).toBe('Team Blue (eu)');
    await expect(client.createProject({ name: 'x'.repeat(65) }, as(admin))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(client.createProject({ name: 'tab\there' }, as(admin))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(client.createProject({ name: '   ' }, as(admin))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    const u = (await client.createUser({ name: `${'u'.repeat(100)}@example.org`, password: 'pw' }, as(admin))).user as identity.User;
    expect(u.name).toHaveLength(112);
  });

  it('UpdateProject renames (a taken name is ALREADY_EXISTS) and disabling revokes its members\' tokens and refuses new ones', async () => {
    const p = (await client.createProject({ name: 'renamable', description: 'a' }, as(admin))).project as identity.Project;
    const { token } = await userOn(admin, 'ivy', p);
    const renamed = (await client.updateProject({ projectId: p.id, name: 'renamed', description: 'b' }, as(admin))).project;
    expect(renamed).toMatchObject({ name: 'renamed', description: 'b', enabled: true });
    await expect(client.updateProject({ projectId: p.id, name: 'team' }, as(admin))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    // the old name is free again, the new one taken
    await client.createProject({ name: 'renamable' }, as(admin));
    await expect(client.createProject({ name: 'renamed' }, as(admin))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });

    await client.updateProject({ projectId: p.id, enabled: false }, as(admin));
    await expect(client.validateToken({}, as(token))).rejects.toThrow(/revoked/);
    await expect(login('ivy', 'pw-ivy')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect((await client.getProject({ projectId: p.id }, as(admin))).project?.enabled).toBe(false);
  });

  it('CreateProject and CreateUser take enabled=false; a disabled user cannot log in', async () => {
    const p = (await client.createProject({ name: 'dormant', enabled: false }, as(admin))).project;
    expect(p?.enabled).toBe(false);
    const u = (await client.createUser({ name: 'sleepy', password: 'pw-sleepy', enabled: false, defaultProjectId: team.id }, as(admin))).user as identity.User;
    await client.assignRole({ assignment: { roleName: 'member', userId: u.id, projectId: team.id } }, as(admin));
    await expect(login('sleepy', 'pw-sleepy')).rejects.toThrow(/user disabled/);
  });

  it('ChangePassword: the original password is the proof (no token needed); old tokens are revoked and the new password works', async () => {
    const { user, token } = await userOn(admin, 'jill', team);
    await expect(client.changePassword({ userId: user.id, originalPassword: 'wrong', password: 'pw-new' }, {})).rejects.toThrow(/invalid credentials/);
    // an unknown user gets the same answer as a wrong password
    await expect(client.changePassword({ userId: 'nobody', originalPassword: 'pw-jill', password: 'pw-new' }, {})).rejects.toThrow(/invalid credentials/);
    await expect(client.changePassword({ userId: user.id, originalPassword: 'pw-jill', password: '' }, {})).rejects.toMatchObject({ field: 'password' });
    await client.changePassword({ userId: user.id, originalPassword: 'pw-jill', password: 'pw-new' }, {});
    await expect(client.validateToken({}, as(token))).rejects.toThrow(/revoked/);
    await expect(login('jill', 'pw-jill')).rejects.toBeInstanceOf(UnauthenticatedError);
    expect((await login('jill', 'pw-new')).info?.userId).toBe(user.id);
  });

  it('UpdateUser renames and changes the default project; DeleteUser leaves no role assignments or memberships behind', async () => {
    const { user } = await userOn(admin, 'leo', team);
    const { groupId } = await client.createGroup({ name: 'leos' }, as(admin));
    await client.addUserToGroup({ groupId, userId: user.id }, as(admin));
    const u = (await client.updateUser({ userId: user.id, name: 'leon', defaultProjectId: other.id }, as(admin))).user;
    expect(u).toMatchObject({ name: 'leon', defaultProjectId: other.id });
    await expect(client.updateUser({ userId: user.id, defaultProjectId: 'nope' }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    await client.deleteUser({ userId: user.id }, as(admin));
    expect((await client.listRoleAssignments({ userId: user.id }, as(admin))).assignments).toEqual([]);
    expect((await client.listGroupUsers({ groupId }, as(admin))).users).toEqual([]);
    // only the revocation record stays, until the longest token it voids has expired
    expect(await redis.keys(`mc:identity:*${user.id}*`)).toEqual([`mc:identity:revoked:user:${user.id}`]);
  });

  it('groups: get, list (by domain, name, member), update, membership remove, delete with its assignments; members lose their tokens', async () => {
    const { user, token } = await userOn(admin, 'mia', team);
    const created = await client.createGroup({ name: 'ops', description: 'operators' }, as(admin));
    expect(created.group).toMatchObject({ id: created.groupId, name: 'ops', domainId: 'default', description: 'operators' });
    await client.addUserToGroup({ groupId: created.groupId, userId: user.id }, as(admin));
    await client.assignRole({ assignment: { roleName: 'reader', groupId: created.groupId, projectId: other.id } }, as(admin));
    expect((await client.listGroups({ name: 'ops' }, as(admin))).groups.map((g) => g.id)).toEqual([created.groupId]);
    expect((await client.listGroups({ userId: user.id }, as(token))).groups.map((g) => g.name)).toEqual(['ops']);
    await expect(client.listGroups({}, as(token))).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await client.updateGroup({ groupId: created.groupId, name: 'sre' }, as(admin))).group?.name).toBe('sre');
    expect((await client.listGroupUsers({ groupId: created.groupId }, as(admin))).users.map((u) => u.name)).toEqual(['mia']);
    await client.removeUserFromGroup({ groupId: created.groupId, userId: user.id }, as(admin));
    await expect(client.removeUserFromGroup({ groupId: created.groupId, userId: user.id }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.validateToken({}, as(token))).rejects.toThrow(/revoked/);
    await client.deleteGroup({ groupId: created.groupId }, as(admin));
    await expect(client.getGroup({ groupId: created.groupId }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    expect((await client.listRoleAssignments({ groupId: created.groupId }, as(admin))).assignments).toEqual([]);
  });

  it('roles: rename follows implied lists; delete removes its assignments and revokes their holders\' tokens', async () => {
    const auditor = (await client.createRole({ name: 'auditor' }, as(admin))).role as identity.Role;
    const { user, token } = await userOn(admin, 'ned', team, 'auditor');
    expect((await client.updateRole({ roleId: auditor.id, name: 'inspector' }, as(admin))).role?.name).toBe('inspector');
    await expect(client.updateRole({ roleId: auditor.id, name: 'admin' }, as(admin))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await client.deleteRole({ roleId: auditor.id }, as(admin));
    expect((await client.listRoleAssignments({ userId: user.id }, as(admin))).assignments).toEqual([]);
    await expect(client.validateToken({}, as(token))).rejects.toThrow(/revoked/);
    expect((await client.listRoles({}, as(admin))).roles.map((r) => r.name)).not.toContain('inspector');
  });

  it('implied roles: UpdateRole sets them, tokens expand them with role ids, a cycle is refused', async () => {
    const lead = (await client.createRole({ name: 'lead' }, as(admin))).role as identity.Role;
    const { token } = await userOn(admin, 'rita', team, 'lead');
    expect((await client.validateToken({}, as(token))).info?.roles).toEqual(['lead']);
    await client.updateRole({ roleId: lead.id, updateImplies: true, implies: ['member'] }, as(admin));
    const info = (await client.authenticate({ password: { userName: 'rita', password: 'pw-rita', domainName: 'default' } })).info;
    expect([...(info?.roles ?? [])].sort()).toEqual(['lead', 'member', 'reader']);
    const ids = new Map((await client.listRoles({}, as(admin))).roles.map((r) => [r.name, r.id]));
    expect(info?.roleRefs.map((r) => [r.name, r.id]).sort()).toEqual([...['lead', 'member', 'reader'].map((n) => [n, ids.get(n)])].sort());
    expect(info).toMatchObject({ domainName: 'Default', userDomainId: 'default', userDomainName: 'Default' });
    const reader = ids.get('reader') as string;
    await expect(client.updateRole({ roleId: reader, updateImplies: true, implies: ['lead'] }, as(admin))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'implies' });
    await expect(client.updateRole({ roleId: lead.id, updateImplies: true, implies: ['nope'] }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an application credential may carry a role granted after the token was issued (the roles held now count)', async () => {
    await client.createRole({ name: 'deployer' }, as(admin));
    const { user, token } = await userOn(admin, 'tess', team);
    await expect(client.createApplicationCredential({ name: 'ci', roles: ['deployer'] }, as(token))).rejects.toMatchObject({ field: 'roles' });
    await client.assignRole({ assignment: { roleName: 'deployer', userId: user.id, projectId: team.id } }, as(admin));
    const { credential } = await client.createApplicationCredential({ name: 'ci', roles: ['deployer'] }, as(token));
    expect(credential?.roles).toEqual(['deployer']);
  });

  it('project tags, user descriptions and extra attributes are kept; bad tags and extras are refused', async () => {
    const p = (await client.createProject({ name: 'tagged', tags: ['blue', 'eu'] }, as(admin))).project as identity.Project;
    expect(p.tags).toEqual(['blue', 'eu']);
    expect((await client.updateProject({ projectId: p.id, updateTags: true, tags: ['red'] }, as(admin))).project?.tags).toEqual(['red']);
    expect((await client.updateProject({ projectId: p.id, name: 'tagged2' }, as(admin))).project?.tags).toEqual(['red']);
    await expect(client.createProject({ name: 'badtags', tags: ['a/b'] }, as(admin))).rejects.toMatchObject({ field: 'tags' });
    const u = (await client.createUser({ name: 'sam', password: 'pw', description: 'on call' }, as(admin))).user as identity.User;
    expect(u.description).toBe('on call');
    expect((await client.updateUser({ userId: u.id, description: 'off' }, as(admin))).user?.description).toBe('off');
    // Keystone's extra attributes: kept as given, merged on update, bounded and JSON objects only
    const x = (await client.createUser({ name: 'xena', password: 'pw', extraJson: '{"project_id":"p9","team":{"a":1}}' }, as(admin))).user as identity.User;
    expect(JSON.parse(x.extraJson)).toEqual({ project_id: 'p9', team: { a: 1 } });
    const merged = (await client.updateUser({ userId: x.id, extraJson: '{"project_id":"p10"}' }, as(admin))).user as identity.User;
    expect(JSON.parse(merged.extraJson)).toEqual({ project_id: 'p10', team: { a: 1 } });
    await expect(client.createUser({ name: 'yann', password: 'pw', extraJson: '[1]' }, as(admin))).rejects.toMatchObject({ field: 'extra_json' });
    await expect(client.createUser({ name: 'yann', password: 'pw', extraJson: `{"a":"${'x'.repeat(5000)}"}` }, as(admin))).rejects.toMatchObject({ field: 'extra_json' });
  });

  it('role assignments: filters by group, role and domain; effective expands groups to members and implied roles', async () => {
    const { user } = await userOn(admin, 'olga', other, 'admin');
    const { groupId } = await client.createGroup({ name: 'viewers' }, as(admin));
    const { user: pia } = await userOn(admin, 'pia', team, 'reader');
    await client.addUserToGroup({ groupId, userId: pia.id }, as(admin));
    await client.assignRole({ assignment: { roleName: 'member', groupId, projectId: other.id } }, as(admin));
    await client.assignRole({ assignment: { roleName: 'reader', userId: user.id, domainId: 'default' } }, as(admin));

    const direct = (await client.listRoleAssignments({ projectId: other.id }, as(admin))).assignments;
    expect(direct.map((a) => `${a.userId || a.groupId}:${a.roleName}`).sort()).toEqual([`${groupId}:member`, `${user.id}:admin`].sort());
    expect((await client.listRoleAssignments({ groupId }, as(admin))).assignments.map((a) => a.roleName)).toEqual(['member']);
    expect((await client.listRoleAssignments({ domainId: 'default', userId: user.id }, as(admin))).assignments.map((a) => a.roleName)).toEqual(['reader']);

    const effective = (await client.listRoleAssignments({ projectId: other.id, effective: true }, as(admin))).assignments;
    expect(effective.every((a) => !a.groupId)).toBe(true);
    expect(effective.filter((a) => a.userId === user.id).map((a) => a.roleName).sort()).toEqual(['admin', 'member', 'reader']);
    expect(effective.filter((a) => a.userId === pia.id).map((a) => a.roleName).sort()).toEqual(['member', 'reader']);
    const memberRole = (await client.listRoles({}, as(admin))).roles.find((r) => r.name === 'member') as identity.Role;
    const byRole = (await client.listRoleAssignments({ projectId: other.id, roleId: memberRole.id, effective: true }, as(admin))).assignments;
    expect(byRole.map((a) => a.userId).sort()).toEqual([user.id, pia.id].sort());
  });

  it('domains: update; an enabled domain is not deleted (FAILED_PRECONDITION); a disabled one goes with its projects, users and groups', async () => {
    const dom = (await client.createDomain({ name: 'acme', description: 'ACME' }, as(admin))).domain as identity.Domain;
    expect(dom).toMatchObject({ name: 'acme', description: 'ACME', enabled: true });
    const parent = (await client.createProject({ name: 'acme-root', domainId: dom.id }, as(admin))).project as identity.Project;
    const child = (await client.createProject({ name: 'acme-child', domainId: dom.id, parentId: parent.id }, as(admin))).project as identity.Project;
    const u = (await client.createUser({ name: 'wile', password: 'pw-wile', domainId: dom.id, defaultProjectId: child.id }, as(admin))).user as identity.User;
    await client.assignRole({ assignment: { roleName: 'member', userId: u.id, projectId: child.id } }, as(admin));
    const { groupId } = await client.createGroup({ name: 'acme-group', domainId: dom.id }, as(admin));
    const token = (await client.authenticate({ password: { userName: 'wile', password: 'pw-wile', domainId: dom.id } })).token;

    await expect(client.deleteDomain({ domainId: dom.id }, as(admin))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'domain_enabled' });
    await client.updateDomain({ domainId: dom.id, enabled: false }, as(admin));
    await expect(client.validateToken({}, as(token))).rejects.toThrow(/revoked/);
    await expect(client.authenticate({ password: { userName: 'wile', password: 'pw-wile', domainId: dom.id } })).rejects.toBeInstanceOf(UnauthenticatedError);
    await client.deleteDomain({ domainId: dom.id }, as(admin));
    expect((await client.listDomains({}, as(admin))).domains.map((d) => d.id)).not.toContain(dom.id);
    for (const p of [parent, child]) await expect(client.getProject({ projectId: p.id }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.getUser({ userId: u.id }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.getGroup({ groupId }, as(admin))).rejects.toBeInstanceOf(NotFoundError);
    expect(await redis.keys(`mc:identity:*${dom.id}*`)).toEqual([]);
  });

  it('the new RPCs refuse a member of another project, a caller without credentials, and malformed requests', async () => {
    const { user, token } = await userOn(admin, 'quinn', other);
    const calls: [string, (t: { token?: string }) => Promise<unknown>][] = [
      ['updateProject', (t) => client.updateProject({ projectId: team.id, name: 'stolen' }, t)],
      ['updateDomain', (t) => client.updateDomain({ domainId: 'default', enabled: false }, t)],
      ['deleteDomain', (t) => client.deleteDomain({ domainId: 'default' }, t)],
      ['getGroup', (t) => client.getGroup({ groupId: 'g' }, t)],
      ['updateGroup', (t) => client.updateGroup({ groupId: 'g', name: 'x' }, t)],
      ['deleteGroup', (t) => client.deleteGroup({ groupId: 'g' }, t)],
      ['removeUserFromGroup', (t) => client.removeUserFromGroup({ groupId: 'g', userId: user.id }, t)],
      ['listGroupUsers', (t) => client.listGroupUsers({ groupId: 'g' }, t)],
      ['updateRole', (t) => client.updateRole({ roleId: 'r', name: 'x' }, t)],
      ['deleteRole', (t) => client.deleteRole({ roleId: 'r' }, t)],
    ];
    for (const [name, call] of calls) {
      await expect(call(as(token))).rejects.toBeInstanceOf(PermissionDeniedError);
      await expect(call({})).rejects.toBeInstanceOf(UnauthenticatedError);
      expect(name).toBeTruthy();
    }
    await expect(client.listGroups({ userId: 'someone-else' }, as(token))).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(client.listGroups({}, {})).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(client.changePassword({ userId: user.id, originalPassword: 'not-quinns', password: 'x' }, {})).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(client.listRoleAssignments({ groupId: 'g' }, as(token))).rejects.toBeInstanceOf(PermissionDeniedError);
    // malformed: missing ids, over-long names
    await expect(client.updateProject({ projectId: '' }, as(admin))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'project_id' });
    await expect(client.updateDomain({ domainId: '' }, as(admin))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'domain_id' });
    await expect(client.updateGroup({ groupId: '', name: 'x' }, as(admin))).rejects.toMatchObject({ field: 'group_id' });
    await expect(client.deleteRole({ roleId: '' }, as(admin))).rejects.toMatchObject({ field: 'role_id' });
    await expect(client.updateRole({ roleId: 'r', name: 'x'.repeat(300) }, as(admin))).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(client.changePassword({ userId: user.id, originalPassword: 'pw-quinn', password: 'p'.repeat(5000) }, as(token))).rejects.toMatchObject({ field: 'password' });
    await expect(client.removeUserFromGroup({ groupId: '', userId: user.id }, as(admin))).rejects.toMatchObject({ field: 'group_id' });
    await waitFor(() => revokedEvents.length > 0);
  });
});
