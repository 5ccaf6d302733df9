import { randomBytes } from 'node:crypto';
import { image as imagePb, volume } from '@minicloud/proto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import { BLOCK_SIZE_BYTES } from '@minicloud/domain-volume';
import { RevocationList } from '@minicloud/platform-auth';
import { Subjects } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import type { Redis } from '@minicloud/platform-state';
import { events } from '@minicloud/proto';
import { FakeClock, waitFor } from '@minicloud/testing';
import { volumeConfigSchema } from './config';
import { grpcImageStore } from './image-store';
import { fakeImageService } from './testing/fake-image-server';
import { startVolumeTestBed, type VolumeTestBed } from './testing/test-bed';
import { UPLOAD_DEADLINE_MS } from './volume-upload';
import { wireVolume, type VolumeModules } from './wire';

jest.setTimeout(60_000);

type Client = ServiceClient<typeof volume.VolumeServiceService>;
const S = volume.VolumeStatus;
const B = BLOCK_SIZE_BYTES;

/**
 * The volume service's data path against real Redis/NATS and an image API over gRPC: volume from image
 * bytes, clone and snapshot content (copy-on-write), replication loss and repair, backups (full and
 * incremental) and restore, retype with migration.
 */
describe('volume data: images, clones, replicas, backups (real Redis and NATS)', () => {
  let bed: VolumeTestBed;
  let redis: Redis;
  let grpc: RunningGrpcServer;
  let imageGrpc: RunningGrpcServer;
  let modules: VolumeModules;
  let metrics: ReturnType<typeof createProcessMetrics>;
  const fakeImages = fakeImageService();
  const clock = new FakeClock();
  const clients: { close(): void }[] = [];
  let alice: Client;
  let admin: Client;
  let aliceImages: ServiceClient<typeof imagePb.ImageServiceService>;
  let bobImages: ServiceClient<typeof imagePb.ImageServiceService>;
  let bob: Client; // member of project p2
  let anonymous: Client;
  const seen: { volumeId: string; status: string }[] = [];

  const tokenFor = (projectId: string, roles: string[]) => bed.tokenFor(projectId, roles);
  const clientFor = (projectId: string, roles: string[]) => bed.volumeClient(grpc.address, projectId, roles, clients, 30_000);

  beforeAll(async () => {
    bed = await startVolumeTestBed('volume-data-test');
    const { bus, logger, verifier } = bed;
    redis = bed.redis;
    imageGrpc = await startGrpcServer({ port: 0, services: [fakeImages.registration], logger, verifier, maxMessageBytes: 16 * 1024 * 1024 });
    const serviceToken = await tokenFor('service', ['admin', 'member', 'reader']);
    const images = grpcImageStore({ endpoint: async () => imageGrpc.address, serviceToken: async () => serviceToken });
    clients.push(images);
    const config = loadConfig(volumeConfigSchema, {
      POOLS: JSON.stringify([
        { name: 'lvm@a', total_capacity_gb: 1000, volume_types: ['ssd', 'replicated', 'rep3'], storage_node: 'storage-1' },
        { name: 'lvm@b', total_capacity_gb: 1000, volume_types: ['hdd', 'replicated', 'rep3'], storage_node: 'storage-2' },
        { name: 'lvm@c', total_capacity_gb: 1000, volume_types: ['ssd', 'replicated', 'rep3'], storage_node: 'storage-3' },
      ]),
      VOLUME_TYPES: JSON.stringify({
        ssd: { 'qos:read_iops_sec': '3000', 'qos:write_iops_sec': '2000', 'qos:total_bytes_sec': '125000000', multiattach: '<is> True' },
        hdd: { 'qos:total_bytes_sec': '40000000' },
        replicated: { replication_count: '2' },
        rep3: { replication_count: '3' },
      }),
      VOLUME_CREATE_DELAY_MS: '100',
    });
    metrics = createProcessMetrics({ service: 'volume' });
    const wiring = await wireVolume(config, { clock, verifier, images })({ config, logger, metrics, redis, bus, revocations: new RevocationList() });
    modules = wiring.modules;
    grpc = await startGrpcServer({ port: 0, services: wiring.services, logger, verifier: wiring.verifier });
    bus.subscribe(Subjects.volumeStatusChanged, events.VolumeStatusChanged, (ev) => void seen.push({ volumeId: ev.volumeId, status: ev.status }));
    alice = await clientFor('p1', ['member', 'reader']);
    admin = await clientFor('p-admin', ['admin', 'member', 'reader']);
    bob = await clientFor('p2', ['member', 'reader']);
    anonymous = createServiceClient(volume.VolumeServiceService, grpc.address);
    clients.push(anonymous);
    const aliceToken = await tokenFor('p1', ['member', 'reader']);
    const bobToken = await tokenFor('p2', ['member', 'reader']);
    aliceImages = createServiceClient(imagePb.ImageServiceService, imageGrpc.address, { token: () => aliceToken });
    bobImages = createServiceClient(imagePb.ImageServiceService, imageGrpc.address, { token: () => bobToken });
    clients.push(aliceImages, bobImages);
  });

  afterAll(async () => {
    modules?.creation.stop();
    clients.forEach((c) => c.close());
    await grpc?.shutdown(1000);
    await imageGrpc?.shutdown(1000);
    await bed?.stop();
  });

  const createAvailable = async (req: Parameters<Client['createVolume']>[0]) => {
    const { volume: v } = await alice.createVolume(req);
    await clock.advanceAsync(100);
    await waitFor(async () => (await alice.getVolume({ volumeId: v!.id })).volume!.status !== S.VOLUME_STATUS_CREATING);
    const got = (await alice.getVolume({ volumeId: v!.id })).volume!;
    expect(got.fault?.message ?? '').toBe('');
    expect(got.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    return got;
  };
  const write = (id: string, offset: number, data: Buffer) => alice.writeVolume({ volumeId: id, offsetBytes: offset, data });
  const read = async (id: string, offset: number, length: number) => Buffer.from((await alice.readVolume({ volumeId: id, offsetBytes: offset, lengthBytes: length })).data);
  const uploadImage = async (c: typeof aliceImages, bytes: Buffer, properties: Record<string, string> = {}) => {
    const { image } = await c.createImage({ name: 'img', properties });
    await c.uploadImage([{ imageId: image!.id }, { chunk: bytes }]);
    return image!.id;
  };
  const nodeBlocks = (node: string) => redis.hlen(`mc:volume:node:${node}:blocks`);

  it('volume types carry QoS and multiattach onto the volume; bad QoS specs are refused naming the key', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'ssd' });
    expect(v.qos).toMatchObject({ readIopsSec: 3000, writeIopsSec: 2000, totalBytesSec: 125000000, totalIopsSec: 0 });
    expect(v).toMatchObject({ multiattach: true, replicationCount: 1, replicationStatus: 'disabled', allocatedBytes: 0 });
    await expect(admin.createVolumeType({ name: 'bad', extraSpecs: { 'qos:read_iops_sec': '-5' } })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'extra_specs.read_iops_sec' });
    await expect(admin.createVolumeType({ name: 'bad', extraSpecs: { replication_count: '9' } })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'extra_specs.replication_count' });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('writes grow allocated_bytes block by block (thin); reads return what was written, zeros elsewhere', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    const data = randomBytes(100);
    expect((await write(v.id, B - 50, data)).allocatedBytes).toBe(2 * B);
    expect((await read(v.id, B - 50, 100)).equals(data)).toBe(true);
    expect((await read(v.id, 0, 10)).equals(Buffer.alloc(10))).toBe(true);
    expect((await write(v.id, 5 * B, randomBytes(B))).allocatedBytes).toBe(3 * B);
    expect((await alice.getVolume({ volumeId: v.id })).volume!.allocatedBytes).toBe(3 * B);
    await expect(write(v.id, 1024 ** 3 - 1, Buffer.from('ab'))).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'length_bytes' });
    await alice.deleteVolume({ volumeId: v.id });
    expect(await nodeBlocks('storage-2')).toBe(0);
  });

  it('from an image: the image bytes are copied into the volume; private images of other projects and undersized volumes are refused', async () => {
    const bytes = randomBytes(3 * B + 1234);
    const imageId = await uploadImage(aliceImages, bytes);
    const v = await createAvailable({ sizeGb: 1, imageId, volumeType: 'hdd' });
    expect(v).toMatchObject({ bootable: true, sourceImageId: imageId, allocatedBytes: 4 * B });
    expect(fakeImages.downloads).toContain(imageId);
    expect((await read(v.id, 0, bytes.length)).equals(bytes)).toBe(true);
    const bobImage = await uploadImage(bobImages, randomBytes(10));
    await expect(alice.createVolume({ sizeGb: 1, imageId: bobImage })).rejects.toMatchObject({ constructor: NotFoundError, resourceType: 'image' });
    const big = await uploadImage(aliceImages, randomBytes(10), { test_virtual_size_bytes: String(3 * 1024 ** 3) });
    await expect(alice.createVolume({ sizeGb: 2, imageId: big })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'size_gb' });
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('clone and snapshot are copy-on-write: they keep the content of their moment and share unchanged blocks', async () => {
    const { volume: pending } = await alice.createVolume({ sizeGb: 1, volumeType: 'hdd' });
    await expect(alice.createVolume({ sizeGb: 1, sourceVolumeId: pending!.id })).rejects.toThrow(/volume status is creating: cannot clone/);
    await clock.advanceAsync(100);
    await waitFor(async () => (await alice.getVolume({ volumeId: pending!.id })).volume!.status === S.VOLUME_STATUS_AVAILABLE);
    await alice.deleteVolume({ volumeId: pending!.id });
    const src = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    const [a, b] = [randomBytes(B), randomBytes(B)];
    await write(src.id, 0, a);
    await write(src.id, B, b);
    const { snapshot } = await alice.createSnapshot({ volumeId: src.id });
    const clone = await createAvailable({ sizeGb: 1, volumeType: 'hdd', sourceVolumeId: src.id });
    expect(await nodeBlocks('storage-2')).toBe(2); // shared, not copied
    const c = randomBytes(B);
    await write(src.id, 0, c);
    expect(await nodeBlocks('storage-2')).toBe(3);
    expect((await read(clone.id, 0, 2 * B)).equals(Buffer.concat([a, b]))).toBe(true);
    expect((await read(src.id, 0, 2 * B)).equals(Buffer.concat([c, b]))).toBe(true);
    await write(clone.id, B, c);
    expect((await read(src.id, B, B)).equals(b)).toBe(true);
    const fromSnap = await createAvailable({ sizeGb: 2, volumeType: 'ssd', snapshotId: snapshot!.id });
    expect((await read(fromSnap.id, 0, 2 * B)).equals(Buffer.concat([a, b]))).toBe(true);
    await alice.deleteSnapshot({ snapshotId: snapshot!.id });
    for (const id of [clone.id, src.id, fromSnap.id]) await alice.deleteVolume({ volumeId: id });
    expect(await nodeBlocks('storage-2')).toBe(0);
    expect((await redis.keys('mc:volume:node:*')).length).toBe(0);
  });


  it('changed blocks: against a snapshot only the blocks written since, paged; every allocated block without one; refusals', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    for (const i of [0, 1, 5]) await write(v.id, i * B, randomBytes(B));
    const listed = async (req: { baseSnapshotId?: string; snapshotId?: string; startingBlockIndex?: number; maxResults?: number }, c: Client = alice) => {
      const r = await c.listChangedBlocks({ volumeId: v.id, baseSnapshotId: '', snapshotId: '', startingBlockIndex: 0, maxResults: 0, ...req });
      return { blocks: r.changedBlocks.map((b) => b.blockIndex), next: r.nextBlockIndex, size: r.blockSizeBytes, volumeSize: r.volumeSizeBytes };
    };
    expect(await listed({})).toEqual({ blocks: [0, 1, 5], next: 0, size: B, volumeSize: 1024 ** 3 });
    const { snapshot } = await alice.createSnapshot({ volumeId: v.id });
    expect((await listed({ baseSnapshotId: snapshot!.id })).blocks).toEqual([]);
    await write(v.id, 1 * B + 10, Buffer.from('changed'));
    for (const i of [7, 9, 12]) await write(v.id, i * B, randomBytes(16));
    expect((await listed({ baseSnapshotId: snapshot!.id })).blocks).toEqual([1, 7, 9, 12]);
    // Rewriting a block with the same bytes is no change (compared by content).
    const same = await read(v.id, 5 * B, B);
    await write(v.id, 5 * B, same);
    expect((await listed({ baseSnapshotId: snapshot!.id })).blocks).toEqual([1, 7, 9, 12]);
    expect(await listed({ baseSnapshotId: snapshot!.id, maxResults: 2 })).toMatchObject({ blocks: [1, 7], next: 9 });
    expect(await listed({ baseSnapshotId: snapshot!.id, startingBlockIndex: 9, maxResults: 2 })).toMatchObject({ blocks: [9, 12], next: 0 });
    // Between two snapshots: what the second holds, not what was written after it.
    const { snapshot: second } = await alice.createSnapshot({ volumeId: v.id });
    await write(v.id, 20 * B, randomBytes(16));
    expect((await listed({ baseSnapshotId: snapshot!.id, snapshotId: second!.id })).blocks).toEqual([1, 7, 9, 12]);
    expect((await listed({ baseSnapshotId: second!.id })).blocks).toEqual([20]);
    // Another project's member, a caller without a token and malformed requests are refused.
    await expect(listed({}, bob)).rejects.toBeInstanceOf(NotFoundError);
    await expect(listed({}, anonymous)).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(listed({ maxResults: 10_001 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'max_results' });
    await expect(listed({ startingBlockIndex: -1 })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'starting_block_index' });
    const other = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    const { snapshot: otherSnap } = await alice.createSnapshot({ volumeId: other.id });
    await expect(listed({ baseSnapshotId: otherSnap!.id })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'base_snapshot_id' });
    await expect(listed({ snapshotId: otherSnap!.id })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'snapshot_id' });
    await expect(listed({ snapshotId: 'no-such-snapshot' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(alice.listChangedBlocks({ volumeId: '', baseSnapshotId: '', snapshotId: '', startingBlockIndex: 0, maxResults: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    for (const s of [snapshot!.id, second!.id, otherSnap!.id]) await alice.deleteSnapshot({ snapshotId: s });
    for (const id of [v.id, other.id]) await alice.deleteVolume({ volumeId: id });
  });
  it('replication: a lost copy is reported (degraded, event, metric) and repaired on another node; data survives', async () => {
    const v = await createAvailable({ sizeGb: 10, volumeType: 'replicated' });
    expect(v.replicas).toHaveLength(2);
    expect(new Set(v.replicas.map((r) => r.storageNode)).size).toBe(2);
    expect(v.replicationStatus).toBe('enabled');
    const data = randomBytes(3 * B);
    await write(v.id, 7 * B, data);
    const lostNode = v.replicas[0]!.storageNode;
    const spare = ['storage-1', 'storage-2', 'storage-3'].find((n) => !v.replicas.some((r) => r.storageNode === n))!;
    // No spare node while the third is down too: stays degraded.
    await admin.setPoolState({ storageNode: spare, up: false });
    const down = await admin.setPoolState({ storageNode: lostNode, up: false });
    expect(down.degradedVolumeIds).toEqual([v.id]);
    expect(down.repairedVolumeIds).toEqual([]);
    let got = (await alice.getVolume({ volumeId: v.id })).volume!;
    expect(got.replicationStatus).toBe('degraded');
    expect(got.replicas.find((r) => r.storageNode === lostNode)!.state).toBe('lost');
    await waitFor(() => seen.some((e) => e.volumeId === v.id && e.status === 'replication_degraded'));
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/minicloud_volume_replication\{status="degraded"[^}]*\} 1/);
    expect(text).toMatch(new RegExp(`minicloud_volume_copies_lost_total\\{pool="${v.replicas[0]!.pool}"[^}]*\\} 1`));
    expect((await read(v.id, 7 * B, 3 * B)).equals(data)).toBe(true);
    // A write while degraded lands on the survivor and is carried over by the repair.
    const more = randomBytes(B);
    await write(v.id, 20 * B, more);
    const up = await admin.setPoolState({ storageNode: spare, up: true });
    expect(up.repairedVolumeIds).toEqual([v.id]);
    got = (await alice.getVolume({ volumeId: v.id })).volume!;
    expect(got.replicationStatus).toBe('enabled');
    expect(got.replicas.map((r) => r.storageNode).sort()).toEqual([v.replicas[1]!.storageNode, spare].sort());
    expect((await admin.listPools({})).pools.find((p) => p.storageNode === lostNode)!.provisionedCapacityGb).toBe(0);
    await waitFor(() => seen.some((e) => e.volumeId === v.id && e.status === 'replication_enabled'));
    // Lose the original survivor: the repaired copy holds every byte.
    await admin.setPoolState({ storageNode: v.replicas[1]!.storageNode, up: false });
    expect((await read(v.id, 7 * B, 3 * B)).equals(data)).toBe(true);
    expect((await read(v.id, 20 * B, B)).equals(more)).toBe(true);
    for (const n of ['storage-1', 'storage-2', 'storage-3']) await admin.setPoolState({ storageNode: n, up: true });
    await modules.resync.run();
    await alice.deleteVolume({ volumeId: v.id });
    expect((await admin.listPools({})).pools.every((p) => p.provisionedCapacityGb === 0)).toBe(true);
    expect((await redis.keys('mc:volume:node:*')).length).toBe(0);
  });

  it('3 copies survive the loss of any 2 nodes', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'rep3' });
    const data = randomBytes(2 * B + 17);
    await write(v.id, 3, data);
    const nodes = ['storage-1', 'storage-2', 'storage-3'];
    for (const survivor of nodes) {
      for (const n of nodes.filter((x) => x !== survivor)) await admin.setPoolState({ storageNode: n, up: false });
      expect((await read(v.id, 3, data.length)).equals(data)).toBe(true);
      const got = (await alice.getVolume({ volumeId: v.id })).volume!;
      expect(got.replicas.filter((r) => r.state === 'ok').map((r) => r.storageNode)).toEqual([survivor]);
      // The nodes return empty-handed for this volume: the repair re-creates both copies from the survivor.
      for (const n of nodes.filter((x) => x !== survivor)) await admin.setPoolState({ storageNode: n, up: true });
      const back = (await alice.getVolume({ volumeId: v.id })).volume!;
      expect(back.replicationStatus).toBe('enabled');
    }
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('with every copy down, I/O is refused; the node coming back brings the data back', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    await write(v.id, 0, Buffer.from('persist'));
    await admin.setPoolState({ pool: 'lvm@b', up: false });
    await expect(read(v.id, 0, 7)).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'no_reachable_copy' });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.replicas[0]!.state).toBe('lost');
    await admin.setPoolState({ pool: 'lvm@b', up: true });
    expect((await read(v.id, 0, 7)).toString()).toBe('persist');
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('backups: full then incremental (only changed blocks), restore gives each point in time; delete order enforced', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    const [a, b, c] = [randomBytes(B), randomBytes(B), randomBytes(B)];
    await write(v.id, 0, a);
    await write(v.id, 2 * B, b);
    await expect(alice.createBackup({ volumeId: 'nope', incremental: true })).rejects.toBeInstanceOf(NotFoundError);
    await expect(alice.createBackup({ volumeId: v.id, incremental: true })).rejects.toMatchObject({ reason: 'no_parent_backup' });
    const full = (await alice.createBackup({ volumeId: v.id, name: 'full' })).backup!;
    expect(full).toMatchObject({ incremental: false, blockCount: 2, volumeSizeGb: 1 });
    expect(fakeImages.images.get(full.imageId)!.image.properties).toMatchObject({ minicloud_backup: 'true', backup_volume_id: v.id });
    await write(v.id, 0, c);
    await write(v.id, 5 * B, b);
    const inc = (await alice.createBackup({ volumeId: v.id, name: 'inc', incremental: true })).backup!;
    expect(inc).toMatchObject({ incremental: true, parentBackupId: full.id, blockCount: 2 });
    expect(Number(inc.sizeBytes)).toBeLessThan(Number(full.sizeBytes) + B);
    expect((await alice.listBackups({ volumeId: v.id })).backups.map((x) => x.id)).toEqual([full.id, inc.id]);
    await alice.deleteVolume({ volumeId: v.id });

    const r1 = (await alice.restoreBackup({ backupId: inc.id, name: 'r-inc' })).volume!;
    const r0 = (await alice.restoreBackup({ backupId: full.id, name: 'r-full', volumeType: 'ssd' })).volume!;
    await clock.advanceAsync(100);
    await waitFor(async () => (await alice.getVolume({ volumeId: r0.id })).volume!.status === S.VOLUME_STATUS_AVAILABLE && (await alice.getVolume({ volumeId: r1.id })).volume!.status === S.VOLUME_STATUS_AVAILABLE);
    expect((await read(r1.id, 0, 6 * B)).equals(Buffer.concat([c, Buffer.alloc(B), b, Buffer.alloc(2 * B), b]))).toBe(true);
    expect((await read(r0.id, 0, 6 * B)).equals(Buffer.concat([a, Buffer.alloc(B), b, Buffer.alloc(3 * B)]))).toBe(true);
    expect((await alice.getVolume({ volumeId: r1.id })).volume!.allocatedBytes).toBe(3 * B);

    await expect(alice.deleteBackup({ backupId: full.id })).rejects.toMatchObject({ constructor: FailedPreconditionError, reason: 'backup_has_dependents' });
    await alice.deleteBackup({ backupId: inc.id });
    await alice.deleteBackup({ backupId: full.id });
    expect(fakeImages.images.has(full.imageId) || fakeImages.images.has(inc.imageId)).toBe(false);
    expect((await alice.listBackups({})).backups).toEqual([]);
    for (const id of [r0.id, r1.id]) await alice.deleteVolume({ volumeId: id });
  });

  it('upload to an image: the volume\'s raw bytes become an image of the caller\'s project (uploading, then available); refusals leave nothing', async () => {
    const v = await createAvailable({ sizeGb: 1, volumeType: 'hdd' });
    const data = randomBytes(3000);
    await write(v.id, 5 * B + 7, data);
    const before = seen.length;
    const { volume: started, imageId } = await alice.uploadVolumeToImage({ volumeId: v.id, imageName: 'from-volume', diskFormat: 'raw', containerFormat: 'bare' });
    expect(started!.status).toBe(S.VOLUME_STATUS_UPLOADING);
    await expect(alice.deleteVolume({ volumeId: v.id })).rejects.toBeInstanceOf(FailedPreconditionError); // not while uploading
    await modules.upload.settled(v.id);
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    await waitFor(async () => seen.slice(before).filter((e) => e.volumeId === v.id).length >= 2);
    expect(seen.slice(before).filter((e) => e.volumeId === v.id).map((e) => e.status)).toEqual(['uploading', 'available']);
    const img = fakeImages.images.get(imageId)!;
    expect(img.image).toMatchObject({ name: 'from-volume', diskFormat: 'raw', containerFormat: 'bare', ownerProjectId: 'p1', sizeBytes: 1024 ** 3, status: imagePb.ImageStatus.IMAGE_STATUS_ACTIVE });
    expect(img.nonZeroChunks!.size).toBe(1);
    const [[offset, chunk]] = [...img.nonZeroChunks!.entries()];
    expect(chunk.subarray(5 * B + 7 - offset, 5 * B + 7 - offset + data.length).equals(data)).toBe(true);
    // refusals: another project, no credentials, a format it cannot write, an empty name, a volume not available, the image service refusing
    await expect(bob.uploadVolumeToImage({ volumeId: v.id, imageName: 'x', diskFormat: '', containerFormat: '' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(anonymous.uploadVolumeToImage({ volumeId: v.id, imageName: 'x', diskFormat: '', containerFormat: '' })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(alice.uploadVolumeToImage({ volumeId: v.id, imageName: 'x', diskFormat: 'vmdk', containerFormat: '' })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'disk_format' });
    await expect(alice.uploadVolumeToImage({ volumeId: v.id, imageName: '', diskFormat: '', containerFormat: '' })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'image_name' });
    const imagesBefore = fakeImages.images.size;
    const refused = await alice.uploadVolumeToImage({ volumeId: v.id, imageName: 'refuse-upload', diskFormat: 'raw', containerFormat: 'bare' });
    // the image was queued (an id answered at once); the copy then fails in the background, so
    // whether the image is still there at this instant is a race: what matters is the end state
    expect(refused.imageId).toMatch(/\S/);
    await modules.upload.settled(v.id);
    expect(fakeImages.images.size).toBe(imagesBefore); // the refused image was deleted
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    const { attachment } = await alice.createAttachment({ volumeId: v.id, instanceId: 'vm-up', hostId: 'h1' });
    await expect(alice.uploadVolumeToImage({ volumeId: v.id, imageName: 'busy', diskFormat: '', containerFormat: '' })).rejects.toMatchObject({ constructor: FailedPreconditionError });
    await alice.deleteAttachment({ attachmentId: attachment!.id });
    // an upload a restart left (uploading, nothing running, past the deadline) is given up by the resync
    const left = (await aliceImages.createImage({ name: 'left-behind' })).image!.id;
    await redis.hset(`mc:volume:volume:${v.id}`, 'status', 'uploading', 'upload_image_id', left, 'upload_started_at_ms', String(clock.nowMs()));
    await modules.resync.run();
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_UPLOADING); // within the deadline: may still run elsewhere
    clock.advance(UPLOAD_DEADLINE_MS);
    await modules.resync.run();
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    expect(fakeImages.images.has(left)).toBe(false);
    fakeImages.images.delete(imageId);
    await alice.deleteVolume({ volumeId: v.id });
  });

  it('retype: in place when the pool serves the new type, migrated (data kept, capacity moved) otherwise', async () => {
    await admin.createVolumeType({ name: 'ssd-fast', extraSpecs: { volume_backend_name: 'lvm', 'qos:total_iops_sec': '9000' } });
    const provisioned = async () => (await admin.listPools({})).pools.reduce((sum, p) => sum + Number(p.provisionedCapacityGb), 0);
    const before = await provisioned();
    const v = await createAvailable({ sizeGb: 5, volumeType: 'hdd' });
    const data = randomBytes(B + 5);
    await write(v.id, 0, data);
    const inPlace = (await alice.retypeVolume({ volumeId: v.id, newVolumeType: 'ssd-fast' })).volume!;
    expect(inPlace).toMatchObject({ volumeType: 'ssd-fast', pool: 'lvm@b', status: S.VOLUME_STATUS_AVAILABLE });
    expect(inPlace.qos!.totalIopsSec).toBe(9000);
    const moved = (await alice.retypeVolume({ volumeId: v.id, newVolumeType: 'replicated' })).volume!;
    expect(moved).toMatchObject({ volumeType: 'replicated', replicationCount: 2, replicationStatus: 'enabled', status: S.VOLUME_STATUS_AVAILABLE });
    expect((await read(v.id, 0, data.length)).equals(data)).toBe(true);
    expect((await provisioned()) - before).toBe(10);
    await expect(alice.retypeVolume({ volumeId: v.id, newVolumeType: 'replicated' })).rejects.toMatchObject({ constructor: InvalidArgumentError, field: 'new_volume_type' });
    await alice.createSnapshot({ volumeId: v.id });
    await expect(alice.retypeVolume({ volumeId: v.id, newVolumeType: 'hdd' })).rejects.toMatchObject({ reason: 'volume_has_snapshots' });
    expect((await alice.getVolume({ volumeId: v.id })).volume!.status).toBe(S.VOLUME_STATUS_AVAILABLE);
    for (const s of (await alice.listSnapshots({ volumeId: v.id })).snapshots) await alice.deleteSnapshot({ snapshotId: s.id });
    await alice.extendVolume({ volumeId: v.id, newSizeGb: 6 });
    expect((await read(v.id, 0, data.length)).equals(data)).toBe(true);
    expect((await provisioned()) - before).toBe(12);
    await alice.deleteVolume({ volumeId: v.id });
    expect(await provisioned()).toBe(before);
  });
});
