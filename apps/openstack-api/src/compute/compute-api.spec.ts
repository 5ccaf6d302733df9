import type { FastifyInstance } from 'fastify';
import { compute, identity } from '@minicloud/proto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { silentLogger } from '@minicloud/platform-logging';
import { fakeBackends, httpRequest, type RecordedCall } from '../http/test-kit';
import { buildServer } from '../server';

/**
 * Nova's second slice over real HTTP with fake gRPC that models the policy the way the services
 * decide it: token "admin" (project p1, admin), "member" (p1), "other" (p2, member); no token is
 * UNAUTHENTICATED; another project's server is NOT_FOUND; admin-only calls are PERMISSION_DENIED.
 */
const ADMIN_ONLY = new Set(['listHosts', 'getHost', 'updateHost', 'listMigrations', 'createAggregate', 'listAggregates', 'deleteAggregate', 'updateAggregate', 'addAggregateHost', 'removeAggregateHost', 'setAggregateMetadata', 'setQuota']);
const WHO: Record<string, { projectId: string; admin: boolean }> = { admin: { projectId: 'p1', admin: true }, member: { projectId: 'p1', admin: false }, other: { projectId: 'p2', admin: false } };

const host = (id: string, hostname: string, over: Partial<compute.Host> = {}) =>
  compute.Host.fromPartial({
    id,
    hostname,
    state: compute.HostState.HOST_STATE_UP,
    enabled: true,
    availabilityZone: 'nova',
    tunnelIp: '192.168.0.1',
    vcpus: { total: 8, allocated: 2, allocationRatio: 4 },
    ramMb: { total: 16384, allocated: 1024, allocationRatio: 1 },
    diskGb: { total: 100, allocated: 10, allocationRatio: 1 },
    runningVms: 2,
    lastHeartbeatAt: new Date('2026-01-01T00:00:00Z'),
    ...over,
  });

