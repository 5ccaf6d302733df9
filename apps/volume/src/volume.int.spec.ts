import { volume } from '@minicloud/proto';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, ResourceExhaustedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { RevocationList } from '@minicloud/platform-auth';
import { Subjects } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import type { Redis } from '@minicloud/platform-state';
import { FakeClock, waitFor } from '@minicloud/testing';
import { events } from '@minicloud/proto';
import { volumeConfigSchema } from './config';
import { startVolumeTestBed, type VolumeTestBed } from './testing/test-bed';
import { wireVolume, type VolumeModules } from './wire';

jest.setTimeout(60_000);

type Client = ServiceClient<typeof volume.VolumeServiceService>;
const S = volume.VolumeStatus;

describe('volume service (real Redis and NATS)', () => {
  let bed: VolumeTestBed;
  let redis: Redis;
  let grpc: RunningGrpcServer;
  let modules: VolumeModules;
  const clock = new FakeClock();
  const clients: Client[] = [];
  let alice: Client; // member of project p1
  let bob: Client; // member of project p2
  let admin: Client;
  let anonymous: Client;
  const seen: { volumeId: string; status: string }[] = [];

  const clientFor = (projectId: string, roles: string[]) => bed.volumeClient(grpc.address, projectId, roles, clients);

  beforeAll(async () => {
    bed = await startVolumeTestBed('volume-test');
    const { bus, logger, verifier } = bed;
    redis = bed.redis;
    const config = loadConfig(volumeConfigSchema, {
      POOLS: JSON.stringify([
        { name: 'lvm@small', total_capacity_gb: 100, max_over_subscription_ratio: 2.0, volume_types: ['ssd'], storage_node: 'storage-1' },
        { name: 'lvm@hdd', total_capacity_gb: 4000, max_over_subscription_ratio: 20, volume_types: ['hdd'], storage_node: 'storage-2' },
      ]),
      VOLUME_CREATE_DELAY_MS: '500',
    });
    const wiring = await wireVolume(config, { clock, verifier })({ config, logger, metrics: createProcessMetrics({ service: 'volume' }), redis, bus, revocations: new RevocationList() });
    modules = wiring.modules;
    grpc = await startGrpcServer({ port: 0, services: wiring.services, logger, verifier: wiring.verifier });
    bus.subscribe(Subjects.volumeStatusChanged, events.VolumeStatusChanged, (ev) => void seen.push({ volumeId: ev.volumeId, status: ev.status }));
    alice = await clientFor('p1', ['member', 'reader']);
    bob = await clientFor('p2', ['member', 'reader']);
    admin = await clientFor('p-admin', ['admin', 'member', 'reader']);
    anonymous = createServiceClient(volume.VolumeServiceService, grpc.address);
    clients.push(anonymous);
  });

  afterAll(async () => {
    modules?.creation.stop();
    clients.forEach((c) => c.close());
    await grpc?.shutdown(1000);
    await bed?.stop();
  });

  /** Creates a volume and lets the simulated backend finish it (fake clock, no sleeps). */
  const createAvailable = async (c: Client, req: Parameters<Client['createVolume']>[0]) => {
    const { volume: v } = await c.createVolume(req);
    expect(v!.status).toBe(S.VOLUME_STATUS_CREATING);
    await clock.advanceAsync(500);
    await waitFor(async () => (await c.getVolume({ volumeId: v!.id })).volume!.status === S.VOLUME_STATUS_AVAILABLE);
    return v!;
  };

  const volumeKeys = async () => (await redis.keys('mc:volume:*')).filter((k) => !k.startsWith('mc:volume:pool:') && k !== 'mc:volume:types');

  /** Reserve, complete (two rounds in three), detach; a refusal of the reservation counts as 'refused'. */
  const attachRound = async (volumeId: string, i: number, hostId?: string) => {
    try {
      const { attachment } = await alice.createAttachment({ volumeId, instanceId: `vm-${i % 7}`, hostId });
      if (i % 3 !== 0) await alice.completeAttachment({ attachmentId: attachment!.id });
      await alice.deleteAttachment({ attachmentId: attachment!.id });
      return 'attached';
    } catch (e) {
      if (e instanceof FailedPreconditionError || e instanceof AlreadyExistsError || e instanceof NotFoundError) return 'refused';
      throw e;
    }
  };

  /**
   * Samples the volumes `ids()` names until `work` settles, each as one MULTI (status, attachments,
   * multiattach: an atomic snapshot), and lists every broken attachment invariant seen.
   */
  const watchAttachInvariants = async <T>(ids: () => string[], work: () => Promise<T>) => {
    const violations: string[] = [];
    let samples = 0;
    let running = true;
    const sampler = (async () => {
      while (running) {
        for (const id of ids()) {
          const r = (await redis.multi().hget(`mc:volume:volume:${id}`, 'status').hvals(`mc:volume:volume:${id}:attachments`).hget(`mc:volume:volume:${id}`, 'multiattach').exec())!;
          const status = r[0]![1] as string | null;
          const atts = r[1]![1] as string[];
          const multi = r[2]![1] === '1';
          samples++;
          if (!multi && atts.length > 1) violations.push(`${id} attached twice: ${atts.join(',')}`);
          if (status === 'in-use' && !atts.includes('attached')) violations.push(`${id} in-use with ${JSON.stringify(atts)}`);
          if (status === 'attaching' && (atts.length === 0 || atts.includes('attached'))) violations.push(`${id} attaching with ${JSON.stringify(atts)}`);
          if ((status === 'available' || status === 'creating') && atts.length > 0) violations.push(`${id} ${status} with ${JSON.stringify(atts)}`);
        }
      }
    })();
    let results: T;
    try {
      results = await work();
    } finally {
      running = false;
      await sampler;
    }
    // Read after the sampler's last pass: it counts too.
    return { results, violations, samples };
  };

  it('creating -> available on the clock, with status events', async () => {
    const v = await createAvailable(alice, { name: 'a', sizeGb: 10 });
    expect(v.pool).toBe('lvm@small');
    expect(v.volumeType).toBe('ssd');
    await waitFor(() => seen.filter((e) => e.volumeId === v.id).map((e) => e.status).join(',') === 'creating,available');
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('validates input and names the field or resource', async () => {
    await expect(alice.createVolume({ sizeGb: 0 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'size_gb' });
    await expect(alice.createVolume({ sizeGb: 1, volumeType: 'nope' })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume_type' });
    await expect(alice.createVolume({ sizeGb: 1, snapshotId: 'nope' })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'snapshot' });
    await expect(anonymous.listVolumes({})).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(alice.listPools({})).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(alice.createBackup({ volumeId: 'x' })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume' });
    await expect(alice.writeVolume({ volumeId: 'x', data: Buffer.from('a') })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume' });
    await expect(alice.setPoolState({ pool: 'lvm@small', up: false })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(alice.forceDetach({ hostId: 'h1' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(admin.setPoolState({ pool: 'nope@x', up: false })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'pool' });
    await expect(admin.forceDetach({})).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'instance_id' });
    expect(await volumeKeys()).toEqual([]);
  });

  it('over-subscription: 100 GB at ratio 2.0 takes 200 GB, the next GB is refused naming the pool', async () => {
    const vols = [await createAvailable(alice, { sizeGb: 150 }), await createAvailable(alice, { sizeGb: 50 })];
    const err = await alice.createVolume({ sizeGb: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceExhaustedError);
    expect((err as Error).message).toContain('lvm@small');
    const pools = (await admin.listPools({})).pools;
    expect(pools.find((p) => p.name === 'lvm@small')).toMatchObject({ provisionedCapacityGb: 200, freeCapacityGb: 0, totalCapacityGb: 100 });
    await expect(alice.extendVolume({ volumeId: vols[1]!.id, newSizeGb: 51 })).rejects.toThrow(/lvm@small/);
    for (const v of vols) await alice.deleteVolume({ volumeId: v.id });
    expect((await admin.listPools({})).pools.find((p) => p.name === 'lvm@small')!.provisionedCapacityGb).toBe(0);
  });

  it('concurrent creates never over-commit the pool', async () => {
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => alice.createVolume({ sizeGb: 10 })));
    const ok = results.filter((r) => r.status === 'fulfilled').map((r) => (r as PromiseFulfilledResult<volume.CreateVolumeResponse>).value.volume!.id);
    expect(ok).toHaveLength(20);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof ResourceExhaustedError)).toBe(true);
    await clock.advanceAsync(500);
    await waitFor(async () => (await alice.listVolumes({ status: S.VOLUME_STATUS_AVAILABLE })).volumes.length === 20);
    await Promise.all(ok.map((id) => alice.deleteVolume({ volumeId: id })));
    expect(await volumeKeys()).toEqual([]);
  });

  it('project_id on create is admin only (the compute service creating a boot volume for a project)', async () => {
    await expect(alice.createVolume({ sizeGb: 1, projectId: 'p2' })).rejects.toBeInstanceOf(PermissionDeniedError);
    const v = (await admin.createVolume({ sizeGb: 1, projectId: 'p1', metadata: { minicloud_boot_instance_id: 'vm-1' } })).volume!;
    expect(v.projectId).toBe('p1');
    await clock.advanceAsync(500);
    await waitFor(async () => (await alice.getVolume({ volumeId: v.id })).volume!.status === S.VOLUME_STATUS_AVAILABLE);
    await expect(bob.getVolume({ volumeId: v.id })).rejects.toBeInstanceOf(NotFoundError);
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('project isolation: another project sees NOT_FOUND and lists nothing of it', async () => {
    const v = await createAvailable(alice, { sizeGb: 1 });
    await expect(bob.getVolume({ volumeId: v.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.deleteVolume({ volumeId: v.id })).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.createAttachment({ volumeId: v.id, instanceId: 'i' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.createVolume({ sizeGb: 1, sourceVolumeId: v.id })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'volume' });
    expect((await bob.listVolumes({})).volumes).toEqual([]);
    expect((await admin.getVolume({ volumeId: v.id })).volume!.projectId).toBe('p1');
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('update renames and sets/removes metadata atomically; another project, no credentials and bad input are refused with nothing changed', async () => {
    const v = await createAvailable(alice, { name: 'a', sizeGb: 1, metadata: { tier: 'gold', keep: 'x' } });
    const { volume: u } = await alice.updateVolume({ volumeId: v.id, name: 'b', setMetadata: { owner: 'ops' }, removeMetadata: ['tier'] });
    expect(u).toMatchObject({ name: 'b', metadata: { keep: 'x', owner: 'ops' } });
    const { volume: same } = await alice.updateVolume({ volumeId: v.id, setMetadata: {}, removeMetadata: [] });
    expect(same!.name).toBe('b'); // an unset name stays
    await expect(bob.updateVolume({ volumeId: v.id, name: 'mine', setMetadata: {}, removeMetadata: [] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(anonymous.updateVolume({ volumeId: v.id, name: 'anon', setMetadata: {}, removeMetadata: [] })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(alice.updateVolume({ volumeId: v.id, name: 'x'.repeat(256), setMetadata: {}, removeMetadata: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'name' });
    const many = Object.fromEntries(Array.from({ length: 127 }, (_, i) => [`k${i}`, 'v']));
    await expect(alice.updateVolume({ volumeId: v.id, setMetadata: many, removeMetadata: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'metadata' });
    expect((await alice.getVolume({ volumeId: v.id })).volume).toMatchObject({ name: 'b', metadata: { keep: 'x', owner: 'ops' } });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('description, creator, bootable and readonly flags: kept, changed by UpdateVolume with the update time; refused for another project, no credentials, bad input', async () => {
    const v = await createAvailable(alice, { name: 'd', sizeGb: 1, description: 'scratch space' });
    expect(v).toMatchObject({ description: 'scratch space', bootable: false, readOnly: undefined, updatedAt: undefined });
    expect(v.userId).not.toBe('');
    clock.advance(1000);
    const { volume: u } = await alice.updateVolume({ volumeId: v.id, description: 'logs', bootable: true, readOnly: true, setMetadata: {}, removeMetadata: [] });
    expect(u).toMatchObject({ name: 'd', description: 'logs', bootable: true, readOnly: true });
    expect(u!.updatedAt!.getTime()).toBe(clock.nowMs());
    const { volume: back } = await alice.updateVolume({ volumeId: v.id, bootable: false, readOnly: false, setMetadata: {}, removeMetadata: [] });
    expect(back).toMatchObject({ description: 'logs', bootable: false, readOnly: false });
    await expect(bob.updateVolume({ volumeId: v.id, bootable: true, setMetadata: {}, removeMetadata: [] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(anonymous.updateVolume({ volumeId: v.id, readOnly: true, setMetadata: {}, removeMetadata: [] })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(alice.updateVolume({ volumeId: v.id, description: 'x'.repeat(256), setMetadata: {}, removeMetadata: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'description' });
    await expect(alice.createVolume({ name: 'long', sizeGb: 1, description: 'x'.repeat(256), metadata: {} })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'description' });
    expect((await alice.getVolume({ volumeId: v.id })).volume).toMatchObject({ description: 'logs', bootable: false, readOnly: false });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('ResetVolumeStatus (admin) sets a status without a transition; a member, another project, no credentials and an unknown status are refused with nothing changed', async () => {
    const v = await createAvailable(alice, { name: 'r', sizeGb: 1, metadata: {} });
    await expect(alice.resetVolumeStatus({ volumeId: v.id, status: S.VOLUME_STATUS_ERROR })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(bob.resetVolumeStatus({ volumeId: v.id, status: S.VOLUME_STATUS_ERROR })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(anonymous.resetVolumeStatus({ volumeId: v.id, status: S.VOLUME_STATUS_ERROR })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(admin.resetVolumeStatus({ volumeId: v.id, status: S.VOLUME_STATUS_UNSPECIFIED })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'status' });
    await expect(admin.resetVolumeStatus({ volumeId: 'nope', status: S.VOLUME_STATUS_ERROR })).rejects.toBeInstanceOf(NotFoundError);
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    expect((await admin.resetVolumeStatus({ volumeId: v.id, status: S.VOLUME_STATUS_ERROR })).volume!.status).toBe(S.VOLUME_STATUS_ERROR);
    await waitFor(async () => seen.some((e) => e.volumeId === v.id && e.status === 'error'));
    await admin.resetVolumeStatus({ volumeId: v.id, status: S.VOLUME_STATUS_AVAILABLE });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('snapshots keep a description and metadata; UpdateSnapshot renames, describes and changes metadata; another project, no credentials and bad input are refused with nothing changed', async () => {
    const v = await createAvailable(alice, { name: 'src', sizeGb: 1, metadata: {} });
    const { snapshot: s } = await alice.createSnapshot({ volumeId: v.id, name: 's', description: 'before', metadata: { k: 'v' } });
    expect(s).toMatchObject({ name: 's', description: 'before', metadata: { k: 'v' }, updatedAt: undefined });
    clock.advance(1000);
    const { snapshot: u } = await alice.updateSnapshot({ snapshotId: s!.id, name: 's2', description: 'after', setMetadata: { a: '1' }, removeMetadata: ['k'] });
    expect(u).toMatchObject({ name: 's2', description: 'after', metadata: { a: '1' } });
    expect(u!.updatedAt!.getTime()).toBe(clock.nowMs());
    const { snapshot: same } = await alice.updateSnapshot({ snapshotId: s!.id, setMetadata: {}, removeMetadata: [] });
    expect(same).toMatchObject({ name: 's2', description: 'after' }); // unset fields stay
    await expect(bob.updateSnapshot({ snapshotId: s!.id, name: 'mine', setMetadata: {}, removeMetadata: [] })).rejects.toBeInstanceOf(NotFoundError);
    await expect(anonymous.updateSnapshot({ snapshotId: s!.id, name: 'anon', setMetadata: {}, removeMetadata: [] })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(alice.updateSnapshot({ snapshotId: s!.id, name: 'x'.repeat(256), setMetadata: {}, removeMetadata: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'name' });
    await expect(alice.updateSnapshot({ snapshotId: '', setMetadata: {}, removeMetadata: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'snapshot_id' });
    const many = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [`k${i}`, 'v']));
    await expect(alice.updateSnapshot({ snapshotId: s!.id, setMetadata: many, removeMetadata: [] })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'metadata' });
    expect((await alice.getSnapshot({ snapshotId: s!.id })).snapshot).toMatchObject({ name: 's2', description: 'after', metadata: { a: '1' } });
    await alice.deleteSnapshot({ snapshotId: s!.id });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('attach lifecycle; delete refused while in use or with snapshots; extend only when available', async () => {
    const v = await createAvailable(alice, { sizeGb: 5 });
    const { attachment: a } = await alice.createAttachment({ volumeId: v.id, instanceId: 'vm-1', hostId: 'h1', mountpoint: '/dev/vdb' });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_ATTACHING);
    await expect(alice.deleteVolume({ volumeId: v.id })).rejects.toThrow(/attaching/);
    await expect(alice.createAttachment({ volumeId: v.id, instanceId: 'vm-2' })).rejects.toBeInstanceOf(FailedPreconditionError);
    expect((await alice.completeAttachment({ attachmentId: a!.id })).attachment!.attachStatus).toBe('attached');
    const got = (await alice.getVolume({ volumeId: v.id })).volume!;
    expect(got.status).toBe(S.VOLUME_STATUS_IN_USE);
    expect(got.attachments.map((x) => x.instanceId)).toEqual(['vm-1']);
    const refused = await alice.deleteVolume({ volumeId: v.id }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(FailedPreconditionError);
    expect((refused as Error).message).toContain('in-use');
    await expect(alice.extendVolume({ volumeId: v.id, newSizeGb: 6 })).rejects.toThrow(/in-use/);
    await expect(alice.createSnapshot({ volumeId: v.id })).rejects.toThrow(/in-use/);
    const { snapshot } = await alice.createSnapshot({ volumeId: v.id, force: true });
    expect(snapshot!.sizeGb).toBe(5);
    await alice.deleteAttachment({ attachmentId: a!.id });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    await expect(alice.deleteVolume({ volumeId: v.id })).rejects.toThrow(/snapshot/);
    const fromSnap = await createAvailable(alice, { sizeGb: 5, snapshotId: snapshot!.id });
    expect(fromSnap.sourceSnapshotId).toBe(snapshot!.id);
    expect((await alice.extendVolume({ volumeId: v.id, newSizeGb: 8 })).volume).toMatchObject({ sizeGb: 8, status: S.VOLUME_STATUS_AVAILABLE });
    expect((await admin.listPools({})).pools.find((p) => p.name === 'lvm@small')!.provisionedCapacityGb).toBe(8 + 5 + 5);
    await alice.deleteSnapshot({ snapshotId: snapshot!.id });
    await alice.deleteVolume({ volumeId: v.id });
    await alice.deleteVolume({ volumeId: fromSnap.id });
    expect(await volumeKeys()).toEqual([]);
    expect((await admin.listPools({})).pools.find((p) => p.name === 'lvm@small')!.provisionedCapacityGb).toBe(0);
  });

  it('100 concurrent attach/detach never leave a volume in-use without an attachment or attached twice', async () => {
    const v = await createAvailable(alice, { sizeGb: 1 });
    const { results, violations, samples } = await watchAttachInvariants(
      () => [v.id],
      () => Promise.all(Array.from({ length: 100 }, (_, i) => attachRound(v.id, i))),
    );
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(5);
    expect(results.filter((r) => r === 'attached').length).toBeGreaterThan(0);
    const end = (await alice.getVolume({ volumeId: v.id })).volume!;
    expect(end.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    expect(end.attachments).toEqual([]);
    expect(await redis.hlen(`mc:volume:volume:${v.id}:attachments`)).toBe(0);
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('concurrent retries of one attach (same volume and instance) all get the same attachment', async () => {
    const v = await createAvailable(alice, { sizeGb: 1 });
    const res = await Promise.all(Array.from({ length: 20 }, () => alice.createAttachment({ volumeId: v.id, instanceId: 'vm-retry', hostId: 'h1' })));
    expect(new Set(res.map((r) => r.attachment!.id)).size).toBe(1);
    expect((await alice.listAttachments({ volumeId: v.id })).attachments).toHaveLength(1);
    await alice.deleteAttachment({ volumeId: v.id, instanceId: 'vm-retry' });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('single-attach invariant under contention: exactly one of 50 concurrent reservations wins', async () => {
    const v = await createAvailable(alice, { sizeGb: 1 });
    const res = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => alice.createAttachment({ volumeId: v.id, instanceId: `vm-${i}` })));
    const won = res.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<volume.CreateAttachmentResponse>[];
    expect(won).toHaveLength(1);
    expect((await alice.listAttachments({ volumeId: v.id })).attachments).toHaveLength(1);
    await alice.deleteAttachment({ attachmentId: won[0]!.value.attachment!.id });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('multiattach types accept attachments on an in-use volume, one per instance', async () => {
    await expect(alice.createVolumeType({ name: 'shared' })).rejects.toBeInstanceOf(PermissionDeniedError);
    await admin.createVolumeType({ name: 'shared', extraSpecs: { multiattach: '<is> True' } });
    await expect(admin.createVolumeType({ name: 'shared' })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await alice.listVolumeTypes({})).volumeTypes.map((t) => t.name)).toEqual(['hdd', 'replicated', 'shared', 'ssd']);
    const v = await createAvailable(alice, { sizeGb: 1, volumeType: 'shared' });
    expect(v.multiattach).toBe(true);
    const a1 = (await alice.createAttachment({ volumeId: v.id, instanceId: 'vm-a' })).attachment!;
    await alice.completeAttachment({ attachmentId: a1.id });
    const a2 = (await alice.createAttachment({ volumeId: v.id, instanceId: 'vm-b' })).attachment!;
    // Idempotent per (volume, instance): a retry returns the same attachment.
    expect((await alice.createAttachment({ volumeId: v.id, instanceId: 'vm-b' })).attachment!.id).toBe(a2.id);
    expect((await alice.listAttachments({ instanceId: 'vm-b' })).attachments.map((a) => a.id)).toEqual([a2.id]);
    await alice.deleteAttachment({ attachmentId: a1.id });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_ATTACHING);
    await alice.deleteAttachment({ volumeId: v.id, instanceId: 'vm-b' });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    // Deleting again (by id or by volume+instance) is a no-op.
    await alice.deleteAttachment({ attachmentId: a2.id });
    await alice.deleteAttachment({ volumeId: v.id, instanceId: 'vm-b' });
    await alice.deleteVolume({ volumeId: v.id });
    expect(await volumeKeys()).toEqual([]);
  });

  it('acceptance: 100 concurrent creates, attaches and detaches never leave a volume in-use without an attachment or attached twice (unless multiattach)', async () => {
    // Contended volumes: 3 single-attach, 2 multiattach ('shared', created by the test above); each round also creates its own.
    const contended = [
      ...(await Promise.all([1, 2, 3].map(() => createAvailable(alice, { sizeGb: 1 })))),
      ...(await Promise.all([1, 2].map(() => createAvailable(alice, { sizeGb: 1, volumeType: 'shared' })))),
    ];
    const known = contended.map((v) => v.id);
    // The simulated backend finishes creations on the fake clock: keep it moving while the rounds run.
    let ticking = true;
    const ticker = (async () => {
      while (ticking) await clock.advanceAsync(100).then(() => new Promise((r) => setImmediate(r)));
    })();
    const round = async (i: number) => {
      const own = (await alice.createVolume({ sizeGb: 1, volumeType: i % 4 === 0 ? 'shared' : '' })).volume!;
      known.push(own.id);
      await waitFor(async () => (await alice.getVolume({ volumeId: own.id })).volume!.status === S.VOLUME_STATUS_AVAILABLE, { timeoutMs: 20_000 });
      return attachRound(i % 2 === 0 ? own.id : contended[i % contended.length]!.id, i, `h${i % 3}`);
    };
    const { results, violations, samples } = await watchAttachInvariants(
      () => [...known],
      () => Promise.all(Array.from({ length: 100 }, (_, i) => round(i))),
    );
    ticking = false;
    await ticker;
    expect(violations).toEqual([]);
    expect(samples).toBeGreaterThan(100);
    expect(results.filter((r) => r === 'attached').length).toBeGreaterThanOrEqual(50); // every own-volume round attaches
    expect(known).toHaveLength(105);
    for (const id of known) {
      const v = (await alice.getVolume({ volumeId: id })).volume!;
      expect([v.status, v.attachments]).toEqual([S.VOLUME_STATUS_AVAILABLE, []]);
    }
    await Promise.all(known.map((id) => alice.deleteVolume({ volumeId: id })));
    await clock.advanceAsync(500);
    await waitFor(async () => (await volumeKeys()).length === 0, { timeoutMs: 20_000 });
  });

  it('an instance that moved: CreateAttachment for its new host re-points the attachment (same id, volume stays in-use)', async () => {
    const v = await createAvailable(alice, { sizeGb: 1 });
    const a = (await alice.createAttachment({ volumeId: v.id, instanceId: 'vm-moving', hostId: 'h-old', mountpoint: '/dev/vda' })).attachment!;
    await alice.completeAttachment({ attachmentId: a.id });
    const moved = await Promise.all(Array.from({ length: 5 }, () => alice.createAttachment({ volumeId: v.id, instanceId: 'vm-moving', hostId: 'h-new', mountpoint: '/dev/vda' })));
    expect(new Set(moved.map((m) => m.attachment!.id))).toEqual(new Set([a.id]));
    expect(moved[0]!.attachment).toMatchObject({ hostId: 'h-new', attachStatus: 'attached', mountpoint: '/dev/vda' });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_IN_USE);
    // Another instance still cannot take it; the old host's force-detach no longer touches it.
    await expect(alice.createAttachment({ volumeId: v.id, instanceId: 'vm-thief', hostId: 'h-old' })).rejects.toBeInstanceOf(FailedPreconditionError);
    expect((await admin.forceDetach({ hostId: 'h-old' })).detached).toEqual([]);
    expect((await admin.forceDetach({ hostId: 'h-new' })).detached.map((d) => d.id)).toEqual([a.id]);
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('force-detach of a dead host frees its volumes for another host; other hosts keep theirs', async () => {
    const v1 = await createAvailable(alice, { sizeGb: 1 });
    const v2 = await createAvailable(alice, { sizeGb: 1 });
    const v3 = await createAvailable(bob, { sizeGb: 1 });
    const a1 = (await alice.createAttachment({ volumeId: v1.id, instanceId: 'vm-1', hostId: 'dead' })).attachment!;
    await alice.completeAttachment({ attachmentId: a1.id });
    await alice.createAttachment({ volumeId: v2.id, instanceId: 'vm-2', hostId: 'dead' });
    const a3 = (await bob.createAttachment({ volumeId: v3.id, instanceId: 'vm-3', hostId: 'alive' })).attachment!;
    const { detached } = await admin.forceDetach({ hostId: 'dead' });
    expect(detached.map((a) => a.volumeId).sort()).toEqual([v1.id, v2.id].sort());
    expect((await admin.forceDetach({ hostId: 'dead' })).detached).toEqual([]);
    for (const v of [v1, v2]) expect((await alice.getVolume({ volumeId: v.id })).volume).toMatchObject({ status: S.VOLUME_STATUS_AVAILABLE, attachments: [] });
    expect((await bob.getVolume({ volumeId: v3.id })).volume!.attachments.map((a) => a.id)).toEqual([a3.id]);
    const again = (await alice.createAttachment({ volumeId: v1.id, instanceId: 'vm-1', hostId: 'other' })).attachment!;
    expect(again.hostId).toBe('other');
    expect((await admin.forceDetach({ instanceId: 'vm-1' })).detached.map((a) => a.id)).toEqual([again.id]);
    await bob.deleteAttachment({ attachmentId: a3.id });
    for (const v of [v1, v2]) await alice.deleteVolume({ volumeId: v.id });
    await bob.deleteVolume({ volumeId: v3.id });
    expect(await volumeKeys()).toEqual([]);
  });

  it('resync finishes a volume left in creating (timer lost in a restart) and one left in deleting', async () => {
    const { volume: v } = await alice.createVolume({ sizeGb: 1 });
    modules.creation.stop();
    expect((await modules.resync.run()).created).toEqual([]);
    await clock.advanceAsync(500);
    expect((await alice.getVolume({ volumeId: v!.id })).volume!.status).toBe(S.VOLUME_STATUS_CREATING);
    expect((await modules.resync.run()).created).toEqual([v!.id]);
    expect((await alice.getVolume({ volumeId: v!.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    await redis.hset(`mc:volume:volume:${v!.id}`, 'status', 'deleting');
    expect((await modules.resync.run()).deleted).toEqual([v!.id]);
    await expect(alice.getVolume({ volumeId: v!.id })).rejects.toBeInstanceOf(NotFoundError);
    expect((await admin.listPools({})).pools.find((p) => p.name === 'lvm@small')!.provisionedCapacityGb).toBe(0);
    expect(await volumeKeys()).toEqual([]);
  });
});
