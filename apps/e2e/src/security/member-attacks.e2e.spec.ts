/**
 * Attacks an ordinary project member can make with its own token against a real cloud, each run as
 * the attacker would (gRPC clients with the member's token, as the CLI uses), each asserting the
 * refusal (status) and that nothing changed (state read before and after). The controls they prove
 * are listed in docs/security.md.
 */
import { compute, identity, image, volume } from '@minicloud/proto';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { startCloud, type RunningCloud } from '../cloud-harness';
import { serviceClients, type Clients } from '../service-clients';

jest.setTimeout(120_000);

/** The gRPC status code name a call fails with ('OK' when it succeeds). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'OK',
    (e: { code?: string }) => e.code ?? String(e),
  );
}

describe('security: attacks by a project member', () => {
  let cloud: RunningCloud;
  const all: { close(): void }[] = [];
  let anon: ServiceClient<typeof identity.IdentityServiceService>;
  let admin: Clients;
  let mal: Clients;
  let project = '';
  let flavor = '';
  let img = '';
  let net = '';
  let extNet = '';
  let endpoints: Map<string, string>;

  const login = (userName: string, password: string, projectName = '') => anon.authenticate({ password: { userName, password, domainName: 'default' }, projectName });
  const clientsFor = (token: string): Clients => serviceClients(endpoints, token, all);
  const quota = async () => (await admin.id.getQuota({ projectId: project })).quota;
  /** Polls the server (real cloud, real time) until it leaves BUILDING. */
  const settled = async (serverId: string) => {
    for (let i = 0; i < 600; i++) {
      const s = (await admin.cmp.getServer({ serverId })).server!;
      if (s.vmState === compute.VmState.VM_STATE_ACTIVE || s.vmState === compute.VmState.VM_STATE_ERROR) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`server ${serverId} did not settle`);
  };

  beforeAll(async () => {
    cloud = await startCloud({ agents: 1, env: { HA_HOST_FAILURES_TO_TOLERATE: '0' } });
    anon = createServiceClient(identity.IdentityServiceService, cloud.manifest.identity_url);
    all.push(anon);
    const adminLogin = await login(cloud.manifest.admin.user, cloud.manifest.admin.password, cloud.manifest.admin.project);
    endpoints = new Map(adminLogin.catalog.map((e) => [e.serviceType, e.url]));
    admin = clientsFor(adminLogin.token);
    project = (await admin.id.createProject({ name: 'mallory-project' })).project!.id;
    for (const name of ['mallory', 'trent']) {
      const user = (await admin.id.createUser({ name, password: `pw-${name}-1`, defaultProjectId: project })).user!;
      await admin.id.assignRole({ assignment: { roleName: 'member', userId: user.id, projectId: project } });
    }
    mal = clientsFor((await login('mallory', 'pw-mallory-1')).token);
    flavor = (await admin.cmp.createFlavor({ name: 'sec.tiny', vcpus: 1, ramMb: 256, diskGb: 1, isPublic: true })).flavor!.id;
    img = (await admin.img.createImage({ name: 'sec-img', diskFormat: 'raw', containerFormat: 'bare', visibility: image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC })).image!.id;
    await admin.img.uploadImage([{ imageId: img }, { chunk: Buffer.alloc(64 * 1024) }]);
    net = (await mal.net.createNetwork({ name: 'mal-net' })).network!.id;
    await mal.net.createSubnet({ networkId: net, cidr: '10.66.0.0/24', ipVersion: 4 });
    extNet = (await admin.net.createNetwork({ name: 'public', routerExternal: true })).network!.id;
    await admin.net.createSubnet({ networkId: extNet, cidr: '203.0.113.0/24', ipVersion: 4 });
  });

  afterAll(async () => {
    all.forEach((c) => c.close());
    await cloud?.stop();
  });

  it('workload trace by path (trace:/etc/shadow, trace:/dev/zero): a member may not set workload metadata; an admin\'s path is refused by the agent without reading the file', async () => {
    for (const trace of ['trace:/etc/shadow', 'trace:/dev/zero', 'trace:20110303/../../../../etc/passwd']) {
      const failure = await mal.cmp
        .createServer({ name: 'probe', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }], metadata: { 'minicloud:workload': trace } })
        .then(() => undefined, (e: { code?: string; message?: string }) => e);
      expect(`${failure?.code}: ${failure?.message}`).toMatch(/^PERMISSION_DENIED: .*minicloud:workload/);
      // Even an operator cannot make the agent read a path: the agent takes trace names only.
      const byAdmin = (await admin.cmp.createServer({ name: 'probe-admin', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }], metadata: { 'minicloud:workload': trace } })).servers[0].id;
      const s = await settled(byAdmin);
      expect(s.vmState).toBe(compute.VmState.VM_STATE_ERROR);
      expect(s.fault?.message).toMatch(/not a path/);
      expect(s.fault?.message).not.toMatch(/lines|bytes|ENOENT|EACCES|no such file/i); // no existence or size oracle
    }
    // the agent is not hung: an ordinary server still boots on it
    const ok = (await mal.cmp.createServer({ name: 'plain', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }] })).servers[0].id;
    expect((await settled(ok)).vmState).toBe(compute.VmState.VM_STATE_ACTIVE);
  });

  it("quota: a member's ReleaseQuota / Reserve / Commit / Rollback are refused and usage is unchanged", async () => {
    const r = await admin.id.reserveQuota({ projectId: project, deltas: { instances: 1, cores: 1 } });
    const before = await quota();
    expect(before?.inUse.instances).toBeGreaterThan(0);
    expect(await codeOf(mal.id.releaseQuota({ projectId: project, deltas: { instances: 50, cores: 50, ram_mb: 50_000 } }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.id.releaseQuota({ deltas: { instances: 50 } }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.id.reserveQuota({ deltas: { instances: -5 } }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.id.rollbackQuotaReservation({ reservationId: r.reservationId }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.id.commitQuotaReservation({ reservationId: r.reservationId }))).toBe('PERMISSION_DENIED');
    expect(await quota()).toEqual(before);
    await admin.id.rollbackQuotaReservation({ reservationId: r.reservationId });
  });

  it("network: a member cannot share a network, put a port or an address on the external network, claim a service's device owner or learn host ids", async () => {
    const networks = async () => (await admin.net.listNetworks({})).networks.map((n) => `${n.id}:${n.shared}`).sort();
    const ports = async () => (await admin.net.listPorts({})).ports.map((p) => p.id).sort();
    const [netsBefore, portsBefore] = [await networks(), await ports()];
    expect(await codeOf(mal.net.createNetwork({ name: 'everyone', shared: true }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.updateNetwork({ networkId: net, shared: true }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.createNetwork({ name: 'ext2', routerExternal: true }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.createNetwork({ name: 'vni', segmentationId: 4242 }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.createPort({ networkId: extNet }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.createPort({ networkId: extNet, fixedIps: [{ ipAddress: '203.0.113.10' }] }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.createPort({ networkId: net, deviceOwner: 'network:router_gateway' }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.net.bindPort({ portId: 'x', hostId: 'h', deviceId: 'd', deviceOwner: 'compute:nova' }))).toBe('PERMISSION_DENIED');
    // Nor through a server, whose ports the controller makes with its own rights (Nova's network:attach_external_network)
    const servers = async () => (await admin.cmp.listServers({ allProjects: true })).servers.map((x) => x.id).sort();
    const serversBefore = await servers();
    expect(await codeOf(mal.cmp.createServer({ name: 'on-ext', flavorRef: flavor, imageRef: img, networks: [{ networkId: extNet }] }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(mal.cmp.createServer({ name: 'on-ext-ip', flavorRef: flavor, imageRef: img, networks: [{ networkId: extNet, fixedIp: '203.0.113.11' }] }))).toBe('PERMISSION_DENIED');
    expect(await servers()).toEqual(serversBefore);
    expect(await networks()).toEqual(netsBefore);
    expect(await ports()).toEqual(portsBefore);
    const bound = (await admin.net.listPorts({})).ports.find((p) => p.bindingHostId && p.projectId === project);
    expect(bound).toBeDefined();
    expect((await mal.net.getPort({ portId: bound!.id })).port?.bindingHostId).toBe('');
  });

  it('volume quotas: volumes and gigabytes are counted, a create or extend over them is refused, and a delete gives them back', async () => {
    const usage = async () => {
      const q = (await quota())!;
      return { volumes: Number(q.inUse.volumes ?? 0), gigabytes: Number(q.inUse.gigabytes ?? 0), reserved: Number(q.reserved.volumes ?? 0) + Number(q.reserved.gigabytes ?? 0) };
    };
    const volumeIds = async () => (await admin.vol.listVolumes({})).volumes.map((v) => v.id).sort();
    const available = async (id: string) => {
      for (let i = 0; i < 300 && (await mal.vol.getVolume({ volumeId: id })).volume!.status !== volume.VolumeStatus.VOLUME_STATUS_AVAILABLE; i++) await new Promise((r) => setTimeout(r, 50));
    };
    await admin.id.setQuota({ projectId: project, limits: { volumes: 2, gigabytes: 3 } });
    try {
      const before = await usage();
      const first = (await mal.vol.createVolume({ name: 'q-1', sizeGb: 2 })).volume!.id;
      expect(await usage()).toEqual({ volumes: before.volumes + 1, gigabytes: before.gigabytes + 2, reserved: 0 });
      const ids = await volumeIds();
      // 2 + 2 GB > 3: refused on gigabytes though a volume is left; nothing is made or held
      expect(await codeOf(mal.vol.createVolume({ name: 'q-big', sizeGb: 2 }))).toBe('RESOURCE_EXHAUSTED');
      await available(first);
      expect(await codeOf(mal.vol.extendVolume({ volumeId: first, newSizeGb: 4 }))).toBe('RESOURCE_EXHAUSTED');
      expect((await mal.vol.getVolume({ volumeId: first })).volume!.sizeGb).toBe(2);
      const second = (await mal.vol.createVolume({ name: 'q-2', sizeGb: 1 })).volume!.id;
      expect(await codeOf(mal.vol.createVolume({ name: 'q-3', sizeGb: 1 }))).toBe('RESOURCE_EXHAUSTED');
      expect(await volumeIds()).toEqual([...ids, second].sort());
      expect(await usage()).toEqual({ volumes: before.volumes + 2, gigabytes: before.gigabytes + 3, reserved: 0 });
      await available(second);
      for (const id of [first, second]) await mal.vol.deleteVolume({ volumeId: id });
      expect(await usage()).toEqual(before);
    } finally {
      await admin.id.setQuota({ projectId: project, limits: { volumes: 10, gigabytes: 1000 } });
    }
  });

  it('input limits: oversized names, metadata, properties and pages are INVALID_ARGUMENT naming the field, and create nothing', async () => {
    const counts = async () => [
      (await admin.net.listNetworks({})).networks.length,
      (await admin.img.listImages({})).images.length,
      (await admin.vol.listVolumes({})).volumes.length,
      (await admin.id.listProjects({})).projects.length,
    ];
    const before = await counts();
    const big = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
    await expect(mal.net.createNetwork({ name: 'n'.repeat(256) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await expect(mal.img.createImage({ name: 'i', diskFormat: 'raw', containerFormat: 'bare', properties: big })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'properties' });
    await expect(mal.vol.createVolume({ name: 'v', sizeGb: 1, metadata: { k: 'x'.repeat(256) } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'metadata.k' });
    await expect(mal.net.listPorts({ page: { pageSize: 100_000, pageToken: '' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'page.page_size' });
    await expect(anon.authenticate({ password: { userName: 'mallory', password: 'p'.repeat(10_000), domainName: 'default' }, projectName: '' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'password.password' });
    expect(await counts()).toEqual(before);
  });

  it('identity: an application credential cannot mint another; guessing locks the name, not the other users', async () => {
    const { credential, secret } = await mal.id.createApplicationCredential({ name: 'ci' });
    const viaCred = clientsFor((await anon.authenticate({ applicationCredential: { id: credential!.id, secret } })).token);
    const credsBefore = (await mal.id.listApplicationCredentials({})).credentials.map((c) => c.id);
    expect(await codeOf(viaCred.id.createApplicationCredential({ name: 'forever' }))).toBe('PERMISSION_DENIED');
    expect((await mal.id.listApplicationCredentials({})).credentials.map((c) => c.id)).toEqual(credsBefore);
    for (let i = 0; i < 6; i++) expect(await codeOf(login('mallory', `guess-${i}`))).toBe('UNAUTHENTICATED');
    await expect(login('mallory', 'pw-mallory-1')).rejects.toThrow('account locked');
    await expect(login('trent', 'pw-trent-1')).resolves.toMatchObject({ info: { userName: 'trent' } });
  });

  it("a project's own admin is no cloud admin: other projects' servers, flavors, host ids, hosts, shared networks, others' quotas and roles are refused; nothing changes", async () => {
    // boss holds role admin on mallory-project, which is not the cloud's admin project
    const boss = (await admin.id.createUser({ name: 'boss', password: 'pw-boss-1', defaultProjectId: project })).user!;
    await admin.id.assignRole({ assignment: { roleName: 'admin', userId: boss.id, projectId: project } });
    const bossLogin = await login('boss', 'pw-boss-1');
    expect([...bossLogin.info!.roles].sort()).toEqual(['admin', 'member', 'reader']);
    expect(bossLogin.info).toMatchObject({ isAdminProject: false, system: '' });
    const b = clientsFor(bossLogin.token);
    // a server of another project (the admin project's), which boss must not see
    const adminProject = (await admin.id.validateToken({})).info!.projectId;
    const admNet = (await admin.net.createNetwork({ name: 'adm-net' })).network!.id;
    await admin.net.createSubnet({ networkId: admNet, cidr: '10.67.0.0/24', ipVersion: 4 });
    const admVm = (await admin.cmp.createServer({ name: 'adm-vm', flavorRef: flavor, imageRef: img, networks: [{ networkId: admNet }] })).servers[0].id;
    expect((await settled(admVm)).vmState).toBe(compute.VmState.VM_STATE_ACTIVE);
    const own = (await b.cmp.createServer({ name: 'boss-vm', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }] })).servers[0].id;
    expect((await settled(own)).hostId).not.toBe('');
    const state = async () => ({
      servers: (await admin.cmp.listServers({ allProjects: true })).servers.map((x) => `${x.id}:${x.vmState}`).sort(),
      flavors: (await admin.cmp.listFlavors({})).flavors.map((f) => f.id).sort(),
      aggregates: (await admin.cmp.listAggregates({})).aggregates.map((a) => a.id).sort(),
      networks: (await admin.net.listNetworks({})).networks.map((n) => `${n.id}:${n.shared}:${n.routerExternal}`).sort(),
      adminQuota: (await admin.id.getQuota({ projectId: adminProject })).quota,
      adminRoles: (await admin.id.listRoleAssignments({ projectId: adminProject })).assignments.map((a) => `${a.userId}:${a.roleId}`).sort(),
    });
    const before = await state();
    // all projects' servers: only its own project's come back (Nova drops all_tenants for a non-admin)
    const listed = (await b.cmp.listServers({ allProjects: true })).servers;
    expect(listed.map((x) => x.id)).toContain(own);
    expect(listed.map((x) => x.id)).not.toContain(admVm);
    expect(await codeOf(b.cmp.getServer({ serverId: admVm }))).toBe('NOT_FOUND');
    expect(await codeOf(b.cmp.deleteServer({ serverId: admVm }))).toBe('NOT_FOUND');
    // host ids, even of its own server, and the hypervisors
    expect((await b.cmp.getServer({ serverId: own })).server!.hostId).toBe('');
    expect(listed.every((x) => x.hostId === '')).toBe(true);
    expect(await codeOf(b.cmp.listHosts({}))).toBe('PERMISSION_DENIED');
    // flavors and aggregates
    expect(await codeOf(b.cmp.createFlavor({ name: 'boss.huge', vcpus: 64, ramMb: 262_144, diskGb: 1, isPublic: true }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.cmp.deleteFlavor({ flavorId: flavor }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.cmp.createAggregate({ name: 'boss-agg' }))).toBe('PERMISSION_DENIED');
    // shared and external networks
    expect(await codeOf(b.net.updateNetwork({ networkId: net, shared: true }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.net.createNetwork({ name: 'boss-shared', shared: true }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.net.createNetwork({ name: 'boss-ext', routerExternal: true }))).toBe('PERMISSION_DENIED');
    // another project's quota, its own quota's limits, and the admin project's roles
    expect(await codeOf(b.id.getQuota({ projectId: adminProject }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.id.setQuota({ projectId: project, limits: { instances: 1000 } }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.id.assignRole({ assignment: { roleName: 'admin', userId: boss.id, projectId: adminProject } }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(b.id.createProject({ name: 'boss-project' }))).toBe('PERMISSION_DENIED');
    // nor can it get a system-scoped token, or re-scope to the admin project
    expect(await codeOf(anon.authenticate({ password: { userName: 'boss', password: 'pw-boss-1', domainName: 'default' }, systemScope: 'all' }))).toBe('UNAUTHENTICATED');
    expect(await codeOf(anon.authenticate({ token: { token: bossLogin.token }, projectId: adminProject }))).toBe('UNAUTHENTICATED');
    const after = await state();
    expect(after).toEqual(before);
    // while the cloud admin, system-scoped, does all of it
    const system = clientsFor((await anon.authenticate({ password: { userName: cloud.manifest.admin.user, password: cloud.manifest.admin.password, domainName: 'default' }, systemScope: 'all' })).token);
    const everything = (await system.cmp.listServers({ allProjects: true })).servers;
    expect(everything.map((x) => x.id)).toEqual(expect.arrayContaining([own, admVm]));
    expect(everything.find((x) => x.id === admVm)!.hostId).not.toBe('');
    await expect(system.id.getQuota({ projectId: adminProject })).resolves.toBeTruthy();
    for (const id of [own, admVm]) await admin.cmp.deleteServer({ serverId: id });
  });

  it("an instance credential reads its own server only: it cannot create or delete servers, nor read its project's other servers", async () => {
    const vm = (await mal.cmp.createServer({ name: 'guest', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }] })).servers[0].id;
    const sibling = (await mal.cmp.createServer({ name: 'sibling', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }] })).servers[0].id;
    for (const id of [vm, sibling]) expect((await settled(id)).vmState).toBe(compute.VmState.VM_STATE_ACTIVE);
    const cred = await admin.id.issueInstanceCredential({ instanceId: vm, projectId: project, ttlSeconds: 300 });
    const guest = clientsFor(cred.token);
    const servers = async () => (await admin.cmp.listServers({ allProjects: true })).servers.map((x) => `${x.id}:${x.vmState}`).sort();
    const volumesBefore = (await admin.vol.listVolumes({})).volumes.map((v) => v.id).sort();
    const before = await servers();
    expect((await guest.cmp.getServer({ serverId: vm })).server!.id).toBe(vm);
    expect(await codeOf(guest.cmp.listInterfaces({ serverId: vm }))).toBe('OK');
    expect(await codeOf(guest.cmp.getServer({ serverId: sibling }))).toBe('NOT_FOUND');
    expect(await codeOf(guest.cmp.listInterfaces({ serverId: sibling }))).toBe('NOT_FOUND');
    expect(await codeOf(guest.cmp.listServers({}))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.cmp.createServer({ name: 'spawned', flavorRef: flavor, imageRef: img, networks: [{ networkId: net }] }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.cmp.deleteServer({ serverId: sibling }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.cmp.deleteServer({ serverId: vm }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.cmp.serverAction({ serverId: sibling, stop: {} }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.vol.createVolume({ name: 'loot', sizeGb: 1 }))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.net.listNetworks({}))).toBe('PERMISSION_DENIED');
    expect(await codeOf(guest.id.createApplicationCredential({ name: 'escape' }))).toBe('PERMISSION_DENIED');
    expect(await servers()).toEqual(before);
    expect((await admin.vol.listVolumes({})).volumes.map((v) => v.id).sort()).toEqual(volumesBefore);
    for (const id of [vm, sibling]) await mal.cmp.deleteServer({ serverId: id });
  });
});
