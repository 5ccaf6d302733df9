import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { network, events } from '@minicloud/proto';
import { RevocationList, createTokenVerifier, generateSigningKey, signToken, type SigningKeyPair } from '@minicloud/platform-auth';
import { connectBus, FDB_UPDATED_WILDCARD, fdbUpdatedSubject, Subjects, type Bus } from '@minicloud/platform-bus';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics, type Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { networkServiceRegistration } from './api/handlers';
import type { FloatingIpQuota } from './floating-ip-quota';
import { buildNetworkLogic, type NetworkWireOptions } from './wire';

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
const tokens: Record<'admin' | 'alice' | 'bob' | 'aliceReader' | 'carol', string> = { admin: '', alice: '', bob: '', aliceReader: '', carol: '' };
let quotaClient: Client;
const fdbEvents: { hostId: string; fdbGeneration: number; subject: string }[] = [];
const networkEvents: { subject: string; networkId: string }[] = [];

async function token(userId: string, projectId: string, roles: string[]): Promise<string> {
  const { token: t } = await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles, isAdminProject: roles.includes('admin') }, { nowMs: Date.now(), ttlSeconds: 3600 });
  return t;
}

/** Quota limits the quota-enforcing service reads, by project (identity's resource names). */
const quotaLimits = new Map<string, Record<string, number>>();

async function startService(vniRanges: string, opts: NetworkWireOptions & { withQuotas?: boolean } = {}): Promise<Client> {
  const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
  const metrics = createProcessMetrics({ service: 'network' });
  registries.push(metrics.registry);
  const { withQuotas, ...wireOpts } = opts;
  const limitsOf = withQuotas ? async (projectId: string) => quotaLimits.get(projectId) ?? {} : undefined;
  const logic = buildNetworkLogic({ redis, bus, logger, metrics }, { VNI_RANGES: vniRanges, UNDERLAY_MTU: 1500, BASE_MAC: 'fa:16:3e:00:00:00' }, { ...wireOpts, limitsOf });
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
  tokens.carol = await token('carol', 'p-carol', ['member', 'reader']);
  bus.subscribe(FDB_UPDATED_WILDCARD, events.FdbUpdated, (e, env) => void fdbEvents.push({ hostId: e.hostId, fdbGeneration: e.fdbGeneration, subject: env.subject }));
  bus.subscribe(Subjects.networkCreated, events.NetworkChanged, (e, env) => void networkEvents.push({ subject: env.subject, networkId: e.networkId }));
  bus.subscribe(Subjects.networkDeleted, events.NetworkChanged, (e, env) => void networkEvents.push({ subject: env.subject, networkId: e.networkId }));
  client = await startService('1000:1999999');
  smallRangeClient = await startService('5000:5049');
  quotaClient = await startService('1000:1999999', { withQuotas: true });
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

  it("shows another project's external network but not its subnets, unless the network is shared (Neutron's get_subnet policy)", async () => {
    const { network: ext } = await client.createNetwork({ name: 'ext-hidden', routerExternal: true }, as('admin'));
    const { subnet } = await client.createSubnet({ networkId: ext!.id, cidr: '203.0.113.0/24' }, as('admin'));
    expect((await client.getNetwork({ networkId: ext!.id }, as('bob'))).network!.id).toBe(ext!.id);
    expect((await client.listSubnets({ networkId: ext!.id }, as('bob'))).subnets).toEqual([]);
    expect((await client.listSubnets({}, as('bob'))).subnets.map((x) => x.id)).not.toContain(subnet!.id);
    await expectError(client.getSubnet({ subnetId: subnet!.id }, as('bob')), 'NOT_FOUND', { resourceType: 'subnet' });
    expect((await client.listSubnets({ networkId: ext!.id }, as('admin'))).subnets.map((x) => x.id)).toEqual([subnet!.id]);
    await client.updateNetwork({ networkId: ext!.id, shared: true }, as('admin'));
    expect((await client.listSubnets({ networkId: ext!.id }, as('bob'))).subnets.map((x) => x.id)).toEqual([subnet!.id]);
    await client.deleteSubnet({ subnetId: subnet!.id }, as('admin'));
    await client.deleteNetwork({ networkId: ext!.id }, as('admin'));
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
    // a claiming bind takes a port only from no device or its own: the compute service attaching a user's port
    await expectError(client.bindPort({ portId: chosen!.id, hostId: 'h8', deviceId: 'vm-8', deviceOwner: 'compute:nova', claim: true }, as('admin')), 'FAILED_PRECONDITION');
    expect((await client.getPort({ portId: chosen!.id }, as('admin'))).port).toMatchObject({ deviceId: 'vm-9', bindingHostId: 'h9' });
    await client.bindPort({ portId: chosen!.id, hostId: 'h8', deviceId: 'vm-9', deviceOwner: 'compute:nova', claim: true }, as('admin'));
    expect((await client.getPort({ portId: chosen!.id }, as('admin'))).port!.bindingHostId).toBe('h8');
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
    // device_ids: the ports of any of several devices in one call, the caller's only
    const { port: other } = await client.createPort({ networkId: n!.id, deviceId: 'vm-2' });
    expect((await client.listPorts({ deviceIds: ['vm-1', 'vm-2', 'vm-none'] })).ports.map((p) => p.id)).toEqual([port!.id, other!.id]);
    expect((await client.listPorts({ deviceIds: ['vm-2'] })).ports.map((p) => p.id)).toEqual([other!.id]);
    expect((await client.listPorts({ deviceIds: ['vm-1', 'vm-2'] }, as('bob'))).ports).toEqual([]);
    await expectError(client.listPorts({ deviceIds: Array.from({ length: 1001 }, (_, i) => `vm-${i}`) }), 'INVALID_ARGUMENT', { field: 'device_ids' });
    await client.deletePort({ portId: other!.id });
    await expectError(client.getPort({ portId: port!.id }, as('bob')), 'NOT_FOUND', { resourceType: 'port' });
    await expectError(client.deleteNetwork({ networkId: n!.id }), 'FAILED_PRECONDITION');
    const renamed = await client.updatePort({ portId: port!.id, name: 'eth0' });
    expect(renamed.port!.name).toBe('eth0');
    await client.deletePort({ portId: port!.id });
    await client.deleteNetwork({ networkId: n!.id });
  });
});

