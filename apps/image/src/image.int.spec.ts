import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSnapshotQcow2, inspectImageBytes } from '@minicloud/domain-image';
import { createFixtureDir, type FixtureDir } from '@minicloud/domain-image/testing/qemu-fixtures';
import { createTokenVerifier, expandRoles, generateSigningKey, RevocationList, signToken, type SigningKeyPair } from '@minicloud/platform-auth';
import { connectBus, Subjects, type Bus } from '@minicloud/platform-bus';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { events, image as pb } from '@minicloud/proto';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import type { BlobStore } from './blob-store';
import type { ImageService } from './image-service';
import { wireImageService } from './wire';

type Client = ServiceClient<typeof pb.ImageServiceService>;
const { IMAGE_STATUS_ACTIVE, IMAGE_STATUS_QUEUED, IMAGE_STATUS_KILLED, IMAGE_STATUS_DEACTIVATED } = pb.ImageStatus;
const { IMAGE_VISIBILITY_PUBLIC, IMAGE_VISIBILITY_SHARED } = pb.ImageVisibility;
jest.setTimeout(30_000);

const MAX_BYTES = 12 * 1024 * 1024; // a qemu-img VHDX is 8 MiB even when empty
const CHUNK = 64 * 1024;

let redisSrv: ServerHandle;
let natsSrv: ServerHandle;
let redis: Redis;
let bus: Bus;
let server: RunningGrpcServer;
let blobs: BlobStore;
let images: ImageService;
let registry: Registry;
let key: SigningKeyPair;
let dataDir: string;
let fixtures: FixtureDir;
let qcow2: Uint8Array;
const clients: Client[] = [];

async function clientFor(projectId: string, roles: string[] = ['member']): Promise<Client> {
  const { token } = await signToken(
    key,
    { userId: `user-${projectId}`, userName: `user-${projectId}`, projectId, projectName: projectId, domainId: 'default', roles: expandRoles(roles), isAdminProject: roles.includes('admin') },
    { nowMs: Date.now(), ttlSeconds: 3600 },
  );
  const c = createServiceClient(pb.ImageServiceService, server.address, { token: () => token, deadlineMs: 20_000 });
  clients.push(c);
  return c;
}

function chunks(bytes: Uint8Array, size = CHUNK): { chunk: Buffer }[] {
  const out: { chunk: Buffer }[] = [];
  for (let off = 0; off < bytes.length; off += size) out.push({ chunk: Buffer.from(bytes.subarray(off, off + size)) });
  return out;
}

async function upload(c: Client, imageId: string, bytes: Uint8Array): Promise<pb.Image | undefined> {
  return (await c.uploadImage([{ imageId }, ...chunks(bytes)])).image;
}

async function download(c: Client, imageId: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const m of c.downloadImage({ imageId })) parts.push(m.chunk);
  return Buffer.concat(parts);
}

async function failure(p: Promise<unknown>): Promise<{ code: string; field?: string; reason?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; field?: string; reason?: string };
  }
  throw new Error('expected the call to fail');
}

/** Every file under the blob dir: committed blobs and temp files. */
/**
 * Download refusals are asserted on the service: over gRPC a server-stream handler error currently
 * arrives as DEADLINE_EXCEEDED (platform-grpc ends a failed server stream with call.destroy(err),
 * which sends no status; reported to the lead).
 */
async function downloadRefusal(projectId: string, imageId: string, admin = false): Promise<{ code: string; reason?: string }> {
  return failure(images.download({ viewer: { projectId, admin }, requestId: 'test' }, imageId));
}

