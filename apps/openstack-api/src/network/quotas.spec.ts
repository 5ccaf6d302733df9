import type { FastifyInstance } from 'fastify';
import { PermissionDeniedError } from '@minicloud/domain-errors';
import { identity, network } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type RecordedCall as Call } from '../http/test-kit';

const TOKENS: Record<string, { projectId: string; admin: boolean }> = { t1: { projectId: 'p1', admin: false }, adm: { projectId: 'p0', admin: true } };

/** Identity's quotas (limits by identity resource name) and the network service's counts, with their scoping. */
function fakeQuotas() {
  const limits = new Map<string, Record<string, number>>([['p1', { networks: 100, subnets: 100, ports: 500, routers: 10, floating_ips: 50, security_groups: 10, security_group_rules: 100 }]]);
  const caller = fakeCaller(TOKENS);
  const scoped = (projectId: string, opts: Call['opts']) => {
    const c = caller(opts);
    if (projectId && projectId !== c.projectId && !c.admin) throw new PermissionDeniedError("another project's quota requires role admin");
    return projectId || c.projectId;
  };
  const impl = {
    validateToken: (_: unknown, opts: Call['opts']) => ({ info: identity.TokenInfo.fromPartial({ projectId: caller(opts).projectId }) }),
    getQuota: (req: { projectId: string }, opts: Call['opts']) => {
      const p = scoped(req.projectId, opts);
      return { quota: identity.Quota.fromPartial({ projectId: p, limits: limits.get(p) ?? { networks: 100, subnets: 100, ports: 500, routers: 10, floating_ips: 50, security_groups: 10, security_group_rules: 100 } }) };
    },
    setQuota: (req: identity.SetQuotaRequest, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('setting quotas requires role admin');
      limits.set(req.projectId, { ...(limits.get(req.projectId) ?? {}), ...req.limits } as Record<string, number>);
      return impl.getQuota({ projectId: req.projectId }, opts);
    },
    listProjects: () => ({ projects: [...limits.keys()].map((id) => identity.Project.fromPartial({ id, name: id })) }),
    getQuotaUsage: (req: network.GetQuotaUsageRequest, opts: Call['opts']) => ({ projectId: scoped(req.projectId, opts), inUse: { networks: 2, ports: 3, security_groups: 1, security_group_rules: 4 } }),
  };
  return { impl, limits };
}

describe('Neutron quotas over the REST front', () => {
  let app: FastifyInstance;
  let calls: Call[];
  let fake: ReturnType<typeof fakeQuotas>;
  const as = (token: string, method: string, url: string, payload?: unknown) => requestAs(app, { method, url: `/network/v2.0${url}`, payload }, token);

  beforeEach(async () => {
    calls = [];
    fake = fakeQuotas();
    app = await listenFront(fakeBackends(calls, fake.impl as never));
  });
  afterEach(() => app.close());

  it("shows a project's limits in Neutron's names, with details (limit, used, reserved), and the defaults", async () => {
    expect((await as('t1', 'GET', '/quotas/p1')).json()).toEqual({ quota: { network: 100, subnet: 100, port: 500, router: 10, floatingip: 50, security_group: 10, security_group_rule: 100 } });
    const details = (await as('t1', 'GET', '/quotas/p1/details')).json().quota;
    expect(details.port).toEqual({ limit: 500, used: 3, reserved: 0 });
    expect(details.security_group_rule).toEqual({ limit: 100, used: 4, reserved: 0 });
    expect(details.router).toEqual({ limit: 10, used: 0, reserved: 0 });
    expect((await as('t1', 'GET', '/quotas/p1/default')).json().quota).toMatchObject({ network: 100, port: 500, security_group: 10 });
  });

  it("lets an admin change (PUT) and reset (DELETE) limits; lists the projects off the defaults", async () => {
    const put = await as('adm', 'PUT', '/quotas/p1', { quota: { network: 5, security_group_rule: -1 } });
    expect(put.statusCode).toBe(200);
    expect(put.json().quota).toMatchObject({ network: 5, security_group_rule: -1, port: 500 });
    expect(calls.find((c) => c.method === 'setQuota')!.req).toEqual({ projectId: 'p1', limits: { networks: 5, security_group_rules: -1 } });
    expect((await as('adm', 'GET', '/quotas')).json().quotas).toEqual([expect.objectContaining({ project_id: 'p1', network: 5 })]);
    expect((await as('adm', 'DELETE', '/quotas/p1')).statusCode).toBe(204);
    expect((await as('adm', 'GET', '/quotas/p1')).json().quota.network).toBe(100);
    expect((await as('adm', 'GET', '/quotas')).json().quotas).toEqual([]);
  });

  it("refuses a member changing limits or reading another project's (403), no credentials (401), and malformed limits (400)", async () => {
    expect((await as('t1', 'PUT', '/quotas/p1', { quota: { network: 5 } })).statusCode).toBe(403);
    expect((await as('t1', 'GET', '/quotas/p2')).statusCode).toBe(403);
    expect((await as('t1', 'GET', '/quotas/p2/details')).statusCode).toBe(403);
    expect((await as('', 'GET', '/quotas/p1')).statusCode).toBe(401);
    for (const quota of [{ network: 'many' }, { network: -2 }, { volumes: 3 }]) {
      const res = await as('adm', 'PUT', '/quotas/p1', { quota });
      expect(res.statusCode).toBe(400);
      expect(res.json().NeutronError.type).toBe('HTTPBadRequest');
    }
    expect(fake.limits.get('p1')!.networks).toBe(100);
  });

  it('lists the quotas extensions', async () => {
    const ext = (await as('t1', 'GET', '/extensions')).json().extensions.map((e: { alias: string }) => e.alias);
    expect(ext).toEqual(expect.arrayContaining(['quotas', 'quota_details']));
  });
});