describe('l2population', () => {
  it("a compute agent registers and reads only its own hosts' VTEP and FDB (PERMISSION_DENIED for another's, nothing changed)", async () => {
    const agentToken = async (hostIds?: string[]) =>
      (await signToken(key, { userId: 'agent-x', userName: 'agent-x', projectId: 'service', projectName: 'service', domainId: 'default', roles: ['compute_agent', 'reader'], ...(hostIds ? { hostIds } : {}) }, { nowMs: Date.now(), ttlSeconds: 600 })).token;
    const agentA = { token: await agentToken(['bind-a']) };
    await client.registerVtep({ hostId: 'bind-b', tunnelIp: '192.0.2.92' }, as('admin'));
    const bBefore = await client.getHostFdb({ hostId: 'bind-b' }, as('admin'));
    expect((await client.registerVtep({ hostId: 'bind-a', tunnelIp: '192.0.2.91' }, agentA)).fdb).toEqual([]);
    expect((await client.getHostFdb({ hostId: 'bind-a' }, agentA)).fdbGeneration).toBeGreaterThanOrEqual(0);
    await expectError(client.registerVtep({ hostId: 'bind-b', tunnelIp: '192.0.2.66' }, agentA), 'PERMISSION_DENIED');
    await expectError(client.getHostFdb({ hostId: 'bind-b' }, agentA), 'PERMISSION_DENIED');
    // An agent token without bound hosts acts for none; a member is refused by the policy anyway.
    await expectError(client.getHostFdb({ hostId: 'bind-a' }, { token: await agentToken() }), 'PERMISSION_DENIED');
    await expectError(client.registerVtep({ hostId: 'bind-a', tunnelIp: '192.0.2.66' }, as('alice')), 'PERMISSION_DENIED');
    // host_id is still validated for those allowed (an admin with an empty id).
    await expectError(client.getHostFdb({ hostId: '' }, as('admin')), 'INVALID_ARGUMENT', { field: 'host_id' });
    const bAfter = await client.getHostFdb({ hostId: 'bind-b' }, as('admin'));
    expect(bAfter).toEqual(bBefore);
    expect((await client.registerVtep({ hostId: 'bind-b', tunnelIp: '192.0.2.92' }, as('admin'))).fdbGeneration).toBe(bBefore.fdbGeneration);
  });

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
    // Each host's updates come on its own subject, so a host's agent receives no other host's.
    expect(fdbEvents.length).toBeGreaterThan(0);
    for (const e of fdbEvents) expect(e.subject).toBe(fdbUpdatedSubject(e.hostId));
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
    expect(def.rules.map((r) => [r.ethertype, r.direction, r.remoteGroupId]).sort()).toEqual([['IPv4', 'egress', ''], ['IPv4', 'ingress', def.id], ['IPv6', 'egress', ''], ['IPv6', 'ingress', def.id]]);
    expect((await client.listSecurityGroups({})).securityGroups.filter((g) => g.name === 'default')).toHaveLength(1);
    const { securityGroup: web } = await client.createSecurityGroup({ name: 'web' });
    expect(web!.rules.map((r) => [r.direction, r.ethertype, r.protocol, r.remoteIpPrefix]).sort()).toEqual([['egress', 'IPv4', '', ''], ['egress', 'IPv6', '', '']]);
    await expectError(client.createSecurityGroupRule({ rule: { securityGroupId: web!.id, direction: 'ingress', protocol: 'bogus' } }), 'INVALID_ARGUMENT', { field: 'protocol' });
    await expectError(client.createSecurityGroupRule({ rule: { securityGroupId: web!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 90, portRangeMax: 80 } }), 'INVALID_ARGUMENT');
    const { rule } = await client.createSecurityGroupRule({ rule: { securityGroupId: web!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: '0.0.0.0/0' } });
    expect((await client.getSecurityGroup({ securityGroupId: web!.id })).securityGroup!.rules.map((r) => r.id)).toContain(rule!.id);
    await expectError(client.getSecurityGroup({ securityGroupId: web!.id }, as('bob')), 'NOT_FOUND');

    const { network: n } = await client.createNetwork({ name: 'sg' });
    const { port } = await client.createPort({ networkId: n!.id, securityGroupIds: [web!.id] });
    const { port: plain } = await client.createPort({ networkId: n!.id });
    expect(plain!.securityGroupIds).toEqual([def.id]);
    await expectError(client.deleteSecurityGroup({ securityGroupId: web!.id }), 'FAILED_PRECONDITION');
    await expectError(client.deleteSecurityGroup({ securityGroupId: def.id }), 'FAILED_PRECONDITION');
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
    await expectError(client.createRouter({ name: 'r'.repeat(256) }), 'INVALID_ARGUMENT', { field: 'name' });
    await expectError(client.tracePacket({ fromPortId: 'x', toIp: 'nope', protocol: 'tcp', dstPort: 22 }), 'INVALID_ARGUMENT', { field: 'to_ip' });
    await expectError(client.tracePacket({ toIp: '10.0.0.1', protocol: 'gre', dstPort: 22 }), 'INVALID_ARGUMENT', { field: 'protocol' });
    await client.deleteRouter({ routerId: router!.id });
    await expectError(client.getRouter({ routerId: router!.id }), 'NOT_FOUND');
  });
});

