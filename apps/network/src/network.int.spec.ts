import { network, events } from '@minicloud/proto';
import { RevocationList, createTokenVerifier, generateSigningKey, signToken, type SigningKeyPair } from '@minicloud/platform-auth';
import { connectBus, Subjects, type Bus } from '@minicloud/platform-bus';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics, type Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { networkServiceRegistration } from './api/handlers';
import { buildNetworkLogic } from './wire';

type Client = ServiceClient<typeof network.NetworkServiceService>;

const logger = silentLogger();
let redisServer: ServerHandle;
let natsServer: ServerHandle;
let redis: Redis;
let bus: Bus;
let key: SigningKeyPair;
const servers: RunningGrpcServer[] = [];
const clients: Client[] = [];
let client: Client;
let smallRangeClient: Client;
const registries: Registry[] = [];
const tokens: Record<'admin' | 'alice' | 'bob' | 'aliceReader', string> = { admin: '', alice: '', bob: '', aliceReader: '' };
const fdbEvents: { hostId: string; fdbGeneration: number }[] = [];
const networkEvents: { subject: string; networkId: string }[] = [];

async function token(userId: string, projectId: string, roles: string[]): Promise<string> {
  const { token: t } = await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles }, { nowMs: Date.now(), ttlSeconds: 3600 });
  return t;
}

async function startService(vniRanges: string): Promise<Client> {
  const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
  const metrics = createProcessMetrics({ service: 'network' });
  registries.push(metrics.registry);
  const logic = buildNetworkLogic({ redis, bus, logger, metrics }, { VNI_RANGES: vniRanges, UNDERLAY_MTU: 1500, BASE_MAC: 'fa:16:3e:00:00:00' });
  const server = await startGrpcServer({ port: 0, services: [networkServiceRegistration(logic)], logger, verifier });
  servers.push(server);
  const c = createServiceClient(network.NetworkServiceService, server.address, { token: () => tokens.alice, deadlineMs: 20_000 });
  clients.push(c);
  return c;
}

const as = (who: keyof typeof tokens) => ({ token: tokens[who] });

async function expectError(p: Promise<unknown>, code: string, extra: { field?: string; resourceType?: string } = {}): Promise<void> {
  await expect(p).rejects.toMatchObject({ code, ...extra });
}

