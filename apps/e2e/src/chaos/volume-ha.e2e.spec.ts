/**
 * Volumes under HA, end to end, with real processes (3 agents, 2 controllers, the volume service):
 * boot from volume (image -> new root volume /dev/vda) on host-1, snapshot the root volume (forced:
 * in-use), clone it (volume from the snapshot), boot a second VM on host-2 and attach the clone to it,
 * kill -9 host-1's agent: the first VM is restarted on another host by HA with its root volume
 * attached there (volume in-use, its one attachment on the new host, the agent's VM has the disk),
 * the clone stays attached to the second VM, and the invariant checker stays green.
 */
import { agent, compute, volume } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { bootOnHost, startChaosCloud, until, waitAll, type ChaosCloud } from './chaos-kit';

jest.setTimeout(240_000);

const VS = volume.VolumeStatus;

describe('chaos: a server booted from volume survives the loss of its host', () => {
  let cc: ChaosCloud;
  let vol: ServiceClient<typeof volume.VolumeServiceService>;
  const agents = new Map<string, ServiceClient<typeof agent.HypervisorServiceService>>();

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 3 });
    const p = cc.cloud.manifest.processes;
    vol = createServiceClient(volume.VolumeServiceService, p.find((x) => x.kind === 'volume')!.grpc_address, { token: () => cc.token, deadlineMs: 20_000 });
    for (const a of p.filter((x) => x.kind === 'compute-agent')) {
      const c = createServiceClient(agent.HypervisorServiceService, a.grpc_address, { token: () => cc.token, deadlineMs: 10_000 });
      for (const h of a.host_ids ?? []) agents.set(h, c);
    }
  });

  afterAll(async () => {
    vol?.close();
    new Set(agents.values()).forEach((c) => c.close());
    await cc?.stop();
  });

  const volumeOf = async (id: string) => (await vol.getVolume({ volumeId: id })).volume!;
  const waitVolume = (id: string, status: volume.VolumeStatus, what: string) => until(what, async () => (await volumeOf(id)).status === status, 30_000);
  /** The block devices (volume ids) the agent's VM has, as the hypervisor reports them. */
  const agentDisks = async (hostId: string, instanceId: string) =>
    (await agents.get(hostId)!.listInstances({ hostId })).instances.find((i) => i.instanceId === instanceId)?.volumeIds ?? [];

  it('boot from volume, snapshot, clone attached to a 2nd VM, kill -9 the 1st host: restarted elsewhere with its volume', async () => {
    // 1. Boot from volume: the image becomes a new 1 GB root volume.
    const [vm1] = await bootOnHost(cc, 'host-1', 1, {
      name: 'bfv-1',
      imageRef: '',
      blockDeviceMappings: [compute.BlockDeviceMapping.fromPartial({ sourceType: 'image', destinationType: 'volume', uuid: cc.imageId, volumeSizeGb: 1, bootIndex: 0 })],
    });
    const s1 = (await cc.compute.getServer({ serverId: vm1 })).server!;
    expect(s1.imageId).toBe('');
    expect(s1.volumesAttached).toEqual([expect.objectContaining({ deviceName: '/dev/vda' })]);
    const rootId = s1.volumesAttached[0].volumeId;
    const root = await volumeOf(rootId);
    expect(root).toMatchObject({ status: VS.VOLUME_STATUS_IN_USE, sourceImageId: cc.imageId, bootable: true });
    expect(root.attachments).toEqual([expect.objectContaining({ instanceId: vm1, hostId: 'host-1', mountpoint: '/dev/vda', attachStatus: 'attached' })]);
    expect(await agentDisks('host-1', vm1)).toEqual([rootId]);

    // 2. Snapshot the in-use root volume (forced, as Cinder), 3. clone it from the snapshot.
    const snap = (await vol.createSnapshot({ volumeId: rootId, name: 'bfv-1-snap', force: true })).snapshot!;
    await until('snapshot available', async () => (await vol.getSnapshot({ snapshotId: snap.id })).snapshot!.status === 'available', 30_000);
    const cloneId = (await vol.createVolume({ name: 'bfv-1-clone', sizeGb: 1, snapshotId: snap.id })).volume!.id;
    await waitVolume(cloneId, VS.VOLUME_STATUS_AVAILABLE, 'clone available');

    // 4. A second VM on host-2 gets the clone.
    const [vm2] = await bootOnHost(cc, 'host-2', 1, { name: 'plain-2' });
    await cc.compute.serverAction({ serverId: vm2, attachVolume: { volumeId: cloneId } });
    expect((await volumeOf(cloneId)).attachments).toEqual([expect.objectContaining({ instanceId: vm2, hostId: 'host-2', attachStatus: 'attached' })]);
    expect(await agentDisks('host-2', vm2)).toEqual([cloneId]);

    // 5. kill -9 host-1's agent: HA restarts vm1 elsewhere, with its root volume attached there.
    const t0 = Date.now();
    process.kill(cc.agentPid('host-1'), 'SIGKILL');
    cc.checker.hostKilled('host-1');
    const [moved] = await waitAll(cc, [vm1], (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId !== 'host-1' && s.hostId !== '', 60_000, 'vm1 ACTIVE on another host');
    console.log(`volume-ha: kill -9 host-1 -> boot-from-volume VM ACTIVE on ${moved.hostId} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(moved.volumesAttached).toEqual([expect.objectContaining({ volumeId: rootId, deviceName: '/dev/vda' })]);
    const after = await volumeOf(rootId);
    expect(after.status).toBe(VS.VOLUME_STATUS_IN_USE);
    expect(after.attachments).toEqual([expect.objectContaining({ instanceId: vm1, hostId: moved.hostId, mountpoint: '/dev/vda', attachStatus: 'attached' })]);
    expect(moved.volumesAttached[0].attachmentId).toBe(after.attachments[0].id);
    // Re-pointed (Cinder's attachment_update), not detached and re-created: the volume never looked free.
    expect(after.attachments[0].id).toBe(root.attachments[0].id);
    expect(await agentDisks(moved.hostId, vm1)).toEqual([rootId]);
    expect((await cc.compute.listInstanceActions({ serverId: vm1 })).actions.map((a) => a.action)).toContain('evacuate');

    // The clone, the snapshot and the second VM are untouched (unless HA had to move vm2: it was on host-2).
    const clone = await volumeOf(cloneId);
    expect(clone.status).toBe(VS.VOLUME_STATUS_IN_USE);
    expect(clone.attachments).toEqual([expect.objectContaining({ instanceId: vm2, hostId: 'host-2', attachStatus: 'attached' })]);
    expect((await vol.getSnapshot({ snapshotId: snap.id })).snapshot!.status).toBe('available');

    await cc.checker.sampleAllocations();
    cc.checker.checkAcknowledged([vm1, vm2], (await cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers);
    expect(cc.checker.violations).toEqual([]);
  });

  it('the CLI boots from a new volume (--boot-from-volume) and from an existing one (--volume)', async () => {
    const cli = (...args: string[]) => cc.cloud.json<Record<string, unknown>>(args);
    const a = await cli('server', 'create', 'cli-bfv', '--image', 'cirros', '--boot-from-volume', '1', '--flavor', 'm1.tiny', '--network', 'chaos-net', '--wait');
    expect(a).toMatchObject({ status: 'ACTIVE', image_id: 'N/A (booted from volume)', volumes_attached: [expect.objectContaining({ device_name: '/dev/vda' })] });
    const spare = (await vol.createVolume({ name: 'spare-root', sizeGb: 1, imageId: cc.imageId })).volume!.id;
    await waitVolume(spare, VS.VOLUME_STATUS_AVAILABLE, 'spare root volume available');
    const b = await cli('server', 'create', 'cli-bfv-2', '--volume', 'spare-root', '--flavor', 'm1.tiny', '--network', 'chaos-net', '--wait');
    expect(b).toMatchObject({ status: 'ACTIVE', volumes_attached: [expect.objectContaining({ volume_id: spare, device_name: '/dev/vda' })] });
    expect((await volumeOf(spare)).attachments).toEqual([expect.objectContaining({ instanceId: b.id, mountpoint: '/dev/vda', attachStatus: 'attached' })]);
    expect(cc.checker.violations).toEqual([]);
  });
});