describe('L3 through the service: router gateway at create, update, interfaces by port, floating IP show', () => {
  let ext: network.Network;
  let noToken: Client;
  beforeAll(async () => {
    ext = (await client.createNetwork({ name: 'ext', routerExternal: true }, as('admin'))).network!;
    await client.createSubnet({ networkId: ext.id, cidr: '198.51.100.0/24' }, as('admin'));
    noToken = createServiceClient(network.NetworkServiceService, servers[0]!.address, { deadlineMs: 20_000 });
    clients.push(noToken);
  });
  afterAll(() => client.deleteNetwork({ networkId: ext.id }, as('admin')));

  it('creates a router with its gateway (SNAT on by default); a bad gateway leaves no router; external_fixed_ips is admin-only', async () => {
    const { router } = await client.createRouter({ name: 'gw', externalNetworkId: ext.id });
    expect(router).toMatchObject({ adminStateUp: true, enableSnat: true, externalNetworkId: ext.id, externalIp: expect.stringMatching(/^198\.51\.100\./) });
    const gwPort = (await client.getPort({ portId: router!.externalPortId }, as('admin'))).port!;
    expect(gwPort).toMatchObject({ deviceOwner: 'network:router_gateway', deviceId: router!.id, fixedIps: [{ subnetId: router!.externalSubnetId, ipAddress: router!.externalIp }] });
    const { network: priv } = await client.createNetwork({ name: 'not-ext' });
    const before = (await client.listRouters({})).routers.length;
    await expectError(client.createRouter({ name: 'bad', externalNetworkId: priv!.id }), 'INVALID_ARGUMENT', { field: 'external_network_id' });
    expect((await client.listRouters({})).routers).toHaveLength(before);
    await expectError(client.createRouter({ name: 'ip', externalNetworkId: ext.id, externalFixedIps: [{ subnetId: '', ipAddress: '198.51.100.77' }] }), 'PERMISSION_DENIED');
    const chosen = (await client.createRouter({ name: 'ip', externalNetworkId: ext.id, externalFixedIps: [{ subnetId: '', ipAddress: '198.51.100.77' }], projectId: 'p-alice' }, as('admin'))).router!;
    expect(chosen).toMatchObject({ externalIp: '198.51.100.77', projectId: 'p-alice' });
    const cleared = (await client.setRouterGateway({ routerId: chosen.id, externalNetworkId: '', enableSnat: false, externalFixedIps: [] })).router!;
    expect(cleared).toMatchObject({ externalNetworkId: '', externalIp: '', externalPortId: '' });
    await expectError(client.getPort({ portId: chosen.externalPortId }, as('admin')), 'NOT_FOUND');
    await client.deleteRouter({ routerId: chosen.id });
    await client.deleteRouter({ routerId: router!.id });
    await client.deleteNetwork({ networkId: priv!.id });
  });

  it('UpdateRouter: renames and sets admin_state_up; another project, no credentials, a reader and malformed requests are refused', async () => {
    const { router } = await client.createRouter({ name: 'u' });
    expect((await client.updateRouter({ routerId: router!.id, name: 'u2', adminStateUp: false })).router).toMatchObject({ name: 'u2', adminStateUp: false });
    expect((await client.updateRouter({ routerId: router!.id })).router).toMatchObject({ name: 'u2', adminStateUp: false });
    await expectError(client.updateRouter({ routerId: router!.id, name: 'x' }, as('bob')), 'NOT_FOUND', { resourceType: 'router' });
    await expectError(noToken.updateRouter({ routerId: router!.id, name: 'x' }), 'UNAUTHENTICATED');
    await expectError(client.updateRouter({ routerId: router!.id, name: 'x' }, as('aliceReader')), 'PERMISSION_DENIED');
    await expectError(client.updateRouter({ routerId: '' }), 'INVALID_ARGUMENT', { field: 'router_id' });
    await expectError(client.updateRouter({ routerId: router!.id, name: 'n'.repeat(256) }), 'INVALID_ARGUMENT', { field: 'name' });
    expect((await client.getRouter({ routerId: router!.id })).router!.name).toBe('u2');
    await client.deleteRouter({ routerId: router!.id });
  });

  it('UpdateRouter routes: replace, add, remove; nexthop checked against the interfaces; an interface a route uses cannot go; others refused', async () => {
    const { REPLACE, ADD, REMOVE } = { REPLACE: network.RoutesUpdate.ROUTES_UPDATE_REPLACE, ADD: network.RoutesUpdate.ROUTES_UPDATE_ADD, REMOVE: network.RoutesUpdate.ROUTES_UPDATE_REMOVE };
    const { router } = await client.createRouter({ name: 'rt' });
    const { network: n } = await client.createNetwork({ name: 'rt1' });
    const s = (await client.createSubnet({ networkId: n!.id, cidr: '10.77.0.0/24' })).subnet!;
    await client.addRouterInterface({ routerId: router!.id, subnetId: s.id });
    const r1 = { destination: '192.168.10.0/24', nexthop: '10.77.0.5' };
    const r2 = { destination: '192.168.20.0/24', nexthop: '10.77.0.6' };
    expect((await client.getRouter({ routerId: router!.id })).router!.routes).toEqual([]);
    expect((await client.updateRouter({ routerId: router!.id, routes: [r1, r1, r2], routesUpdate: REPLACE })).router!.routes).toEqual([r1, r2]);
    expect((await client.getRouter({ routerId: router!.id })).router!.routes).toEqual([r1, r2]);
    // a rename keeps the routes
    expect((await client.updateRouter({ routerId: router!.id, name: 'rt2' })).router).toMatchObject({ name: 'rt2', routes: [r1, r2] });
    const r3 = { destination: '0.0.0.0/0', nexthop: '10.77.0.7' };
    expect((await client.updateRouter({ routerId: router!.id, routes: [r1, r3], routesUpdate: ADD })).router!.routes).toEqual([r1, r2, r3]);
    expect((await client.updateRouter({ routerId: router!.id, routes: [r2, { destination: '10.1.0.0/16', nexthop: '10.77.0.9' }], routesUpdate: REMOVE })).router!.routes).toEqual([r1, r3]);
    await expectError(client.updateRouter({ routerId: router!.id, routes: [{ destination: '192.168.30.0/24', nexthop: '10.99.0.5' }], routesUpdate: REPLACE }), 'INVALID_ARGUMENT', { field: 'routes' });
    await expect(client.updateRouter({ routerId: router!.id, routes: [{ destination: '192.168.30.0/24', nexthop: '10.99.0.5' }], routesUpdate: REPLACE })).rejects.toThrow(/not connected with router/);
    await expect(client.updateRouter({ routerId: router!.id, routes: [{ destination: '192.168.30.0/24', nexthop: s.gatewayIp }], routesUpdate: ADD })).rejects.toThrow(/used by router/);
    await expectError(client.updateRouter({ routerId: router!.id, routes: [{ destination: '192.168.30.1/24', nexthop: '10.77.0.5' }], routesUpdate: REPLACE }), 'INVALID_ARGUMENT', { field: 'routes' });
    await expectError(client.updateRouter({ routerId: router!.id, routes: [{ destination: '192.168.30.0/24', nexthop: 'ten' }], routesUpdate: REPLACE }), 'INVALID_ARGUMENT', { field: 'routes' });
    const many = Array.from({ length: 31 }, (_, i) => ({ destination: `172.16.${i}.0/24`, nexthop: '10.77.0.5' }));
    await expect(client.updateRouter({ routerId: router!.id, routes: many, routesUpdate: REPLACE })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'routes', message: expect.stringMatching(/exhausted/) });
    await expectError(client.updateRouter({ routerId: router!.id, routes: Array.from({ length: 129 }, () => r1), routesUpdate: REPLACE }), 'INVALID_ARGUMENT', { field: 'routes' });
    await expectError(client.updateRouter({ routerId: router!.id, routes: [r1] }), 'INVALID_ARGUMENT', { field: 'routes_update' });
    await expectError(client.updateRouter({ routerId: router!.id, routes: [], routesUpdate: REPLACE }, as('bob')), 'NOT_FOUND', { resourceType: 'router' });
    await expectError(noToken.updateRouter({ routerId: router!.id, routes: [], routesUpdate: REPLACE }), 'UNAUTHENTICATED');
    await expectError(client.updateRouter({ routerId: router!.id, routes: [], routesUpdate: REPLACE }, as('aliceReader')), 'PERMISSION_DENIED');
    expect((await client.getRouter({ routerId: router!.id })).router!.routes).toEqual([r1, r3]);
    await expect(client.removeRouterInterface({ routerId: router!.id, subnetId: s.id })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'router_interface_in_use_by_route' });
    expect((await client.getRouter({ routerId: router!.id })).router!.interfaces).toHaveLength(1);
    expect((await client.updateRouter({ routerId: router!.id, routes: [], routesUpdate: REPLACE })).router!.routes).toEqual([]);
    await client.removeRouterInterface({ routerId: router!.id, subnetId: s.id });
    await client.deleteRouter({ routerId: router!.id });
    await client.deleteNetwork({ networkId: n!.id });
  });

  it('interfaces: by subnet or by port (not both), not twice on one subnet, no overlapping subnets, a used port refused; RouterInUse while attached', async () => {
    const { router } = await client.createRouter({ name: 'if' });
    const { network: n1 } = await client.createNetwork({ name: 'if1' });
    const s1 = (await client.createSubnet({ networkId: n1!.id, cidr: '10.50.0.0/24' })).subnet!;
    const { network: n2 } = await client.createNetwork({ name: 'if2' });
    const s2 = (await client.createSubnet({ networkId: n2!.id, cidr: '10.50.0.0/25' })).subnet!;
    const s3 = (await client.createSubnet({ networkId: n2!.id, cidr: '10.60.0.0/24' })).subnet!;
    await expectError(client.addRouterInterface({ routerId: router!.id }), 'INVALID_ARGUMENT', { field: 'subnet_id' });
    await expectError(client.addRouterInterface({ routerId: router!.id, subnetId: s1.id, portId: 'p' }), 'INVALID_ARGUMENT', { field: 'port_id' });
    const added = await client.addRouterInterface({ routerId: router!.id, subnetId: s1.id });
    expect(added).toMatchObject({ interface: { subnetId: s1.id }, networkId: n1!.id });
    expect((await client.getPort({ portId: added.interface!.portId })).port).toMatchObject({ deviceOwner: 'network:router_interface', deviceId: router!.id, fixedIps: [{ subnetId: s1.id, ipAddress: s1.gatewayIp }] });
    await expectError(client.addRouterInterface({ routerId: router!.id, subnetId: s1.id }), 'INVALID_ARGUMENT', { field: 'subnet_id' });
    await expectError(client.addRouterInterface({ routerId: router!.id, subnetId: s2.id }), 'INVALID_ARGUMENT', { field: 'subnet_id' });
    await expectError(client.addRouterInterface({ routerId: router!.id, subnetId: s1.id }, as('bob')), 'NOT_FOUND', { resourceType: 'router' });
    const used = (await client.createPort({ networkId: n2!.id, fixedIps: [{ subnetId: s3.id, ipAddress: '' }], deviceId: 'vm-1' })).port!;
    await expectError(client.addRouterInterface({ routerId: router!.id, portId: used.id }), 'FAILED_PRECONDITION');
    const free = (await client.createPort({ networkId: n2!.id, fixedIps: [{ subnetId: s3.id, ipAddress: '10.60.0.9' }] })).port!;
    const byPort = await client.addRouterInterface({ routerId: router!.id, portId: free.id });
    expect(byPort).toMatchObject({ interface: { subnetId: s3.id, portId: free.id }, networkId: n2!.id });
    expect((await client.getPort({ portId: free.id })).port).toMatchObject({ deviceOwner: 'network:router_interface', deviceId: router!.id });
    await expect(client.deleteRouter({ routerId: router!.id })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'router_in_use' });
    await expectError(client.removeRouterInterface({ routerId: router!.id, subnetId: s2.id }), 'NOT_FOUND', { resourceType: 'router_interface' });
    await expectError(client.removeRouterInterface({ routerId: router!.id, subnetId: s1.id, portId: free.id }), 'NOT_FOUND', { resourceType: 'router_interface' });
    expect(await client.removeRouterInterface({ routerId: router!.id, portId: free.id })).toMatchObject({ interface: { subnetId: s3.id, portId: free.id }, networkId: n2!.id });
    await expectError(client.getPort({ portId: free.id }), 'NOT_FOUND');
    await client.removeRouterInterface({ routerId: router!.id, subnetId: s1.id });
    await client.deleteRouter({ routerId: router!.id });
    await client.deletePort({ portId: used.id });
    await client.deleteNetwork({ networkId: n1!.id });
    await client.deleteNetwork({ networkId: n2!.id });
  });

  it('GetFloatingIp: the owner sees it; another project, no credentials and malformed requests are refused; a chosen address is admin-only', async () => {
    const fip = (await client.createFloatingIp({ floatingNetworkId: ext.id })).floatingIp!;
    expect((await client.getFloatingIp({ floatingIpId: fip.id })).floatingIp).toMatchObject({ id: fip.id, status: 'DOWN', portId: '', floatingIpAddress: fip.floatingIpAddress });
    await expectError(client.getFloatingIp({ floatingIpId: fip.id }, as('bob')), 'NOT_FOUND', { resourceType: 'floating_ip' });
    await expectError(noToken.getFloatingIp({ floatingIpId: fip.id }), 'UNAUTHENTICATED');
    await expectError(client.getFloatingIp({ floatingIpId: '' }), 'INVALID_ARGUMENT', { field: 'floating_ip_id' });
    await expectError(client.createFloatingIp({ floatingNetworkId: ext.id, floatingIpAddress: '198.51.100.200' }), 'PERMISSION_DENIED');
    const chosen = (await client.createFloatingIp({ floatingNetworkId: ext.id, floatingIpAddress: '198.51.100.200', projectId: 'p-alice' }, as('admin'))).floatingIp!;
    expect(chosen).toMatchObject({ floatingIpAddress: '198.51.100.200', projectId: 'p-alice' });
    await expectError(client.createFloatingIp({ floatingNetworkId: ext.id, floatingIpAddress: '198.51.100.200' }, as('admin')), 'ALREADY_EXISTS');
    await client.deleteFloatingIp({ floatingIpId: chosen.id });
    await client.deleteFloatingIp({ floatingIpId: fip.id });
  });
});

