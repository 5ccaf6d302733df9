import type { FastifyInstance } from 'fastify';
import { FailedPreconditionError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { identity, volume } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type httpRequest as request, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: p1's member, p2's member, an admin of p1. */
const TOKENS: Record<string, { projectId: string; admin: boolean }> = { t1: { projectId: 'p1', admin: false }, t2: { projectId: 'p2', admin: false }, adm: { projectId: 'p1', admin: true } };

/** An in-memory volume service with the gRPC service's scoping and states. */
function fakeVolumes() {
  const vols = new Map<string, volume.Volume>();
  const snaps = new Map<string, volume.Snapshot>();
  const types: volume.VolumeType[] = [{ id: 'vt-1', name: 'standard', extraSpecs: { volume_backend_name: 'sim' }, isPublic: true }];
  let n = 0;
  const caller = fakeCaller(TOKENS);
  const mine = (id: string, opts: Call['opts']) => {
    const c = caller(opts);
    const v = vols.get(id);
    if (!v || (v.projectId !== c.projectId && !c.admin)) throw new NotFoundError('volume', id);
    return v;
  };
  const impl = {
    validateToken: (_: unknown, opts: Call['opts']) => ({ info: identity.TokenInfo.fromPartial({ projectId: caller(opts).projectId }) }),
    createVolume: (req: volume.CreateVolumeRequest, opts: Call['opts']) => {
      const c = caller(opts);
      if (req.snapshotId && !snaps.has(req.snapshotId)) throw new NotFoundError('snapshot', req.snapshotId);
      const v = volume.Volume.fromPartial({
        id: `v${++n}`, name: req.name, projectId: c.projectId, sizeGb: req.sizeGb, volumeType: req.volumeType || 'standard', status: volume.VolumeStatus.VOLUME_STATUS_AVAILABLE,
        sourceImageId: req.imageId ?? '', sourceSnapshotId: req.snapshotId ?? '', sourceVolumeId: req.sourceVolumeId ?? '', bootable: !!req.imageId, pool: 'sim@pool-a',
        metadata: req.metadata, createdAt: new Date(Date.UTC(2026, 0, n)), replicationStatus: 'disabled',
      });
      vols.set(v.id, v);
      return { volume: v };
    },
    getVolume: (req: { volumeId: string }, opts: Call['opts']) => ({ volume: mine(req.volumeId, opts) }),
    listVolumes: (_: unknown, opts: Call['opts']) => {
      const c = caller(opts);
      return { volumes: [...vols.values()].filter((v) => c.admin || v.projectId === c.projectId), page: { nextPageToken: '' } };
    },
    deleteVolume: (req: { volumeId: string }, opts: Call['opts']) => {
      const v = mine(req.volumeId, opts);
      if (v.attachments.length) throw new FailedPreconditionError(`volume ${v.id} is in-use`);
      vols.delete(v.id);
      return {};
    },
    updateVolume: (req: volume.UpdateVolumeRequest, opts: Call['opts']) => {
      const v = mine(req.volumeId, opts);
      if (req.name !== undefined) v.name = req.name;
      for (const k of req.removeMetadata) delete v.metadata[k];
      Object.assign(v.metadata, req.setMetadata);
      return { volume: v };
    },
    extendVolume: (req: { volumeId: string; newSizeGb: number }, opts: Call['opts']) => {
      const v = mine(req.volumeId, opts);
      if (req.newSizeGb <= v.sizeGb) throw new FailedPreconditionError('new size must be larger');
      v.sizeGb = req.newSizeGb;
      return { volume: v };
    },
    createAttachment: (req: volume.CreateAttachmentRequest, opts: Call['opts']) => {
      const v = mine(req.volumeId, opts);
      const a = volume.Attachment.fromPartial({ id: `a-${v.id}`, volumeId: v.id, instanceId: req.instanceId, hostId: req.hostId, mountpoint: req.mountpoint, attachStatus: 'reserved' });
      v.attachments.push(a);
      return { attachment: a };
    },
    completeAttachment: (req: { attachmentId: string }) => {
      const a = [...vols.values()].flatMap((v) => v.attachments).find((x) => x.id === req.attachmentId)!;
      a.attachStatus = 'attached';
      vols.get(a.volumeId)!.status = volume.VolumeStatus.VOLUME_STATUS_IN_USE;
      return { attachment: a };
    },
    deleteAttachment: (req: { attachmentId: string }) => {
      for (const v of vols.values()) {
        v.attachments = v.attachments.filter((a) => a.id !== req.attachmentId);
        if (!v.attachments.length) v.status = volume.VolumeStatus.VOLUME_STATUS_AVAILABLE;
      }
      return {};
    },
    createSnapshot: (req: volume.CreateSnapshotRequest, opts: Call['opts']) => {
      const v = mine(req.volumeId, opts);
      const s = volume.Snapshot.fromPartial({ id: `s${++n}`, volumeId: v.id, projectId: v.projectId, name: req.name, status: 'available', sizeGb: v.sizeGb, createdAt: new Date(Date.UTC(2026, 1, n)) });
      snaps.set(s.id, s);
      return { snapshot: s };
    },
    getSnapshot: (req: { snapshotId: string }, opts: Call['opts']) => {
      const s = snaps.get(req.snapshotId);
      if (!s || s.projectId !== caller(opts).projectId) throw new NotFoundError('snapshot', req.snapshotId);
      return { snapshot: s };
    },
    listSnapshots: (req: { volumeId: string }, opts: Call['opts']) => ({ snapshots: [...snaps.values()].filter((s) => s.projectId === caller(opts).projectId && (!req.volumeId || s.volumeId === req.volumeId)) }),
    deleteSnapshot: (req: { snapshotId: string }, opts: Call['opts']) => (impl.getSnapshot(req, opts), snaps.delete(req.snapshotId), {}),
    listVolumeTypes: (_: unknown, opts: Call['opts']) => (caller(opts), { volumeTypes: types }),
    createVolumeType: (req: { name: string; extraSpecs: Record<string, string> }, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      const t = { id: `vt-${types.length + 1}`, name: req.name, extraSpecs: req.extraSpecs, isPublic: true };
      types.push(t);
      return { volumeType: t };
    },
    getQuota: (req: { projectId: string }, opts: Call['opts']) => {
      const c = caller(opts);
      if (req.projectId && req.projectId !== c.projectId && !c.admin) throw new PermissionDeniedError('another project');
      return { quota: identity.Quota.fromPartial({ projectId: req.projectId || c.projectId, limits: { volumes: 10, gigabytes: 1000, instances: 10 }, inUse: { volumes: vols.size, gigabytes: 3 } }) };
    },
  };
  return { impl: impl as unknown as Record<string, (req: never, opts: Call['opts']) => unknown>, vols };
}

describe('Cinder v3 (real HTTP, fake gRPC)', () => {
  let app: FastifyInstance;
  let calls: Call[];
  let fake: ReturnType<typeof fakeVolumes>;
  const http = (opts: Parameters<typeof request>[1], token = 't1') => requestAs(app, opts, token);
  const v3 = '/volume/v3/p1';
  /** cinderclient's create body: every key present, the unset ones null. */
  const createBody = (over: Record<string, unknown>) => ({
    volume: { size: 1, consistencygroup_id: null, snapshot_id: null, name: 'vol', description: null, volume_type: null, availability_zone: null, metadata: {}, imageRef: null, source_volid: null, multiattach: false, ...over },
  });
  const create = async (over: Record<string, unknown> = {}, token = 't1') => http({ method: 'POST', url: `${v3}/volumes`, payload: createBody(over) }, token);

  beforeEach(async () => {
    calls = [];
    fake = fakeVolumes();
    app = await listenFront(fakeBackends(calls, fake.impl));
  });
  afterEach(() => app.close());

  it('version discovery and microversions: 3.0 advertised and answered; a higher one is 406 in Cinder\'s form', async () => {
    const root = await http({ url: '/volume/' }, '');
    expect(root.statusCode).toBe(300);
    expect(root.json().versions[0]).toMatchObject({ id: 'v3.0', status: 'CURRENT', version: '3.0', min_version: '3.0', links: expect.arrayContaining([{ rel: 'self', href: 'http://api.test:5080/volume/v3/' }]) });
    expect((await http({ url: '/volume/v3' }, '')).json().versions[0].id).toBe('v3.0');
    const ok = await http({ url: `${v3}/volumes`, headers: { 'openstack-api-version': 'volume 3.0' } });
    expect(ok.headers['openstack-api-version']).toBe('volume 3.0');
    expect(ok.headers.vary).toBe('OpenStack-API-Version');
    const high = await http({ url: `${v3}/volumes`, headers: { 'openstack-api-version': 'volume 3.27' } });
    expect(high.statusCode).toBe(406);
    expect(high.json()).toEqual({ notAcceptable: { code: 406, message: 'Version 3.27 is not supported by the API. Minimum is 3.0 and maximum is 3.0.' } });
    expect((await http({ url: `${v3}/volumes`, headers: { 'openstack-api-version': 'volume latest' } })).statusCode).toBe(200);
  });

  it('create from nothing, an image, a snapshot (its size) and a volume; 202 with Cinder\'s volume body', async () => {
    const res = await create({ metadata: { tier: 'gold' } });
    expect(res.statusCode).toBe(202);
    const v = res.json().volume;
    expect(v).toMatchObject({ id: 'v1', name: 'vol', size: 1, status: 'available', bootable: 'false', volume_type: 'standard', metadata: { tier: 'gold' }, created_at: '2026-01-01T00:00:00.000000', attachments: [] });
    // Cinder's tenant/host/migration/image-metadata extensions decorate show and detail, not the create response.
    for (const ext of ['os-vol-tenant-attr:tenant_id', 'os-vol-host-attr:host', 'os-vol-mig-status-attr:migstat', 'os-vol-mig-status-attr:name_id', 'volume_image_metadata']) expect(v).not.toHaveProperty([ext]);
    expect(v.links[0]).toEqual({ rel: 'self', href: 'http://api.test:5080/volume/v3/p1/volumes/v1' });
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume).toMatchObject({ 'os-vol-tenant-attr:tenant_id': 'p1', 'os-vol-host-attr:host': 'minicloud@sim#pool-a', 'os-vol-mig-status-attr:migstat': null });
    const fromImage = (await create({ imageRef: 'img-1', size: 2 })).json().volume;
    expect(fromImage).toMatchObject({ bootable: 'true' });
    expect((await http({ url: `${v3}/volumes/${fromImage.id}` })).json().volume).toMatchObject({ volume_image_metadata: { image_id: 'img-1' } });
    const snap = (await http({ method: 'POST', url: `${v3}/snapshots`, payload: { snapshot: { volume_id: 'v1', name: 's', force: false, description: null, metadata: {} } } })).json().snapshot;
    const fromSnap = await create({ snapshot_id: snap.id, size: null });
    expect(fromSnap.json().volume).toMatchObject({ snapshot_id: snap.id, size: 1 });
    expect((await create({ source_volid: 'v1', size: 3 })).json().volume).toMatchObject({ source_volid: 'v1', size: 3 });
    expect(calls.filter((c) => c.method === 'createVolume').map((c) => c.req)).toContainEqual(expect.objectContaining({ snapshotId: snap.id, sizeGb: 1, imageId: undefined }));
  });

  it('a malformed create is a 400 naming the field and nothing is created; an unknown snapshot is 404 itemNotFound', async () => {
    const bad = await create({ size: 'big' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().badRequest.message).toMatch(/volume\.size/);
    expect((await create({ colour: 'red' })).json().badRequest.message).toMatch(/volume\.colour/);
    expect((await create({ size: null })).json().badRequest.message).toMatch(/volume\.size/);
    expect((await create({ description: 'kept nowhere' })).json().badRequest.message).toMatch(/volume\.description/);
    expect((await create({ imageRef: 'i', source_volid: 'v9' })).statusCode).toBe(400);
    expect(calls.filter((c) => c.method === 'createVolume')).toHaveLength(0);
    const missing = await create({ snapshot_id: 'nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toHaveProperty('itemNotFound');
  });

  it('list and detail: own project unless all_tenants, filters, limit/marker with volumes_links; show; delete 202', async () => {
    await create({ name: 'a' });
    await create({ name: 'b' });
    await create({ name: 'c' }, 't2');
    const list = (await http({ url: `${v3}/volumes` })).json();
    expect(list.volumes).toEqual([expect.objectContaining({ id: 'v2', name: 'b' }), expect.objectContaining({ id: 'v1', name: 'a' })]);
    expect(list.volumes[0]).not.toHaveProperty('status');
    expect((await http({ url: `${v3}/volumes/detail?name=a` })).json().volumes.map((v: { id: string }) => v.id)).toEqual(['v1']);
    const page = (await http({ url: `${v3}/volumes/detail?limit=1` })).json();
    expect(page.volumes.map((v: { id: string }) => v.id)).toEqual(['v2']);
    expect(page.volumes_links[0]).toEqual({ rel: 'next', href: 'http://api.test:5080/volume/v3/p1/volumes/detail?limit=1&marker=v2' });
    expect((await http({ url: `${v3}/volumes?limit=1&marker=v2` })).json().volumes.map((v: { id: string }) => v.id)).toEqual(['v1']);
    expect((await http({ url: `${v3}/volumes/detail` }, 'adm')).json().volumes).toHaveLength(2);
    expect((await http({ url: `${v3}/volumes/detail?all_tenants=1` }, 'adm')).json().volumes).toHaveLength(3);
    expect((await http({ url: `${v3}/volumes?status=melted` })).statusCode).toBe(400);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume).toMatchObject({ id: 'v1', status: 'available' });
    expect((await http({ method: 'DELETE', url: `${v3}/volumes/v1` })).statusCode).toBe(202);
    expect((await http({ url: `${v3}/volumes/v1` })).statusCode).toBe(404);
  });

  it('update (name, display_name, metadata replaced) and volume metadata (merge, replace, one key) as UpdateVolume calls', async () => {
    await create({ metadata: { a: '1', b: '2' } });
    const put = await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { display_name: 'renamed' } } });
    expect(put.statusCode).toBe(200);
    expect(put.json().volume).toMatchObject({ name: 'renamed', metadata: { a: '1', b: '2' } });
    expect(calls.find((c) => c.method === 'updateVolume')?.req).toEqual({ volumeId: 'v1', name: 'renamed', setMetadata: {}, removeMetadata: [] });
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { metadata: { c: '3' } } } })).json().volume.metadata).toEqual({ c: '3' });
    expect((await http({ method: 'POST', url: `${v3}/volumes/v1/metadata`, payload: { metadata: { d: '4' } } })).json()).toEqual({ metadata: { c: '3', d: '4' } });
    expect((await http({ url: `${v3}/volumes/v1/metadata/d` })).json()).toEqual({ meta: { d: '4' } });
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1/metadata/d`, payload: { meta: { d: '5' } } })).json()).toEqual({ meta: { d: '5' } });
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1/metadata/d`, payload: { meta: { e: '5' } } })).statusCode).toBe(400);
    expect((await http({ method: 'DELETE', url: `${v3}/volumes/v1/metadata/c` })).statusCode).toBe(200);
    expect((await http({ method: 'DELETE', url: `${v3}/volumes/v1/metadata/c` })).statusCode).toBe(404);
    expect((await http({ url: `${v3}/volumes/v1/metadata` })).json()).toEqual({ metadata: { d: '5' } });
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { description: 'kept nowhere' } } })).json().badRequest.message).toMatch(/volume\.description/);
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { name: 'theirs' } } }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'POST', url: `${v3}/volumes/v1/metadata`, payload: { metadata: { x: 1 } } })).statusCode).toBe(400);
    expect(fake.vols.get('v1')).toMatchObject({ name: 'renamed', metadata: { d: '5' } });
  });

  it('actions: os-extend, os-attach (reserve + complete) and os-detach as Nova\'s legacy flow; unsupported actions 501, unknown 400', async () => {
    await create();
    const act = (body: unknown, token = 't1') => http({ method: 'POST', url: `${v3}/volumes/v1/action`, payload: body }, token);
    expect((await act({ 'os-extend': { new_size: 2 } })).statusCode).toBe(202);
    expect(fake.vols.get('v1')?.sizeGb).toBe(2);
    const shrink = await act({ 'os-extend': { new_size: 1 } });
    expect(shrink.statusCode).toBe(409);
    expect(shrink.json()).toHaveProperty('conflictingRequest');
    expect((await act({ 'os-attach': { instance_uuid: 'srv-1', mountpoint: '/dev/vdb', mode: 'rw' } })).statusCode).toBe(202);
    const shown = (await http({ url: `${v3}/volumes/v1` })).json().volume;
    expect(shown).toMatchObject({ status: 'in-use', attachments: [{ server_id: 'srv-1', device: '/dev/vdb', attachment_id: 'a-v1', volume_id: 'v1' }] });
    expect((await http({ method: 'DELETE', url: `${v3}/volumes/v1` })).statusCode).toBe(409);
    expect((await act({ 'os-detach': { attachment_id: 'a-v1' } })).statusCode).toBe(202);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume).toMatchObject({ status: 'available', attachments: [] });
    expect((await act({ 'os-detach': {} })).statusCode).toBe(409);
    expect((await act({ 'os-set_bootable': { bootable: true } })).statusCode).toBe(501);
    expect((await act({ 'os-frobnicate': {} })).json().badRequest.message).toBe('There is no such action: os-frobnicate');
    expect((await act({ 'os-extend': { new_size: 'x' } })).json().badRequest.message).toMatch(/os-extend\.new_size/);
    expect((await act({ 'os-extend': { new_size: 3 }, 'os-detach': {} })).statusCode).toBe(400);
  });

  it('another project cannot see or act on a volume (404); no token is 401 in Keystone\'s form', async () => {
    await create();
    expect((await http({ url: `${v3}/volumes/v1` }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'POST', url: `${v3}/volumes/v1/action`, payload: { 'os-extend': { new_size: 5 } } }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'DELETE', url: `${v3}/volumes/v1` }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'POST', url: `${v3}/snapshots`, payload: { snapshot: { volume_id: 'v1' } } }, 't2')).statusCode).toBe(404);
    expect(fake.vols.get('v1')?.sizeGb).toBe(1);
    const anon = await http({ url: `${v3}/volumes` }, '');
    expect(anon.statusCode).toBe(401);
    expect(anon.json().error).toMatchObject({ code: 401 });
    expect(anon.headers['www-authenticate']).toBe('Keystone uri="http://api.test:5080/identity"');
    expect((await http({ url: `${v3}/os-availability-zone` }, '')).statusCode).toBe(401);
  });

  it('snapshots CRUD, volume types and extra specs (admin create), limits, quota sets, availability zones, extensions', async () => {
    await create();
    const s = (await http({ method: 'POST', url: `${v3}/snapshots`, payload: { snapshot: { volume_id: 'v1', name: 'snap', force: 'True' } } })).json().snapshot;
    expect(s).toMatchObject({ name: 'snap', status: 'available', size: 1, volume_id: 'v1', 'os-extended-snapshot-attributes:project_id': 'p1' });
    expect(calls.find((c) => c.method === 'createSnapshot')?.req).toEqual({ volumeId: 'v1', name: 'snap', force: true });
    expect((await http({ url: `${v3}/snapshots/detail?volume_id=v1` })).json().snapshots).toHaveLength(1);
    expect((await http({ url: `${v3}/snapshots/${s.id}` })).json().snapshot.id).toBe(s.id);
    expect((await http({ method: 'DELETE', url: `${v3}/snapshots/${s.id}` })).statusCode).toBe(202);
    expect((await http({ url: `${v3}/snapshots/${s.id}` })).statusCode).toBe(404);

    expect((await http({ url: `${v3}/types` })).json().volume_types[0]).toMatchObject({ id: 'vt-1', name: 'standard', is_public: true, extra_specs: { volume_backend_name: 'sim' } });
    expect((await http({ url: `${v3}/types/standard/extra_specs/volume_backend_name` })).json()).toEqual({ volume_backend_name: 'sim' });
    expect((await http({ url: `${v3}/types/vt-9` })).statusCode).toBe(404);
    const typeBody = { volume_type: { name: 'fast', extra_specs: { total_iops_sec: '500' } } };
    expect((await http({ method: 'POST', url: `${v3}/types`, payload: typeBody })).statusCode).toBe(403);
    expect((await http({ method: 'POST', url: `${v3}/types`, payload: typeBody }, 'adm')).json().volume_type).toMatchObject({ name: 'fast', extra_specs: { total_iops_sec: '500' } });

    expect((await http({ url: `${v3}/limits` })).json().limits).toEqual({
      rate: [],
      absolute: expect.objectContaining({ maxTotalVolumes: 10, maxTotalVolumeGigabytes: 1000, totalVolumesUsed: 1, totalGigabytesUsed: 3, maxTotalSnapshots: -1 }),
    });
    expect((await http({ url: `${v3}/os-quota-sets/p1` })).json().quota_set).toMatchObject({ id: 'p1', volumes: 10, gigabytes: 1000, snapshots: -1 });
    expect((await http({ url: `${v3}/os-quota-sets/p1?usage=True` })).json().quota_set.volumes).toEqual({ limit: 10, in_use: 1, reserved: 0, allocated: 0 });
    expect((await http({ url: `${v3}/os-quota-sets/p1` }, 't2')).statusCode).toBe(403);
    expect((await http({ url: `${v3}/os-quota-sets/p1/defaults` })).json().quota_set).toEqual({ id: 'p1', volumes: 10, gigabytes: 1000, snapshots: -1, backups: -1, backup_gigabytes: -1, per_volume_gigabytes: -1, groups: -1 });
    expect((await http({ url: `${v3}/os-quota-sets/p1/defaults` }, '')).statusCode).toBe(401);
    expect((await http({ url: `${v3}/os-availability-zone` })).json()).toEqual({ availabilityZoneInfo: [{ zoneName: 'nova', zoneState: { available: true } }] });
    expect((await http({ url: `${v3}/extensions` })).json().extensions.map((e: { alias: string }) => e.alias)).toContain('os-volume-actions');
  });
});
