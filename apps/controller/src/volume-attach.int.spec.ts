import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { agent, compute, image, network, volume } from '@minicloud/proto';
import { isCloudAdmin } from '@minicloud/platform-auth';
import type { Bus } from '@minicloud/platform-bus';
import type { CallContext, RunningGrpcServer, ServiceClient } from '@minicloud/platform-grpc';
import type { Redis } from '@minicloud/platform-state';
import { waitFor } from '@minicloud/testing';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness, partial } from './testing/controller-harness';
import type { Controller } from './wire';

jest.setTimeout(60_000);

const VS = volume.VolumeStatus;

/** In-memory volume service with Cinder's attachment flow and project scoping (another project's volume -> NOT_FOUND). */
class FakeVolumes {
  vols = new Map<string, volume.Volume>();
  seq = 0;
  /** createVolume sends new volumes to error instead of available. */
  failCreate = false;
  /** How long createVolume's volumes stay `creating` (ms). */
  createDelayMs = 100;
  add(projectId: string, over: Partial<volume.Volume> = {}): volume.Volume {
    const v = volume.Volume.fromPartial({ id: `vol-${++this.seq}`, projectId, status: VS.VOLUME_STATUS_AVAILABLE, sizeGb: 1, ...over });
    this.vols.set(v.id, v);
    return v;
  }
  private scoped(id: string, ctx: CallContext): volume.Volume {
    const v = this.vols.get(id);
    if (!v || (!isCloudAdmin(ctx.auth) && v.projectId !== ctx.auth?.projectId)) throw new NotFoundError('volume', id);
    return v;
  }
  handlers() {
    return partial<Record<string, unknown>>({
      getVolume: async (req: volume.GetVolumeRequest, ctx: CallContext) => ({ volume: this.scoped(req.volumeId, ctx) }),
      createVolume: async (req: volume.CreateVolumeRequest, ctx: CallContext) => {
        const projectId = req.projectId && isCloudAdmin(ctx.auth) ? req.projectId : ctx.auth!.projectId;
        const v = this.add(projectId, { status: VS.VOLUME_STATUS_CREATING, sizeGb: req.sizeGb, name: req.name, sourceImageId: req.imageId ?? '', metadata: req.metadata });
        setTimeout(() => {
          if (v.status === VS.VOLUME_STATUS_CREATING) v.status = this.failCreate ? VS.VOLUME_STATUS_ERROR : VS.VOLUME_STATUS_AVAILABLE;
        }, this.createDelayMs).unref();
        return { volume: v };
      },
      listVolumes: async (_req: volume.ListVolumesRequest, ctx: CallContext) => ({ volumes: [...this.vols.values()].filter((v) => isCloudAdmin(ctx.auth) || v.projectId === ctx.auth?.projectId) }),
      listAttachments: async (req: volume.ListAttachmentsRequest) => ({
        attachments: [...this.vols.values()].flatMap((v) => v.attachments).filter((a) => (!req.instanceId || a.instanceId === req.instanceId) && (!req.volumeId || a.volumeId === req.volumeId)),
      }),
      createAttachment: async (req: volume.CreateAttachmentRequest, ctx: CallContext) => {
        const v = this.scoped(req.volumeId, ctx);
        const same = v.attachments.find((a) => a.instanceId === req.instanceId);
        if (same && req.hostId) same.hostId = req.hostId; // the instance moved: re-pointed, as the real service
        if (same) return { attachment: same };
        if (v.status !== VS.VOLUME_STATUS_AVAILABLE) throw new FailedPreconditionError(`volume ${v.id} is ${VS[v.status]}`, 'volume_in_use');
        const att = { id: `att-${++this.seq}`, volumeId: v.id, instanceId: req.instanceId, hostId: req.hostId, mountpoint: req.mountpoint, attachStatus: 'reserved' };
        v.attachments.push(att as volume.Attachment);
        v.status = VS.VOLUME_STATUS_ATTACHING;
        return { attachment: att };
      },
      completeAttachment: async (req: volume.CompleteAttachmentRequest) => {
        const v = [...this.vols.values()].find((x) => x.attachments.some((a) => a.id === req.attachmentId));
        if (!v) throw new NotFoundError('attachment', req.attachmentId);
        v.attachments.find((a) => a.id === req.attachmentId)!.attachStatus = 'attached';
        v.status = VS.VOLUME_STATUS_IN_USE;
        return { volume: v };
      },
      deleteAttachment: async (req: volume.DeleteAttachmentRequest) => {
        for (const v of this.vols.values()) {
          const before = v.attachments.length;
          v.attachments = v.attachments.filter((a) => !(a.id === req.attachmentId || (a.volumeId === req.volumeId && a.instanceId === req.instanceId)));
          if (before !== v.attachments.length && v.attachments.length === 0) v.status = VS.VOLUME_STATUS_AVAILABLE;
        }
        return {};
      },
      deleteVolume: async (req: volume.DeleteVolumeRequest) => {
        this.vols.delete(req.volumeId);
        return {};
      },
    });
  }
}

