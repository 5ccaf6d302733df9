/**
 * Volume attach/detach end to end: a real cloud (identity, image, volume, network,
 * controller, two agents: admission control needs a spare host); a project's server gets a volume attached (volume in-use, server shows it,
 * the agent's VM has the disk) and detached (available); another project's server cannot attach it
 * (NOT_FOUND); deleting a server with a volume attached frees the volume (available, kept). The
 * `minicloud server add|remove volume` commands are run once through the CLI.
 */
import { compute, identity, image, network, volume } from '@minicloud/proto';
import { NotFoundError } from '@minicloud/domain-errors';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { startCloud, type RunningCloud } from './cloud-harness';

jest.setTimeout(90_000);

const VS = volume.VolumeStatus;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('volume attach/detach through controller and agent', () => {
  let cloud: RunningCloud;
  const all: { close(): void }[] = [];
  let vol: ServiceClient<typeof volume.VolumeServiceService>;
  let cmp: ServiceClient<typeof compute.ComputeServiceService>;
  let bCmp: ServiceClient<typeof compute.ComputeServiceService>;
  let flavorId = '';
  let imageId = '';
  let networkId = '';
  let bNetworkId = '';

  const until = async <T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await read();
      if (ok(v)) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
      await sleep(100);
    }
  };
  const volStatus = (id: string) => until(`volume ${id}`, async () => (await vol.getVolume({ volumeId: id })).volume!.status, () => true);
  const newVolume = async (name: string) => {
    const id = (await vol.createVolume({ name, sizeGb: 1 })).volume!.id;
    await until(`volume ${id} available`, () => volStatus(id), (s) => s === VS.VOLUME_STATUS_AVAILABLE);
    return id;
  };
  const boot = async (c: typeof cmp, name: string, net: string) => {
    const id = (await c.createServer({ name, flavorRef: flavorId, imageRef: imageId, networks: [{ networkId: net }] })).servers[0].id;
    await until(`server ${id} ACTIVE`, async () => (await c.getServer({ serverId: id })).server!.status, (s) => s === 'ACTIVE' || s === 'ERROR');
    expect((await c.getServer({ serverId: id })).server!.status).toBe('ACTIVE');
    return id;
  };

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2 });
    const anon = createServiceClient(identity.IdentityServiceService, cloud.manifest.identity_url);
    all.push(anon);
    const login = async (userName: string, password: string, projectName = '') => anon.authenticate({ password: { userName, password, domainName: 'default' }, projectName });
    const adm = await login(cloud.manifest.admin.user, cloud.manifest.admin.password, cloud.manifest.admin.project);
    const ep = new Map(adm.catalog.map((e) => [e.serviceType, e.url]));
    const o = (token: string) => ({ token: () => token, deadlineMs: 20_000 });
    const adminId = createServiceClient(identity.IdentityServiceService, ep.get('identity')!, o(adm.token));
    const adminCmp = createServiceClient(compute.ComputeServiceService, ep.get('compute')!, o(adm.token));
    all.push(adminId, adminCmp);
    const tokens: Record<string, string> = {};
    for (const p of ['vol-a', 'vol-b']) {
      const project = (await adminId.createProject({ name: p })).project!;
      const user = (await adminId.createUser({ name: `${p}-user`, password: `pw-${p}`, defaultProjectId: project.id })).user!;
      await adminId.assignRole({ assignment: { roleName: 'member', userId: user.id, projectId: project.id } });
      tokens[p] = (await login(`${p}-user`, `pw-${p}`)).token;
    }
    flavorId = (await adminCmp.createFlavor({ name: 'vol.tiny', vcpus: 1, ramMb: 256, diskGb: 1, isPublic: true })).flavor!.id;
    const img = createServiceClient(image.ImageServiceService, ep.get('image')!, o(adm.token));
    const net = createServiceClient(network.NetworkServiceService, ep.get('network')!, o(tokens['vol-a']));
    const bNet = createServiceClient(network.NetworkServiceService, ep.get('network')!, o(tokens['vol-b']));
    vol = createServiceClient(volume.VolumeServiceService, ep.get('volume')!, o(tokens['vol-a']));
    cmp = createServiceClient(compute.ComputeServiceService, ep.get('compute')!, o(tokens['vol-a']));
    bCmp = createServiceClient(compute.ComputeServiceService, ep.get('compute')!, o(tokens['vol-b']));
    all.push(img, net, bNet, vol, cmp, bCmp);
    imageId = (await img.createImage({ name: 'vol-img', diskFormat: 'raw', containerFormat: 'bare', visibility: image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC })).image!.id;
    await img.uploadImage([{ imageId }, { chunk: Buffer.alloc(1024 * 1024) }]);
    networkId = (await net.createNetwork({ name: 'vol-net' })).network!.id;
    await net.createSubnet({ networkId, cidr: '10.91.0.0/24', ipVersion: 4 });
    bNetworkId = (await bNet.createNetwork({ name: 'vol-b-net' })).network!.id;
    await bNet.createSubnet({ networkId: bNetworkId, cidr: '10.92.0.0/24', ipVersion: 4 });
  });

  afterAll(async () => {
    all.forEach((c) => c.close());
    await cloud?.stop();
  });

  it('attach -> in-use and shown on the server; detach -> available; another project cannot attach it', async () => {
    const server = await boot(cmp, 'vol-vm', networkId);
    const v = await newVolume('data');
    const res = await cmp.serverAction({ serverId: server, attachVolume: { volumeId: v } });
    expect(res.server!.volumesAttached).toEqual([expect.objectContaining({ volumeId: v, deviceName: '/dev/vdb' })]);
    expect(await volStatus(v)).toBe(VS.VOLUME_STATUS_IN_USE);
    const attachments = (await vol.getVolume({ volumeId: v })).volume!.attachments;
    expect(attachments).toEqual([expect.objectContaining({ instanceId: server, mountpoint: '/dev/vdb', id: res.server!.volumesAttached[0].attachmentId })]);
    expect((await cmp.getServer({ serverId: server })).server!.volumesAttached.map((x) => x.volumeId)).toEqual([v]);

    await cmp.serverAction({ serverId: server, detachVolume: { volumeId: v } });
    expect(await volStatus(v)).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect((await cmp.getServer({ serverId: server })).server!.volumesAttached).toEqual([]);

    const bServer = await boot(bCmp, 'vol-b-vm', bNetworkId);
    await expect(bCmp.serverAction({ serverId: bServer, attachVolume: { volumeId: v } })).rejects.toBeInstanceOf(NotFoundError);
    expect(await volStatus(v)).toBe(VS.VOLUME_STATUS_AVAILABLE);
  });

  it('the CLI attaches and detaches; deleting a server with a volume attached leaves the volume available', async () => {
    const server = await boot(cmp, 'vol-vm-2', networkId);
    const v = await newVolume('logs');
    const add = await cloud.cli(['server', 'add', 'volume', server, v, '--device', '/dev/vdc', '-f', 'json']);
    expect(add.stderr).toBe('');
    expect(JSON.parse(add.stdout)).toMatchObject({ server_id: server, volume_id: v, device: '/dev/vdc' });
    expect(await volStatus(v)).toBe(VS.VOLUME_STATUS_IN_USE);
    const remove = await cloud.cli(['server', 'remove', 'volume', server, v]);
    expect(remove.code).toBe(0);
    expect(await volStatus(v)).toBe(VS.VOLUME_STATUS_AVAILABLE);

    await cmp.serverAction({ serverId: server, attachVolume: { volumeId: v } });
    expect(await volStatus(v)).toBe(VS.VOLUME_STATUS_IN_USE);
    await cmp.deleteServer({ serverId: server });
    await until(`volume ${v} available after server delete`, () => volStatus(v), (s) => s === VS.VOLUME_STATUS_AVAILABLE);
    expect((await vol.getVolume({ volumeId: v })).volume!.attachments).toEqual([]);
  });
});
