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
    ['/minicloud.compute.v1.ComputeService/ListServers', 'reader', ['reader'], []],
    ['/minicloud.compute.v1.ComputeService/CreateServer', 'member', ['member'], ['reader']],
    ['/minicloud.compute.v1.ComputeService/CreateFlavor', 'admin', ['admin'], ['member']],
    ['/minicloud.image.v1.ImageService/DeactivateImage', 'admin', ['admin'], ['member']],
    ['/minicloud.image.v1.ImageService/DownloadImage', 'reader', ['reader'], []],
    ['/minicloud.network.v1.NetworkService/BindPort', 'admin', ['admin'], ['member']],
    ['/minicloud.volume.v1.VolumeService/CreateAttachment', 'member', ['member'], ['reader']],
    ['/minicloud.identity.v1.IdentityService/ListRevocations', 'agent', ['admin', 'compute_agent'], ['member']],
    ['/minicloud.agent.v1.HostRegistryService/RegisterHost', 'agent', ['admin', 'compute_agent'], ['member']],
    ['/minicloud.compute.v1.ComputeService/UpdateHost', 'admin', ['admin'], ['member', 'compute_agent']],
    ['/minicloud.identity.v1.IdentityService/SetQuota', 'admin', ['admin'], ['member']],
    ['/minicloud.agent.v1.HypervisorService/ExecuteCommand', 'admin', ['admin'], ['member', 'compute_agent']],
  ])('%s needs %s', (path, rule, allowed, refused) => {
    expect(ruleForMethod(path)).toBe(rule);
    const ctx = (roles: string[]) => ({ tokenId: 't', userId: 'u', userName: 'u', projectId: 'p', projectName: 'p', domainId: 'd', roles: expandRoles(roles), issuedAtMs: 0, expiresAtMs: 0 });
    expect(() => authorize(ruleForMethod(path), 'm', ctx(allowed))).not.toThrow();
    if (refused.length) expect(() => authorize(ruleForMethod(path), 'm', ctx(refused))).toThrow(/requires role/);
  });

  it('fails closed for a method it does not list', () => {
    expect(ruleForMethod('/minicloud.x.v1.NewService/DoThing')).toBe(UNLISTED_METHOD_RULE);
    expect(UNLISTED_METHOD_RULE).toBe('admin');
    expect(ruleForMethod('toString')).toBe('admin');
  });
});