beforeAll(async () => {
  [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
  redis = await connectRedis({ url: redisServer.url, name: 'network-test', logger });
  bus = await connectBus({ url: natsServer.url, name: 'network-test', logger });
  key = await generateSigningKey(Date.now());
  tokens.admin = await token('admin', 'service', ['admin', 'member', 'reader']);
  tokens.alice = await token('alice', 'p-alice', ['member', 'reader']);
  tokens.bob = await token('bob', 'p-bob', ['member', 'reader']);
  tokens.aliceReader = await token('alice-r', 'p-alice', ['reader']);
  bus.subscribe(Subjects.fdbUpdated, events.FdbUpdated, (e) => void fdbEvents.push({ hostId: e.hostId, fdbGeneration: e.fdbGeneration }));
  bus.subscribe(Subjects.networkCreated, events.NetworkChanged, (e, env) => void networkEvents.push({ subject: env.subject, networkId: e.networkId }));
  bus.subscribe(Subjects.networkDeleted, events.NetworkChanged, (e, env) => void networkEvents.push({ subject: env.subject, networkId: e.networkId }));
  client = await startService('1000:1999999');
  smallRangeClient = await startService('5000:5049');
}, 60_000);

afterAll(async () => {
  clients.forEach((c) => c.close());
  await Promise.all(servers.map((s) => s.shutdown(1000)));
  await bus?.close();
  await redis?.quit();
  await Promise.all([redisServer?.stop(), natsServer?.stop()]);
});

describe('networks', () => {
  it('creates a vxlan network with a VNI from the range and MTU 1450, and publishes network.created', async () => {
    const { network: n } = await client.createNetwork({ name: 'net-a' });
    expect(n).toMatchObject({ networkType: 'vxlan', mtu: 1450, projectId: 'p-alice', status: 'ACTIVE', subnetIds: [] });
    expect(n!.segmentationId).toBeGreaterThanOrEqual(1000);
    expect(n!.segmentationId).toBeLessThanOrEqual(1999999);
    expect(await redis.get(`mc:network:vni:${n!.segmentationId}`)).toBe(n!.id);
    await waitFor(() => networkEvents.some((e) => e.networkId === n!.id && e.subject === Subjects.networkCreated), { timeoutMs: 5000 });
    await client.deleteNetwork({ networkId: n!.id });
    await waitFor(() => networkEvents.some((e) => e.networkId === n!.id && e.subject === Subjects.networkDeleted), { timeoutMs: 5000 });
  });

  it('gives 50 concurrent creates 50 distinct VNIs from a 50-VNI range, refuses the 51st, and reuses a VNI only once freed', async () => {
    const created = await Promise.all(Array.from({ length: 50 }, (_, i) => smallRangeClient.createNetwork({ name: `n${i}` })));
    const vnis = created.map((r) => r.network!.segmentationId).sort((a, b) => a - b);
    expect(vnis).toEqual(Array.from({ length: 50 }, (_, i) => 5000 + i));
    await expectError(smallRangeClient.createNetwork({ name: 'too-many' }), 'RESOURCE_EXHAUSTED');
    const victim = created[7]!.network!;
    await smallRangeClient.deleteNetwork({ networkId: victim.id });
    const again = await smallRangeClient.createNetwork({ name: 'again' });
    expect(again.network!.segmentationId).toBe(victim.segmentationId);
    await Promise.all([...created.filter((c) => c.network!.id !== victim.id).map((c) => c.network!.id), again.network!.id].map((id) => client.deleteNetwork({ networkId: id })));
  }, 30_000);

  it('lets only an admin choose a segmentation_id, and refuses one in use', async () => {
    await expectError(client.createNetwork({ segmentationId: 4242 }), 'PERMISSION_DENIED');
    const { network: n } = await client.createNetwork({ segmentationId: 4242, projectId: 'p-alice' }, as('admin'));
    expect(n).toMatchObject({ segmentationId: 4242, projectId: 'p-alice' });
    await expectError(client.createNetwork({ segmentationId: 4242 }, as('admin')), 'ALREADY_EXISTS', { resourceType: 'segmentation_id' });
    await expectError(client.createNetwork({ segmentationId: 2 ** 24 }, as('admin')), 'INVALID_ARGUMENT', { field: 'segmentation_id' });
    await client.deleteNetwork({ networkId: n!.id });
  });

  it('creates router_external provider networks as flat with the full underlay MTU (admin only)', async () => {
    await expectError(client.createNetwork({ routerExternal: true }), 'PERMISSION_DENIED');
    const { network: n } = await client.createNetwork({ name: 'public', routerExternal: true, shared: true }, as('admin'));
    expect(n).toMatchObject({ networkType: 'flat', segmentationId: 0, mtu: 1500, routerExternal: true });
    await client.deleteNetwork({ networkId: n!.id }, as('admin'));
  });

  it('scopes networks by project: another project gets NOT_FOUND, shared networks are visible but not writable', async () => {
    const { network: mine } = await client.createNetwork({ name: 'private' });
    const { network: shared } = await client.createNetwork({ name: 'shared', shared: true, projectId: 'p-alice' }, as('admin'));
    await expectError(client.getNetwork({ networkId: mine!.id }, as('bob')), 'NOT_FOUND', { resourceType: 'network' });
    await expectError(client.deleteNetwork({ networkId: mine!.id }, as('bob')), 'NOT_FOUND');
    await expectError(client.createSubnet({ networkId: mine!.id, cidr: '10.9.0.0/24' }, as('bob')), 'NOT_FOUND');
    await expectError(client.createPort({ networkId: mine!.id }, as('bob')), 'NOT_FOUND');
    expect((await client.getNetwork({ networkId: shared!.id }, as('bob'))).network!.id).toBe(shared!.id);
    await expectError(client.updateNetwork({ networkId: shared!.id, name: 'x' }, as('bob')), 'PERMISSION_DENIED');
    const bobList = await client.listNetworks({}, as('bob'));
    expect(bobList.networks.map((n) => n.id)).toContain(shared!.id);
    expect(bobList.networks.map((n) => n.id)).not.toContain(mine!.id);
    const updated = await client.updateNetwork({ networkId: mine!.id, name: 'renamed' });
    expect(updated.network!.name).toBe('renamed');
    await expectError(client.createNetwork({ name: 'r' }, as('aliceReader')), 'PERMISSION_DENIED');
    await expectError(client.getNetwork({ networkId: 'nope' }), 'NOT_FOUND', { resourceType: 'network' });
    await expectError(client.getNetwork({ networkId: mine!.id }, { token: 'garbage' }), 'UNAUTHENTICATED');
    await client.deleteNetwork({ networkId: mine!.id });
    await client.deleteNetwork({ networkId: shared!.id });
  });
});

describe("Neutron's admin-only attributes", () => {
  const ids = async (who: keyof typeof tokens) => (await client.listNetworks({}, as(who))).networks.map((n) => n.id).sort();

  it('refuses a member shared, router:external and provider attributes on create and shared on update; an admin may', async () => {
    const before = await ids('admin');
    for (const req of [{ shared: true }, { routerExternal: true }, { networkType: 'flat' }, { segmentationId: 4242 }, { projectId: 'p-bob' }]) {
      await expectError(client.createNetwork({ name: 'x', ...req }), 'PERMISSION_DENIED');
    }
    expect(await ids('admin')).toEqual(before);
    const { network: mine } = await client.createNetwork({ name: 'mine' });
    await expectError(client.updateNetwork({ networkId: mine!.id, shared: true }), 'PERMISSION_DENIED');
    expect((await client.getNetwork({ networkId: mine!.id })).network!.shared).toBe(false);
    await expectError(client.getNetwork({ networkId: mine!.id }, as('bob')), 'NOT_FOUND');
    expect((await client.updateNetwork({ networkId: mine!.id, shared: true }, as('admin'))).network!.shared).toBe(true);
    const { network: s } = await client.createNetwork({ name: 's', shared: true }, as('admin'));
    expect(s!.shared).toBe(true);
    await client.deleteNetwork({ networkId: mine!.id });
    await client.deleteNetwork({ networkId: s!.id }, as('admin'));
  });

  it('refuses a member network:/compute: device owners, binding:host_id and chosen addresses on a shared network; an admin may', async () => {
    const { network: own } = await client.createNetwork({ name: 'own' });
    await client.createSubnet({ networkId: own!.id, cidr: '10.77.0.0/24' });
    const { network: shared } = await client.createNetwork({ name: 'sh', shared: true, projectId: 'p-bob' }, as('admin'));
    const { subnet: sharedSubnet } = await client.createSubnet({ networkId: shared!.id, cidr: '10.78.0.0/24' }, as('admin'));
    const { network: ext } = await client.createNetwork({ name: 'ext', routerExternal: true }, as('admin'));
    await client.createSubnet({ networkId: ext!.id, cidr: '203.0.113.0/24' }, as('admin'));
    const portCount = async () => (await client.listPorts({}, as('admin'))).ports.length;
    const before = await portCount();
    await expectError(client.createPort({ networkId: own!.id, deviceOwner: 'network:router_interface' }), 'PERMISSION_DENIED');
    await expectError(client.createPort({ networkId: own!.id, deviceOwner: 'compute:nova' }), 'PERMISSION_DENIED');
    await expectError(client.createPort({ networkId: shared!.id, fixedIps: [{ subnetId: sharedSubnet!.id, ipAddress: '10.78.0.9' }] }), 'PERMISSION_DENIED');
    await expectError(client.createPort({ networkId: shared!.id, macAddress: 'fa:16:3e:01:02:03' }), 'PERMISSION_DENIED');
    await expectError(client.createPort({ networkId: shared!.id, portSecurityEnabled: false }), 'PERMISSION_DENIED');
    await expectError(client.createPort({ networkId: ext!.id }), 'PERMISSION_DENIED');
    await expectError(client.createPort({ networkId: ext!.id, fixedIps: [{ ipAddress: '203.0.113.10' }] }), 'PERMISSION_DENIED');
    expect(await portCount()).toBe(before);
    // allowed: a subnet (not an address) on a shared network, any attribute on an own network
    const { port: onShared } = await client.createPort({ networkId: shared!.id, fixedIps: [{ subnetId: sharedSubnet!.id, ipAddress: '' }] });
    await expectError(client.updatePort({ portId: onShared!.id, portSecurityEnabled: false, securityGroupIds: [], replaceSecurityGroups: true }), 'PERMISSION_DENIED');
    const { port: chosen } = await client.createPort({ networkId: own!.id, fixedIps: [{ ipAddress: '10.77.0.9' }], macAddress: 'fa:16:3e:01:02:04' });
    await expectError(client.bindPort({ portId: chosen!.id, hostId: 'h9', deviceId: 'vm-9', deviceOwner: 'compute:nova' }), 'PERMISSION_DENIED');
    expect((await client.getPort({ portId: chosen!.id })).port).toMatchObject({ bindingHostId: '', deviceOwner: '' });
    // an admin may do all of it; the bound host is shown to admins only (get_port:binding:host_id)
    const { port: adminPort } = await client.createPort({ networkId: ext!.id, fixedIps: [{ ipAddress: '203.0.113.10' }], deviceOwner: 'network:router_gateway' }, as('admin'));
    await client.bindPort({ portId: chosen!.id, hostId: 'h9', deviceId: 'vm-9', deviceOwner: 'compute:nova' }, as('admin'));
    expect((await client.getPort({ portId: chosen!.id }, as('admin'))).port!.bindingHostId).toBe('h9');
    expect((await client.getPort({ portId: chosen!.id })).port!.bindingHostId).toBe('');
    expect((await client.listPorts({ deviceId: 'vm-9' })).ports.map((p) => p.bindingHostId)).toEqual(['']);
    for (const p of [onShared!, chosen!, adminPort!]) await client.deletePort({ portId: p.id }, as('admin'));
    for (const n of [own!, shared!, ext!]) await client.deleteNetwork({ networkId: n.id }, as('admin'));
  });
});

describe('input limits', () => {
  it('refuses an oversized name and page size over gRPC with INVALID_ARGUMENT naming the field, creating nothing', async () => {
    const before = (await client.listNetworks({}, as('admin'))).networks.length;
    await expectError(client.createNetwork({ name: 'n'.repeat(256) }), 'INVALID_ARGUMENT', { field: 'name' });
    await expectError(client.listPorts({ page: { pageSize: 1001, pageToken: '' } }), 'INVALID_ARGUMENT', { field: 'page.page_size' });
    expect((await client.listNetworks({}, as('admin'))).networks.length).toBe(before);
  });
});

describe('subnets', () => {
  it('validates the CIDR, refuses overlaps on one network, and fills gateway and pools', async () => {
    const { network: n } = await client.createNetwork({ name: 's' });
    await expectError(client.createSubnet({ networkId: n!.id, cidr: '10.0.0.300/24' }), 'INVALID_ARGUMENT', { field: 'cidr' });
    await expectError(client.createSubnet({ networkId: n!.id, cidr: '' }), 'INVALID_ARGUMENT', { field: 'cidr' });
    await expectError(client.createSubnet({ networkId: 'unknown', cidr: '10.0.0.0/24' }), 'NOT_FOUND', { resourceType: 'network' });
    const { subnet } = await client.createSubnet({ networkId: n!.id, cidr: '10.0.0.0/24' });
    expect(subnet).toMatchObject({ cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', ipVersion: 4, allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }] });
    await expectError(client.createSubnet({ networkId: n!.id, cidr: '10.0.0.128/25' }), 'INVALID_ARGUMENT', { field: 'cidr' });
    await expectError(client.createSubnet({ networkId: n!.id, cidr: '10.1.0.0/24', gatewayIp: '10.2.0.1' }), 'INVALID_ARGUMENT', { field: 'gateway_ip' });
    expect((await client.getNetwork({ networkId: n!.id })).network!.subnetIds).toEqual([subnet!.id]);
    await expectError(client.getSubnet({ subnetId: subnet!.id }, as('bob')), 'NOT_FOUND', { resourceType: 'subnet' });
    await client.deleteSubnet({ subnetId: subnet!.id });
    await expectError(client.getSubnet({ subnetId: subnet!.id }), 'NOT_FOUND');
    await client.deleteNetwork({ networkId: n!.id });
  });
});

describe('ports', () => {
  it('gives 200 concurrent creates on a /24 distinct IPs and MACs; the 254th port gets RESOURCE_EXHAUSTED', async () => {
    const { network: n } = await client.createNetwork({ name: 'big' });
    const { subnet } = await client.createSubnet({ networkId: n!.id, cidr: '192.168.7.0/24' });
    const first = await Promise.all(Array.from({ length: 200 }, () => client.createPort({ networkId: n!.id })));
    const rest = await Promise.all(Array.from({ length: 53 }, () => client.createPort({ networkId: n!.id })));
    const ports = [...first, ...rest].map((r) => r.port!);
    const ips = ports.map((p) => p.fixedIps[0]!.ipAddress);
    expect(new Set(ips).size).toBe(253);
    expect(new Set(ports.map((p) => p.macAddress)).size).toBe(253);
    for (const ip of ips) expect(ip).toMatch(/^192\.168\.7\.([2-9]|[1-9][0-9]|1[0-9][0-9]|2[0-4][0-9]|25[0-4])$/);
    expect(ports.every((p) => p.macAddress.startsWith('fa:16:3e:') && p.status === 'DOWN' && p.fixedIps[0]!.subnetId === subnet!.id)).toBe(true);
    await expectError(client.createPort({ networkId: n!.id }), 'RESOURCE_EXHAUSTED');
    expect(await redis.scard(`mc:network:subnet:${subnet!.id}:ips`)).toBe(253);
    expect((await redis.keys('mc:network:mac:*')).length).toBe(253);
    await expectError(client.deleteSubnet({ subnetId: subnet!.id }), 'FAILED_PRECONDITION');
    await client.deletePort({ portId: ports[0]!.id });
    const reused = await client.createPort({ networkId: n!.id });
    expect(reused.port!.fixedIps[0]!.ipAddress).toBe(ips[0]);
    await client.deleteNetwork({ networkId: n!.id });
    expect(await redis.keys('mc:network:*')).toEqual(expect.not.arrayContaining([expect.stringContaining(n!.id)]));
    expect(await redis.keys('mc:network:ip:*')).toEqual([]);
  }, 60_000);

  it('honours a requested fixed IP and MAC, refuses taken ones without leaking claims, and filters lists', async () => {
    const { network: n } = await client.createNetwork({ name: 'req' });
    const { subnet } = await client.createSubnet({ networkId: n!.id, cidr: '10.5.0.0/24' });
    const { port } = await client.createPort({ networkId: n!.id, fixedIps: [{ ipAddress: '10.5.0.50' }], macAddress: 'FA-16-3E-AA-BB-CC', deviceId: 'vm-1' });
    expect(port).toMatchObject({ macAddress: 'fa:16:3e:aa:bb:cc', fixedIps: [{ subnetId: subnet!.id, ipAddress: '10.5.0.50' }] });
    await expectError(client.createPort({ networkId: n!.id, fixedIps: [{ ipAddress: '10.5.0.50' }] }), 'ALREADY_EXISTS', { resourceType: 'ip_address' });
    await expectError(client.createPort({ networkId: n!.id, macAddress: 'fa:16:3e:aa:bb:cc' }), 'ALREADY_EXISTS', { resourceType: 'mac_address' });
    await expectError(client.createPort({ networkId: n!.id, fixedIps: [{ ipAddress: '10.6.0.5' }] }), 'INVALID_ARGUMENT', { field: 'fixed_ips[0].ip_address' });
    await expectError(client.createPort({ networkId: n!.id, macAddress: 'ff:ff:ff:ff:ff:ff' }), 'INVALID_ARGUMENT', { field: 'mac_address' });
    expect(await redis.keys('mc:network:mac:*')).toEqual(['mc:network:mac:fa:16:3e:aa:bb:cc']);
    expect(await redis.smembers(`mc:network:subnet:${subnet!.id}:ips`)).toEqual(['10.5.0.50']);
    expect((await client.listPorts({ deviceId: 'vm-1' })).ports.map((p) => p.id)).toEqual([port!.id]);
    expect((await client.listPorts({ deviceId: 'vm-1' }, as('bob'))).ports).toEqual([]);
    await expectError(client.getPort({ portId: port!.id }, as('bob')), 'NOT_FOUND', { resourceType: 'port' });
    await expectError(client.deleteNetwork({ networkId: n!.id }), 'FAILED_PRECONDITION');
    const renamed = await client.updatePort({ portId: port!.id, name: 'eth0' });
    expect(renamed.port!.name).toBe('eth0');
    await client.deletePort({ portId: port!.id });
    await client.deleteNetwork({ networkId: n!.id });
  });
});

describe('l2population', () => {
  it('computes FDBs from binds on 3 hosts and bumps generations on bind, unbind and delete', async () => {
    await expectError(client.registerVtep({ hostId: 'h1', tunnelIp: '192.0.2.1' }), 'PERMISSION_DENIED');
    await expectError(client.registerVtep({ hostId: 'h1', tunnelIp: 'nope' }, as('admin')), 'INVALID_ARGUMENT', { field: 'tunnel_ip' });
    for (const [h, ip] of [['h1', '192.0.2.1'], ['h2', '192.0.2.2'], ['h3', '192.0.2.3']] as const) {
      const r = await client.registerVtep({ hostId: h, tunnelIp: ip }, as('admin'));
      expect(r.fdb).toEqual([]);
    }
    const { network: a } = await client.createNetwork({ name: 'l2a' });
    const { network: b } = await client.createNetwork({ name: 'l2b' });
    await client.createSubnet({ networkId: a!.id, cidr: '10.20.0.0/24' });
    await client.createSubnet({ networkId: b!.id, cidr: '10.21.0.0/24' });
    const p = await Promise.all([a, a, a, b].map((n) => client.createPort({ networkId: n!.id }).then((r) => r.port!)));
    await expectError(client.bindPort({ portId: p[0]!.id, hostId: 'h1' }), 'PERMISSION_DENIED');
    const gen0 = (await client.getHostFdb({ hostId: 'h1' }, as('admin'))).fdbGeneration;
    const bound = await client.bindPort({ portId: p[0]!.id, hostId: 'h1', deviceId: 'vm-a1', deviceOwner: 'compute:nova' }, as('admin'));
    expect(bound.port).toMatchObject({ bindingHostId: 'h1', deviceId: 'vm-a1', status: 'ACTIVE' });
    await client.bindPort({ portId: p[1]!.id, hostId: 'h2', deviceId: 'vm-a2' }, as('admin'));
    await client.bindPort({ portId: p[2]!.id, hostId: 'h3', deviceId: 'vm-a3' }, as('admin'));
    await client.bindPort({ portId: p[3]!.id, hostId: 'h1', deviceId: 'vm-b1' }, as('admin'));

    const h1 = await client.getHostFdb({ hostId: 'h1' }, as('admin'));
    expect(h1.fdbGeneration).toBeGreaterThan(gen0);
    const entry = (port: typeof p[number], tunnelIp: string) => ({ networkId: a!.id, segmentationId: a!.segmentationId, tunnelIp, macAddress: port.macAddress, ipAddress: port.fixedIps[0]!.ipAddress, portId: port.id });
    const flood = (tunnelIp: string) => ({ networkId: a!.id, segmentationId: a!.segmentationId, tunnelIp, macAddress: '00:00:00:00:00:00', ipAddress: '0.0.0.0', portId: '' });
    expect(h1.fdb).toEqual([flood('192.0.2.2'), entry(p[1]!, '192.0.2.2'), flood('192.0.2.3'), entry(p[2]!, '192.0.2.3')]);
    const h2 = await client.getHostFdb({ hostId: 'h2' }, as('admin'));
    expect(h2.fdb).toEqual([flood('192.0.2.1'), entry(p[0]!, '192.0.2.1'), flood('192.0.2.3'), entry(p[2]!, '192.0.2.3')]);
    await waitFor(() => fdbEvents.some((e) => e.hostId === 'h1' && e.fdbGeneration === h1.fdbGeneration), { timeoutMs: 5000 });
    expect((await client.listPorts({ bindingHostId: 'h1' }, as('admin'))).ports.map((x) => x.id).sort()).toEqual([p[0]!.id, p[3]!.id].sort());

    await client.unbindPort({ portId: p[2]!.id }, as('admin'));
    const h1b = await client.getHostFdb({ hostId: 'h1' }, as('admin'));
    expect(h1b.fdbGeneration).toBeGreaterThan(h1.fdbGeneration);
    expect(h1b.fdb).toEqual([flood('192.0.2.2'), entry(p[1]!, '192.0.2.2')]);

    await client.deletePort({ portId: p[1]!.id });
    const h1c = await client.getHostFdb({ hostId: 'h1' }, as('admin'));
    expect(h1c.fdbGeneration).toBeGreaterThan(h1b.fdbGeneration);
    expect(h1c.fdb).toEqual([]);
    await expectError(client.getHostFdb({ hostId: 'never-registered' }, as('admin')), 'NOT_FOUND', { resourceType: 'vtep' });

    for (const port of [p[0]!, p[2]!, p[3]!]) await client.deletePort({ portId: port.id });
    await client.deleteNetwork({ networkId: a!.id });
    await client.deleteNetwork({ networkId: b!.id });
  });
});

describe('security groups', () => {
  it('creates the default group lazily, validates rules, and refuses to delete a group in use', async () => {
    const list = await client.listSecurityGroups({});
    const def = list.securityGroups.find((g) => g.name === 'default')!;
    expect(def.rules.map((r) => [r.direction, r.remoteGroupId]).sort()).toEqual([['egress', ''], ['ingress', def.id]]);
    expect((await client.listSecurityGroups({})).securityGroups.filter((g) => g.name === 'default')).toHaveLength(1);
    const { securityGroup: web } = await client.createSecurityGroup({ name: 'web' });
    await expectError(client.createSecurityGroupRule({ rule: { securityGroupId: web!.id, direction: 'ingress', protocol: 'gre' } }), 'INVALID_ARGUMENT', { field: 'protocol' });
    await expectError(client.createSecurityGroupRule({ rule: { securityGroupId: web!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 90, portRangeMax: 80 } }), 'INVALID_ARGUMENT');
    const { rule } = await client.createSecurityGroupRule({ rule: { securityGroupId: web!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: '0.0.0.0/0' } });
    expect((await client.getSecurityGroup({ securityGroupId: web!.id })).securityGroup!.rules.map((r) => r.id)).toContain(rule!.id);
    await expectError(client.getSecurityGroup({ securityGroupId: web!.id }, as('bob')), 'NOT_FOUND');

    const { network: n } = await client.createNetwork({ name: 'sg' });
    const { port } = await client.createPort({ networkId: n!.id, securityGroupIds: [web!.id] });
    const { port: plain } = await client.createPort({ networkId: n!.id });
    expect(plain!.securityGroupIds).toEqual([def.id]);
    await expectError(client.deleteSecurityGroup({ securityGroupId: web!.id }), 'FAILED_PRECONDITION');
    await expectError(client.deleteSecurityGroup({ securityGroupId: def.id }), 'PERMISSION_DENIED');
    await client.deleteSecurityGroupRule({ ruleId: rule!.id });
    await client.deleteNetwork({ networkId: n!.id }); // deletes its device-less ports
    await expectError(client.getPort({ portId: port!.id }), 'NOT_FOUND');
    await client.deleteSecurityGroup({ securityGroupId: web!.id });
  });
});

describe('routers and trace validation', () => {
  it('scopes routers to their project, names bad trace fields, and deletes routers without a trace', async () => {
    const { router } = await client.createRouter({ name: 'r' });
    await expectError(client.getRouter({ routerId: router!.id }, as('bob')), 'NOT_FOUND', { resourceType: 'router' });
    await expectError(client.createRouter({ name: '' }), 'INVALID_ARGUMENT', { field: 'name' });
    await expectError(client.tracePacket({ fromPortId: 'x', toIp: 'nope', protocol: 'tcp', dstPort: 22 }), 'INVALID_ARGUMENT', { field: 'to_ip' });
    await expectError(client.tracePacket({ toIp: '10.0.0.1', protocol: 'gre', dstPort: 22 }), 'INVALID_ARGUMENT', { field: 'protocol' });
    await client.deleteRouter({ routerId: router!.id });
    await expectError(client.getRouter({ routerId: router!.id }), 'NOT_FOUND');
  });
});

describe('metrics', () => {
  it('exports networks, ports by status and FDB entries per host', async () => {
    const { network: n } = await client.createNetwork({ name: 'm' });
    await client.createSubnet({ networkId: n!.id, cidr: '10.30.0.0/24' });
    const [p1, p2] = await Promise.all([client.createPort({ networkId: n!.id }), client.createPort({ networkId: n!.id })]);
    await client.bindPort({ portId: p1.port!.id, hostId: 'h1', deviceId: 'vm-m1' }, as('admin'));
    await client.bindPort({ portId: p2.port!.id, hostId: 'h2', deviceId: 'vm-m2' }, as('admin'));
    await client.getHostFdb({ hostId: 'h1' }, as('admin'));
    const text = await registries[0]!.metrics();
    expect(text).toMatch(/^minicloud_network_networks\{[^}]*\} 1$/m);
    expect(text).toMatch(/^minicloud_network_ports\{status="ACTIVE"[^}]*\} 2$/m);
    expect(text).toMatch(/^minicloud_network_fdb_entries\{host_id="h1"[^}]*\} 2$/m);
    await client.unbindPort({ portId: p1.port!.id }, as('admin'));
    // Unbinding keeps device_id, so the network is still in use until the ports go.
    await expectError(client.deleteNetwork({ networkId: n!.id }), 'FAILED_PRECONDITION');
    await client.deletePort({ portId: p1.port!.id });
    await client.deletePort({ portId: p2.port!.id });
    await client.deleteNetwork({ networkId: n!.id });
  });
});

describe('cleanup', () => {
  it('leaves only VTEPs and FDB generation counters once everything is deleted', async () => {
    for (const p of (await client.listPorts({}, as('admin'))).ports) await client.deletePort({ portId: p.id }, as('admin'));
    for (const g of (await client.listSecurityGroups({}, as('admin'))).securityGroups) await client.deleteSecurityGroup({ securityGroupId: g.id }, as('admin'));
    for (const n of (await client.listNetworks({}, as('admin'))).networks) await client.deleteNetwork({ networkId: n.id }, as('admin'));
    const left = (await redis.keys('mc:network:*')).filter((k) => !/^mc:network:(vtep:[^:]+|vteps|fdbgen:[^:]+)$/.test(k));
    expect(left).toEqual([]);
  });
});
