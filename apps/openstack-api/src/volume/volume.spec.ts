import type { FastifyInstance } from 'fastify';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { identity, volume } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type httpRequest as request, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: p1's member, p2's member, an admin of p1. */
const TOKENS: Record<string, { projectId: string; admin: boolean }> = { t1: { projectId: 'p1', admin: false }, t2: { projectId: 'p2', admin: false }, adm: { projectId: 'p1', admin: true } };

/** An in-memory volume service with the gRPC service's scoping and states. */
function fakeVolumes() {
  const vols = new Map<string, volume.Volume>();
  const snaps = new Map<string, volume.Snapshot>();
  const backups = new Map<string, volume.Backup>();
  const types: volume.VolumeType[] = [{ id: 'vt-1', name: 'standard', extraSpecs: { volume_backend_name: 'sim' }, isPublic: true, description: '', qosSpecsId: '' }];
  const qos = new Map<string, volume.QosSpecs>();
  const QUOTA_DEFAULTS = { volumes: 10, gigabytes: 1000, instances: 10 };
  const limits = new Map<string, Record<string, number>>();
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
        metadata: req.metadata, createdAt: new Date(Date.UTC(2026, 0, n)), replicationStatus: 'disabled', description: req.description, userId: 'u-1',
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
      if (req.description !== undefined) v.description = req.description;
      if (req.bootable !== undefined) v.bootable = req.bootable;
      if (req.readOnly !== undefined) v.readOnly = req.readOnly;
      for (const k of req.removeMetadata) delete v.metadata[k];
      Object.assign(v.metadata, req.setMetadata);
      v.updatedAt = new Date(Date.UTC(2026, 2, 1));
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
      const s = volume.Snapshot.fromPartial({ id: `s${++n}`, volumeId: v.id, projectId: v.projectId, name: req.name, description: req.description, metadata: req.metadata, status: 'available', sizeGb: v.sizeGb, createdAt: new Date(Date.UTC(2026, 1, n)) });
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
    updateSnapshot: (req: volume.UpdateSnapshotRequest, opts: Call['opts']) => {
      const s = impl.getSnapshot(req, opts).snapshot;
      if (req.name !== undefined) s.name = req.name;
      if (req.description !== undefined) s.description = req.description;
      for (const k of req.removeMetadata) delete s.metadata[k];
      Object.assign(s.metadata, req.setMetadata);
      s.updatedAt = new Date(Date.UTC(2026, 2, 2));
      return { snapshot: s };
    },
    listVolumeTypes: (_: unknown, opts: Call['opts']) => {
      const admin = caller(opts).admin;
      return { volumeTypes: types.map((t) => (admin ? t : { ...t, qosSpecsId: undefined })) };
    },
    createVolumeType: (req: volume.CreateVolumeTypeRequest, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      const t = { id: `vt-${types.length + 1}`, name: req.name, extraSpecs: req.extraSpecs, isPublic: true, description: req.description, qosSpecsId: '' };
      types.push(t);
      return { volumeType: t };
    },
    updateVolumeType: (req: volume.UpdateVolumeTypeRequest, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      const t = types.find((x) => x.id === req.volumeTypeId);
      if (!t) throw new NotFoundError('volume_type', req.volumeTypeId);
      const specsChange = Object.keys(req.setExtraSpecs).length > 0 || req.removeExtraSpecs.length > 0;
      if ((specsChange || (req.name !== undefined && req.name !== t.name)) && [...vols.values()].some((v) => v.volumeType === t.name)) throw new FailedPreconditionError('volume type is still in use', 'volume_type_in_use');
      for (const k of req.removeExtraSpecs) if (!(k in t.extraSpecs) && !(k in req.setExtraSpecs)) throw new NotFoundError('volume type extra spec', k);
      Object.assign(t.extraSpecs, req.setExtraSpecs);
      for (const k of req.removeExtraSpecs) delete t.extraSpecs[k];
      if (req.name !== undefined) t.name = req.name;
      if (req.description !== undefined) t.description = req.description;
      return { volumeType: t };
    },
    deleteVolumeType: (req: volume.DeleteVolumeTypeRequest, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      const i = types.findIndex((t) => t.id === req.volumeTypeId);
      if (i < 0) throw new NotFoundError('volume_type', req.volumeTypeId);
      if ([...vols.values()].some((v) => v.volumeType === types[i].name)) throw new FailedPreconditionError('volume type is still in use', 'volume_type_in_use');
      types.splice(i, 1);
      return {};
    },
    ...qosImpl(),
    listPools: (_: unknown, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      return { pools: [volume.Pool.fromPartial({ name: 'sim@pool-a', backend: 'sim', storageNode: 'storage-1', up: true }), volume.Pool.fromPartial({ name: 'sim@pool-b', backend: 'sim', storageNode: 'storage-1', up: false })] };
    },
    createBackup: (req: volume.CreateBackupRequest, opts: Call['opts']) => {
      const v = mine(req.volumeId, opts);
      const parent = req.incremental ? [...backups.values()].filter((b) => b.volumeId === v.id).pop() : undefined;
      if (req.incremental && !parent) throw new FailedPreconditionError('no backup to base an incremental on');
      const b = volume.Backup.fromPartial({ id: `b${++n}`, volumeId: v.id, projectId: v.projectId, name: req.name, status: 'available', incremental: req.incremental, parentBackupId: parent?.id ?? '', volumeSizeGb: v.sizeGb, blockCount: 3, imageId: `img-b${n}`, createdAt: new Date(Date.UTC(2026, 3, n)) });
      backups.set(b.id, b);
      return { backup: b };
    },
    listBackups: (req: { volumeId: string }, opts: Call['opts']) => {
      const c = caller(opts);
      return { backups: [...backups.values()].filter((b) => b.projectId === c.projectId && (!req.volumeId || b.volumeId === req.volumeId)) };
    },
    deleteBackup: (req: { backupId: string }) => {
      if ([...backups.values()].some((b) => b.parentBackupId === req.backupId)) throw new FailedPreconditionError('an incremental depends on it');
      backups.delete(req.backupId);
      return {};
    },
    restoreBackup: (req: volume.RestoreBackupRequest, opts: Call['opts']) => {
      const b = backups.get(req.backupId)!;
      return impl.createVolume(volume.CreateVolumeRequest.fromPartial({ name: req.name || `restore-${b.id}`, sizeGb: b.volumeSizeGb, metadata: {} }), opts);
    },
    resetVolumeStatus: (req: volume.ResetVolumeStatusRequest, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      const v = mine(req.volumeId, opts);
      v.status = req.status;
      return { volume: v };
    },
    uploadVolumeToImage: (req: volume.UploadVolumeToImageRequest, opts: Call['opts']) => ({ volume: mine(req.volumeId, opts), imageId: 'img-up' }),
    getQuota: (req: { projectId: string }, opts: Call['opts']) => {
      const c = caller(opts);
      if (req.projectId && req.projectId !== c.projectId && !c.admin) throw new PermissionDeniedError('another project');
      const projectId = req.projectId || c.projectId;
      return { quota: identity.Quota.fromPartial({ projectId, limits: { ...QUOTA_DEFAULTS, ...limits.get(projectId) }, inUse: { volumes: vols.size, gigabytes: 3 } }) };
    },
    setQuota: (req: identity.SetQuotaRequest, opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
      const mine = limits.get(req.projectId) ?? {};
      for (const r of req.reset ?? []) delete mine[r];
      for (const [r, v] of Object.entries(req.limits)) {
        if (v < -1) throw new InvalidArgumentError(`limits.${r}`, 'must be an integer >= -1');
        mine[r] = v;
      }
      limits.set(req.projectId, mine);
      return impl.getQuota({ projectId: req.projectId }, opts);
    },
  };
  /** QoS specs as the service keeps them: admin only, one specs per type, in use refused without force. */
  function qosImpl() {
    const adminOnly = (opts: Call['opts']) => {
      if (!caller(opts).admin) throw new PermissionDeniedError('admin only');
    };
    const get = (id: string) => {
      const q = qos.get(id);
      if (!q) throw new NotFoundError('qos_specs', id);
      return q;
    };
    const typeById = (id: string) => {
      if (!id) throw new InvalidArgumentError('volume_type_id', 'must not be empty');
      const t = types.find((x) => x.id === id);
      if (!t) throw new NotFoundError('volume_type', id);
      return t;
    };
    return {
      createQosSpecs: (req: volume.CreateQosSpecsRequest, opts: Call['opts']) => {
        adminOnly(opts);
        const q = { id: `00000000-0000-4000-8000-00000000000${qos.size + 1}`, name: req.name, consumer: req.consumer || 'back-end', specs: req.specs };
        qos.set(q.id, q);
        return { qosSpecs: q };
      },
      listQosSpecs: (_: unknown, opts: Call['opts']) => (adminOnly(opts), { qosSpecs: [...qos.values()] }),
      getQosSpecs: (req: { qosSpecsId: string }, opts: Call['opts']) => (adminOnly(opts), { qosSpecs: get(req.qosSpecsId) }),
      updateQosSpecs: (req: volume.UpdateQosSpecsRequest, opts: Call['opts']) => {
        adminOnly(opts);
        const q = get(req.qosSpecsId);
        Object.assign(q.specs, req.setSpecs);
        if (req.consumer !== undefined) q.consumer = req.consumer;
        for (const k of req.removeKeys) {
          if (!(k in q.specs)) throw new NotFoundError('qos specs key', k);
          delete q.specs[k];
        }
        return { qosSpecs: q };
      },
      deleteQosSpecs: (req: volume.DeleteQosSpecsRequest, opts: Call['opts']) => {
        adminOnly(opts);
        get(req.qosSpecsId);
        const carriers = types.filter((t) => t.qosSpecsId === req.qosSpecsId);
        if (carriers.length && !req.force) throw new FailedPreconditionError('QoS specs is still associated', 'qos_specs_in_use');
        carriers.forEach((t) => (t.qosSpecsId = ''));
        qos.delete(req.qosSpecsId);
        return {};
      },
      associateQosSpecs: (req: volume.AssociateQosSpecsRequest, opts: Call['opts']) => {
        adminOnly(opts);
        get(req.qosSpecsId);
        const t = typeById(req.volumeTypeId);
        if (t.qosSpecsId && t.qosSpecsId !== req.qosSpecsId) throw new FailedPreconditionError('type already has QoS specs', 'type_has_qos_specs');
        t.qosSpecsId = req.qosSpecsId;
        return {};
      },
      disassociateQosSpecs: (req: volume.DisassociateQosSpecsRequest, opts: Call['opts']) => {
        adminOnly(opts);
        get(req.qosSpecsId);
        for (const t of req.all ? types : [typeById(req.volumeTypeId)]) if (t.qosSpecsId === req.qosSpecsId) t.qosSpecsId = '';
        return {};
      },
      listQosSpecsAssociations: (req: { qosSpecsId: string }, opts: Call['opts']) => (adminOnly(opts), get(req.qosSpecsId), { volumeTypes: types.filter((t) => t.qosSpecsId === req.qosSpecsId) }),
    };
  }
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
    const res = await create({ metadata: { tier: 'gold' }, description: 'scratch' });
    expect(res.statusCode).toBe(202);
    const v = res.json().volume;
    expect(v).toMatchObject({ id: 'v1', name: 'vol', description: 'scratch', user_id: 'u-1', size: 1, status: 'available', bootable: 'false', volume_type: 'standard', metadata: { tier: 'gold' }, created_at: '2026-01-01T00:00:00.000000', updated_at: null, attachments: [] });
    expect(calls.find((c) => c.method === 'createVolume')?.req).toMatchObject({ description: 'scratch' });
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
    expect((await create({ description: 'd'.repeat(256) })).json().badRequest.message).toMatch(/volume\.description/);
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
    // a full page links the next one even when nothing follows (Cinder's collection links)
    const last = (await http({ url: `${v3}/volumes?limit=1&marker=v2` })).json();
    expect(last.volumes.map((v: { id: string }) => v.id)).toEqual(['v1']);
    expect(last.volumes_links[0].href).toMatch(/marker=v1$/);
    expect((await http({ url: `${v3}/volumes?limit=1&marker=v1` })).json()).toEqual({ volumes: [] });
    expect((await http({ url: `${v3}/volumes?sort=id:asc` })).json().volumes.map((v: { id: string }) => v.id)).toEqual(['v1', 'v2']);
    expect((await http({ url: `${v3}/volumes/detail?sort_key=name&sort_dir=desc` })).json().volumes.map((v: { name: string }) => v.name)).toEqual(['b', 'a']);
    expect((await http({ url: `${v3}/volumes?sort_key=colour` })).json().badRequest.message).toMatch(/sort_key/);
    expect((await http({ url: `${v3}/volumes?sort_dir=sideways` })).json().badRequest.message).toMatch(/sort_dir/);
    expect((await http({ url: `${v3}/volumes?sort=id&sort_key=id` })).statusCode).toBe(400);
    expect((await http({ url: `${v3}/volumes/` })).statusCode).toBe(404);
    await http({ method: 'PUT', url: `${v3}/volumes/v1/metadata`, payload: { metadata: { Type: 'work' } } });
    const byMeta = (q: string) => http({ url: `${v3}/volumes/detail?metadata=${encodeURIComponent(q)}` });
    expect((await (await byMeta("{'Type': 'work'}")).json()).volumes.map((v: { id: string }) => v.id)).toEqual(['v1']);
    expect((await (await byMeta('{"Type": "work"}')).json()).volumes.map((v: { id: string }) => v.id)).toEqual(['v1']);
    expect((await (await byMeta("{'Type': 'play'}")).json()).volumes).toEqual([]);
    expect((await (await byMeta('[1]')).json()).badRequest.message).toMatch(/metadata/);
    expect((await http({ url: `${v3}/volumes/detail` }, 'adm')).json().volumes).toHaveLength(2);
    expect((await http({ url: `${v3}/volumes/detail?all_tenants=1` }, 'adm')).json().volumes).toHaveLength(3);
    // Cinder filters on any status string: one no volume has matches nothing
    expect((await http({ url: `${v3}/volumes?status=melted` })).json()).toEqual({ volumes: [] });
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
    const described = (await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { display_description: 'logs' } } })).json().volume;
    expect(described).toMatchObject({ description: 'logs', updated_at: '2026-03-01T00:00:00.000000' });
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { description: 7 } } })).json().badRequest.message).toMatch(/volume\.description/);
    expect((await http({ method: 'PUT', url: `${v3}/volumes/v1`, payload: { volume: { name: 'theirs' } } }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'POST', url: `${v3}/volumes/v1/metadata`, payload: { metadata: { x: 1 } } })).statusCode).toBe(400);
    expect(fake.vols.get('v1')).toMatchObject({ name: 'renamed', metadata: { d: '5' } });
  });

  it('actions: os-extend, os-attach (reserve + complete) and os-detach as Nova\'s legacy flow, os-set_bootable, os-update_readonly_flag; unsupported actions 501, unknown 400', async () => {
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
    expect((await act({ 'os-set_bootable': { bootable: true } })).statusCode).toBe(200);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume.bootable).toBe('true');
    expect((await act({ 'os-set_bootable': { bootable: 'False' } })).statusCode).toBe(200);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume.bootable).toBe('false');
    expect((await act({ 'os-set_bootable': { bootable: 'maybe' } })).json().badRequest.message).toMatch(/os-set_bootable\.bootable/);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume.metadata).not.toHaveProperty('readonly');
    expect((await act({ 'os-update_readonly_flag': { readonly: true } })).statusCode).toBe(202);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume.metadata).toMatchObject({ readonly: 'True' });
    expect((await act({ 'os-update_readonly_flag': { readonly: false } })).statusCode).toBe(202);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume.metadata).toMatchObject({ readonly: 'False' });
    expect((await http({ url: `${v3}/volumes/v1/metadata` })).json().metadata).not.toHaveProperty('readonly');
    expect((await act({ 'os-set_bootable': { bootable: true } }, 't2')).statusCode).toBe(404);
    expect((await act({ 'os-reset_status': { status: 'error' } })).statusCode).toBe(403);
    expect((await act({ 'os-reset_status': { status: 'error' } }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/volumes/v1` })).json().volume.status).toBe('error');
    expect((await act({ 'os-reset_status': { status: 'available' } }, 'adm')).statusCode).toBe(202);
    expect((await act({ 'os-reset_status': { status: 'melted' } }, 'adm')).json().badRequest.message).toMatch(/os-reset_status\.status/);
    expect((await act({ 'os-reset_status': { status: 'available', attach_status: 'detached' } }, 'adm')).json().badRequest.message).toMatch(/os-reset_status\.attach_status/);
    expect((await act({ 'os-force_detach': {} })).statusCode).toBe(501);
    const up = await act({ 'os-volume_upload_image': { image_name: 'from-v1', force: false, disk_format: 'raw', container_format: 'bare' } });
    expect(up.statusCode).toBe(202);
    expect(up.json()['os-volume_upload_image']).toMatchObject({ id: 'v1', image_id: 'img-up', image_name: 'from-v1', disk_format: 'raw', container_format: 'bare', status: 'available' });
    expect(calls.find((c) => c.method === 'uploadVolumeToImage')?.req).toEqual({ volumeId: 'v1', imageName: 'from-v1', diskFormat: 'raw', containerFormat: 'bare' });
    expect((await act({ 'os-volume_upload_image': { image_name: 'x', force: true } })).json().badRequest.message).toMatch(/os-volume_upload_image\.force/);
    expect((await act({ 'os-volume_upload_image': { image_name: 'x', disk_format: 'vmdk' } })).json().badRequest.message).toMatch(/os-volume_upload_image\.disk_format/);
    expect((await act({ 'os-volume_upload_image': {} })).statusCode).toBe(400);
    expect((await act({ 'os-volume_upload_image': { image_name: 'x' } }, 't2')).statusCode).toBe(404);
    expect((await act({ 'os-frobnicate': {} })).json().badRequest.message).toBe('There is no such action: os-frobnicate');
    expect((await act({ 'os-extend': { new_size: 'x' } })).json().badRequest.message).toMatch(/os-extend\.new_size/);
    expect((await act({ 'os-extend': { new_size: 3 }, 'os-detach': {} })).statusCode).toBe(400);
  });

  it('backups: create (full, incremental), list, detail, show, restore into a new volume, delete (dependents first); another project 404', async () => {
    await create();
    const full = await http({ method: 'POST', url: `${v3}/backups`, payload: { backup: { volume_id: 'v1', name: 'nightly', incremental: false, container: null, description: null } } });
    expect(full.statusCode).toBe(202);
    const fb = full.json().backup;
    expect(fb).toMatchObject({ name: 'nightly', links: [{ rel: 'self' }, { rel: 'bookmark' }] });
    const inc = (await http({ method: 'POST', url: `${v3}/backups`, payload: { backup: { volume_id: 'v1', incremental: true } } })).json().backup;
    expect((await http({ url: `${v3}/backups` })).json().backups.map((b: { id: string }) => b.id)).toEqual([inc.id, fb.id]);
    expect((await http({ url: `${v3}/backups/${fb.id}` })).json().backup).toMatchObject({ id: fb.id, status: 'available', volume_id: 'v1', size: 1, object_count: 3, is_incremental: false, has_dependent_backups: true });
    expect((await http({ url: `${v3}/backups/detail?volume_id=v1` })).json().backups[0]).toMatchObject({ id: inc.id, is_incremental: true });
    const restored = await http({ method: 'POST', url: `${v3}/backups/${fb.id}/restore`, payload: { restore: { name: 'back' } } });
    expect(restored.statusCode).toBe(202);
    expect(restored.json().restore).toMatchObject({ backup_id: fb.id, volume_name: 'back' });
    expect((await http({ method: 'POST', url: `${v3}/backups/${fb.id}/restore`, payload: { restore: { volume_id: 'v1' } } })).statusCode).toBe(501);
    expect((await http({ method: 'POST', url: `${v3}/backups`, payload: { backup: { volume_id: 'v1', description: 'kept nowhere' } } })).json().badRequest.message).toMatch(/backup\.description/);
    expect((await http({ url: `${v3}/backups/${fb.id}` }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'DELETE', url: `${v3}/backups/${fb.id}` }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'DELETE', url: `${v3}/backups/${fb.id}` })).statusCode).toBe(409);
    expect((await http({ method: 'DELETE', url: `${v3}/backups/${inc.id}` })).statusCode).toBe(202);
    expect((await http({ method: 'DELETE', url: `${v3}/backups/${fb.id}` })).statusCode).toBe(202);
    expect((await http({ url: `${v3}/backups` })).json().backups).toEqual([]);
    expect((await http({ url: `${v3}/backups` }, '')).statusCode).toBe(401);
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

  it('snapshots CRUD with description, metadata and updates, volume types and extra specs (admin create), limits, quota sets, availability zones, extensions', async () => {
    await create();
    const s = (await http({ method: 'POST', url: `${v3}/snapshots`, payload: { snapshot: { volume_id: 'v1', name: 'snap', description: 'before upgrade', metadata: { k: 'v' }, force: 'True' } } })).json().snapshot;
    expect(s).toEqual({ id: s.id, name: 'snap', description: 'before upgrade', status: 'available', size: 1, volume_id: 'v1', metadata: { k: 'v' }, created_at: expect.any(String), updated_at: null });
    expect(calls.find((c) => c.method === 'createSnapshot')?.req).toEqual({ volumeId: 'v1', name: 'snap', description: 'before upgrade', metadata: { k: 'v' }, force: true });
    expect((await http({ url: `${v3}/snapshots/detail?volume_id=v1` })).json().snapshots[0]).toMatchObject({ 'os-extended-snapshot-attributes:project_id': 'p1', 'os-extended-snapshot-attributes:progress': '100%' });
    expect((await http({ url: `${v3}/snapshots` })).json().snapshots[0]).not.toHaveProperty(['os-extended-snapshot-attributes:project_id']);
    expect((await http({ url: `${v3}/snapshots/${s.id}` })).json().snapshot.id).toBe(s.id);
    // update and metadata
    const upd = await http({ method: 'PUT', url: `${v3}/snapshots/${s.id}`, payload: { snapshot: { display_name: 'snap2', description: 'after' } } });
    expect(upd.json().snapshot).toMatchObject({ name: 'snap2', description: 'after', updated_at: '2026-03-02T00:00:00.000000' });
    expect((await http({ method: 'PUT', url: `${v3}/snapshots/${s.id}`, payload: { snapshot: { size: 3 } } })).json().badRequest.message).toMatch(/snapshot\.size/);
    expect((await http({ method: 'PUT', url: `${v3}/snapshots/${s.id}`, payload: { snapshot: { name: 'x' } } }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'POST', url: `${v3}/snapshots/${s.id}/metadata`, payload: { metadata: { a: '1' } } })).json()).toEqual({ metadata: { k: 'v', a: '1' } });
    expect((await http({ method: 'PUT', url: `${v3}/snapshots/${s.id}/metadata`, payload: { metadata: { b: '2' } } })).json()).toEqual({ metadata: { b: '2' } });
    expect((await http({ method: 'PUT', url: `${v3}/snapshots/${s.id}/metadata/b`, payload: { meta: { b: '3' } } })).json()).toEqual({ meta: { b: '3' } });
    expect((await http({ url: `${v3}/snapshots/${s.id}/metadata/b` })).json()).toEqual({ meta: { b: '3' } });
    expect((await http({ method: 'DELETE', url: `${v3}/snapshots/${s.id}/metadata/b` })).statusCode).toBe(200);
    expect((await http({ url: `${v3}/snapshots/${s.id}/metadata/b` })).statusCode).toBe(404);
    expect((await http({ url: `${v3}/snapshots/${s.id}/metadata` }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'POST', url: `${v3}/snapshots/${s.id}/metadata`, payload: { metadata: { x: 1 } } })).statusCode).toBe(400);
    const noVolume = await http({ method: 'POST', url: `${v3}/snapshots`, payload: { snapshot: { volume_id: null } } });
    expect(noVolume.statusCode).toBe(404);
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
    expect((await http({ url: `${v3}/extensions` })).json().extensions.map((e: { alias: string }) => e.alias)).toEqual(expect.arrayContaining(['os-volume-actions', 'os-hosts']));
    expect((await http({ url: `${v3}/os-hosts` }, 'adm')).json()).toEqual({
      hosts: [{ host_name: 'storage-1@sim', service: 'cinder-volume', zone: 'nova', 'service-status': 'available', 'service-state': 'enabled', 'last-update': null }],
    });
    expect((await http({ url: `${v3}/os-hosts` })).statusCode).toBe(403);
    expect((await http({ url: `${v3}/os-hosts` }, '')).statusCode).toBe(401);
  });
  it('volume types: create answers Cinder\'s create fields only (no qos_specs_id); show and list give qos_specs_id to admins only; delete 202, 400 in use, 403/401/404', async () => {
    const made = await http({ method: 'POST', url: `${v3}/types`, payload: { volume_type: { name: 'gold', description: 'fast disks', extra_specs: { a: 'b' } } } }, 'adm');
    expect(made.statusCode).toBe(200);
    const t = made.json().volume_type;
    expect(Object.keys(t).sort()).toEqual(['description', 'extra_specs', 'id', 'is_public', 'name', 'os-volume-type-access:is_public']);
    expect(t).toMatchObject({ name: 'gold', description: 'fast disks', is_public: true, 'os-volume-type-access:is_public': true, extra_specs: { a: 'b' } });
    expect((await http({ url: `${v3}/types/${t.id}` }, 'adm')).json().volume_type).toEqual({ ...t, qos_specs_id: null });
    expect((await http({ url: `${v3}/types/${t.id}` })).json().volume_type).toEqual(t);
    expect((await http({ url: `${v3}/types` })).json().volume_types[0]).toEqual({ id: 'vt-1', name: 'standard', description: null, is_public: true, 'os-volume-type-access:is_public': true, extra_specs: { volume_backend_name: 'sim' } });
    expect((await http({ method: 'POST', url: `${v3}/types`, payload: { volume_type: { name: 'x', description: 'd'.repeat(256) } } }, 'adm')).statusCode).toBe(400);

    await create({ volume_type: 'gold' });
    const inUse = await http({ method: 'DELETE', url: `${v3}/types/${t.id}` }, 'adm');
    expect(inUse.statusCode).toBe(400);
    expect(inUse.json().badRequest.message).toMatch(/in use/);
    expect((await http({ method: 'DELETE', url: `${v3}/types/vt-1` })).statusCode).toBe(403);
    expect((await http({ method: 'DELETE', url: `${v3}/types/vt-1` }, '')).statusCode).toBe(401);
    expect((await http({ method: 'DELETE', url: `${v3}/types/vt-9` }, 'adm')).statusCode).toBe(404);
    expect((await http({ method: 'DELETE', url: `${v3}/types/vt-1` }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/types/vt-1` }, 'adm')).statusCode).toBe(404);
  });

  it('QoS specs: create 200 with links, list, show, set (echoes the body) and delete_keys 202, associate/associations/disassociate(_all) 202, delete 400 in use and 202 with force', async () => {
    const made = await http({ method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { name: 'silver', consumer: 'front-end', read_iops_sec: '2000' } } }, 'adm');
    expect(made.statusCode).toBe(200);
    const q = made.json().qos_specs;
    expect(made.json()).toEqual({
      qos_specs: { id: q.id, name: 'silver', consumer: 'front-end', specs: { read_iops_sec: '2000' } },
      links: [
        { rel: 'self', href: `http://api.test:5080/volume/v3/p1/qos-specs/${q.id}` },
        { rel: 'bookmark', href: `http://api.test:5080/volume/p1/qos-specs/${q.id}` },
      ],
    });
    expect((await http({ url: `${v3}/qos-specs` }, 'adm')).json()).toEqual({ qos_specs: [q] });
    expect((await http({ url: `${v3}/qos-specs/${q.id}` }, 'adm')).json().qos_specs).toEqual(q);

    const set = await http({ method: 'PUT', url: `${v3}/qos-specs/${q.id}`, payload: { qos_specs: { iops_bytes: '500' } } }, 'adm');
    expect(set.statusCode).toBe(200);
    expect(set.json()).toEqual({ qos_specs: { iops_bytes: '500' } });
    expect((await http({ url: `${v3}/qos-specs/${q.id}` }, 'adm')).json().qos_specs.specs).toEqual({ read_iops_sec: '2000', iops_bytes: '500' });
    expect((await http({ method: 'PUT', url: `${v3}/qos-specs/${q.id}/delete_keys`, payload: { keys: ['iops_bytes'] } }, 'adm')).statusCode).toBe(202);
    expect((await http({ method: 'PUT', url: `${v3}/qos-specs/${q.id}/delete_keys`, payload: { keys: ['iops_bytes'] } }, 'adm')).statusCode).toBe(404);
    expect((await http({ url: `${v3}/qos-specs/${q.id}` }, 'adm')).json().qos_specs.specs).toEqual({ read_iops_sec: '2000' });

    expect((await http({ url: `${v3}/qos-specs/${q.id}/associate?vol_type_id=vt-1` }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/types/vt-1` }, 'adm')).json().volume_type.qos_specs_id).toBe(q.id);
    expect((await http({ url: `${v3}/qos-specs/${q.id}/associations` }, 'adm')).json()).toEqual({ qos_associations: [{ association_type: 'volume_type', name: 'standard', id: 'vt-1' }] });
    expect((await http({ url: `${v3}/qos-specs/${q.id}/associate` }, 'adm')).statusCode).toBe(400);
    const other = (await http({ method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { name: 'bronze' } } }, 'adm')).json().qos_specs;
    expect(other.consumer).toBe('back-end');
    expect((await http({ url: `${v3}/qos-specs/${other.id}/associate?vol_type_id=vt-1` }, 'adm')).statusCode).toBe(400);
    expect((await http({ method: 'DELETE', url: `${v3}/qos-specs/${q.id}` }, 'adm')).statusCode).toBe(400);
    expect((await http({ url: `${v3}/qos-specs/${q.id}/disassociate?vol_type_id=vt-1` }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/qos-specs/${q.id}/associations` }, 'adm')).json().qos_associations).toEqual([]);
    expect((await http({ url: `${v3}/qos-specs/${q.id}/associate?vol_type_id=vt-1` }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/qos-specs/${q.id}/disassociate_all` }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/types/vt-1` }, 'adm')).json().volume_type.qos_specs_id).toBeNull();
    expect((await http({ url: `${v3}/qos-specs/${q.id}/associate?vol_type_id=vt-1` }, 'adm')).statusCode).toBe(202);
    expect((await http({ method: 'DELETE', url: `${v3}/qos-specs/${q.id}?force=True` }, 'adm')).statusCode).toBe(202);
    expect((await http({ url: `${v3}/qos-specs/${q.id}` }, 'adm')).statusCode).toBe(404);
    expect((await http({ url: `${v3}/types/vt-1` }, 'adm')).json().volume_type.qos_specs_id).toBeNull();
  });

  it('QoS specs refuse a member of any project (403), no token (401 in Keystone\'s form) and malformed bodies (400), with nothing changed', async () => {
    const q = (await http({ method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { name: 'kept', total_iops_sec: '10' } } }, 'adm')).json().qos_specs;
    const doors: Parameters<typeof request>[1][] = [
      { url: `${v3}/qos-specs` },
      { method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { name: 'mine' } } },
      { url: `${v3}/qos-specs/${q.id}` },
      { method: 'PUT', url: `${v3}/qos-specs/${q.id}`, payload: { qos_specs: { a: '1' } } },
      { method: 'PUT', url: `${v3}/qos-specs/${q.id}/delete_keys`, payload: { keys: ['total_iops_sec'] } },
      { method: 'DELETE', url: `${v3}/qos-specs/${q.id}?force=true` },
      { url: `${v3}/qos-specs/${q.id}/associations` },
      { url: `${v3}/qos-specs/${q.id}/associate?vol_type_id=vt-1` },
      { url: `${v3}/qos-specs/${q.id}/disassociate?vol_type_id=vt-1` },
      { url: `${v3}/qos-specs/${q.id}/disassociate_all` },
    ];
    for (const door of doors) {
      expect([door.url, (await http(door, 't1')).statusCode]).toEqual([door.url, 403]);
      expect([door.url, (await http(door, 't2')).statusCode]).toEqual([door.url, 403]);
      const anonymous = await http(door, '');
      expect([door.url, anonymous.statusCode]).toEqual([door.url, 401]);
      expect(anonymous.json().error).toMatchObject({ code: 401 });
    }
    const malformed: Parameters<typeof request>[1][] = [
      { method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { consumer: 'front-end' } } },
      { method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { name: 'x', consumer: 'sideways' } } },
      { method: 'POST', url: `${v3}/qos-specs`, payload: { qos_specs: { name: 'x', read_iops_sec: 5 } } },
      { method: 'POST', url: `${v3}/qos-specs`, payload: { qos: { name: 'x' } } },
      { method: 'PUT', url: `${v3}/qos-specs/${q.id}`, payload: { qos_specs: {} } },
      { method: 'PUT', url: `${v3}/qos-specs/${q.id}`, payload: { qos_specs: { 'bad/key': '1' } } },
      { method: 'PUT', url: `${v3}/qos-specs/${q.id}/delete_keys`, payload: { keys: 'total_iops_sec' } },
    ];
    for (const m of malformed) {
      const res = await http(m, 'adm');
      expect([JSON.stringify(m.payload), res.statusCode]).toEqual([JSON.stringify(m.payload), 400]);
      expect(res.json().badRequest).toMatchObject({ code: 400 });
    }
    expect((await http({ url: `${v3}/qos-specs` }, 'adm')).json().qos_specs).toEqual([{ ...q, specs: { total_iops_sec: '10' } }]);
    expect((await http({ url: `${v3}/types/vt-1` }, 'adm')).json().volume_type.qos_specs_id).toBeNull();
  });
  it('os-quota-sets update (admin; volumes and gigabytes, answered without id) and delete (back to the defaults, 200); a member, another project, no token and malformed bodies are refused', async () => {
    const put = (body: unknown, token = 'adm', project = 'p2') => http({ method: 'PUT', url: `${v3}/os-quota-sets/${project}`, payload: body }, token);
    const updated = await put({ quota_set: { volumes: 15, gigabytes: '2000', snapshots: -1, backups: '-1' } });
    expect(updated.statusCode).toBe(200);
    expect(updated.json()).toEqual({ quota_set: { volumes: 15, gigabytes: 2000, snapshots: -1, backups: -1, backup_gigabytes: -1, per_volume_gigabytes: -1, groups: -1 } });
    expect(calls.filter((c) => c.method === 'setQuota').map((c) => c.req)).toEqual([{ projectId: 'p2', limits: { volumes: 15, gigabytes: 2000 } }]);
    expect((await http({ url: `${v3}/os-quota-sets/p2` }, 'adm')).json().quota_set).toMatchObject({ id: 'p2', volumes: 15, gigabytes: 2000 });

    for (const token of ['t1', 't2']) {
      expect((await put({ quota_set: { volumes: 1 } }, token)).statusCode).toBe(403);
      expect((await http({ method: 'DELETE', url: `${v3}/os-quota-sets/p2` }, token)).statusCode).toBe(403);
    }
    expect((await put({ quota_set: { volumes: 1 } }, '')).statusCode).toBe(401);
    expect((await http({ method: 'DELETE', url: `${v3}/os-quota-sets/p2` }, '')).statusCode).toBe(401);
    for (const bad of [{ quota_set: { volumes: 'many' } }, { quota_set: { snapshots: 5 } }, { quota_set: { volumes: 3, groups: 0 } }, { quota_set: {} }, { quotas: { volumes: 1 } }, { quota_set: { volumes: -2 } }]) {
      const res = await put(bad);
      expect([JSON.stringify(bad), res.statusCode]).toEqual([JSON.stringify(bad), 400]);
    }
    expect((await http({ url: `${v3}/os-quota-sets/p2` }, 'adm')).json().quota_set).toMatchObject({ volumes: 15, gigabytes: 2000 });

    const deleted = await http({ method: 'DELETE', url: `${v3}/os-quota-sets/p2` }, 'adm');
    expect(deleted.statusCode).toBe(200);
    expect(calls.filter((c) => c.method === 'setQuota').at(-1)!.req).toEqual({ projectId: 'p2', limits: {}, reset: ['volumes', 'gigabytes'] });
    expect((await http({ url: `${v3}/os-quota-sets/p2` }, 'adm')).json().quota_set).toMatchObject({ volumes: 10, gigabytes: 1000 });
  });
  it('volume type update (name, description) and extra specs create, update one key, delete; in use 400; member 403, no token 401, malformed 400', async () => {
    const t = (await http({ method: 'POST', url: `${v3}/types`, payload: { volume_type: { name: 'gold', extra_specs: { a: '1' } } } }, 'adm')).json().volume_type;
    const up = await http({ method: 'PUT', url: `${v3}/types/${t.id}`, payload: { volume_type: { name: 'gold2', description: 'better' } } }, 'adm');
    expect(up.statusCode).toBe(200);
    expect(up.json()).toEqual({ volume_type: { id: t.id, name: 'gold2', is_public: true, description: 'better', extra_specs: { a: '1' } } });
    const set = await http({ method: 'POST', url: `${v3}/types/${t.id}/extra_specs`, payload: { extra_specs: { b: '2', c: '3' } } }, 'adm');
    expect([set.statusCode, set.json()]).toEqual([200, { extra_specs: { b: '2', c: '3' } }]);
    const one = await http({ method: 'PUT', url: `${v3}/types/${t.id}/extra_specs/b`, payload: { b: '22' } }, 'adm');
    expect([one.statusCode, one.json()]).toEqual([200, { b: '22' }]);
    expect((await http({ method: 'DELETE', url: `${v3}/types/${t.id}/extra_specs/c` }, 'adm')).statusCode).toBe(202);
    expect((await http({ method: 'DELETE', url: `${v3}/types/${t.id}/extra_specs/c` }, 'adm')).statusCode).toBe(404);
    expect((await http({ url: `${v3}/types/${t.id}/extra_specs` }, 'adm')).json()).toEqual({ extra_specs: { a: '1', b: '22' } });

    const malformed: Parameters<typeof request>[1][] = [
      { method: 'PUT', url: `${v3}/types/${t.id}`, payload: { volume_type: {} } },
      { method: 'PUT', url: `${v3}/types/${t.id}`, payload: { volume_type: { is_public: false } } },
      { method: 'POST', url: `${v3}/types/${t.id}/extra_specs`, payload: { extra_specs: {} } },
      { method: 'POST', url: `${v3}/types/${t.id}/extra_specs`, payload: { specs: { a: '1' } } },
      { method: 'PUT', url: `${v3}/types/${t.id}/extra_specs/b`, payload: { c: '1' } },
      { method: 'PUT', url: `${v3}/types/${t.id}/extra_specs/b`, payload: { b: '1', c: '2' } },
      { method: 'PUT', url: `${v3}/types/${t.id}/extra_specs/b`, payload: { b: 5 } },
    ];
    for (const m of malformed) expect([m.url, JSON.stringify(m.payload), (await http(m, 'adm')).statusCode]).toEqual([m.url, JSON.stringify(m.payload), 400]);
    const doors: Parameters<typeof request>[1][] = [
      { method: 'PUT', url: `${v3}/types/${t.id}`, payload: { volume_type: { name: 'mine' } } },
      { method: 'POST', url: `${v3}/types/${t.id}/extra_specs`, payload: { extra_specs: { x: '1' } } },
      { method: 'PUT', url: `${v3}/types/${t.id}/extra_specs/b`, payload: { b: '0' } },
      { method: 'DELETE', url: `${v3}/types/${t.id}/extra_specs/b` },
    ];
    for (const d of doors) {
      expect([d.method, d.url, (await http(d, 't2')).statusCode]).toEqual([d.method, d.url, 403]);
      expect([d.method, d.url, (await http(d, '')).statusCode]).toEqual([d.method, d.url, 401]);
    }
    await create({ volume_type: 'gold2' });
    const inUse = await http({ method: 'POST', url: `${v3}/types/${t.id}/extra_specs`, payload: { extra_specs: { x: '1' } } }, 'adm');
    expect(inUse.statusCode).toBe(400);
    expect((await http({ url: `${v3}/types/${t.id}` }, 'adm')).json().volume_type).toMatchObject({ name: 'gold2', description: 'better', extra_specs: { a: '1', b: '22' } });
  });
});
