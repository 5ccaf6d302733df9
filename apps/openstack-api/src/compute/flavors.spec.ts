import type { FastifyInstance } from 'fastify';
import { compute } from '@minicloud/proto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { silentLogger } from '@minicloud/platform-logging';
import { fakeBackends, httpRequest, type RecordedCall } from '../http/test-kit';
import { buildServer } from '../server';

/**
 * Nova's flavor writes and flavor access over real HTTP with a fake controller that keeps flavors,
 * extra specs and access lists in memory and decides as the controller does: token "admin" (project
 * p1, admin), "member" (p1), "other" (p2, member); no token is UNAUTHENTICATED; writes and access
 * lists are admin-only (PERMISSION_DENIED); a private flavor is visible to admins and granted projects.
 */
const ADMIN_ONLY = new Set(['createFlavor', 'deleteFlavor', 'setFlavorExtraSpecs', 'listFlavorAccess', 'addFlavorAccess', 'removeFlavorAccess']);
const WHO: Record<string, { projectId: string; admin: boolean }> = { admin: { projectId: 'p1', admin: true }, member: { projectId: 'p1', admin: false }, other: { projectId: 'p2', admin: false } };

describe('Nova flavors: create, delete, extra specs, flavor access (real HTTP, fake gRPC)', () => {
  let app: FastifyInstance;
  let calls: RecordedCall[];
  let flavors: Map<string, compute.Flavor>;
  let access: Map<string, Set<string>>;

  const req = (token: string | undefined, method: string, url: string, payload?: unknown) =>
    httpRequest(app, { method, url: `/compute/v2.1${url}`, headers: token ? { 'x-auth-token': token } : {}, payload });
  const as = (token: string | undefined) => ({
    get: (url: string) => req(token, 'GET', url),
    post: (url: string, body?: unknown) => req(token, 'POST', url, body),
    put: (url: string, body?: unknown) => req(token, 'PUT', url, body),
    del: (url: string) => req(token, 'DELETE', url),
  });
  const admin = as('admin');
  const member = as('member');
  const other = as('other');
  const anonymous = as(undefined);
  const sent = (method: string) => calls.filter((c) => c.method === method).map((c) => c.req);
  const names = (body: { flavors: { name: string }[] }) => body.flavors.map((f) => f.name).sort();

  beforeEach(async () => {
    calls = [];
    flavors = new Map([['1', compute.Flavor.fromPartial({ id: '1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1, isPublic: true, rxtxFactor: 1 })]]);
    access = new Map();
    const visible = (f: compute.Flavor, who: { projectId: string; admin: boolean }) => f.isPublic || who.admin || !!access.get(f.id)?.has(who.projectId);
    const find = (id: string) => {
      const f = flavors.get(id);
      if (!f) throw new NotFoundError('flavor', id);
      return f;
    };
    const impl: Record<string, (r: never, who: { projectId: string; admin: boolean }) => unknown> = {
      listFlavors: (r: compute.ListFlavorsRequest, who) => {
        const wanted = who.admin ? r.isPublic : true;
        const granted = (f: compute.Flavor) => !!access.get(f.id)?.has(who.projectId);
        const shown = [...flavors.values()].filter((f) => (wanted === true ? f.isPublic || granted(f) : wanted === false ? !f.isPublic : visible(f, who)));
        return { flavors: shown };
      },
      getFlavor: (r: compute.GetFlavorRequest, who) => {
        const f = flavors.get(r.flavorRef);
        if (!f || !visible(f, who)) throw new NotFoundError('flavor', r.flavorRef);
        return { flavor: f };
      },
      createFlavor: (r: compute.CreateFlavorRequest) => {
        if (r.ramMb < 1) throw new InvalidArgumentError('ram_mb', 'must be an integer from 1 to 2147483647');
        const id = r.id || '9d3b3a5c-0f67-4f0e-8d55-0b8e1d0c6a01';
        if (flavors.has(id) || [...flavors.values()].some((f) => f.name === r.name)) throw new AlreadyExistsError('flavor', flavors.has(id) ? id : r.name);
        const f = compute.Flavor.fromPartial({ ...r, id, isPublic: r.isPublic ?? true, rxtxFactor: r.rxtxFactor ?? 1 });
        flavors.set(id, f);
        return { flavor: f };
      },
      deleteFlavor: (r: compute.DeleteFlavorRequest) => {
        find(r.flavorId);
        flavors.delete(r.flavorId);
        return {};
      },
      setFlavorExtraSpecs: (r: compute.SetFlavorExtraSpecsRequest) => {
        const f = find(r.flavorId);
        const extraSpecs = { ...f.extraSpecs, ...r.extraSpecs };
        for (const k of r.unset) delete extraSpecs[k];
        flavors.set(f.id, { ...f, extraSpecs });
        return { flavor: flavors.get(f.id) };
      },
      listFlavorAccess: (r: compute.ListFlavorAccessRequest) => {
        if (find(r.flavorId).isPublic) throw new NotFoundError('flavor access', r.flavorId);
        return { projectIds: [...(access.get(r.flavorId) ?? [])].sort() };
      },
      addFlavorAccess: (r: compute.AddFlavorAccessRequest) => {
        if (find(r.flavorId).isPublic) throw new FailedPreconditionError(`flavor ${r.flavorId} is public`, 'flavor_is_public');
        const set = access.get(r.flavorId) ?? new Set<string>();
        if (set.has(r.projectId)) throw new AlreadyExistsError('flavor access', `for flavor ${r.flavorId} and project ${r.projectId}`);
        access.set(r.flavorId, set.add(r.projectId));
        return { projectIds: [...set].sort() };
      },
      removeFlavorAccess: (r: compute.RemoveFlavorAccessRequest) => {
        find(r.flavorId);
        if (!access.get(r.flavorId)?.delete(r.projectId)) throw new NotFoundError('flavor access', `${r.flavorId}/${r.projectId}`);
        return { projectIds: [...(access.get(r.flavorId) ?? [])].sort() };
      },
    };
    const guarded = Object.fromEntries(
      Object.entries(impl).map(([m, f]) => [
        m,
        (r: never, opts: RecordedCall['opts']) => {
          const who = opts.token ? WHO[opts.token] : undefined;
          if (!who) throw new UnauthenticatedError('missing bearer token');
          if (ADMIN_ONLY.has(m) && !who.admin) throw new PermissionDeniedError(`${m} requires role admin`);
          return f(r, who);
        },
      ]),
    );
    app = await buildServer({ backends: fakeBackends(calls, guarded), region: 'RegionOne', publicUrl: 'http://api.test:5080', logger: silentLogger() });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(() => app.close());

  it('creates a flavor with a given id, string counts and the 2.1 extensions, and answers its detail', async () => {
    const res = await admin.post('/flavors', {
      flavor: { name: 'm1.big', id: 42, ram: '2048', vcpus: 2, disk: 20, 'OS-FLV-EXT-DATA:ephemeral': 1, swap: 512, rxtx_factor: 2, 'os-flavor-access:is_public': 'False' },
    });
    expect(res.statusCode).toBe(200);
    expect(sent('createFlavor')[0]).toEqual({ id: '42', name: 'm1.big', ramMb: 2048, vcpus: 2, diskGb: 20, ephemeralGb: 1, swapMb: 512, rxtxFactor: 2, isPublic: false, extraSpecs: {} });
    expect(res.json().flavor).toEqual({
      id: '42',
      name: 'm1.big',
      ram: 2048,
      disk: 20,
      vcpus: 2,
      swap: 512,
      'OS-FLV-EXT-DATA:ephemeral': 1,
      'OS-FLV-DISABLED:disabled': false,
      rxtx_factor: 2,
      'os-flavor-access:is_public': false,
      links: [
        { rel: 'self', href: 'http://api.test:5080/compute/v2.1/flavors/42' },
        { rel: 'bookmark', href: 'http://api.test:5080/compute/flavors/42' },
      ],
    });
  });

  it('generates the id when none or null is given; swap 0 shows as "" and rxtx_factor 1.0', async () => {
    const res = await admin.post('/flavors', { flavor: { name: 'gen', id: null, ram: 64, vcpus: 1, disk: 0 } });
    expect(res.statusCode).toBe(200);
    expect(sent('createFlavor')[0]).toMatchObject({ id: '', isPublic: undefined, rxtxFactor: undefined });
    expect(res.json().flavor).toMatchObject({ id: '9d3b3a5c-0f67-4f0e-8d55-0b8e1d0c6a01', swap: '', rxtx_factor: 1, 'os-flavor-access:is_public': true });
    // a number is its decimal spelling, as Nova's str(id)
    expect((await admin.post('/flavors', { flavor: { name: 'num', id: 7.5, ram: 64, vcpus: 1, disk: 0 } })).json().flavor.id).toBe('7.5');
  });

  it.each([
    ['no body', undefined],
    ['no name', { flavor: { ram: 1, vcpus: 1, disk: 0 } }],
    ['empty name', { flavor: { name: '', ram: 1, vcpus: 1, disk: 0 } }],
    ['name with a leading blank', { flavor: { name: ' x', ram: 1, vcpus: 1, disk: 0 } }],
    ['name over 255', { flavor: { name: 'n'.repeat(256), ram: 1, vcpus: 1, disk: 0 } }],
    ['ram 0', { flavor: { name: 'x', ram: 0, vcpus: 1, disk: 0 } }],
    ['negative disk', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: -1 } }],
    ['vcpus not a number', { flavor: { name: 'x', ram: 1, vcpus: 'two', disk: 0 } }],
    ['ram a float', { flavor: { name: 'x', ram: 1.5, vcpus: 1, disk: 0 } }],
    ['rxtx_factor 0', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0, rxtx_factor: 0 } }],
    ['is_public not a boolean', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0, 'os-flavor-access:is_public': 'maybe' } }],
    ['id with a slash', { flavor: { name: 'x', id: 'a/b', ram: 1, vcpus: 1, disk: 0 } }],
    ['empty id', { flavor: { name: 'x', id: '', ram: 1, vcpus: 1, disk: 0 } }],
    ['unknown field', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0, color: 'red' } }],
  ])('refuses a malformed create (%s) with 400 badRequest before the controller', async (_case, body) => {
    const res = await admin.post('/flavors', body);
    expect(res.statusCode).toBe(400);
    expect(res.json().badRequest.code).toBe(400);
    expect(sent('createFlavor')).toEqual([]);
  });

  it('answers 409 for a taken name or id, 403 to a member, 401 without a token', async () => {
    const conflict = await admin.post('/flavors', { flavor: { name: 'm1.tiny', ram: 1, vcpus: 1, disk: 0 } });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().conflictingRequest.message).toMatch(/m1\.tiny/);
    expect((await admin.post('/flavors', { flavor: { name: 'new', id: '1', ram: 1, vcpus: 1, disk: 0 } })).statusCode).toBe(409);
    const forbidden = await member.post('/flavors', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0 } });
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().forbidden.code).toBe(403);
    expect((await other.post('/flavors', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0 } })).statusCode).toBe(403);
    expect((await anonymous.post('/flavors', { flavor: { name: 'x', ram: 1, vcpus: 1, disk: 0 } })).statusCode).toBe(401);
    expect(flavors.size).toBe(1);
  });

  it('deletes a flavor with 202 (admin only); an unknown one is 404', async () => {
    expect((await member.del('/flavors/1')).statusCode).toBe(403);
    expect((await anonymous.del('/flavors/1')).statusCode).toBe(401);
    const res = await admin.del('/flavors/1');
    expect(res.statusCode).toBe(202);
    expect(res.text).toBe('');
    expect((await admin.del('/flavors/1')).json().itemNotFound.code).toBe(404);
    expect((await member.get('/flavors/1')).statusCode).toBe(404);
  });

  it('sets, updates, shows and unsets extra specs as Nova does', async () => {
    const set = await admin.post('/flavors/1/os-extra_specs', { extra_specs: { 'hw:numa_nodes': 1, 'hw:cpu_policy': 'shared', 'trait:x': true } });
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ extra_specs: { 'hw:numa_nodes': '1', 'hw:cpu_policy': 'shared', 'trait:x': 'True' } });
    expect(sent('setFlavorExtraSpecs')[0]).toEqual({ flavorId: '1', extraSpecs: { 'hw:numa_nodes': '1', 'hw:cpu_policy': 'shared', 'trait:x': 'True' }, unset: [] });
    const update = await admin.put('/flavors/1/os-extra_specs/hw:numa_nodes', { 'hw:numa_nodes': '2' });
    expect(update.statusCode).toBe(200);
    expect(update.json()).toEqual({ 'hw:numa_nodes': '2' });
    expect((await member.get('/flavors/1/os-extra_specs')).json().extra_specs).toEqual({ 'hw:numa_nodes': '2', 'hw:cpu_policy': 'shared', 'trait:x': 'True' });
    expect((await member.get('/flavors/1/os-extra_specs/hw:cpu_policy')).json()).toEqual({ 'hw:cpu_policy': 'shared' });
    const unset = await admin.del('/flavors/1/os-extra_specs/hw:cpu_policy');
    expect(unset.statusCode).toBe(200);
    expect(sent('setFlavorExtraSpecs')[2]).toEqual({ flavorId: '1', extraSpecs: {}, unset: ['hw:cpu_policy'] });
    expect((await admin.del('/flavors/1/os-extra_specs/hw:cpu_policy')).json().itemNotFound.message).toBe('Flavor 1 has no extra specs with key hw:cpu_policy.');
    expect((await member.get('/flavors/1/os-extra_specs/hw:cpu_policy')).statusCode).toBe(404);
  });

  it('refuses malformed extra spec writes (400), a member (403), no token (401), an unknown flavor (404)', async () => {
    expect((await admin.put('/flavors/1/os-extra_specs/a', { b: 'x' })).json().badRequest.message).toBe('Request body and URI mismatch');
    expect((await admin.put('/flavors/1/os-extra_specs/a', { a: 'x', b: 'y' })).statusCode).toBe(400);
    expect((await admin.put('/flavors/1/os-extra_specs/a', {})).statusCode).toBe(400);
    expect((await admin.post('/flavors/1/os-extra_specs', { specs: {} })).statusCode).toBe(400);
    expect((await admin.post('/flavors/1/os-extra_specs', { extra_specs: { 'bad/key': 'x' } })).statusCode).toBe(400);
    expect((await admin.post('/flavors/1/os-extra_specs', { extra_specs: { k: 'v'.repeat(256) } })).statusCode).toBe(400);
    expect(sent('setFlavorExtraSpecs')).toEqual([]);
    expect((await member.post('/flavors/1/os-extra_specs', { extra_specs: { a: 'x' } })).statusCode).toBe(403);
    expect((await member.put('/flavors/1/os-extra_specs/a', { a: 'x' })).statusCode).toBe(403);
    expect((await anonymous.post('/flavors/1/os-extra_specs', { extra_specs: { a: 'x' } })).statusCode).toBe(401);
    expect((await admin.post('/flavors/nope/os-extra_specs', { extra_specs: { a: 'x' } })).statusCode).toBe(404);
    expect(flavors.get('1')!.extraSpecs).toEqual({});
  });

  it('a private flavor is listed and shown to admins and granted projects only; is_public filters an admin list', async () => {
    await admin.post('/flavors', { flavor: { name: 'secret', id: 'p', ram: 1, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false } });
    expect(names((await admin.get('/flavors')).json())).toEqual(['m1.tiny']);
    expect(sent('listFlavors')[0]).toEqual({ isPublic: true });
    expect(names((await admin.get('/flavors/detail?is_public=None')).json())).toEqual(['m1.tiny', 'secret']);
    expect(sent('listFlavors')[1]).toEqual({ isPublic: undefined });
    expect(names((await admin.get('/flavors/detail?is_public=f')).json())).toEqual(['secret']);
    expect(names((await admin.get('/flavors?is_public=yes')).json())).toEqual(['m1.tiny']);
    expect((await admin.get('/flavors?is_public=perhaps')).json().badRequest.message).toBe('Invalid is_public filter [perhaps]');
    expect(names((await member.get('/flavors/detail?is_public=false')).json())).toEqual(['m1.tiny']);
    expect((await member.get('/flavors/p')).statusCode).toBe(404);

    const granted = await admin.post('/flavors/p/action', { addTenantAccess: { tenant: 'p1' } });
    expect(granted.statusCode).toBe(200);
    expect(granted.json()).toEqual({ flavor_access: [{ flavor_id: 'p', tenant_id: 'p1' }] });
    expect(names((await member.get('/flavors')).json())).toEqual(['m1.tiny', 'secret']);
    expect((await member.get('/flavors/p')).json().flavor.name).toBe('secret');
    expect((await other.get('/flavors/p')).statusCode).toBe(404);
    expect(names((await other.get('/flavors')).json())).toEqual(['m1.tiny']);
    expect((await admin.get('/flavors/p/os-flavor-access')).json()).toEqual({ flavor_access: [{ flavor_id: 'p', tenant_id: 'p1' }] });

    const removed = await admin.post('/flavors/p/action', { removeTenantAccess: { tenant: 'p1' } });
    expect(removed.json()).toEqual({ flavor_access: [] });
    expect((await member.get('/flavors/p')).statusCode).toBe(404);
  });

  it('flavor access refusals: public flavor 404/409, duplicate 409, not granted 404, member 403, no token 401, malformed 400', async () => {
    await admin.post('/flavors', { flavor: { name: 'secret', id: 'p', ram: 1, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false } });
    expect((await admin.get('/flavors/1/os-flavor-access')).statusCode).toBe(404);
    expect((await admin.post('/flavors/1/action', { addTenantAccess: { tenant: 'p1' } })).statusCode).toBe(409);
    await admin.post('/flavors/p/action', { addTenantAccess: { tenant: 'p1' } });
    expect((await admin.post('/flavors/p/action', { addTenantAccess: { tenant: 'p1' } })).json().conflictingRequest.code).toBe(409);
    expect((await admin.post('/flavors/p/action', { removeTenantAccess: { tenant: 'p2' } })).json().itemNotFound.code).toBe(404);
    expect((await member.post('/flavors/p/action', { addTenantAccess: { tenant: 'p2' } })).statusCode).toBe(403);
    expect((await other.post('/flavors/p/action', { removeTenantAccess: { tenant: 'p1' } })).statusCode).toBe(403);
    expect((await member.get('/flavors/p/os-flavor-access')).statusCode).toBe(403);
    expect((await anonymous.post('/flavors/p/action', { addTenantAccess: { tenant: 'p2' } })).statusCode).toBe(401);
    expect((await anonymous.get('/flavors/p/os-flavor-access')).statusCode).toBe(401);
    for (const bad of [{ addTenantAccess: {} }, { addTenantAccess: { tenant: '' } }, { addTenantAccess: { tenant: 'p2' }, removeTenantAccess: { tenant: 'p1' } }, { grant: { tenant: 'p2' } }, {}]) {
      expect((await admin.post('/flavors/p/action', bad)).statusCode).toBe(400);
    }
    expect([...access.get('p')!]).toEqual(['p1']);
  });
});
