/**
 * Glance's and Cinder's writes through the OpenStack REST front on a real cloud, driven by Debian's
 * unchanged `openstack` CLI: a real qcow2 (made with qemu-img) uploaded, shown, saved byte for byte,
 * given a property and a tag (and the tag taken away), deleted; a volume created, listed, shown,
 * renamed, given and stripped of a property, snapshotted and cloned from the snapshot, one made from
 * an image, and all deleted; a volume's description, bootable and read-only flags, a snapshot's
 * name, description and properties set, the volume uploaded to an image; an `ami` image created
 * and uploaded.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { waitFor } from '@minicloud/testing';
import { startCloud, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(180_000);

describe('Glance and Cinder writes with the openstack CLI', () => {
  let cloud: RunningCloud;
  let yaml = '';
  let api = '';
  let dir = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);
  /** A volume's (or snapshot's) status as `openstack ... show` reports it, polled until `want`. */
  const until = async (kind: 'volume' | 'volume snapshot', ref: string, want: string) =>
    waitFor(async () => (await demoJson<{ status: string }>([...kind.split(' '), 'show', ref])).status === want, { timeoutMs: 30_000, intervalMs: 300, message: `${kind} ${ref} not ${want}` });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osstore-e2e-'));
    cloud = await startCloud({ agents: 1, demo: true, extraArgs: ['--demo-servers', '0'] });
    yaml = cloud.manifest.clouds_yaml!;
    api = cloud.manifest.openstack_api_url!;
  });
  afterAll(async () => {
    await cloud?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('image: create --file a real qcow2, show (active, checksum), save (same bytes), set --property, set/unset --tag, delete', async () => {
    const file = path.join(dir, 'disk.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '64M']);
    const bytes = fs.readFileSync(file);
    const md5 = createHash('md5').update(bytes).digest('hex');

    const created = await demoJson<{ id: string; status: string }>(['image', 'create', '--file', file, '--disk-format', 'qcow2', '--container-format', 'bare', 'os-disk']);
    const shown = await demoJson<{ id: string; status: string; checksum: string; size: number; disk_format: string }>(['image', 'show', 'os-disk']);
    expect(shown).toMatchObject({ id: created.id, status: 'active', checksum: md5, size: bytes.length, disk_format: 'qcow2' });

    const out = path.join(dir, 'saved.qcow2');
    expect((await demo(['image', 'save', '--file', out, 'os-disk'])).code).toBe(0);
    expect(fs.readFileSync(out).equals(bytes)).toBe(true);

    expect((await demo(['image', 'set', '--property', 'os_distro=cirros', '--min-ram', '128', 'os-disk'])).code).toBe(0);
    const changed = await demoJson<{ properties: Record<string, unknown>; min_ram: number }>(['image', 'show', 'os-disk']);
    expect(changed.properties).toMatchObject({ os_distro: 'cirros' });
    expect(changed.min_ram).toBe(128);
    expect((await demo(['image', 'set', '--tag', 'golden', 'os-disk'])).code).toBe(0);
    expect((await demoJson<{ tags: unknown }>(['image', 'show', 'os-disk'])).tags).toEqual(expect.arrayContaining(['golden']));
    expect((await demo(['image', 'unset', '--tag', 'golden', 'os-disk'])).code).toBe(0);
    expect((await demoJson<{ tags: unknown }>(['image', 'show', 'os-disk'])).tags).not.toEqual(expect.arrayContaining(['golden']));

    expect((await demo(['image', 'delete', 'os-disk'])).code).toBe(0);
    expect((await demoJson<{ ID: string }[]>(['image', 'list'])).map((i) => i.ID)).not.toContain(created.id);
  });

  it('volume: create --size 1, list, show, set --name/--property, unset --property, snapshot, create --snapshot, create --image (bootable), delete; no token is 401', async () => {
    const vol = await demoJson<{ id: string; size: number }>(['volume', 'create', '--size', '1', 'os-vol']);
    expect(vol.size).toBe(1);
    await until('volume', 'os-vol', 'available');
    expect(await demoJson<{ ID: string; Name: string; Size: number }[]>(['volume', 'list'])).toContainEqual(expect.objectContaining({ ID: vol.id, Name: 'os-vol', Size: 1 }));
    expect(await demoJson(['volume', 'show', 'os-vol'])).toMatchObject({ id: vol.id, name: 'os-vol', status: 'available', bootable: 'false' });

    expect((await demo(['volume', 'set', '--name', 'os-vol-2', '--property', 'tier=gold', 'os-vol'])).code).toBe(0);
    expect(await demoJson(['volume', 'show', vol.id])).toMatchObject({ name: 'os-vol-2', properties: expect.objectContaining({ tier: 'gold' }) });
    expect((await demo(['volume', 'unset', '--property', 'tier', 'os-vol-2'])).code).toBe(0);
    expect((await demoJson<{ properties: unknown }>(['volume', 'show', 'os-vol-2'])).properties).not.toHaveProperty('tier');
    expect((await demo(['volume', 'set', '--name', 'os-vol', 'os-vol-2'])).code).toBe(0);

    const snap = await demoJson<{ id: string }>(['volume', 'snapshot', 'create', '--volume', 'os-vol', 'os-snap']);
    await until('volume snapshot', 'os-snap', 'available');
    const clone = await demoJson<{ id: string; size: number; snapshot_id: string }>(['volume', 'create', '--snapshot', 'os-snap', 'os-clone']);
    expect(clone).toMatchObject({ size: 1, snapshot_id: snap.id });
    await until('volume', 'os-clone', 'available');

    const boot = await demoJson<{ id: string }>(['volume', 'create', '--image', 'cirros', '--size', '1', 'os-boot']);
    await until('volume', 'os-boot', 'available');
    expect(await demoJson(['volume', 'show', 'os-boot'])).toMatchObject({ id: boot.id, bootable: 'true' });

    expect((await demo(['volume', 'delete', 'os-boot'])).code).toBe(0);
    expect((await demo(['volume', 'delete', 'os-clone'])).code).toBe(0);
    expect((await demo(['volume', 'snapshot', 'delete', 'os-snap'])).code).toBe(0);
    expect((await demo(['volume', 'delete', 'os-vol'])).code).toBe(0);
    await waitFor(async () => (await demoJson<unknown[]>(['volume', 'list'])).length === 0, { timeoutMs: 30_000, intervalMs: 300, message: 'volumes left behind' });
    await waitFor(async () => (await demoJson<unknown[]>(['volume', 'snapshot', 'list'])).length === 0, { timeoutMs: 30_000, intervalMs: 300, message: 'snapshots left behind' });

    const noToken = await fetch(`${api}/volume/v3/any/volumes`);
    expect(noToken.status).toBe(401);
  });

  it('volume create --description, set --bootable/--read-only, snapshot set, image create --volume; image create --disk-format ami', async () => {
    await demoJson(['volume', 'create', '--size', '1', '--description', 'scratch space', 'os-desc']);
    await until('volume', 'os-desc', 'available');
    expect(await demoJson(['volume', 'show', 'os-desc'])).toMatchObject({ description: 'scratch space', bootable: 'false' });
    expect((await demo(['volume', 'set', '--description', 'logs', '--bootable', '--read-only', 'os-desc'])).code).toBe(0);
    const flagged = await demoJson<{ description: string; bootable: string; properties: Record<string, string> }>(['volume', 'show', 'os-desc']);
    expect(flagged).toMatchObject({ description: 'logs', bootable: 'true' });
    expect(flagged.properties).toMatchObject({ readonly: 'True' });
    expect((await demo(['volume', 'set', '--non-bootable', '--read-write', 'os-desc'])).code).toBe(0);
    expect(await demoJson(['volume', 'show', 'os-desc'])).toMatchObject({ bootable: 'false', properties: expect.objectContaining({ readonly: 'False' }) });

    await demoJson(['volume', 'snapshot', 'create', '--volume', 'os-desc', '--description', 'before', 'os-desc-snap']);
    await until('volume snapshot', 'os-desc-snap', 'available');
    expect((await demo(['volume', 'snapshot', 'set', '--name', 'os-desc-snap2', '--description', 'after', '--property', 'k=v', 'os-desc-snap'])).code).toBe(0);
    expect(await demoJson(['volume', 'snapshot', 'show', 'os-desc-snap2'])).toMatchObject({ name: 'os-desc-snap2', description: 'after', properties: expect.objectContaining({ k: 'v' }) });
    expect((await demo(['volume', 'snapshot', 'delete', 'os-desc-snap2'])).code).toBe(0);

    // Cinder answers once the image is queued; the volume is uploading until the bytes are in
    const uploaded = await demoJson<{ image_id: string; status: string }>(['image', 'create', '--volume', 'os-desc', '--disk-format', 'raw', '--container-format', 'bare', 'os-from-volume']);
    expect(uploaded.status).toBe('uploading');
    await waitFor(async () => (await demoJson<{ status: string }>(['image', 'show', uploaded.image_id])).status === 'active', { timeoutMs: 120_000, intervalMs: 1000, message: 'image from the volume not active' });
    expect(await demoJson(['image', 'show', uploaded.image_id])).toMatchObject({ name: 'os-from-volume', disk_format: 'raw', size: 1024 ** 3 });
    await until('volume', 'os-desc', 'available');
    expect((await demo(['image', 'delete', uploaded.image_id])).code).toBe(0);
    expect((await demo(['volume', 'delete', 'os-desc'])).code).toBe(0);

    // Glance does not inspect Amazon kernel/ramdisk/machine images: the declared format stays
    const kernel = path.join(dir, 'vmlinuz');
    fs.writeFileSync(kernel, Buffer.alloc(4096, 1));
    await demoJson(['image', 'create', '--file', kernel, '--disk-format', 'aki', '--container-format', 'aki', 'os-kernel']);
    expect(await demoJson(['image', 'show', 'os-kernel'])).toMatchObject({ status: 'active', disk_format: 'aki', container_format: 'aki', size: 4096 });
    expect((await demo(['image', 'delete', 'os-kernel'])).code).toBe(0);
  });
});