function storedFiles(): string[] {
  return readdirSync(blobs.blobDir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => d.name);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  [redisSrv, natsSrv] = await Promise.all([startRedisServer(), startNatsServer()]);
  const logger = silentLogger();
  redis = await connectRedis({ url: redisSrv.url, name: 'image-int', logger });
  bus = await connectBus({ url: natsSrv.url, name: 'image-int', logger });
  key = await generateSigningKey(Date.now());
  const verifier = createTokenVerifier({
    keys: async () => [{ kid: key.kid, jwk: key.publicJwk }],
    revocations: new RevocationList(),
    nowMs: () => Date.now(),
  });
  dataDir = mkdtempSync(join(tmpdir(), 'image-int-'));
  registry = new Registry();
  const wiring = await wireImageService({ logger, redis, bus, registry, dataDir, maxBytes: MAX_BYTES, verifier });
  blobs = wiring.blobs;
  images = wiring.images;
  server = await startGrpcServer({ port: 0, services: wiring.services, logger, verifier: wiring.verifier });
  fixtures = createFixtureDir('image-int-fx-');
  fixtures.qemuCreate('x.qcow2', 'qcow2', '64M');
  qcow2 = fixtures.read('x.qcow2');
  // One real file per format, as qemu-img / xorriso write them: the inspector must accept what the real tools produce.
  fixtures.qemuCreate('v2.qcow2', 'qcow2', '1G', 'compat=0.10');
  fixtures.qemuCreate('v3.qcow2', 'qcow2', '2G', 'compat=1.1');
  fixtures.qemuCreate('sparse.vmdk', 'vmdk', '512M');
  fixtures.qemuCreate('stream.vmdk', 'vmdk', '64M', 'subformat=streamOptimized');
  fixtures.qemuCreate('dynamic.vhd', 'vpc', '1G', 'subformat=dynamic');
  fixtures.qemuCreate('fixed.vhd', 'vpc', '2M', 'subformat=fixed');
  fixtures.qemuCreate('disk.vhdx', 'vhdx', '3G');
  fixtures.qemuCreate('disk.raw', 'raw', '3M');
  fixtures.makeIso('cd.iso', { 'README.txt': 'minicloud\n' });
  fixtures.qemuCreate('child.qcow2', 'qcow2', '64M', undefined, ['-b', '/etc/passwd', '-F', 'raw']);
}, 60_000);

afterAll(async () => {
  clients.forEach((c) => c.close());
  await server?.shutdown(1000);
  await bus?.close();
  await redis?.quit();
  await Promise.all([redisSrv?.stop(), natsSrv?.stop()]);
  fixtures?.remove();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  // Each test starts from an empty store: delete every image through the API as admin.
  const admin = await clientFor('admin-project', ['admin']);
  for (const img of (await admin.listImages({})).images) {
    if (img.protected) await admin.updateImage({ imageId: img.id, protected: false });
    await admin.deleteImage({ imageId: img.id });
  }
  expect(storedFiles()).toEqual([]);
});