describe('floating IP quota', () => {
  it('reserves one floating_ips per create and commits it, refuses over quota leaving no address taken, releases on delete', async () => {
    const used = new Map<string, number>();
    const pending = new Map<string, string>();
    const log: string[] = [];
    const limit = 1;
    const quota: FloatingIpQuota = {
      reserve: async (projectId) => {
        if ((used.get(projectId) ?? 0) + 1 > limit) throw new ResourceExhaustedError(`quota exceeded for floating_ips in project ${projectId}`, 'over_quota');
        used.set(projectId, (used.get(projectId) ?? 0) + 1);
        const id = `res-${log.length}`;
        pending.set(id, projectId);
        log.push(`reserve ${projectId}`);
        return id;
      },
      commit: async (id) => void (pending.delete(id), log.push('commit')),
      rollback: async (id) => {
        const p = pending.get(id)!;
        used.set(p, used.get(p)! - 1);
        log.push('rollback');
      },
      release: async (projectId) => {
        used.set(projectId, used.get(projectId)! - 1);
        log.push(`release ${projectId}`);
      },
    };
    const quoted = await startService('3000:3999', { floatingIpQuota: quota });
    const ext = (await quoted.createNetwork({ name: 'ext-q', routerExternal: true }, as('admin'))).network!;
    await quoted.createSubnet({ networkId: ext.id, cidr: '192.0.2.0/24' }, as('admin'));
    const portsOnExt = async () => (await quoted.listPorts({ networkId: ext.id }, as('admin'))).ports.length;
    const fip = (await quoted.createFloatingIp({ floatingNetworkId: ext.id })).floatingIp!;
    expect(log).toEqual(['reserve p-alice', 'commit']);
    await expectError(quoted.createFloatingIp({ floatingNetworkId: ext.id }), 'RESOURCE_EXHAUSTED');
    expect(await portsOnExt()).toBe(1);
    await expectError(quoted.createFloatingIp({ floatingNetworkId: ext.id, floatingIpAddress: '192.0.2.1' }, as('admin')), 'ALREADY_EXISTS');
    expect(log.slice(-2)).toEqual(['reserve service', 'rollback']);
    await quoted.deleteFloatingIp({ floatingIpId: fip.id });
    expect(log.at(-1)).toBe('release p-alice');
    expect(used.get('p-alice')).toBe(0);
    const again = (await quoted.createFloatingIp({ floatingNetworkId: ext.id })).floatingIp!;
    await quoted.deleteFloatingIp({ floatingIpId: again.id });
    await quoted.deleteNetwork({ networkId: ext.id }, as('admin'));
  });
});