describe('Nova: actions, server resources, operator APIs, quotas (real HTTP, fake gRPC)', () => {
  let app: FastifyInstance;
  let calls: RecordedCall[];
  let metadata: Record<string, string>;
  let vmState: compute.VmState;
  let migrateError: Error | undefined;

  const req = (token: string | undefined, method: string, url: string, payload?: unknown) =>
    httpRequest(app, { method, url: `/compute/v2.1${url}`, headers: token ? { 'x-auth-token': token } : {}, payload });
  const as = (token: string) => ({
    get: (url: string) => req(token, 'GET', url),
    post: (url: string, body?: unknown) => req(token, 'POST', url, body),
    put: (url: string, body?: unknown) => req(token, 'PUT', url, body),
    del: (url: string) => req(token, 'DELETE', url),
  });
  const admin = as('admin');
  const member = as('member');
  const sent = (method: string) => calls.filter((c) => c.method === method).map((c) => c.req);

  beforeEach(async () => {
    calls = [];
    metadata = { a: '1', b: '2' };
    vmState = compute.VmState.VM_STATE_ACTIVE;
    migrateError = undefined;
    const server = () =>
      compute.Server.fromPartial({
        id: 's1',
        name: 'web',
        projectId: 'p1',
        status: 'ACTIVE',
        vmState,
        metadata,
        flavor: { id: 'f1', name: 'm1.tiny', vcpus: 1, ramMb: 512, diskGb: 1 },
        volumesAttached: [{ volumeId: 'v1', deviceName: '/dev/vdb' }],
        createdAt: new Date('2026-01-01T00:00:00Z'),
        launchedAt: new Date('2026-01-01T00:00:00Z'),
      });
    const hosts = [host('h-1', 'compute-1', { serviceId: 1 }), host('h-2', 'compute-2', { serviceId: 2, enabled: false, disabledReason: 'maint', state: compute.HostState.HOST_STATE_DOWN })];
    const aggregate = compute.Aggregate.fromPartial({
      id: 'agg-uuid',
      numericId: 7,
      name: 'fast',
      availabilityZone: 'az1',
      hostIds: ['h-1'],
      metadata: { ssd: 'true' },
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    const quota = identity.Quota.fromPartial({ projectId: 'p1', limits: { instances: 10, cores: 20, ram_mb: 51200, floating_ips: 50 }, inUse: { instances: 1, cores: 1, ram_mb: 512 } });
    const impl: Record<string, (r: never) => unknown> = {
      validateToken: () => ({ info: identity.TokenInfo.fromPartial({ projectId: 'p1', roles: ['member'] }) }),
      getServer: () => ({ server: server() }),
      listServers: () => ({ servers: [server()], page: { nextPageToken: '' } }),
      updateServer: (r: compute.UpdateServerRequest) => {
        for (const k of r.removeMetadata) delete metadata[k];
        Object.assign(metadata, r.setMetadata);
        return { server: { ...server(), name: r.name ?? 'web' } };
      },
      serverAction: (r: compute.ServerActionRequest) => {
        if (r.pause && vmState !== compute.VmState.VM_STATE_ACTIVE) throw new FailedPreconditionError("Cannot 'pause' instance s1 while it is in vm_state stopped", 'instance_invalid_state');
        if (r.migrate && migrateError) throw migrateError;
        if (r.changePassword && vmState !== compute.VmState.VM_STATE_ACTIVE) throw new FailedPreconditionError("Cannot 'changePassword' instance s1 while it is in vm_state stopped", 'instance_invalid_state');
        return { server: server(), imageId: r.createImage ? 'img-9' : '' };
      },
      getConsoleOutput: (r: compute.GetConsoleOutputRequest) => {
        if (vmState === compute.VmState.VM_STATE_SHELVED_OFFLOADED) throw new FailedPreconditionError('Instance s1 is not ready', 'instance_not_ready');
        return { output: `boot\x1b[0m line\ttab\nlength ${r.length ?? 'all'}\n` };
      },
      listInstanceActions: () => ({
        actions: [
          compute.InstanceAction.fromPartial({ requestId: 'req-1', instanceId: 's1', action: 'create', startTime: new Date('2026-01-01T00:00:00Z'), result: 'Success' }),
          compute.InstanceAction.fromPartial({ requestId: 'req-2', instanceId: 's1', action: 'pause', startTime: new Date('2026-01-01T01:00:00Z') }),
        ],
      }),
      listHosts: () => ({ hosts }),
      getHost: (r: compute.GetHostRequest) => {
        const h = hosts.find((x) => x.id === r.hostId);
        if (!h) throw new NotFoundError('host', r.hostId);
        return { host: h };
      },
      updateHost: (r: compute.UpdateHostRequest) => ({ host: { ...hosts.find((x) => x.id === r.hostId)!, enabled: r.enabled!, disabledReason: r.disabledReason } }),
      listAvailabilityZones: () => ({ availabilityZones: [{ name: 'nova', hostIds: ['h-1', 'h-2'], available: true }] }),
      listAggregates: () => ({ aggregates: [aggregate] }),
      createAggregate: (r: compute.CreateAggregateRequest) => ({ aggregate: { ...aggregate, name: r.name, hostIds: [], metadata: {} } }),
      addAggregateHost: (r: compute.AddAggregateHostRequest) => ({ aggregate: { ...aggregate, hostIds: ['h-1', r.hostId] } }),
      removeAggregateHost: () => ({ aggregate: { ...aggregate, hostIds: [] } }),
      setAggregateMetadata: (r: compute.SetAggregateMetadataRequest) => ({ aggregate: { ...aggregate, metadata: r.metadata } }),
      deleteAggregate: () => ({}),
      updateAggregate: (r: compute.UpdateAggregateRequest) => ({
        aggregate: { ...aggregate, name: r.name ?? aggregate.name, availabilityZone: r.availabilityZone ?? aggregate.availabilityZone, updatedAt: new Date('2026-01-02T00:00:00Z') },
      }),
      listMigrations: () => ({
        migrations: [compute.Migration.fromPartial({ id: 'm1', instanceId: 's1', migrationType: 'live-migration', sourceHostId: 'h-1', destHostId: 'h-2', status: 'completed' })],
      }),
      listServerGroups: () => ({ serverGroups: [{ id: 'g1', name: 'ha', projectId: 'p1', policy: 'anti-affinity', memberIds: ['s1'] }] }),
      createServerGroup: (r: compute.CreateServerGroupRequest) => ({ serverGroup: { id: 'g2', name: r.name, projectId: 'p1', policy: r.policy, memberIds: [] } }),
      getServerGroup: () => ({ serverGroup: { id: 'g1', name: 'ha', projectId: 'p1', policy: 'anti-affinity', memberIds: ['s1'] } }),
      deleteServerGroup: () => ({}),
      getQuota: () => ({ quota }),
      setQuota: (r: identity.SetQuotaRequest) => ({ quota: { ...quota, limits: { ...quota.limits, ...r.limits } } }),
    };
    // the services' decisions: who is calling, whose server, which calls are admin-only
    const guarded = Object.fromEntries(
      Object.entries(impl).map(([m, f]) => [
        m,
        (r: never, opts: RecordedCall['opts']) => {
          const who = opts.token ? WHO[opts.token] : undefined;
          if (!who) throw new UnauthenticatedError('missing bearer token');
          if (ADMIN_ONLY.has(m) && !who.admin) throw new PermissionDeniedError(`${m} requires role admin`);
          if ((r as { serverId?: string }).serverId !== undefined && who.projectId !== 'p1') throw new NotFoundError('server', (r as { serverId: string }).serverId);
          return f(r);
        },
      ]),
    );
    app = await buildServer({ backends: fakeBackends(calls, guarded), region: 'RegionOne', publicUrl: 'http://api.test:5080', logger: silentLogger() });
    await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterEach(() => app.close());

  it('server actions map to ServerAction and answer as Nova does (202, confirmResize 204, createImage Location, rescue 200)', async () => {
    for (const [body, status] of [
      [{ pause: null }, 202],
      [{ unpause: null }, 202],
      [{ 'os-stop': {} }, 202],
      [{ 'os-start': {} }, 202],
      [{ suspend: null }, 202],
      [{ resume: null }, 202],
      [{ lock: null }, 202],
      [{ unlock: null }, 202],
      [{ shelve: null }, 202],
      [{ unshelve: null }, 202],
      [{ resize: { flavorRef: 'm1.small' } }, 202],
      [{ confirmResize: null }, 204],
      [{ revertResize: null }, 202],
      [{ migrate: null }, 202],
      [{ rescue: null }, 200],
      [{ unrescue: null }, 202],
    ] as const) {
      expect([JSON.stringify(body), (await member.post('/servers/s1/action', body)).statusCode]).toEqual([JSON.stringify(body), status]);
    }
    expect(sent('serverAction').map((r) => Object.keys(r as object).find((k) => k !== 'serverId' && (r as Record<string, unknown>)[k] !== undefined))).toEqual([
      'pause', 'unpause', 'stop', 'start', 'suspend', 'resume', 'lock', 'unlock', 'shelve', 'unshelve', 'resize', 'confirmResize', 'revertResize', 'migrate', 'rescue', 'unrescue',
    ]);
    expect(sent('serverAction')[10]).toMatchObject({ serverId: 's1', resize: { flavorRef: 'm1.small' } });
    const image = await member.post('/servers/s1/action', { createImage: { name: 'snap', metadata: { k: 'v' } } });
    expect(image.statusCode).toBe(202);
    expect(image.headers.location).toBe('http://api.test:5080/image/v2/images/img-9');
    expect(sent('serverAction').at(-1)).toMatchObject({ createImage: { name: 'snap', metadata: { k: 'v' } } });
  });

  it('os-migrateLive and evacuate name the target by host name; host null lets the scheduler choose', async () => {
    expect((await admin.post('/servers/s1/action', { 'os-migrateLive': { host: 'compute-2', block_migration: false, disk_over_commit: 'False' } })).statusCode).toBe(202);
    expect((await admin.post('/servers/s1/action', { 'os-migrateLive': { host: null, block_migration: 'True', disk_over_commit: false } })).statusCode).toBe(202);
    const evac = await admin.post('/servers/s1/action', { evacuate: { host: 'compute-1', onSharedStorage: false } });
    expect([evac.statusCode, Object.keys(evac.json())]).toEqual([200, ['adminPass']]);
    expect(sent('serverAction').map((r) => (r as compute.ServerActionRequest).migrate ?? (r as compute.ServerActionRequest).evacuate)).toEqual([
      { live: true, hostId: 'h-2', blockMigration: false },
      { live: true, hostId: '', blockMigration: true },
      { hostId: 'h-1', adminPass: evac.json().adminPass },
    ]);
    // a host is named by id or by a unique hostname; an unknown one is 400 to os-migrateLive, 404 to evacuate (as Nova)
    const unknownHost = await admin.post('/servers/s1/action', { 'os-migrateLive': { host: 'nowhere', block_migration: false, disk_over_commit: false } });
    expect(unknownHost.statusCode).toBe(400);
    expect(unknownHost.json().badRequest.message).toMatch(/nowhere/);
    expect((await admin.post('/servers/s1/action', { evacuate: { host: 'nowhere', onSharedStorage: false } })).json().itemNotFound.code).toBe(404);
    const missing = await admin.post('/servers/s1/action', { 'os-migrateLive': { host: null } });
    expect(missing.json().badRequest.message).toMatch(/os-migrateLive\.block_migration.*required/);
  });

  it('os-migrateLive: a destination whose CPU cannot take the guest and NoValidHost are 400 (Nova\'s failed pre-checks); cold migrate keeps 403', async () => {
    migrateError = new InvalidArgumentError('migrate.host_id', "host h-1 cannot take server s1: the guest's host-passthrough CPU is a Intel Xeon Gold 6142; the destination's is a AMD EPYC 7543");
    const cpu = await admin.post('/servers/s1/action', { 'os-migrateLive': { host: 'compute-1', block_migration: false, disk_over_commit: false } });
    expect([cpu.statusCode, cpu.json().badRequest.message]).toEqual([400, expect.stringContaining('host-passthrough CPU')]);
    migrateError = new FailedPreconditionError("host h-1 cannot run instance s1: the destination's AMD EPYC 7543 lacks CPU flags the guest uses: avx512f", 'cpu_incompatible');
    expect((await admin.post('/servers/s1/action', { 'os-migrateLive': { host: 'compute-1', block_migration: false, disk_over_commit: false } })).statusCode).toBe(400);
    migrateError = new ResourceExhaustedError('host h-1 is in memory state low (12 MB free of 4096 MB): it takes no new VM such as s1', 'host_memory_low');
    expect((await admin.post('/servers/s1/action', { 'os-migrateLive': { host: 'compute-1', block_migration: false, disk_over_commit: false } })).statusCode).toBe(400);
    migrateError = new ResourceExhaustedError('No valid host was found. 1 host has an incompatible CPU', 'no_valid_host');
    const none = await admin.post('/servers/s1/action', { 'os-migrateLive': { host: null, block_migration: false, disk_over_commit: false } });
    expect([none.statusCode, none.json().badRequest.message]).toEqual([400, expect.stringContaining('incompatible CPU')]);
    expect((await admin.post('/servers/s1/action', { migrate: null })).statusCode).toBe(403);
  });

  it('guest passwords: rescue and evacuate answer {"adminPass"} (given, or generated as Nova does), passed to the controller; shared storage keeps the guest\'s own', async () => {
    const given = await member.post('/servers/s1/action', { rescue: { adminPass: 'MySecretPass' } });
    expect([given.statusCode, given.json()]).toEqual([200, { adminPass: 'MySecretPass' }]);
    const generated = await member.post('/servers/s1/action', { rescue: null });
    expect(generated.json().adminPass).toMatch(/^[2-9A-HJ-NP-Za-km-z]{12}$/);
    const shared = await admin.post('/servers/s1/action', { evacuate: { onSharedStorage: 'True' } });
    expect([shared.statusCode, shared.json()]).toEqual([200, { adminPass: null }]);
    const sharedGiven = await admin.post('/servers/s1/action', { evacuate: { onSharedStorage: true, adminPass: 'Kept-0n-Disk' } });
    expect(sharedGiven.json()).toEqual({ adminPass: 'Kept-0n-Disk' });
    expect(sent('serverAction').map((r) => (r as compute.ServerActionRequest).rescue?.adminPass ?? (r as compute.ServerActionRequest).evacuate?.adminPass)).toEqual([
      'MySecretPass',
      generated.json().adminPass,
      '',
      'Kept-0n-Disk',
    ]);
  });

  it('changePassword: 202 passing adminPass on; 409 unless ACTIVE; 404 for another project; 401 without a token; 400 for a malformed body', async () => {
    const ok = await member.post('/servers/s1/action', { changePassword: { adminPass: 'n3w-Secret' } });
    expect([ok.statusCode, ok.text]).toEqual([202, '']);
    expect(sent('serverAction').at(-1)).toEqual({ serverId: 's1', changePassword: { adminPass: 'n3w-Secret' } });
    expect((await as('other').post('/servers/s1/action', { changePassword: { adminPass: 'x' } })).statusCode).toBe(404);
    const anon = await req(undefined, 'POST', '/servers/s1/action', { changePassword: { adminPass: 'x' } });
    expect(anon.statusCode).toBe(401);
    for (const bad of [{ changePassword: {} }, { changePassword: { adminPass: 12 } }, { changePassword: { adminPass: 'x', extra: 1 } }, { changePassword: null }]) {
      const res = await member.post('/servers/s1/action', bad);
      expect([JSON.stringify(bad), res.statusCode, res.json().badRequest.message]).toEqual([JSON.stringify(bad), 400, expect.stringMatching(/changePassword/)]);
    }
    vmState = compute.VmState.VM_STATE_STOPPED;
    const stopped = await member.post('/servers/s1/action', { changePassword: { adminPass: 'x' } });
    expect([stopped.statusCode, stopped.json().conflictingRequest.message]).toEqual([409, "Cannot 'changePassword' instance s1 while it is in vm_state stopped"]);
  });

  it('a wrong state is 409 conflictingRequest with the controller message; a bad body 400 naming the field; unknown action 400', async () => {
    vmState = compute.VmState.VM_STATE_STOPPED;
    const res = await member.post('/servers/s1/action', { pause: null });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ conflictingRequest: { code: 409, message: "Cannot 'pause' instance s1 while it is in vm_state stopped" } });
    expect((await member.post('/servers/s1/action', { resize: {} })).json().badRequest.message).toMatch(/resize\.flavorRef.*required/);
    expect((await member.post('/servers/s1/action', { pause: 'now' })).json().badRequest.message).toMatch(/pause/);
    expect((await member.post('/servers/s1/action', { pause: { at: 'now' } })).json().badRequest.message).toMatch(/pause/);
    expect((await member.post('/servers/s1/action', { pause: null, unpause: null })).statusCode).toBe(400);
    expect((await member.post('/servers/s1/action', { 'os-resetState': { state: 'active' } })).json().badRequest.message).toBe('There is no such action: os-resetState');
    expect((await member.post('/servers/s1/action', { rebuild: { imageRef: 'img', name: 12 } })).json().badRequest.message).toMatch(/rebuild\.name/);
  });

  it('os-getConsoleOutput answers 200 {"output"} with Nova\'s length forms, control characters removed; 409 without a console', async () => {
    const res = await member.post('/servers/s1/action', { 'os-getConsoleOutput': { length: 50 } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ output: 'boot[0m line\ttab\nlength 50\n' });
    for (const [length, want] of [[null, undefined], [-1, undefined], ['7', 7], [0, 0]] as const) {
      expect((await member.post('/servers/s1/action', { 'os-getConsoleOutput': { length } })).statusCode).toBe(200);
      expect((sent('getConsoleOutput').at(-1) as compute.GetConsoleOutputRequest).length).toBe(want);
    }
    expect((await member.post('/servers/s1/action', { 'os-getConsoleOutput': {} })).json().output).toMatch(/length all/);
    for (const length of [-2, '-2', 'ten', 1.5, true]) {
      const bad = await member.post('/servers/s1/action', { 'os-getConsoleOutput': { length } });
      expect([length, bad.statusCode]).toEqual([length, 400]);
      expect(bad.json().badRequest.message).toMatch(/length/);
    }
    expect((await member.post('/servers/s1/action', { 'os-getConsoleOutput': { length: 1, extra: 1 } })).statusCode).toBe(400);
    expect((await req(undefined, 'POST', '/servers/s1/action', { 'os-getConsoleOutput': {} })).statusCode).toBe(401);
    expect((await as('other').post('/servers/s1/action', { 'os-getConsoleOutput': {} })).statusCode).toBe(404);
    vmState = compute.VmState.VM_STATE_SHELVED_OFFLOADED;
    const conflict = await member.post('/servers/s1/action', { 'os-getConsoleOutput': {} });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toEqual({ conflictingRequest: { code: 409, message: 'Instance s1 is not ready' } });
  });

  it('rebuild with a name and metadata rebuilds, then renames and replaces the metadata; 202 with the server', async () => {
    const res = await member.post('/servers/s1/action', { rebuild: { imageRef: 'img-2', name: 'web2', metadata: { a: 'x' } } });
    expect(res.statusCode).toBe(202);
    expect(res.json().server).toMatchObject({ id: 's1', name: 'web2', metadata: { a: 'x' } });
    expect(sent('serverAction')[0]).toMatchObject({ rebuild: { imageRef: 'img-2' } });
    expect(sent('updateServer')[0]).toMatchObject({ name: 'web2', setMetadata: { a: 'x' }, removeMetadata: ['b'] });
  });

  it('PUT /servers/{id} renames (200 with the server); 2.1 takes no description', async () => {
    const res = await member.put('/servers/s1', { server: { name: 'renamed' } });
    expect([res.statusCode, res.json().server.name]).toEqual([200, 'renamed']);
    expect((await member.put('/servers/s1', { server: { description: 'd' } })).json().badRequest.message).toMatch(/server\.description/);
  });

  it('server metadata: list, replace, merge, one item (get, set, mismatch, delete, missing 404)', async () => {
    expect((await member.get('/servers/s1/metadata')).json()).toEqual({ metadata: { a: '1', b: '2' } });
    expect((await member.post('/servers/s1/metadata', { metadata: { c: '3' } })).json()).toEqual({ metadata: { a: '1', b: '2', c: '3' } });
    expect((await member.put('/servers/s1/metadata', { metadata: { a: '9' } })).json()).toEqual({ metadata: { a: '9' } });
    expect(sent('updateServer')[1]).toMatchObject({ setMetadata: { a: '9' }, removeMetadata: ['b', 'c'] });
    expect((await member.get('/servers/s1/metadata/a')).json()).toEqual({ meta: { a: '9' } });
    expect((await member.put('/servers/s1/metadata/z', { meta: { z: 'last' } })).json()).toEqual({ meta: { z: 'last' } });
    const mismatch = await member.put('/servers/s1/metadata/z', { meta: { y: '1' } });
    expect([mismatch.statusCode, mismatch.json().badRequest.message]).toEqual([400, 'Request body and URI mismatch']);
    expect((await member.put('/servers/s1/metadata/z', { meta: { z: '1', y: '2' } })).statusCode).toBe(400);
    expect((await member.del('/servers/s1/metadata/z')).statusCode).toBe(204);
    const gone = await member.get('/servers/s1/metadata/z');
    expect([gone.statusCode, gone.json()]).toEqual([404, { itemNotFound: { code: 404, message: 'Metadata item was not found' } }]);
    expect((await member.post('/servers/s1/metadata', { metadata: { 'bad/key': 'v' } })).statusCode).toBe(400);
  });

  it('os-instance-actions newest first, show with its event; os-volume_attachments list, show, attach, detach', async () => {
    const list = (await member.get('/servers/s1/os-instance-actions')).json().instanceActions;
    expect(list.map((a: { request_id: string }) => a.request_id)).toEqual(['req-2', 'req-1']);
    expect(list[1]).toMatchObject({ action: 'create', instance_uuid: 's1', start_time: '2026-01-01T00:00:00.000000' });
    const one = (await member.get('/servers/s1/os-instance-actions/req-1')).json().instanceAction;
    expect(one.events).toEqual([expect.objectContaining({ event: 'compute_create', result: 'Success' })]);
    expect((await member.get('/servers/s1/os-instance-actions/req-9')).statusCode).toBe(404);

    expect((await member.get('/servers/s1/os-volume_attachments')).json()).toEqual({ volumeAttachments: [{ id: 'v1', serverId: 's1', volumeId: 'v1', device: '/dev/vdb' }] });
    expect((await member.get('/servers/s1/os-volume_attachments/v1')).json().volumeAttachment.device).toBe('/dev/vdb');
    expect((await member.get('/servers/s1/os-volume_attachments/v9')).statusCode).toBe(404);
    const attach = await member.post('/servers/s1/os-volume_attachments', { volumeAttachment: { volumeId: 'v1' } });
    expect([attach.statusCode, attach.json().volumeAttachment]).toEqual([200, { id: 'v1', serverId: 's1', volumeId: 'v1', device: '/dev/vdb' }]);
    expect((await member.post('/servers/s1/os-volume_attachments', { volumeAttachment: { device: '/dev/vdc' } })).json().badRequest.message).toMatch(/volumeAttachment\.volumeId/);
    expect((await member.del('/servers/s1/os-volume_attachments/v1')).statusCode).toBe(202);
    expect(sent('serverAction')).toEqual([{ serverId: 's1', attachVolume: { volumeId: 'v1', deviceName: '' } }, { serverId: 's1', detachVolume: { volumeId: 'v1' } }]);
  });

  it('os-hypervisors list, detail, show, statistics; os-services; availability zones', async () => {
    expect((await admin.get('/os-hypervisors')).json().hypervisors).toEqual([
      { id: 'h-1', hypervisor_hostname: 'h-1', state: 'up', status: 'enabled' },
      { id: 'h-2', hypervisor_hostname: 'h-2', state: 'down', status: 'disabled' },
    ]);
    const detail = (await admin.get('/os-hypervisors/h-1')).json().hypervisor;
    expect(detail).toMatchObject({ vcpus: 8, vcpus_used: 2, memory_mb: 16384, memory_mb_used: 1024, free_ram_mb: 15360, local_gb: 100, free_disk_gb: 90, running_vms: 2, service: { host: 'h-1', id: 1 } });
    expect((await admin.get('/os-hypervisors/detail')).json().hypervisors).toHaveLength(2);
    expect((await admin.get('/os-hypervisors/statistics')).json().hypervisor_statistics).toMatchObject({ count: 2, vcpus: 16, vcpus_used: 4, running_vms: 4 });
    expect((await admin.get('/os-hypervisors/nope')).statusCode).toBe(404);
    expect((await admin.get('/os-hypervisors/h-1/uptime')).json()).toEqual({ notImplemented: { code: 501, message: 'Virt driver does not implement uptime function.' } });
    expect((await admin.get('/os-hypervisors/h-2/search')).json().hypervisors.map((h: { id: string }) => h.id)).toEqual(['h-2']);

    const services = (await admin.get('/os-services?binary=nova-compute')).json().services;
    expect(services[1]).toEqual({ id: 2, binary: 'nova-compute', host: 'h-2', zone: 'nova', status: 'disabled', state: 'down', updated_at: '2026-01-01T00:00:00.000000', disabled_reason: 'maint' });
    const disabled = await admin.put('/os-services/disable-log-reason', { host: 'compute-1', binary: 'nova-compute', disabled_reason: 'test' });
    expect(disabled.json()).toEqual({ service: { host: 'h-1', binary: 'nova-compute', status: 'disabled', disabled_reason: 'test' } });
    expect(sent('updateHost')[0]).toEqual({ hostId: 'h-1', enabled: false, disabledReason: 'test' });

    expect((await member.get('/os-availability-zone')).json()).toEqual({ availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true }, hosts: null }] });
    const az = (await admin.get('/os-availability-zone/detail')).json().availabilityZoneInfo[0];
    expect(az.hosts['h-1']).toEqual({ 'nova-compute': { available: true, active: true, updated_at: '2026-01-01T00:00:00.000000' } });
    expect(az.hosts['h-2']['nova-compute'].available).toBe(false);
  });

  it('os-aggregates: create, list, show by id or name, add/remove host by host name, set/unset metadata, delete; os-migrations', async () => {
    const created = await admin.post('/os-aggregates', { aggregate: { name: 'fast', availability_zone: null } });
    // Nova's 2.1 create answer: integer id, no hosts, metadata or uuid
    expect(created.json().aggregate).toEqual({
      id: 7,
      name: 'fast',
      availability_zone: 'az1',
      created_at: '2026-01-01T00:00:00.000000',
      updated_at: null,
      deleted_at: null,
      deleted: false,
    });
    expect(sent('createAggregate')[0]).toEqual({ name: 'fast', availabilityZone: '' });
    expect((await admin.get('/os-aggregates')).json().aggregates[0]).toEqual({
      id: 7,
      name: 'fast',
      availability_zone: 'az1',
      hosts: ['h-1'],
      metadata: { ssd: 'true' },
      created_at: '2026-01-01T00:00:00.000000',
      updated_at: null,
      deleted_at: null,
      deleted: false,
    });
    expect((await admin.get('/os-aggregates/fast')).json().aggregate.id).toBe(7);
    expect((await admin.get('/os-aggregates/7')).json().aggregate.name).toBe('fast');
    const added = await admin.post('/os-aggregates/7/action', { add_host: { host: 'compute-2' } });
    expect(added.json().aggregate.hosts).toEqual(['h-1', 'h-2']);
    expect(sent('addAggregateHost')[0]).toEqual({ aggregateId: 'agg-uuid', hostId: 'h-2' });
    await admin.post('/os-aggregates/7/action', { set_metadata: { metadata: { ssd: null, gpu: 'yes' } } });
    expect(sent('setAggregateMetadata')[0]).toEqual({ aggregateId: 'agg-uuid', metadata: { gpu: 'yes' }, unset: ['ssd'] });
    expect((await admin.post('/os-aggregates/7/action', { remove_host: { host: 'compute-1' } })).statusCode).toBe(200);
    expect((await admin.post('/os-aggregates/7/action', { grow: {} })).statusCode).toBe(400);

    const updated = await admin.put('/os-aggregates/7', { aggregate: { name: 'faster', availability_zone: null } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json().aggregate).toMatchObject({ id: 7, name: 'faster', updated_at: '2026-01-02T00:00:00.000000', hosts: ['h-1'] });
    expect(sent('updateAggregate')[0]).toEqual({ aggregateId: 'agg-uuid', name: 'faster', availabilityZone: '' });
    expect((await admin.put('/os-aggregates/7', { aggregate: {} })).json().badRequest.code).toBe(400);
    expect((await admin.put('/os-aggregates/7', { aggregate: { name: '' } })).statusCode).toBe(400);
    expect((await member.put('/os-aggregates/7', { aggregate: { name: 'x' } })).statusCode).toBe(403);
    expect((await req(undefined, 'PUT', '/os-aggregates/7', { aggregate: { name: 'x' } })).statusCode).toBe(401);
    expect((await admin.del('/os-aggregates/7')).statusCode).toBe(200);
    expect((await admin.get('/os-aggregates/none')).statusCode).toBe(404);

    const migrations = (await admin.get('/os-migrations?host=h-1&status=completed')).json().migrations;
    expect(migrations).toEqual([expect.objectContaining({ id: 'm1', instance_uuid: 's1', source_compute: 'h-1', dest_compute: 'h-2', status: 'completed' })]);
    expect(migrations[0]).not.toHaveProperty('migration_type');
    expect(sent('listMigrations')[0]).toEqual({ serverId: '', hostId: 'h-1' });
    expect((await admin.get('/os-migrations?status=running')).json().migrations).toEqual([]);
  });

  it('os-server-groups: create with 2.1 policies, list, show, delete; soft policies are 2.15s', async () => {
    const created = await member.post('/os-server-groups', { server_group: { name: 'web', policies: ['affinity'] } });
    expect(created.json().server_group).toEqual({ id: 'g2', name: 'web', policies: ['affinity'], members: [], metadata: {} });
    expect((await member.get('/os-server-groups')).json().server_groups[0]).toMatchObject({ id: 'g1', policies: ['anti-affinity'], members: ['s1'] });
    expect((await member.get('/os-server-groups/g1')).json().server_group.name).toBe('ha');
    expect((await member.del('/os-server-groups/g1')).statusCode).toBe(204);
    expect((await member.post('/os-server-groups', { server_group: { name: 'x', policies: ['soft-affinity'] } })).json().badRequest.message).toMatch(/server_group\.policies/);
  });

  it('limits from quota and usage; os-quota-sets show, detail, defaults, admin update; tenant usage from the records', async () => {
    const absolute = (await member.get('/limits')).json().limits.absolute;
    expect(absolute).toMatchObject({ maxTotalInstances: 10, maxTotalCores: 20, maxTotalRAMSize: 51200, totalInstancesUsed: 1, totalCoresUsed: 1, totalRAMUsed: 512, totalServerGroupsUsed: 1 });
    expect(calls.find((c) => c.method === 'getQuota')?.req).toEqual({ projectId: 'p1' });
    expect((await member.get('/os-quota-sets/p1')).json().quota_set).toMatchObject({ id: 'p1', instances: 10, cores: 20, ram: 51200, metadata_items: 128, key_pairs: 100 });
    expect((await member.get('/os-quota-sets/p1/detail')).json().quota_set.cores).toEqual({ limit: 20, in_use: 1, reserved: 0 });
    expect((await member.get('/os-quota-sets/p1/defaults')).json().quota_set).toMatchObject({ instances: 10, cores: 20, ram: 51200 });
    const updated = await admin.put('/os-quota-sets/p1', { quota_set: { cores: 40, ram: '1024' } });
    expect(updated.json().quota_set).toMatchObject({ cores: 40, ram: 1024 });
    expect(updated.json().quota_set).not.toHaveProperty('id');
    expect(sent('setQuota')[0]).toEqual({ projectId: 'p1', limits: { cores: 40, ram_mb: 1024 } });
    expect((await admin.put('/os-quota-sets/p1', { quota_set: { key_pairs: 5 } })).json().badRequest.message).toMatch(/quota_set\.key_pairs/);
    expect((await member.put('/os-quota-sets/p1', { quota_set: { cores: 40 } })).statusCode).toBe(403);
    expect((await admin.del('/os-quota-sets/p1')).statusCode).toBe(202);
    expect(sent('setQuota').at(-1)).toEqual({ projectId: 'p1', limits: {}, reset: ['instances', 'cores', 'ram_mb', 'floating_ips'] });
    expect((await member.del('/os-quota-sets/p1')).statusCode).toBe(403);

    const usage = (await admin.get('/os-simple-tenant-usage/p1?start=2026-01-01T00:00:00&end=2026-01-01T10:00:00')).json().tenant_usage;
    expect(usage).toMatchObject({ tenant_id: 'p1', total_hours: 10, total_vcpus_usage: 10, total_memory_mb_usage: 5120, total_local_gb_usage: 10 });
    expect(usage.server_usages[0]).toMatchObject({ instance_id: 's1', hours: 10, flavor: 'm1.tiny' });
    expect((await admin.get('/os-simple-tenant-usage?start=yesterday')).json().badRequest.message).toMatch(/start/);
  });

  it.each([
    ['GET', '/servers/s1/metadata'],
    ['PUT', '/servers/s1'],
    ['POST', '/servers/s1/action'],
    ['GET', '/servers/s1/os-instance-actions'],
    ['GET', '/servers/s1/os-volume_attachments'],
    ['GET', '/os-hypervisors'],
    ['GET', '/os-services'],
    ['GET', '/os-availability-zone'],
    ['GET', '/os-aggregates'],
    ['GET', '/os-server-groups'],
    ['GET', '/limits'],
    ['GET', '/os-quota-sets/p1'],
    ['GET', '/os-migrations'],
    ['GET', '/os-simple-tenant-usage'],
  ])('%s %s: no token is 401; another project (server) 404 or a member (admin API) 403', async (method, url) => {
    const body = method === 'PUT' ? { server: { name: 'x' } } : method === 'POST' ? { pause: null } : undefined;
    const anon = await req(undefined, method, url, body);
    expect([anon.statusCode, anon.json().error?.code]).toEqual([401, 401]);
    const isServer = url.startsWith('/servers/');
    const refused = await req(isServer ? 'other' : 'member', method, url, body);
    const adminApi = ['/os-hypervisors', '/os-services', '/os-aggregates', '/os-migrations'].includes(url);
    if (isServer) expect([refused.statusCode, Object.keys(refused.json())]).toEqual([404, ['itemNotFound']]);
    else if (adminApi) expect([refused.statusCode, Object.keys(refused.json())]).toEqual([403, ['forbidden']]);
    else expect(refused.statusCode).toBe(200);
  });
});
