import * as proto from '@minicloud/proto';
import { expandRoles } from './auth-context';
import { authorize } from './policy';
import { POLICY_TABLE, ruleForMethod, UNLISTED_METHOD_RULE } from './policy-table';

/** Every RPC path of every generated service definition (`XServiceService` objects of @minicloud/proto). */
function allRpcPaths(): string[] {
  const paths: string[] = [];
  for (const mod of Object.values(proto)) {
    if (!mod || typeof mod !== 'object') continue;
    for (const [name, def] of Object.entries(mod as Record<string, unknown>)) {
      if (!name.endsWith('Service') || !def || typeof def !== 'object') continue;
      const methods = Object.values(def as Record<string, { path?: unknown }>);
      if (methods.length && methods.every((m) => typeof m?.path === 'string')) paths.push(...methods.map((m) => m.path as string));
    }
  }
  return paths;
}

describe('the policy table', () => {
  const paths = allRpcPaths();

  it('lists every RPC of every service (add a line to policy-table.ts for a new RPC)', () => {
    expect(paths.length).toBeGreaterThan(100);
    expect(paths.filter((p) => !(p in POLICY_TABLE))).toEqual([]);
  });

  it('lists no method that does not exist (a renamed RPC leaves no stale rule)', () => {
    const known = new Set(paths);
    expect(Object.keys(POLICY_TABLE).filter((p) => !known.has(p))).toEqual([]);
  });

  it('makes only the login/bootstrap calls public (and the password change, proven by the password as a login is)', () => {
    expect(Object.entries(POLICY_TABLE).filter(([, r]) => r === 'public').map(([p]) => p.split('/')[2]).sort()).toEqual([
      'Authenticate',
      'ChangePassword',
      'GetCatalog',
      'GetPublicKeys',
    ]);
  });

  it.each([
    ['/minicloud.compute.v1.ComputeService/ListServers', 'project_reader', ['reader'], []],
    ['/minicloud.compute.v1.ComputeService/CreateServer', 'project_member', ['member'], ['reader']],
    ['/minicloud.compute.v1.ComputeService/CreateFlavor', 'admin_api', [], ['member', 'admin']],
    ['/minicloud.image.v1.ImageService/DeactivateImage', 'admin_api', [], ['member', 'admin']],
    ['/minicloud.image.v1.ImageService/DownloadImage', 'project_reader', ['reader'], []],
    ['/minicloud.network.v1.NetworkService/BindPort', 'admin_api', [], ['member', 'admin']],
    ['/minicloud.volume.v1.VolumeService/CreateAttachment', 'project_member', ['member'], ['reader']],
    ['/minicloud.identity.v1.IdentityService/ListRevocations', 'agent', ['compute_agent'], ['member', 'admin']],
    ['/minicloud.agent.v1.HostRegistryService/RegisterHost', 'agent', ['compute_agent'], ['member', 'admin']],
    ['/minicloud.compute.v1.ComputeService/UpdateHost', 'admin_api', [], ['member', 'compute_agent', 'admin']],
    ['/minicloud.identity.v1.IdentityService/SetQuota', 'admin_api', [], ['member', 'admin']],
    ['/minicloud.identity.v1.IdentityService/ReleaseQuota', 'admin_api', [], ['member', 'admin']],
    ['/minicloud.agent.v1.HypervisorService/ExecuteCommand', 'admin_api', [], ['member', 'compute_agent', 'admin']],
    ['/minicloud.compute.v1.ComputeService/GetServer', 'project_reader_or_instance', ['reader'], []],
  ])('%s needs %s (role admin on a non-admin project is not a cloud admin)', (path, rule, allowed, refused) => {
    expect(ruleForMethod(path)).toBe(rule);
    const project = (roles: string[]) => ({ tokenId: 't', userId: 'u', userName: 'u', projectId: 'p', projectName: 'p', domainId: 'd', roles: expandRoles(roles), issuedAtMs: 0, expiresAtMs: 0 });
    for (const roles of allowed) expect(() => authorize(ruleForMethod(path), 'm', project([roles]))).not.toThrow();
    for (const roles of refused) expect(() => authorize(ruleForMethod(path), 'm', project([roles]))).toThrow(/requires/);
    // a cloud admin passes every rule: system-scoped, or admin on the admin project
    expect(() => authorize(ruleForMethod(path), 'm', { ...project(['admin']), projectId: '', systemScope: 'all' })).not.toThrow();
    expect(() => authorize(ruleForMethod(path), 'm', { ...project(['admin']), isAdminProject: true })).not.toThrow();
  });

  it('gives an instance credential no project_reader or project_member method', () => {
    const instance = { tokenId: 't', userId: 'instance:vm', userName: 'i', projectId: 'p', projectName: 'p', domainId: 'd', roles: ['instance'], instanceId: 'vm', issuedAtMs: 0, expiresAtMs: 0 };
    const open = Object.entries(POLICY_TABLE).filter(([, rule]) => {
      try {
        authorize(rule, 'm', instance);
        return !['public', 'authenticated'].includes(rule);
      } catch {
        return false;
      }
    });
    expect(open.map(([p]) => p.split('/')[2]).sort()).toEqual(['GetServer', 'ListInterfaces']);
  });

  it('fails closed for a method it does not list', () => {
    expect(ruleForMethod('/minicloud.x.v1.NewService/DoThing')).toBe(UNLISTED_METHOD_RULE);
    expect(UNLISTED_METHOD_RULE).toBe('admin_api');
    expect(ruleForMethod('toString')).toBe('admin_api');
  });
});