describe('subnet pools', () => {
  it('create with defaults, scoping and admin-only shared, malformed refused; subnets take CIDRs from the pool, freed on delete; a pool only grows and is not deleted while used', async () => {
    const noToken = createServiceClient(network.NetworkServiceService, servers[0]!.address, { deadlineMs: 20_000 });
    clients.push(noToken);
    const pool = (await client.createSubnetPool({ name: 'pool', prefixes: ['10.200.0.0/24'], defaultPrefixlen: 26 })).subnetPool!;
    expect(pool).toMatchObject({ projectId: 'p-alice', prefixes: ['10.200.0.0/24'], minPrefixlen: 8, maxPrefixlen: 32, defaultPrefixlen: 26, shared: false, isDefault: false, ipVersion: 4 });
    await expectError(client.createSubnetPool({ name: 's', prefixes: ['10.201.0.0/24'], shared: true }), 'PERMISSION_DENIED');
    await expectError(client.createSubnetPool({ name: 'd', prefixes: ['10.201.0.0/24'], isDefault: true }), 'PERMISSION_DENIED');
    await expectError(client.createSubnetPool({ name: 'bad', prefixes: ['10.201.0.1/24'] }), 'INVALID_ARGUMENT', { field: 'prefixes[0]' });
    await expectError(client.createSubnetPool({ name: 'none', prefixes: [] }), 'INVALID_ARGUMENT', { field: 'prefixes' });
    await expectError(client.createSubnetPool({ name: 'len', prefixes: ['10.201.0.0/24'], minPrefixlen: 30, maxPrefixlen: 28 }), 'INVALID_ARGUMENT', { field: 'max_prefixlen' });
    await expectError(client.createSubnetPool({ name: 'len', prefixes: ['10.201.0.0/24'], minPrefixlen: 24, defaultPrefixlen: 20 }), 'INVALID_ARGUMENT', { field: 'default_prefixlen' });
    await expectError(client.createSubnetPool({ name: 'p'.repeat(256), prefixes: ['10.201.0.0/24'] }), 'INVALID_ARGUMENT', { field: 'name' });
    await expectError(client.getSubnetPool({ subnetPoolId: pool.id }, as('bob')), 'NOT_FOUND', { resourceType: 'subnet_pool' });
    await expectError(noToken.getSubnetPool({ subnetPoolId: pool.id }), 'UNAUTHENTICATED');
    await expectError(noToken.createSubnetPool({ name: 'x', prefixes: ['10.201.0.0/24'] }), 'UNAUTHENTICATED');
    await expectError(client.updateSubnetPool({ subnetPoolId: pool.id, name: 'x', prefixes: [] }, as('bob')), 'NOT_FOUND');
    await expectError(client.deleteSubnetPool({ subnetPoolId: pool.id }, as('bob')), 'NOT_FOUND');
    await expectError(client.updateSubnetPool({ subnetPoolId: pool.id, name: 'x', prefixes: [] }, as('aliceReader')), 'PERMISSION_DENIED');
    await expectError(client.getSubnetPool({ subnetPoolId: '' }), 'INVALID_ARGUMENT', { field: 'subnet_pool_id' });
    expect((await client.listSubnetPools({}, as('bob'))).subnetPools.map((p) => p.id)).not.toContain(pool.id);

    const { network: net } = await client.createNetwork({ name: 'pooled' });
    const s1 = (await client.createSubnet({ networkId: net!.id, subnetpoolId: pool.id })).subnet!;
    expect(s1).toMatchObject({ cidr: '10.200.0.0/26', gatewayIp: '10.200.0.1', subnetpoolId: pool.id });
    const { network: net2 } = await client.createNetwork({ name: 'pooled-2' });
    const s2 = (await client.createSubnet({ networkId: net2!.id, subnetpoolId: pool.id, prefixlen: 25 })).subnet!;
    expect(s2.cidr).toBe('10.200.0.128/25');
    await expectError(client.createSubnet({ networkId: net2!.id, subnetpoolId: pool.id, cidr: '10.200.0.0/27' }), 'INVALID_ARGUMENT', { field: 'cidr' });
    await expectError(client.createSubnet({ networkId: net2!.id, subnetpoolId: pool.id, prefixlen: 4 }), 'INVALID_ARGUMENT', { field: 'prefixlen' });
    await expectError(client.createSubnet({ networkId: net2!.id, subnetpoolId: pool.id, prefixlen: 25 }), 'RESOURCE_EXHAUSTED');
    await expectError(client.createSubnet({ networkId: net2!.id, subnetpoolId: pool.id }, as('bob')), 'NOT_FOUND');
    await expect(client.deleteSubnetPool({ subnetPoolId: pool.id })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'subnet_pool_in_use' });
    await expectError(client.updateSubnetPool({ subnetPoolId: pool.id, prefixes: ['10.202.0.0/24'] }), 'INVALID_ARGUMENT', { field: 'prefixes' });
    const grown = (await client.updateSubnetPool({ subnetPoolId: pool.id, name: 'pool-2', prefixes: ['10.200.0.0/23'] })).subnetPool!;
    expect(grown).toMatchObject({ name: 'pool-2', prefixes: ['10.200.0.0/23'] });
    expect((await client.createSubnet({ networkId: net2!.id, subnetpoolId: pool.id, prefixlen: 25 })).subnet!.cidr).toBe('10.200.1.0/25');
    await client.deleteSubnet({ subnetId: s1.id });
    const { network: net3 } = await client.createNetwork({ name: 'pooled-3' });
    expect((await client.createSubnet({ networkId: net3!.id, subnetpoolId: pool.id })).subnet!.cidr).toBe('10.200.0.0/26');
    for (const n of [net, net2, net3]) await client.deleteNetwork({ networkId: n!.id });
    await client.deleteSubnetPool({ subnetPoolId: pool.id });
    await expectError(client.getSubnetPool({ subnetPoolId: pool.id }), 'NOT_FOUND');
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

describe('security group updates and rules as Neutron has them', () => {
  it('renames a group but never the default one, nor to "default"; answers ALREADY_EXISTS for a duplicate rule', async () => {
    const { securityGroup: g } = await client.createSecurityGroup({ name: 'db', description: 'd' });
    const renamed = (await client.updateSecurityGroup({ securityGroupId: g!.id, name: 'db2', description: 'd2' })).securityGroup!;
    expect(renamed).toMatchObject({ id: g!.id, name: 'db2', description: 'd2' });
    expect((await client.getSecurityGroup({ securityGroupId: g!.id })).securityGroup).toMatchObject({ name: 'db2', description: 'd2' });
    await expectError(client.updateSecurityGroup({ securityGroupId: g!.id, name: 'default' }), 'ALREADY_EXISTS');
    await expectError(client.createSecurityGroup({ name: 'default' }), 'ALREADY_EXISTS');
    const def = (await client.listSecurityGroups({})).securityGroups.find((x) => x.name === 'default')!;
    await expectError(client.updateSecurityGroup({ securityGroupId: def.id, name: 'other' }), 'FAILED_PRECONDITION');
    expect((await client.updateSecurityGroup({ securityGroupId: def.id, description: 'mine' })).securityGroup!.description).toBe('mine');

    const ssh = { securityGroupId: g!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '10.1.2.3/8' };
    const { rule } = await client.createSecurityGroupRule({ rule: ssh });
    expect(rule).toMatchObject({ protocol: 'tcp', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8', portRangeMin: 22, portRangeMax: 22 });
    await expectError(client.createSecurityGroupRule({ rule: { ...ssh, protocol: '6', remoteIpPrefix: '10.0.0.0/8' } }), 'ALREADY_EXISTS', { resourceType: 'security_group_rule' });
    await expectError(client.createSecurityGroupRule({ rule: { ...ssh, remoteGroupId: g!.id } }), 'INVALID_ARGUMENT', { field: 'remote_group_id' });
    await expectError(client.createSecurityGroupRule({ rule: { ...ssh, securityGroupId: 'no-such-group' } }), 'NOT_FOUND', { resourceType: 'security_group' });
    const echoReply = (await client.createSecurityGroupRule({ rule: { securityGroupId: g!.id, direction: 'ingress', protocol: 'icmp', portRangeMin: 0, portRangeMax: 0 } })).rule!;
    expect(echoReply).toMatchObject({ portRangeMin: 0, portRangeMax: 0 });
    const v6 = (await client.createSecurityGroupRule({ rule: { securityGroupId: g!.id, direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp', remoteIpPrefix: '2001:DB8::1/32' } })).rule!;
    expect(v6.remoteIpPrefix).toBe('2001:db8::/32');
    const anyProto = (await client.createSecurityGroupRule({ rule: { securityGroupId: g!.id, direction: 'ingress', protocol: 'any', remoteGroupId: g!.id } })).rule!;
    expect(anyProto.protocol).toBe('');
    await expectError(client.updateSecurityGroup({ securityGroupId: g!.id, name: 'theirs' }, as('bob')), 'NOT_FOUND');
    await expectError(client.updateSecurityGroup({ securityGroupId: g!.id, name: 'r' }, as('aliceReader')), 'PERMISSION_DENIED');
    await expectError(client.updateSecurityGroup({ securityGroupId: g!.id, name: 'r' }, { token: '' }), 'UNAUTHENTICATED');
    await expectError(client.updateSecurityGroup({ securityGroupId: g!.id, name: 'n'.repeat(256) }), 'INVALID_ARGUMENT', { field: 'name' });
    await expectError(client.updateSecurityGroup({ securityGroupId: '' }), 'INVALID_ARGUMENT', { field: 'security_group_id' });
    await client.deleteSecurityGroup({ securityGroupId: g!.id });
  });

  it('updates a subnet (name, gateway, pools, DNS, routes, DHCP) and refuses bad values, other projects and callers without credentials', async () => {
    const { network: n } = await client.createNetwork({ name: 'upd' });
    const { subnet: s } = await client.createSubnet({ networkId: n!.id, cidr: '10.77.0.0/24', enableDhcp: true });
    const u = (
      await client.updateSubnet({
        subnetId: s!.id, name: 'renamed', gatewayIp: '10.77.0.254', allocationPools: [{ start: '10.77.0.10', end: '10.77.0.20' }], replaceAllocationPools: true,
        dnsNameservers: ['1.1.1.1'], replaceDnsNameservers: true, hostRoutes: [{ destination: '10.9.0.0/16', nexthop: '10.77.0.1' }], replaceHostRoutes: true, enableDhcp: false,
      })
    ).subnet!;
    expect(u).toMatchObject({ name: 'renamed', cidr: '10.77.0.0/24', gatewayIp: '10.77.0.254', allocationPools: [{ start: '10.77.0.10', end: '10.77.0.20' }], dnsNameservers: ['1.1.1.1'], enableDhcp: false });
    // lists left out stay as they were
    expect((await client.updateSubnet({ subnetId: s!.id, name: 'again' })).subnet).toMatchObject({ name: 'again', dnsNameservers: ['1.1.1.1'], hostRoutes: [{ destination: '10.9.0.0/16', nexthop: '10.77.0.1' }] });
    expect((await client.updateSubnet({ subnetId: s!.id, gatewayIp: 'none' })).subnet!.gatewayIp).toBe('');
    await expectError(client.updateSubnet({ subnetId: s!.id, gatewayIp: '10.78.0.1' }), 'INVALID_ARGUMENT', { field: 'gateway_ip' });
    await expectError(client.updateSubnet({ subnetId: s!.id, dnsNameservers: ['x'], replaceDnsNameservers: true }), 'INVALID_ARGUMENT', { field: 'dns_nameservers[0]' });
    const { port } = await client.createPort({ networkId: n!.id, fixedIps: [{ subnetId: s!.id, ipAddress: '10.77.0.30' }] });
    await expectError(client.updateSubnet({ subnetId: s!.id, gatewayIp: '10.77.0.30' }), 'ALREADY_EXISTS');
    await expectError(client.updateSubnet({ subnetId: s!.id, name: 'x' }, as('bob')), 'NOT_FOUND');
    await expectError(client.updateSubnet({ subnetId: s!.id, name: 'x' }, as('aliceReader')), 'PERMISSION_DENIED');
    await expectError(client.updateSubnet({ subnetId: s!.id, name: 'x' }, { token: '' }), 'UNAUTHENTICATED');
    await expectError(client.updateSubnet({ subnetId: s!.id, name: 'n'.repeat(256) }), 'INVALID_ARGUMENT', { field: 'name' });
    await expectError(client.updateSubnet({ subnetId: '' }), 'INVALID_ARGUMENT', { field: 'subnet_id' });
    expect((await client.getSubnet({ subnetId: s!.id })).subnet!.name).toBe('again');

    const dev = (await client.updatePort({ portId: port!.id, deviceId: 'vm-1', deviceOwner: 'custom:appliance', securityGroupIds: [], replaceSecurityGroups: false })).port!;
    expect(dev).toMatchObject({ deviceId: 'vm-1', deviceOwner: 'custom:appliance' });
    await expectError(client.updatePort({ portId: port!.id, deviceOwner: 'network:router_interface', securityGroupIds: [], replaceSecurityGroups: false }), 'PERMISSION_DENIED');
    await client.updatePort({ portId: port!.id, deviceId: '', deviceOwner: '', securityGroupIds: [], replaceSecurityGroups: false });
    await client.deletePort({ portId: port!.id });
    await client.deleteNetwork({ networkId: n!.id });
  });
});

describe('port and network updates as Neutron has them', () => {
  it('replaces a port\'s fixed IPs (kept, claimed, freed), indexes a new device_id, creates a port in no group, keeps a network description', async () => {
    const { network: n } = await client.createNetwork({ name: 'fip-upd', description: 'blue' });
    expect(n!.description).toBe('blue');
    expect((await client.updateNetwork({ networkId: n!.id, description: 'green' })).network!.description).toBe('green');
    const { subnet: s1 } = await client.createSubnet({ networkId: n!.id, cidr: '10.91.0.0/24', description: 'first' });
    expect(s1!.description).toBe('first');
    expect((await client.updateSubnet({ subnetId: s1!.id, description: 'one' })).subnet!.description).toBe('one');
    const { subnet: s2 } = await client.createSubnet({ networkId: n!.id, cidr: '10.92.0.0/24' });
    const { port } = await client.createPort({ networkId: n!.id, fixedIps: [{ subnetId: s1!.id, ipAddress: '10.91.0.10' }], securityGroupIds: [], explicitSecurityGroups: true });
    expect(port!.securityGroupIds).toEqual([]);
    expect((await client.updatePort({ portId: port!.id, description: 'nic', securityGroupIds: [], replaceSecurityGroups: false })).port!.description).toBe('nic');
    const upd = (await client.updatePort({ portId: port!.id, fixedIps: [{ subnetId: s1!.id, ipAddress: '' }, { subnetId: s2!.id, ipAddress: '10.92.0.7' }], replaceFixedIps: true, securityGroupIds: [], replaceSecurityGroups: false })).port!;
    expect(upd.fixedIps).toEqual([{ subnetId: s1!.id, ipAddress: '10.91.0.10' }, { subnetId: s2!.id, ipAddress: '10.92.0.7' }]);
    const moved = (await client.updatePort({ portId: port!.id, fixedIps: [{ subnetId: s2!.id, ipAddress: '10.92.0.8' }], replaceFixedIps: true, deviceId: 'vm-upd', securityGroupIds: [], replaceSecurityGroups: false })).port!;
    expect(moved.fixedIps).toEqual([{ subnetId: s2!.id, ipAddress: '10.92.0.8' }]);
    expect(await redis.smembers('mc:network:subnet:' + s1!.id + ':ips')).toEqual([]);
    expect(await redis.smembers('mc:network:subnet:' + s2!.id + ':ips')).toEqual(['10.92.0.8']);
    expect((await client.listPorts({ deviceId: 'vm-upd' })).ports.map((p) => p.id)).toEqual([port!.id]);
    // an address another port holds is refused and nothing this update claimed stays claimed
    const { port: other } = await client.createPort({ networkId: n!.id, fixedIps: [{ subnetId: s1!.id, ipAddress: '10.91.0.20' }] });
    await expectError(client.updatePort({ portId: port!.id, fixedIps: [{ subnetId: s1!.id, ipAddress: '10.91.0.21' }, { subnetId: s1!.id, ipAddress: '10.91.0.20' }], replaceFixedIps: true, securityGroupIds: [], replaceSecurityGroups: false }), 'ALREADY_EXISTS');
    expect((await redis.smembers('mc:network:subnet:' + s1!.id + ':ips')).sort()).toEqual(['10.91.0.20']);
    await expectError(client.updatePort({ portId: port!.id, fixedIps: [{ subnetId: '', ipAddress: '10.99.0.1' }], replaceFixedIps: true, securityGroupIds: [], replaceSecurityGroups: false }), 'INVALID_ARGUMENT', { field: 'fixed_ips[0].ip_address' });
    await client.updatePort({ portId: port!.id, deviceId: '', securityGroupIds: [], replaceSecurityGroups: false });
    expect((await client.listPorts({ deviceId: 'vm-upd' })).ports).toEqual([]);
    for (const p of [port!, other!]) await client.deletePort({ portId: p.id });
    await client.deleteNetwork({ networkId: n!.id });
  });
});

describe('quotas', () => {
  it("refuses creates over the project's limits with RESOURCE_EXHAUSTED, counts use, and scopes GetQuotaUsage", async () => {
    const carol = as('carol');
    quotaLimits.set('p-carol', { networks: 1, subnets: 1, ports: 1, security_groups: 2, security_group_rules: 7 });
    const { network: n } = await quotaClient.createNetwork({ name: 'q' }, carol);
    await expectError(quotaClient.createNetwork({ name: 'q2' }, carol), 'RESOURCE_EXHAUSTED');
    await quotaClient.createSubnet({ networkId: n!.id, cidr: '10.88.0.0/24' }, carol);
    await expectError(quotaClient.createSubnet({ networkId: n!.id, cidr: '10.89.0.0/24' }, carol), 'RESOURCE_EXHAUSTED');
    const { port } = await quotaClient.createPort({ networkId: n!.id }, carol);
    await expectError(quotaClient.createPort({ networkId: n!.id }, carol), 'RESOURCE_EXHAUSTED');
    // the default group (4 rules) was made with the first port; one more group (2 rules) fits, a third does not
    const { securityGroup: g } = await quotaClient.createSecurityGroup({ name: 'q' }, carol);
    await expectError(quotaClient.createSecurityGroup({ name: 'q3' }, carol), 'RESOURCE_EXHAUSTED');
    await quotaClient.createSecurityGroupRule({ rule: { securityGroupId: g!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 } }, carol);
    await expectError(quotaClient.createSecurityGroupRule({ rule: { securityGroupId: g!.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 80, portRangeMax: 80 } }, carol), 'RESOURCE_EXHAUSTED');
    const usage = await quotaClient.getQuotaUsage({ projectId: '' }, carol);
    expect(usage).toEqual({ projectId: 'p-carol', inUse: { networks: 1, subnets: 1, ports: 1, routers: 0, floating_ips: 0, security_groups: 2, security_group_rules: 7 } });
    expect((await quotaClient.getQuotaUsage({ projectId: 'p-carol' }, as('admin'))).inUse.ports).toBe(1);
    await expectError(quotaClient.getQuotaUsage({ projectId: 'p-carol' }, as('bob')), 'PERMISSION_DENIED');
    await expectError(quotaClient.getQuotaUsage({ projectId: '' }, { token: '' }), 'UNAUTHENTICATED');
    await expectError(quotaClient.getQuotaUsage({ projectId: 'p'.repeat(300) }, as('admin')), 'INVALID_ARGUMENT', { field: 'project_id' });

    // freeing one makes room again; a raised limit lets more in
    await quotaClient.deletePort({ portId: port!.id }, carol);
    await quotaClient.createPort({ networkId: n!.id }, carol);
    quotaLimits.set('p-carol', { networks: -1 });
    await quotaClient.createNetwork({ name: 'q2' }, carol);
  });

  it('port creates racing at the limit cannot exceed it (the limit is checked in the create transaction); refused creates keep no address', async () => {
    const dave = { token: await token('dave', 'p-dave', ['member', 'reader']) };
    quotaLimits.set('p-dave', { ports: 3 });
    const { network: n } = await quotaClient.createNetwork({ name: 'race' }, dave);
    const { subnet } = await quotaClient.createSubnet({ networkId: n!.id, cidr: '10.87.0.0/24' }, dave);
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => quotaClient.createPort({ networkId: n!.id }, dave)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
    for (const r of results.filter((x) => x.status === 'rejected')) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'RESOURCE_EXHAUSTED' });
    expect((await quotaClient.listPorts({ networkId: n!.id }, dave)).ports).toHaveLength(3);
    expect((await quotaClient.getQuotaUsage({ projectId: '' }, dave)).inUse.ports).toBe(3);
    // the refused creates released their IP and MAC claims
    expect(await redis.scard(`mc:network:subnet:${subnet!.id}:ips`)).toBe(3);

    // A cloud whose counts were never kept (or lost) is counted once from the port records.
    await redis.del('mc:network:ports:by_project', 'mc:network:ports:by_project:complete');
    const recounted = await startService('4000:4999', { withQuotas: true });
    expect((await recounted.getQuotaUsage({ projectId: '' }, dave)).inUse.ports).toBe(3);
    await expectError(recounted.createPort({ networkId: n!.id }, dave), 'RESOURCE_EXHAUSTED');
    const one = (await recounted.listPorts({ networkId: n!.id }, dave)).ports[0]!;
    await recounted.deletePort({ portId: one.id }, dave);
    expect((await recounted.getQuotaUsage({ projectId: '' }, dave)).inUse.ports).toBe(2);
    await recounted.createPort({ networkId: n!.id }, dave);
    for (const p of (await recounted.listPorts({ networkId: n!.id }, dave)).ports) await recounted.deletePort({ portId: p.id }, dave);
    expect(await redis.hget('mc:network:ports:by_project', 'p-dave')).toBeNull();
  });
});

describe('cleanup', () => {
  it('leaves only VTEPs and FDB generation counters once everything is deleted', async () => {
    for (const p of (await client.listPorts({}, as('admin'))).ports) await client.deletePort({ portId: p.id }, as('admin'));
    for (const g of (await client.listSecurityGroups({}, as('admin'))).securityGroups) await client.deleteSecurityGroup({ securityGroupId: g.id }, as('admin'));
    for (const n of (await client.listNetworks({}, as('admin'))).networks) await client.deleteNetwork({ networkId: n.id }, as('admin'));
    const left = (await redis.keys('mc:network:*')).filter((k) => !/^mc:network:(vtep:[^:]+|vteps|fdbgen:[^:]+|l2pop:indexed|ports:by_project:complete)$/.test(k));
    expect(left).toEqual([]);
  });
});

describe("CheckPortIngress: a compute agent asks whether a port's security groups let a connection in", () => {
  let agentToken = '';
  let otherAgentToken = '';
  const agentOf = async (hostIds: string[]) =>
    (await signToken(key, { userId: 'agent-x', userName: 'agent-x', projectId: 'service', projectName: 'service', domainId: 'default', roles: ['compute_agent'], hostIds }, { nowMs: Date.now(), ttlSeconds: 600 })).token;
  beforeAll(async () => {
    agentToken = await agentOf(['h-ssh']);
    otherAgentToken = await agentOf(['h-other']);
  });

  it("answers from the port's groups: a group with no ingress rule refuses the outside, a rule for tcp/22 from a prefix lets it in; bad input, members, another host's agent and callers without credentials are refused", async () => {
    const net = (await client.createNetwork({ name: 'ssh-net' }, as('alice'))).network!;
    await client.createSubnet({ networkId: net.id, cidr: '10.9.0.0/24' }, as('alice'));
    const sg = (await client.createSecurityGroup({ name: 'ssh-in' }, as('alice'))).securityGroup!;
    const created = (await client.createPort({ networkId: net.id, securityGroupIds: [sg.id] }, as('alice'))).port!;
    const p = (await client.bindPort({ portId: created.id, hostId: 'h-ssh' }, as('admin'))).port!;
    const ask = (req: Partial<network.CheckPortIngressRequest>, who: { token: string } = { token: agentToken }) =>
      client.checkPortIngress({ portId: p.id, remoteIp: '198.51.100.7', protocol: 'tcp', dstPort: 22, ...req }, who);

    const before = await ask({});
    expect(before).toMatchObject({ allowed: false, ruleId: '' });
    expect(before.description).toContain('ssh-in');
    const rule = (await client.createSecurityGroupRule({ rule: { securityGroupId: sg.id, direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '198.51.100.0/24' } }, as('alice'))).rule!;
    expect(await ask({})).toMatchObject({ allowed: true, ruleId: rule.id });
    // the rule is for 22 and for that prefix only
    expect((await ask({ dstPort: 80 })).allowed).toBe(false);
    expect((await ask({ remoteIp: '192.0.2.1' })).allowed).toBe(false);

    await expectError(ask({}, as('alice')), 'PERMISSION_DENIED');
    // an agent asks only about ports bound to its own hosts
    await expectError(ask({}, { token: otherAgentToken }), 'PERMISSION_DENIED');
    await expectError(ask({}, { token: 'garbage' }), 'UNAUTHENTICATED');
    await expectError(ask({ remoteIp: 'not-an-ip' }), 'INVALID_ARGUMENT', { field: 'remote_ip' });
    await expectError(ask({ protocol: 'sctp' }), 'INVALID_ARGUMENT', { field: 'protocol' });
    await expectError(ask({ dstPort: 0 }), 'INVALID_ARGUMENT', { field: 'dst_port' });
    await expectError(ask({ portId: 'x'.repeat(300) }), 'INVALID_ARGUMENT', { field: 'port_id' });
    await expectError(ask({ portId: '00000000-0000-0000-0000-000000000000' }), 'NOT_FOUND');
  });
});