describe('controller volume attach/detach (in-process, real Redis + NATS, fake volume/image/network/agent)', () => {
  let harness: ControllerHarness;
  let controller: Controller;
  let redis: Redis;
  let bus: Bus;
  const fakes: RunningGrpcServer[] = [];
  const volumes = new FakeVolumes();
  let hostAgent: FakeHypervisor;
  let otherAgent: FakeHypervisor | undefined;
  let hostRegistry: ServiceClient<typeof agent.HostRegistryServiceService>;
  let alice: ServiceClient<typeof compute.ComputeServiceService>;
  let bob: ServiceClient<typeof compute.ComputeServiceService>;
  let portSeq = 0;
  let adminTokenForTests = '';

  beforeAll(async () => {
    harness = await ControllerHarness.start('volume-attach-test');
    ({ redis, bus } = harness);
    const { adminToken, mint, verifier } = harness.tokens;
    adminTokenForTests = adminToken;
    const fake = async (definition: unknown, handlers: unknown) => {
      const s = await harness.startFakeService(definition, handlers, { verifier });
      fakes.push(s);
      return s.address;
    };
    const endpoints: Record<string, string> = {
      image: await fake(
        image.ImageServiceService,
        partial<Record<string, unknown>>({
          getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'qcow2', sizeBytes: 1024, osHashValue: 'abc' } }),
        }),
      ),
      network: await fake(
        network.NetworkServiceService,
        partial<Record<string, unknown>>({
          getNetwork: async () => ({ network: { id: 'net-1', name: 'private', segmentationId: 1001, mtu: 1450 } }),
          listPorts: async () => ({ ports: [] }),
          createPort: async (req: network.CreatePortRequest) => ({ port: { id: `port-${++portSeq}`, networkId: req.networkId, macAddress: 'fa:16:3e:00:00:01', fixedIps: [{ ipAddress: '10.0.0.5' }] } }),
          bindPort: async (req: network.BindPortRequest) => ({ port: { id: req.portId, networkId: 'net-1', macAddress: 'fa:16:3e:00:00:01', fixedIps: [{ ipAddress: '10.0.0.5' }] } }),
          deletePort: async () => ({}),
        }),
      ),
      volume: await fake(volume.VolumeServiceService, volumes.handlers()),
    };
    const started = await harness.startControllerUnderTest({ endpoints });
    controller = started.controller;
    const { grpc } = started;
    const admin = harness.client(compute.ComputeServiceService, grpc.address, adminToken);
    alice = harness.client(compute.ComputeServiceService, grpc.address, await mint('alice', 'p-alice', ['member']));
    bob = harness.client(compute.ComputeServiceService, grpc.address, await mint('bob', 'p-bob', ['member']));
    const registry = harness.client(agent.HostRegistryServiceService, grpc.address, adminToken);
    hostRegistry = registry;
    // Stopped after the controller closes; `otherAgent` is started by a test.
    harness.addDouble({
      stop: async () => {
        await hostAgent?.stop();
        await otherAgent?.stop();
      },
    });
    hostAgent = new FakeHypervisor('h1', bus, { cores: 8, ramMb: 16384, diskGb: 400 });
    await hostAgent.start(registry);
    await admin.createFlavor({ name: 'm1.small', vcpus: 1, ramMb: 1024, diskGb: 10 });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const bootActive = async (c: typeof alice) => {
    const id = (await c.createServer({ name: 'vm', flavorRef: 'm1.small', imageRef: 'img', networks: [{ networkId: 'net-1' }] })).servers[0].id;
    await waitFor(async () => (await c.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    return id;
  };

  it('attaches with the QoS of the volume, shows it on the server, detaches; both sides agree', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice', { qos: { totalIopsSec: 500, writeIopsSec: 100, totalBytesSec: 10_000_000 } as volume.VolumeQos, sizeGb: 2 });
    const res = await alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } });
    expect(res.server!.volumesAttached).toEqual([expect.objectContaining({ volumeId: vol.id, deviceName: '/dev/vdb' })]);
    expect(vol.status).toBe(VS.VOLUME_STATUS_IN_USE);
    expect(vol.attachments).toEqual([expect.objectContaining({ instanceId: id, hostId: 'h1', mountpoint: '/dev/vdb', attachStatus: 'attached' })]);
    expect(hostAgent.volumesOf(id)).toEqual([
      expect.objectContaining({ volumeId: vol.id, attachmentId: vol.attachments[0].id, sizeGb: 2, readIopsLimit: 500, writeIopsLimit: 100, totalBytesSecLimit: 10_000_000 }),
    ]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached.map((v) => v.volumeId)).toEqual([vol.id]);

    // Attaching it again is refused, and so is a used device name.
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } })).rejects.toBeInstanceOf(FailedPreconditionError);
    const vol2 = volumes.add('p-alice');
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol2.id, deviceName: '/dev/vdb' } })).rejects.toThrow(/device_name/);
    expect(vol2.status).toBe(VS.VOLUME_STATUS_AVAILABLE);

    await alice.serverAction({ serverId: id, detachVolume: { volumeId: vol.id } });
    expect(vol.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(vol.attachments).toEqual([]);
    expect(hostAgent.volumesOf(id)).toEqual([]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached).toEqual([]);
    await expect(alice.serverAction({ serverId: id, detachVolume: { volumeId: vol.id } })).rejects.toBeInstanceOf(NotFoundError);
    const actions = (await alice.listInstanceActions({ serverId: id })).actions.map((a) => `${a.action}:${a.result}`);
    expect(actions).toEqual(expect.arrayContaining(['attach_volume:Success', 'detach_volume:Success', 'attach_volume:Error']));
  });

  it("refuses another project's volume with NOT_FOUND and a missing volume_id with INVALID_ARGUMENT", async () => {
    const id = await bootActive(bob);
    const alices = volumes.add('p-alice');
    await expect(bob.serverAction({ serverId: id, attachVolume: { volumeId: alices.id } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.serverAction({ serverId: id, attachVolume: { volumeId: 'vol-nope' } })).rejects.toThrow(/volume/);
    await expect(bob.serverAction({ serverId: id, attachVolume: { volumeId: '' } })).rejects.toThrow(InvalidArgumentError);
    expect(alices.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect((await bob.getServer({ serverId: id })).server!.volumesAttached).toEqual([]);
  });

  it('an agent failure midway leaves nothing attached on either side', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice');
    hostAgent.failAttach.add(vol.id);
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } })).rejects.toThrow(/attach failed/);
    expect(vol.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(vol.attachments).toEqual([]);
    expect(hostAgent.volumesOf(id)).toEqual([]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached).toEqual([]);
    expect(JSON.parse((await redis.get(`mc:controller:instance:${id}`))!).volumesAttached).toEqual([]);
  });

  it('refuses attach while the server is stopping (task in progress), allows it when SHUTOFF', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice');
    await controller.stores.instances.update(id, (r) => ({ ...r, taskState: 'powering_off' }));
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } })).rejects.toThrow(/task_state powering_off/);
    await controller.stores.instances.update(id, (r) => ({ ...r, taskState: null, vmState: 'stopped', powerState: 'shutdown' }));
    const res = await alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } });
    expect(res.server!.volumesAttached.map((v) => v.volumeId)).toEqual([vol.id]);
  });

  it('deleting a server frees its volumes (kept, available) and deletes those with delete_on_termination', async () => {
    const id = await bootActive(alice);
    const keep = volumes.add('p-alice');
    const drop = volumes.add('p-alice');
    await alice.serverAction({ serverId: id, attachVolume: { volumeId: keep.id } });
    await alice.serverAction({ serverId: id, attachVolume: { volumeId: drop.id, deviceName: '/dev/vdd' } });
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached.map((v) => v.deviceName)).toEqual(['/dev/vdb', '/dev/vdd']);
    await controller.stores.instances.update(id, (r) => ({ ...r, volumesAttached: r.volumesAttached!.map((v) => (v.volumeId === drop.id ? { ...v, deleteOnTermination: true } : v)) }));
    await alice.deleteServer({ serverId: id });
    await waitFor(async () => !(await redis.exists(`mc:controller:instance:${id}`)), { timeoutMs: 10_000 });
    expect(keep.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(keep.attachments).toEqual([]);
    expect(volumes.vols.has(keep.id)).toBe(true);
    expect(volumes.vols.has(drop.id)).toBe(false);
  });
  it('100 concurrent attaches and detaches of 6 volumes over 5 servers: never attached twice, both sides agree at the end', async () => {
    const servers = await Promise.all(Array.from({ length: 5 }, () => bootActive(alice)));
    const vols = Array.from({ length: 6 }, () => volumes.add('p-alice'));
    const violations: string[] = [];
    const done = [0, 0]; // attaches, detaches that succeeded
    const check = () => {
      for (const v of vols) if (v.attachments.length > 1) violations.push(`${v.id} attached to ${v.attachments.map((a) => a.instanceId).join(',')}`);
    };
    const op = async (i: number) => {
      const serverId = servers[i % servers.length]!;
      const volumeId = vols[(i * 7) % vols.length]!.id;
      try {
        if (i % 2 === 0) await alice.serverAction({ serverId, attachVolume: { volumeId } });
        else await alice.serverAction({ serverId, detachVolume: { volumeId } });
        done[i % 2]++;
      } catch (e) {
        if (!(e instanceof FailedPreconditionError || e instanceof NotFoundError || e instanceof InvalidArgumentError)) throw e;
      } finally {
        check();
      }
    };
    await Promise.all(Array.from({ length: 100 }, (_, i) => op(i)));
    expect(violations).toEqual([]);
    expect(done[0]).toBeGreaterThan(0);
    for (const v of vols) {
      const holders = (await Promise.all(servers.map((id) => controller.stores.instances.get(id)))).filter((r) => (r.volumesAttached ?? []).some((e) => e.volumeId === v.id));
      expect(holders.length).toBeLessThanOrEqual(1);
      if (holders.length === 1) {
        const e = holders[0]!.volumesAttached!.find((x) => x.volumeId === v.id)!;
        expect([e.status, v.status, v.attachments.map((a) => [a.instanceId, a.attachStatus])]).toEqual(['attached', VS.VOLUME_STATUS_IN_USE, [[holders[0]!.id, 'attached']]]);
        expect(hostAgent.volumesOf(holders[0]!.id).map((x) => x.volumeId)).toContain(v.id);
      } else {
        expect([v.status, v.attachments]).toEqual([VS.VOLUME_STATUS_AVAILABLE, []]);
      }
    }
    for (const id of servers) expect(hostAgent.volumesOf(id).map((x) => x.volumeId).sort()).toEqual(((await controller.stores.instances.get(id)).volumesAttached ?? []).map((e) => e.volumeId).sort());
  });

  // ---- boot from volume (Nova's block_device_mapping_v2) ----

  const rootFromImage = (sizeGb: number, extra: Partial<compute.BlockDeviceMapping> = {}) =>
    compute.BlockDeviceMapping.fromPartial({ sourceType: 'image', destinationType: 'volume', uuid: 'img', volumeSizeGb: sizeGb, bootIndex: 0, ...extra });
  const statusOf = async (id: string) => (await alice.getServer({ serverId: id })).server!;

  it('boots from a new volume made from the image (root /dev/vda, no image on the host) with an existing data volume', async () => {
    const data = volumes.add('p-alice', { sizeGb: 3, qos: { totalIopsSec: 300 } as volume.VolumeQos });
    const res = await alice.createServer({
      name: 'bfv',
      flavorRef: 'm1.small',
      networks: [{ networkId: 'net-1' }],
      blockDeviceMappings: [rootFromImage(2, { deleteOnTermination: true }), { sourceType: 'volume', destinationType: 'volume', uuid: data.id, bootIndex: -1 } as compute.BlockDeviceMapping],
    });
    const id = res.servers[0].id;
    await waitFor(async () => (await statusOf(id)).status === 'ACTIVE', { timeoutMs: 10_000 }).catch(async (e) => {
      throw new Error(`${e}: ${JSON.stringify(await controller.stores.instances.get(id))}`);
    });
    const server = await statusOf(id);
    expect(server.imageId).toBe('');
    const root = [...volumes.vols.values()].find((v) => v.metadata.minicloud_boot_instance_id === id)!;
    expect(root).toMatchObject({ projectId: 'p-alice', sizeGb: 2, sourceImageId: 'img', status: VS.VOLUME_STATUS_IN_USE });
    expect(server.volumesAttached).toEqual([
      expect.objectContaining({ volumeId: root.id, deviceName: '/dev/vda', deleteOnTermination: true }),
      expect.objectContaining({ volumeId: data.id, deviceName: '/dev/vdb', deleteOnTermination: false }),
    ]);
    expect(data.status).toBe(VS.VOLUME_STATUS_IN_USE);
    expect(data.attachments).toEqual([expect.objectContaining({ instanceId: id, hostId: 'h1', mountpoint: '/dev/vdb', attachStatus: 'attached' })]);
    const spec = hostAgent.vms.get(id)!.spec!;
    expect(spec.image).toBeUndefined();
    expect(spec.volumes.map((v) => [v.deviceName, v.volumeId])).toEqual([['/dev/vda', root.id], ['/dev/vdb', data.id]]);
    expect(spec.volumes[1]).toMatchObject({ readIopsLimit: 300, writeIopsLimit: 300 });
    expect(hostAgent.volumesOf(id).map((v) => v.volumeId).sort()).toEqual([root.id, data.id].sort());

    // A volume-backed server has no local root disk: no claim for it, no rebuild or image snapshot.
    expect((await controller.stores.allocations.get('h1')).byInstance.get(id)).toMatchObject({ diskGb: 0 });
    await expect(alice.serverAction({ serverId: id, rebuild: { imageRef: 'img' } })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'volume_backed' });
    await expect(alice.serverAction({ serverId: id, createImage: { name: 'snap' } })).rejects.toMatchObject({ reason: 'volume_backed' });

    // delete_on_termination: the root volume goes with the server, the data volume stays (available).
    await alice.deleteServer({ serverId: id });
    await waitFor(async () => !(await redis.exists(`mc:controller:instance:${id}`)), { timeoutMs: 10_000 });
    expect(volumes.vols.has(root.id)).toBe(false);
    expect(data.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(data.attachments).toEqual([]);
  });

  it('refuses bad block device mappings with the right codes, before anything is created', async () => {
    const before = volumes.vols.size;
    const base = { name: 'bad', flavorRef: 'm1.small', networks: [{ networkId: 'net-1' }] };
    await expect(alice.createServer(base)).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'image_ref' });
    await expect(alice.createServer({ ...base, blockDeviceMappings: [rootFromImage(0)] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'block_device_mappings[0].volume_size_gb' });
    await expect(alice.createServer({ ...base, blockDeviceMappings: [rootFromImage(1, { sourceType: 'floppy' })] })).rejects.toMatchObject({ field: 'block_device_mappings[0].source_type' });
    await expect(alice.createServer({ ...base, blockDeviceMappings: [rootFromImage(1), rootFromImage(1)] })).rejects.toMatchObject({ field: 'block_device_mappings' });
    const busy = volumes.add('p-alice', { status: VS.VOLUME_STATUS_IN_USE });
    await expect(alice.createServer({ ...base, blockDeviceMappings: [{ sourceType: 'volume', uuid: busy.id, bootIndex: 0 } as compute.BlockDeviceMapping] })).rejects.toMatchObject({
      constructor: FailedPreconditionError,
      reason: 'volume_not_available',
    });
    const bobs = volumes.add('p-bob');
    await expect(alice.createServer({ ...base, blockDeviceMappings: [{ sourceType: 'volume', uuid: bobs.id, bootIndex: 0 } as compute.BlockDeviceMapping] })).rejects.toBeInstanceOf(NotFoundError);
    const free = volumes.add('p-alice');
    await expect(alice.createServer({ ...base, maxCount: 2, blockDeviceMappings: [{ sourceType: 'volume', uuid: free.id, bootIndex: 0 } as compute.BlockDeviceMapping] })).rejects.toMatchObject({
      field: 'block_device_mappings[0].source_type',
    });
    expect(volumes.vols.size).toBe(before + 3);
    expect(free.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
  });

  it('boots from an existing volume; a build whose new volume fails rolls back: ERROR, created volume deleted, existing one freed', async () => {
    const rootVol = volumes.add('p-alice', { sizeGb: 4, bootable: true });
    const ok = (await alice.createServer({ name: 'bfv-existing', flavorRef: 'm1.small', networks: [{ networkId: 'net-1' }], blockDeviceMappings: [{ sourceType: 'volume', uuid: rootVol.id, bootIndex: 0 } as compute.BlockDeviceMapping] })).servers[0].id;
    await waitFor(async () => (await statusOf(ok)).status === 'ACTIVE', { timeoutMs: 10_000 });
    expect((await statusOf(ok)).volumesAttached).toEqual([expect.objectContaining({ volumeId: rootVol.id, deviceName: '/dev/vda' })]);
    expect(rootVol.attachments).toEqual([expect.objectContaining({ instanceId: ok, mountpoint: '/dev/vda', attachStatus: 'attached' })]);

    const data = volumes.add('p-alice');
    volumes.failCreate = true;
    try {
      const id = (
        await alice.createServer({
          name: 'bfv-fails',
          flavorRef: 'm1.small',
          networks: [{ networkId: 'net-1' }],
          blockDeviceMappings: [{ sourceType: 'volume', uuid: data.id, bootIndex: -1 } as compute.BlockDeviceMapping, rootFromImage(1)],
        })
      ).servers[0].id;
      await waitFor(async () => (await statusOf(id)).status === 'ERROR', { timeoutMs: 10_000 });
      expect((await statusOf(id)).fault).toMatchObject({ code: 'FAILED_PRECONDITION', message: expect.stringContaining('went to error') });
      await waitFor(async () => ![...volumes.vols.values()].some((v) => v.metadata.minicloud_boot_instance_id === id), { timeoutMs: 10_000 });
      expect(data.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
      expect(data.attachments).toEqual([]);
      // the record's attachment list is cleared by the same rollback, after the volume service's detach
      await waitFor(async () => (await statusOf(id)).volumesAttached.length === 0, { timeoutMs: 10_000 });
      expect(hostAgent.vms.has(id)).toBe(false);
    } finally {
      volumes.failCreate = false;
    }
  });

  it('deleting a server booted from volume while it builds deletes the volume its build created', async () => {
    volumes.createDelayMs = 60_000; // the build waits in block_device_mapping until the delete
    const id = (await alice.createServer({ name: 'bfv-gone', flavorRef: 'm1.small', networks: [{ networkId: 'net-1' }], blockDeviceMappings: [rootFromImage(1)] })).servers[0].id;
    await waitFor(async () => [...volumes.vols.values()].some((v) => v.metadata.minicloud_boot_instance_id === id), { timeoutMs: 10_000 });
    await alice.deleteServer({ serverId: id });
    await waitFor(async () => !(await redis.exists(`mc:controller:instance:${id}`)), { timeoutMs: 10_000 });
    expect([...volumes.vols.values()].filter((v) => v.metadata.minicloud_boot_instance_id === id)).toEqual([]);
    volumes.createDelayMs = 100;
  });

  // ---- a controller that dies midway (steps called directly, as the dead attach left them) ----

  it('the leader resync completes a stale attaching entry the agent has, and rolls back one it lacks', async () => {
    const id = await bootActive(alice);
    const has = volumes.add('p-alice');
    const lacks = volumes.add('p-alice');
    const old = Date.now() - 120_000;
    const entry = (v: volume.Volume, device: string) => ({ volumeId: v.id, deviceName: device, attachmentId: '', status: 'attaching' as const, deleteOnTermination: false, startedAtMs: old, sizeGb: 1, readIopsLimit: 0, writeIopsLimit: 0, totalBytesSecLimit: 0 });
    // The dead attach: entry reserved (step 0), CreateAttachment (step 1); for `has` the agent attach (step 2) ran,
    // CompleteAttachment (3) never did. The entries are written last so the running resync sees the whole state at once.
    const volClient = harness.client(volume.VolumeServiceService, fakes[fakes.length - 1]!.address, adminTokenForTests);
    for (const [v, dev] of [[has, '/dev/vdb'], [lacks, '/dev/vdc']] as const) await volClient.createAttachment({ volumeId: v.id, instanceId: id, hostId: 'h1', mountpoint: dev });
    hostAgent.vms.get(id)!.volumes.set(has.id, agent.VolumeRef.fromPartial({ volumeId: has.id, deviceName: '/dev/vdb' }));
    expect([has.status, lacks.status]).toEqual([VS.VOLUME_STATUS_ATTACHING, VS.VOLUME_STATUS_ATTACHING]);
    await controller.stores.instances.update(id, (r) => ({ ...r, volumesAttached: [entry(has, '/dev/vdb'), entry(lacks, '/dev/vdc')] }));

    await waitFor(async () => has.status === VS.VOLUME_STATUS_IN_USE && lacks.status === VS.VOLUME_STATUS_AVAILABLE, { timeoutMs: 10_000 });
    await waitFor(async () => (await controller.stores.instances.get(id)).volumesAttached!.length === 1, { timeoutMs: 5_000 });
    const rec = await controller.stores.instances.get(id);
    expect(rec.volumesAttached).toEqual([expect.objectContaining({ volumeId: has.id, status: 'attached', attachmentId: has.attachments[0].id })]);
    expect(has.attachments).toEqual([expect.objectContaining({ instanceId: id, attachStatus: 'attached' })]);
    expect(lacks.attachments).toEqual([]);
    expect(hostAgent.volumesOf(id).map((v) => v.volumeId)).toEqual([has.id]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached.map((v) => v.volumeId)).toEqual([has.id]);
  });

  // ---- the instance moves (HA evacuation / cold migration path: host changes, conductor rebinds and spawns) ----

  it('a moved instance takes its volumes along: old attachment removed, attached on the new host, in the spawn spec', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice', { sizeGb: 5 });
    await alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } });
    expect(vol.attachments).toEqual([expect.objectContaining({ hostId: 'h1', attachStatus: 'attached' })]);
    const attachmentBefore = vol.attachments[0].id;
    otherAgent = new FakeHypervisor('h2', bus, { cores: 8, ramMb: 16384, diskGb: 400 });
    await otherAgent.start(hostRegistry);
    // What ha-manager's move() writes, then enqueue (the conductor's respawn path).
    await controller.stores.instances.update(id, (r) => ({ ...r, hostId: 'h2', vmState: 'building', taskState: 'networking', powerState: 'nostate', taskStartedAtMs: Date.now() }));
    controller.queue.enqueue(id);
    await waitFor(async () => (await statusOf(id)).status === 'ACTIVE' && otherAgent!.vms.has(id), { timeoutMs: 10_000 });
    expect(vol.status).toBe(VS.VOLUME_STATUS_IN_USE);
    // Re-pointed, not re-created: the volume never looked free during the move.
    expect(vol.attachments).toEqual([expect.objectContaining({ id: attachmentBefore, instanceId: id, hostId: 'h2', mountpoint: '/dev/vdb', attachStatus: 'attached' })]);
    expect(otherAgent.volumesOf(id)).toEqual([expect.objectContaining({ volumeId: vol.id, deviceName: '/dev/vdb', sizeGb: 5 })]);
    const server = await statusOf(id);
    expect(server.volumesAttached).toEqual([expect.objectContaining({ volumeId: vol.id, attachmentId: vol.attachments[0].id })]);
  });
});