describe('image service (in-process, real Redis/NATS, temp data dir)', () => {
  it('uploads a real qcow2 and downloads it back byte-identical, with hashes, virtual size and status events', async () => {
    const seen: string[] = [];
    const sub = bus.subscribe(Subjects.imageStatusChanged, events.ImageStatusChanged, (ev) => void seen.push(ev.status));
    const a = await clientFor('project-a');
    const created = (await a.createImage({ name: 'cirros', diskFormat: 'qcow2' })).image!;
    expect(created.status).toBe(IMAGE_STATUS_QUEUED);
    expect(created.visibility).toBe(pb.ImageVisibility.IMAGE_VISIBILITY_PRIVATE);
    expect(created.ownerProjectId).toBe('project-a');

    const active = await upload(a, created.id, qcow2);
    expect(active).toMatchObject({
      status: IMAGE_STATUS_ACTIVE,
      diskFormat: 'qcow2',
      containerFormat: 'bare',
      sizeBytes: qcow2.length,
      virtualSizeBytes: 64 * 1024 * 1024,
      osHashAlgo: 'sha256',
      osHashValue: sha256(qcow2),
      checksumMd5: createHash('md5').update(qcow2).digest('hex'),
    });
    const back = await download(a, created.id);
    expect(sha256(back)).toBe(sha256(qcow2));
    expect(Buffer.compare(back, Buffer.from(qcow2))).toBe(0);
    expect(storedFiles()).toEqual([sha256(qcow2)]);
    expect((await a.getImage({ imageId: created.id })).image?.status).toBe(IMAGE_STATUS_ACTIVE);

    await waitFor(() => seen.length >= 3);
    expect(seen.slice(0, 3)).toEqual(['queued', 'saving', 'active']);
    sub.unsubscribe();

    const metrics = await registry.metrics();
    expect(metrics).toContain(`minicloud_image_blob_store_bytes ${qcow2.length}`);
    expect(metrics).toMatch(/minicloud_image_images\{status="active"\} 1/);
    expect(metrics).toMatch(/minicloud_image_upload_bytes_total \d+/);

    expect((await failure(upload(a, created.id, qcow2))).code).toBe('FAILED_PRECONDITION');
  });

  it('stores identical content once and deletes the blob with the last image using it', async () => {
    const a = await clientFor('project-a');
    const b = await clientFor('project-b');
    const one = (await a.createImage({ name: 'one' })).image!;
    const two = (await b.createImage({ name: 'two' })).image!;
    await upload(a, one.id, qcow2);
    const second = await upload(b, two.id, qcow2);
    expect(second?.diskFormat).toBe('qcow2'); // detected: nothing was declared
    expect(storedFiles()).toEqual([sha256(qcow2)]);
    expect(await registry.metrics()).toContain(`minicloud_image_blob_store_bytes ${qcow2.length}`);

    await a.deleteImage({ imageId: one.id });
    expect(storedFiles()).toEqual([sha256(qcow2)]);
    expect(Buffer.compare(await download(b, two.id), Buffer.from(qcow2))).toBe(0);
    await b.deleteImage({ imageId: two.id });
    expect(storedFiles()).toEqual([]);
    expect(await registry.metrics()).toContain('minicloud_image_blob_store_bytes 0');
    expect((await failure(b.getImage({ imageId: two.id }))).code).toBe('NOT_FOUND');
  });

  it('keeps an ami/aki/ari image as declared (Glance does not inspect them) and still reports what the bytes hold', async () => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: 'kernel', diskFormat: 'aki', containerFormat: 'aki' })).image!;
    expect(img).toMatchObject({ diskFormat: 'aki', containerFormat: 'aki' });
    const raw = Buffer.alloc(4096, 7);
    const done = await upload(a, img.id, raw);
    expect(done).toMatchObject({ status: IMAGE_STATUS_ACTIVE, diskFormat: 'aki', sizeBytes: 4096, virtualSizeBytes: 4096 });
    const machine = (await a.createImage({ name: 'machine', diskFormat: 'ami', containerFormat: 'ami' })).image!;
    expect((await upload(a, machine.id, qcow2))?.virtualSizeBytes).toBeGreaterThan(qcow2.length); // the qcow2 header's size, not the file's
  });

  it('with require_image_format_match off (an operator setting), a mismatched upload keeps its declared format; unsafe bytes are still refused', async () => {
    const relaxed = (await wireImageService({ logger: silentLogger(), redis, bus, registry: new Registry(), dataDir, maxBytes: MAX_BYTES, requireFormatMatch: false })).images;
    const caller = { viewer: { projectId: 'project-a', admin: false }, requestId: 'relaxed' };
    const input = { name: 'random-as-vhd', diskFormat: 'vhd', containerFormat: 'bare', protected: false, minRamMb: 0, minDiskGb: 0, properties: {}, sourceInstanceId: '' };
    async function* parts(id: string, bytes: Uint8Array) {
      yield { imageId: id };
      yield { chunk: bytes };
    }
    const img = await relaxed.create(caller, input);
    const done = await relaxed.upload(caller, parts(img.id, Buffer.alloc(2048, 3)));
    expect(done).toMatchObject({ status: 'active', diskFormat: 'vhd', sizeBytes: 2048 });
    const child = await relaxed.create(caller, { ...input, name: 'child-as-raw', diskFormat: 'raw' });
    const backed = fixtures.read('child.qcow2');
    expect(await failure(relaxed.upload(caller, parts(child.id, backed)))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'disk_format' });
  });

  it('refuses a declared format that differs from the bytes: INVALID_ARGUMENT disk_format, image killed, nothing stored', async () => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: 'liar', diskFormat: 'raw' })).image!;
    const err = await failure(upload(a, img.id, qcow2));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'disk_format' });
    expect((await a.getImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_KILLED);
    expect(storedFiles()).toEqual([]);
    expect(await downloadRefusal('project-a', img.id)).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'invalid_image_status' });
  });

  it('refuses a truncated qcow2 and keeps no blob', async () => {
    const a = await clientFor('project-a');
    const detected = inspectImageBytes(qcow2);
    if (detected.format !== 'qcow2') throw new Error('fixture is not qcow2');
    const truncated = qcow2.subarray(0, detected.details.minimumBytes - 1);
    const img = (await a.createImage({ name: 'short', diskFormat: 'qcow2' })).image!;
    expect(await failure(upload(a, img.id, truncated))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'disk_format' });
    expect((await a.getImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_KILLED);
    expect(storedFiles()).toEqual([]);
  });

  it.each([
    // file, disk_format, virtual size (as `qemu-img info` reports it; a dynamic VHD rounds up to its CHS geometry)
    ['v2.qcow2', 'qcow2', 1024 ** 3],
    ['v3.qcow2', 'qcow2', 2 * 1024 ** 3],
    ['sparse.vmdk', 'vmdk', 512 * 1024 ** 2],
    ['stream.vmdk', 'vmdk', 64 * 1024 ** 2],
    ['dynamic.vhd', 'vhd', 1_073_995_776],
    ['fixed.vhd', 'vhd', 2_123_776], // footer current_size; `qemu-img info` shows the file length (2124288) for fixed VHDs
    ['disk.vhdx', 'vhdx', 3 * 1024 ** 3],
    ['disk.raw', 'raw', 3 * 1024 ** 2],
    ['cd.iso', 'iso', -1],
  ])('accepts a real %s as %s, detects its virtual size and serves the same bytes', async (file, format, virtualSize) => {
    const a = await clientFor('project-a');
    const bytes = fixtures.read(file);
    const img = (await a.createImage({ name: file, diskFormat: format, containerFormat: 'bare' })).image!;
    const done = await upload(a, img.id, bytes);
    const expected = virtualSize === -1 ? bytes.length : virtualSize; // an ISO's volume space is the file
    expect(done).toMatchObject({ status: IMAGE_STATUS_ACTIVE, diskFormat: format, sizeBytes: bytes.length, virtualSizeBytes: expected, osHashAlgo: 'sha256', osHashValue: sha256(bytes) });
    expect((await download(a, img.id)).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each([
    ['v3.qcow2', 'raw', 'declared raw but the image data is qcow2'],
    ['sparse.vmdk', 'qcow2', 'declared qcow2 but the image data is vmdk'],
    ['dynamic.vhd', 'vhdx', 'declared vhdx but the image data is vhd'],
    ['disk.vhdx', 'vhd', 'declared vhd but the image data is vhdx'],
    ['cd.iso', 'raw', 'declared raw but the image data is iso'],
    ['disk.raw', 'iso', 'declared iso but the image data is raw'],
  ])('refuses a renamed %s declared as %s with a clear error; the image is killed, nothing stored', async (file, format, message) => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: file, diskFormat: format })).image!;
    const err = await failure(upload(a, img.id, fixtures.read(file)));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'disk_format' });
    expect((err as unknown as Error).message).toContain(message);
    expect((await a.getImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_KILLED);
    expect(storedFiles()).toEqual([]);
  });

  it.each([
    ['v2.qcow2', 'qcow2', 1, /qcow2 image is truncated: \d+ bytes arrived, the header requires \d+/],
    ['sparse.vmdk', 'vmdk', 512, /vmdk image is truncated: \d+ bytes arrived, the header requires \d+/],
    ['dynamic.vhd', 'vhd', 512, /vhd image is truncated: the footer at the end of the file is missing/],
    ['fixed.vhd', 'vhd', 4096, /declared vhd but the image data is raw/],
    ['disk.vhdx', 'vhdx', 7 * 1024 * 1024, /vhdx image is truncated: the metadata region is missing/],
    ['cd.iso', 'iso', 2048, /iso image is truncated: \d+ bytes arrived, the volume descriptor declares \d+/],
  ])('refuses a truncated %s (%s, %d bytes cut) with a clear error', async (file, format, cutBytes, message) => {
    const a = await clientFor('project-a');
    const all = fixtures.read(file);
    const img = (await a.createImage({ name: file, diskFormat: format })).image!;
    const err = await failure(upload(a, img.id, all.subarray(0, all.length - cutBytes)));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'disk_format' });
    expect((err as unknown as Error).message).toMatch(message);
    expect((await a.getImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_KILLED);
    expect(storedFiles()).toEqual([]);
  });

  it('imports an instance snapshot: CreateImage with source_instance_id, then the snapshot qcow2', async () => {
    const a = await clientFor('project-a');
    const created = (await a.createImage({ name: 'vm-1-snap', diskFormat: 'qcow2', sourceInstanceId: 'vm-1', properties: { os_distro: 'cirros' } })).image!;
    expect(created).toMatchObject({ status: IMAGE_STATUS_QUEUED, sourceInstanceId: 'vm-1', properties: { image_type: 'snapshot', instance_uuid: 'vm-1', os_distro: 'cirros' } });
    const done = await upload(a, created.id, buildSnapshotQcow2(20 * 1024 ** 3));
    expect(done).toMatchObject({ status: IMAGE_STATUS_ACTIVE, diskFormat: 'qcow2', virtualSizeBytes: 20 * 1024 ** 3, sourceInstanceId: 'vm-1' });
    expect((await a.getImage({ imageId: created.id })).image?.properties).toMatchObject({ image_type: 'snapshot', instance_uuid: 'vm-1' });
    // the request's own image_type wins, as in Nova's createImage metadata
    const typed = (await a.createImage({ name: 'vm-1-typed', diskFormat: 'qcow2', sourceInstanceId: 'vm-1', properties: { image_type: 'backup' } })).image!;
    expect(typed.properties).toMatchObject({ image_type: 'backup', instance_uuid: 'vm-1' });
  });

  it('leaves the image queued and no temp file when the client cancels midway', async () => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: 'cancelled', diskFormat: 'qcow2' })).image!;
    const parts = chunks(qcow2);
    const stream = (async function* () {
      yield { imageId: img.id };
      yield parts[0];
      yield parts[1];
      // Wait until the server is streaming into its temp file, then give up (the client cancels the call).
      await waitFor(async () => (await a.getImage({ imageId: img.id })).image?.status === pb.ImageStatus.IMAGE_STATUS_SAVING);
      await waitFor(async () => (await blobs.tempFiles()).length === 1);
      throw new Error('client gave up');
    })();
    await expect(a.uploadImage(stream)).rejects.toThrow('client gave up');
    await waitFor(async () => (await a.getImage({ imageId: img.id })).image?.status === IMAGE_STATUS_QUEUED, { message: 'image back to queued' });
    await waitFor(async () => (await blobs.tempFiles()).length === 0, { message: 'temp file deleted' });
    expect(storedFiles()).toEqual([]);
    // Queued again: a retry succeeds.
    expect((await upload(a, img.id, qcow2))?.status).toBe(IMAGE_STATUS_ACTIVE);
  });

  it('refuses an upload over IMAGE_MAX_BYTES with RESOURCE_EXHAUSTED and goes back to queued', async () => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: 'big' })).image!;
    const err = await failure(upload(a, img.id, new Uint8Array(MAX_BYTES + 1)));
    expect(err).toMatchObject({ code: 'RESOURCE_EXHAUSTED', reason: 'image_size_cap' });
    expect((await a.getImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_QUEUED);
    expect(storedFiles()).toEqual([]);
  });

  it('isolates projects: another project private image is NOT_FOUND everywhere', async () => {
    const a = await clientFor('project-a');
    const b = await clientFor('project-b');
    const img = (await a.createImage({ name: 'secret' })).image!;
    await upload(a, img.id, qcow2);
    expect((await failure(b.getImage({ imageId: img.id }))).code).toBe('NOT_FOUND');
    expect((await downloadRefusal('project-b', img.id)).code).toBe('NOT_FOUND');
    expect((await failure(b.updateImage({ imageId: img.id, name: 'mine' }))).code).toBe('NOT_FOUND');
    expect((await failure(b.deleteImage({ imageId: img.id }))).code).toBe('NOT_FOUND');
    expect((await failure(b.uploadImage([{ imageId: img.id }]))).code).toBe('NOT_FOUND');
    expect((await b.listImages({})).images.map((i) => i.id)).not.toContain(img.id);
    expect((await a.listImages({})).images.map((i) => i.id)).toEqual([img.id]);
    expect((await failure(b.getImage({ imageId: 'no-such-image' })))).toMatchObject({ code: 'NOT_FOUND', resourceType: 'image' });
  });

  it('lets only an admin publish; others see a public image but may not change it', async () => {
    const a = await clientFor('project-a');
    const b = await clientFor('project-b');
    const admin = await clientFor('admin-project', ['admin']);
    expect((await failure(a.createImage({ name: 'p', visibility: IMAGE_VISIBILITY_PUBLIC }))).code).toBe('PERMISSION_DENIED');
    const pub = (await admin.createImage({ name: 'public', visibility: IMAGE_VISIBILITY_PUBLIC })).image!;
    await upload(admin, pub.id, qcow2);
    expect((await b.listImages({})).images.map((i) => i.id)).toEqual([pub.id]);
    expect(sha256(await download(b, pub.id))).toBe(sha256(qcow2));
    expect((await failure(b.updateImage({ imageId: pub.id, name: 'x' }))).code).toBe('PERMISSION_DENIED');
    expect((await failure(b.deleteImage({ imageId: pub.id }))).code).toBe('PERMISSION_DENIED');
  });

  it('refuses to delete a protected image until it is unprotected', async () => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: 'keep', protected: true })).image!;
    expect(await failure(a.deleteImage({ imageId: img.id }))).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'image_protected' });
    expect((await a.getImage({ imageId: img.id })).image?.protected).toBe(true);
    const updated = (await a.updateImage({ imageId: img.id, protected: false, setProperties: { os_distro: 'cirros' } })).image!;
    expect(updated).toMatchObject({ protected: false, properties: { os_distro: 'cirros' } });
    await a.deleteImage({ imageId: img.id });
    expect((await failure(a.getImage({ imageId: img.id }))).code).toBe('NOT_FOUND');
  });

  it('shares an image with an accepting member project only', async () => {
    const a = await clientFor('project-a');
    const b = await clientFor('project-b');
    const c = await clientFor('project-c');
    const img = (await a.createImage({ name: 'shared', visibility: IMAGE_VISIBILITY_SHARED })).image!;
    await upload(a, img.id, qcow2);
    expect((await a.addImageMember({ imageId: img.id, memberProjectId: 'project-b' })).member?.status).toBe(
      pb.ImageMemberStatus.IMAGE_MEMBER_STATUS_PENDING,
    );
    expect((await failure(a.addImageMember({ imageId: img.id, memberProjectId: 'project-b' }))).code).toBe('ALREADY_EXISTS');
    expect((await b.listImages({})).images).toEqual([]); // pending: not listed
    expect((await failure(a.updateImageMember({ imageId: img.id, memberProjectId: 'project-b', status: 2 }))).code).toBe('PERMISSION_DENIED');
    await b.updateImageMember({ imageId: img.id, memberProjectId: 'project-b', status: pb.ImageMemberStatus.IMAGE_MEMBER_STATUS_ACCEPTED });
    expect((await b.listImages({})).images.map((i) => i.id)).toEqual([img.id]);
    expect(sha256(await download(b, img.id))).toBe(sha256(qcow2));
    expect((await failure(c.getImage({ imageId: img.id }))).code).toBe('NOT_FOUND');
    expect((await a.listImageMembers({ imageId: img.id })).members.map((m) => m.memberProjectId)).toEqual(['project-b']);

    const priv = (await a.createImage({ name: 'private' })).image!;
    expect(await failure(a.addImageMember({ imageId: priv.id, memberProjectId: 'project-b' }))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'image_not_shared',
    });
    await a.removeImageMember({ imageId: img.id, memberProjectId: 'project-b' });
    expect((await failure(b.getImage({ imageId: img.id }))).code).toBe('NOT_FOUND');
  });

  it('deactivates (admin only): data is refused to non-admins until reactivated', async () => {
    const a = await clientFor('project-a');
    const admin = await clientFor('admin-project', ['admin']);
    const img = (await a.createImage({ name: 'd' })).image!;
    await upload(a, img.id, qcow2);
    expect((await failure(a.deactivateImage({ imageId: img.id }))).code).toBe('PERMISSION_DENIED');
    expect((await admin.deactivateImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_DEACTIVATED);
    expect(await downloadRefusal('project-a', img.id)).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'image_deactivated' });
    expect((await download(admin, img.id)).length).toBe(qcow2.length);
    expect((await admin.reactivateImage({ imageId: img.id })).image?.status).toBe(IMAGE_STATUS_ACTIVE);
    expect((await download(a, img.id)).length).toBe(qcow2.length);
  });

  it('validates requests and authentication', async () => {
    const a = await clientFor('project-a');
    expect(await failure(a.createImage({ diskFormat: 'floppy' }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'disk_format' });
    expect(await failure(a.createImage({ containerFormat: 'tarball' }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'container_format' });
    expect(await failure(a.uploadImage([{ chunk: Buffer.from('x') }]))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'image_id' });
    expect(await failure(a.listImages({ page: { pageToken: 'garbage' } }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.page_token' });
    const anon = createServiceClient(pb.ImageServiceService, server.address, {});
    clients.push(anon);
    expect((await failure(anon.listImages({}))).code).toBe('UNAUTHENTICATED');
    const reader = await clientFor('project-a', ['reader']);
    expect((await failure(reader.createImage({ name: 'r' }))).code).toBe('PERMISSION_DENIED');
  });

  it('tags: set at create, added and removed by UpdateImage (each once); another project, no token and bad tags refused with nothing changed', async () => {
    const a = await clientFor('project-a');
    const img = (await a.createImage({ name: 'tagged', tags: ['base', 'base'] })).image!;
    expect(img.tags).toEqual(['base']);
    const u = (await a.updateImage({ imageId: img.id, addTags: ['golden', 'base'], removeTags: [] })).image!;
    expect(u.tags).toEqual(['base', 'golden']);
    expect((await a.updateImage({ imageId: img.id, addTags: [], removeTags: ['base', 'absent'] })).image!.tags).toEqual(['golden']);
    const b = await clientFor('project-b');
    expect((await failure(b.updateImage({ imageId: img.id, addTags: ['mine'] }))).code).toBe('NOT_FOUND');
    const anon = createServiceClient(pb.ImageServiceService, server.address, {});
    clients.push(anon);
    expect((await failure(anon.updateImage({ imageId: img.id, addTags: ['anon'] }))).code).toBe('UNAUTHENTICATED');
    expect(await failure(a.updateImage({ imageId: img.id, addTags: ['x'.repeat(256)] }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'add_tags' });
    expect(await failure(a.updateImage({ imageId: img.id, addTags: Array.from({ length: 128 }, (_, i) => `t${i}`) }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'add_tags' });
    expect(await failure(a.createImage({ name: 'bad', tags: [''] }))).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'tags' });
    expect((await a.getImage({ imageId: img.id })).image!.tags).toEqual(['golden']);
  });

  it('pages the image list oldest first', async () => {
    const a = await clientFor('project-a');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await a.createImage({ name: `img-${i}` })).image!.id);
    const seen: string[] = [];
    let pageToken = '';
    do {
      const res = await a.listImages({ page: { pageSize: 2, pageToken } });
      expect(res.images.length).toBeLessThanOrEqual(2);
      seen.push(...res.images.map((i) => i.id));
      pageToken = res.page?.nextPageToken ?? '';
    } while (pageToken);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(5);
    expect((await a.listImages({ name: 'img-3' })).images.map((i) => i.id)).toEqual([ids[3]]);
  });
});
