/**
 * Tenant isolation matrix: on one cloud, project A owns one resource of every type of
 * every service; a member of project B can neither list, show, change nor use any of them (another
 * project's resource is NOT_FOUND, as OpenStack answers), while admin can see them all.
 */
import { identity, volume } from '@minicloud/proto';
import { NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { createServiceClient } from '@minicloud/platform-grpc';
import { startCloud, type RunningCloud } from './cloud-harness';
import { serviceClients, type Clients } from './service-clients';

jest.setTimeout(120_000);

/** Expects another project's resource to be invisible: NOT_FOUND, never PERMISSION_DENIED or success. */
async function notFound(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err) => err,
  );
  if (!(e instanceof NotFoundError)) throw new Error(`expected NOT_FOUND, got ${e ? `${e.constructor?.name}: ${e.message}` : 'success'}`);
}

describe('tenant isolation', () => {
  let cloud: RunningCloud;
  const all: { close(): void }[] = [];
  let admin: Clients;
  let a: Clients;
  let b: Clients;
  let tinyFlavor = '';
  let bNetwork = '';
  const A = { project: '', user: '', image: '', network: '', subnet: '', port: '', sg: '', volume: '', snapshot: '', server: '', flavor: '', appCred: '' };

  const clientsFor = (endpoints: Map<string, string>, token: string): Clients => serviceClients(endpoints, token, all);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2 });
    const anon = createServiceClient(identity.IdentityServiceService, cloud.manifest.identity_url);
    all.push(anon);
    const login = async (userName: string, password: string, projectName = '') =>
      anon.authenticate({ password: { userName, password, domainName: 'default' }, projectName });
    const adminLogin = await login(cloud.manifest.admin.user, cloud.manifest.admin.password, cloud.manifest.admin.project);
    const endpoints = new Map(adminLogin.catalog.map((e) => [e.serviceType, e.url]));
    admin = clientsFor(endpoints, adminLogin.token);
    const tokens: Record<string, string> = {};
    for (const p of ['tenant-a', 'tenant-b']) {
      const project = (await admin.id.createProject({ name: p })).project!;
      const user = (await admin.id.createUser({ name: `${p}-user`, password: `pw-${p}`, defaultProjectId: project.id })).user!;
      await admin.id.assignRole({ assignment: { roleName: 'member', userId: user.id, projectId: project.id } });
      tokens[p] = (await login(`${p}-user`, `pw-${p}`)).token;
      if (p === 'tenant-a') Object.assign(A, { project: project.id, user: user.id });
    }
    a = clientsFor(endpoints, tokens['tenant-a']);
    b = clientsFor(endpoints, tokens['tenant-b']);

    // admin: a public flavor to boot with and a private one
    const tiny = (await admin.cmp.createFlavor({ name: 'iso.tiny', vcpus: 1, ramMb: 256, diskGb: 1, isPublic: true })).flavor!;
    tinyFlavor = tiny.id;
    A.flavor = (await admin.cmp.createFlavor({ name: 'iso.private', vcpus: 1, ramMb: 256, diskGb: 1, isPublic: false })).flavor!.id;
    // project A: one of everything
    A.image = (await a.img.createImage({ name: 'a-private', diskFormat: 'raw', containerFormat: 'bare' })).image!.id;
    await a.img.uploadImage([{ imageId: A.image }, { chunk: Buffer.alloc(1024 * 1024) }]);
    A.network = (await a.net.createNetwork({ name: 'a-net' })).network!.id;
    A.subnet = (await a.net.createSubnet({ networkId: A.network, cidr: '10.77.0.0/24', ipVersion: 4 })).subnet!.id;
    A.port = (await a.net.createPort({ networkId: A.network, name: 'a-port' })).port!.id;
    A.sg = (await a.net.createSecurityGroup({ name: 'a-sg' })).securityGroup!.id;
    A.volume = (await a.vol.createVolume({ name: 'a-vol', sizeGb: 1 })).volume!.id;
    for (let i = 0; i < 100 && (await a.vol.getVolume({ volumeId: A.volume })).volume?.status !== volume.VolumeStatus.VOLUME_STATUS_AVAILABLE; i++) {
      await new Promise((r) => setTimeout(r, 100)); // volume creation is asynchronous (real service, real time)
    }
    A.snapshot = (await a.vol.createSnapshot({ volumeId: A.volume, name: 'a-snap' })).snapshot!.id;
    A.server = (await a.cmp.createServer({ name: 'a-vm', flavorRef: tiny.id, imageRef: A.image, networks: [{ networkId: A.network }] })).servers[0].id;
    A.appCred = (await a.id.createApplicationCredential({ name: 'a-ci', roles: ['reader'] })).credential!.id;
    // project B: only a network of its own to boot on
    bNetwork = (await b.net.createNetwork({ name: 'b-net' })).network!.id;
    await b.net.createSubnet({ networkId: bNetwork, cidr: '10.88.0.0/24', ipVersion: 4 });
  });

  afterAll(async () => {
    all.forEach((c) => c.close());
    await cloud?.stop();
  });

  it('images: B cannot list, show, change, download, share or boot A private image; admin can', async () => {
    expect((await b.img.listImages({})).images.map((i) => i.id)).not.toContain(A.image);
    await notFound(b.img.getImage({ imageId: A.image }));
    await notFound(b.img.updateImage({ imageId: A.image, name: 'stolen' }));
    await notFound(b.img.deleteImage({ imageId: A.image }));
    await notFound(b.img.addImageMember({ imageId: A.image, memberProjectId: 'x' }));
    await notFound(b.img.listImageMembers({ imageId: A.image }));
    const download = async () => {
      for await (const _ of b.img.downloadImage({ imageId: A.image })) void _;
    };
    await notFound(download());
    await notFound(b.cmp.createServer({ name: 'b-vm', flavorRef: tinyFlavor, imageRef: A.image, networks: [{ networkId: bNetwork }] }));
    expect((await admin.img.getImage({ imageId: A.image })).image?.ownerProjectId).toBe(A.project);
    expect((await a.img.getImage({ imageId: A.image })).image?.name).toBe('a-private');
  });

  it('networks, subnets, ports, security groups: invisible to B, and B cannot put a port on A network', async () => {
    expect((await b.net.listNetworks({})).networks.map((n) => n.id)).not.toContain(A.network);
    expect((await b.net.listSubnets({})).subnets.map((s) => s.id)).not.toContain(A.subnet);
    expect((await b.net.listPorts({})).ports.map((p) => p.id)).not.toContain(A.port);
    expect((await b.net.listSecurityGroups({})).securityGroups.map((s) => s.id)).not.toContain(A.sg);
    await notFound(b.net.getNetwork({ networkId: A.network }));
    await notFound(b.net.updateNetwork({ networkId: A.network, name: 'stolen' }));
    await notFound(b.net.deleteNetwork({ networkId: A.network }));
    await notFound(b.net.getSubnet({ subnetId: A.subnet }));
    await notFound(b.net.deleteSubnet({ subnetId: A.subnet }));
    await notFound(b.net.createSubnet({ networkId: A.network, cidr: '10.78.0.0/24', ipVersion: 4 }));
    await notFound(b.net.getPort({ portId: A.port }));
    await notFound(b.net.updatePort({ portId: A.port, name: 'stolen' }));
    await notFound(b.net.deletePort({ portId: A.port }));
    await notFound(b.net.createPort({ networkId: A.network, name: 'intruder' }));
    await notFound(b.net.getSecurityGroup({ securityGroupId: A.sg }));
    await notFound(b.net.deleteSecurityGroup({ securityGroupId: A.sg }));
    await notFound(b.cmp.createServer({ name: 'b-vm', flavorRef: tinyFlavor, imageRef: A.image, networks: [{ networkId: A.network }] }));
    expect((await admin.net.getNetwork({ networkId: A.network })).network?.id).toBe(A.network);
    expect((await admin.net.getPort({ portId: A.port })).port?.id).toBe(A.port);
  });

  it('volumes and snapshots: invisible to B, and B cannot attach A volume; admin can see them', async () => {
    expect((await b.vol.listVolumes({})).volumes.map((v) => v.id)).not.toContain(A.volume);
    expect((await b.vol.listSnapshots({})).snapshots.map((s) => s.id)).not.toContain(A.snapshot);
    await notFound(b.vol.getVolume({ volumeId: A.volume }));
    await notFound(b.vol.extendVolume({ volumeId: A.volume, newSizeGb: 2 }));
    await notFound(b.vol.deleteVolume({ volumeId: A.volume }));
    await notFound(b.vol.createSnapshot({ volumeId: A.volume, name: 'stolen' }));
    await notFound(b.vol.createVolume({ name: 'clone', sizeGb: 1, sourceVolumeId: A.volume }));
    await notFound(b.vol.getSnapshot({ snapshotId: A.snapshot }));
    await notFound(b.vol.deleteSnapshot({ snapshotId: A.snapshot }));
    await notFound(b.vol.createAttachment({ volumeId: A.volume, instanceId: 'b-instance' }));
    expect((await admin.vol.getVolume({ volumeId: A.volume })).volume?.id).toBe(A.volume);
    expect((await admin.vol.getSnapshot({ snapshotId: A.snapshot })).snapshot?.id).toBe(A.snapshot);
  });

  it('servers and private flavors: invisible to B; admin sees all projects', async () => {
    expect((await b.cmp.listServers({})).servers.map((s) => s.id)).not.toContain(A.server);
    expect((await b.cmp.listServers({ allProjects: true })).servers.map((s) => s.id)).not.toContain(A.server);
    await notFound(b.cmp.getServer({ serverId: A.server }));
    await notFound(b.cmp.updateServer({ serverId: A.server, name: 'stolen' }));
    await notFound(b.cmp.serverAction({ serverId: A.server, stop: {} }));
    await notFound(b.cmp.deleteServer({ serverId: A.server }));
    await notFound(b.cmp.listInstanceActions({ serverId: A.server }));
    await notFound(b.cmp.getFlavor({ flavorRef: A.flavor }));
    expect((await b.cmp.listFlavors({})).flavors.map((f) => f.id)).not.toContain(A.flavor);
    expect((await admin.cmp.listServers({ allProjects: true })).servers.map((s) => s.id)).toContain(A.server);
    expect((await admin.cmp.getFlavor({ flavorRef: A.flavor })).flavor?.id).toBe(A.flavor);
  });

  it('projects, users, app credentials, quotas: B sees only its own; admin everything', async () => {
    expect((await b.id.listProjects({})).projects.map((p) => p.id)).not.toContain(A.project);
    expect((await b.id.listUsers({})).users.map((u) => u.id)).not.toContain(A.user);
    await notFound(b.id.getProject({ projectId: A.project }));
    await notFound(b.id.getUser({ userId: A.user }));
    expect((await b.id.listApplicationCredentials({})).credentials.map((c) => c.id)).not.toContain(A.appCred);
    await notFound(b.id.deleteApplicationCredential({ id: A.appCred }));
    await expect(b.id.getQuota({ projectId: A.project })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(b.id.reserveQuota({ projectId: A.project, deltas: { instances: 1 } })).rejects.toBeInstanceOf(PermissionDeniedError);
    expect((await admin.id.listProjects({})).projects.map((p) => p.id)).toContain(A.project);
    expect((await admin.id.getUser({ userId: A.user })).user?.id).toBe(A.user);
    expect((await a.id.listApplicationCredentials({})).credentials.map((c) => c.id)).toContain(A.appCred);
  });
});
