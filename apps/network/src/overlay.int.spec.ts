import fc from 'fast-check';
import { events, network } from '@minicloud/proto';
import { computeHostFdb, networksReachedByRouters, type FdbEntry, type PortBinding } from '@minicloud/domain-network';
import { RevocationList, createTokenVerifier, generateSigningKey, signToken, type SigningKeyPair } from '@minicloud/platform-auth';
import { FDB_UPDATED_WILDCARD, Subjects, connectBus, type Bus } from '@minicloud/platform-bus';
import { createServiceClient, startGrpcServer, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
// The agents' real overlay modules, in-process (the agent app owns them; this suite drives both sides).
import { OverlayAgent } from '../../compute-agent/src/overlay';
import { networkServiceRegistration } from './api/handlers';
import { keys } from './store/keys';
import { buildNetworkLogic } from './wire';

type Client = ServiceClient<typeof network.NetworkServiceService>;
const logger = silentLogger();
const HOSTS = { h1: '10.200.0.1', h2: '10.200.0.2', h3: '10.200.0.3' } as const;
type HostId = keyof typeof HOSTS;

let redisServer: ServerHandle, natsServer: ServerHandle, redis: Redis, serviceBus: Bus, server: RunningGrpcServer, key: SigningKeyPair;
let client: Client;
const tokens = { admin: '', alice: '', bob: '' };
const as = (who: keyof typeof tokens) => ({ token: tokens[who] });
const agentBuses: Bus[] = [];
const overlays = new Map<HostId, { agent: OverlayAgent; abort: AbortController; done: Promise<void> }>();
/** Set by a test to lose the network service's next FdbUpdated publishes it accepts (a lost message). */
let dropFdbUpdated: ((e: { hostId: string; delta?: unknown }) => boolean) | undefined;
/** Every FdbUpdated on the bus, as the agents see them. */
const fdbSeen: { hostId: string; fdbGeneration: number; delta: boolean }[] = [];

async function startOverlay(hostId: HostId): Promise<OverlayAgent> {
  const bus = await connectBus({ url: natsServer.url, name: `agent-${hostId}`, logger });
  agentBuses.push(bus);
  const vtepClient = createServiceClient(network.NetworkServiceService, server.address, { token: () => tokens.admin, deadlineMs: 10_000 });
  const agent = new OverlayAgent({ hostId, tunnelIp: HOSTS[hostId], vtep: async () => vtepClient, bus, logger });
  const abort = new AbortController();
  const done = agent.start(abort.signal);
  overlays.set(hostId, { agent, abort, done });
  await waitFor(() => agent.ready, { timeoutMs: 10_000 });
  return agent;
}

async function stopOverlay(hostId: HostId): Promise<void> {
  const o = overlays.get(hostId)!;
  o.abort.abort();
  await o.done;
  overlays.delete(hostId);
}

async function token(userId: string, projectId: string, roles: string[]): Promise<string> {
  return (await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles, isAdminProject: roles.includes('admin') }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
}

beforeAll(async () => {
  [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
  redis = await connectRedis({ url: redisServer.url, name: 'overlay-test', logger });
  serviceBus = await connectBus({ url: natsServer.url, name: 'network', logger });
  key = await generateSigningKey(Date.now());
  tokens.admin = await token('admin', 'service', ['admin', 'member', 'reader']);
  tokens.alice = await token('alice', 'p-alice', ['member', 'reader']);
  tokens.bob = await token('bob', 'p-bob', ['member', 'reader']);
  const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
  // The service's bus, losing the FdbUpdated publishes a test asks it to.
  const lossyBus = new Proxy(serviceBus, {
    get(target, prop) {
      if (prop === 'publishEvent') {
        return (subject: string, type: unknown, body: { hostId: string; delta?: unknown }, opts: unknown) =>
          subject.startsWith(`${Subjects.fdbUpdated}.`) && dropFdbUpdated?.(body) ? Promise.resolve() : (target.publishEvent as (...a: unknown[]) => Promise<void>)(subject, type, body, opts);
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  serviceBus.subscribe(FDB_UPDATED_WILDCARD, events.FdbUpdated, (e) => void fdbSeen.push({ hostId: e.hostId, fdbGeneration: Number(e.fdbGeneration), delta: !!e.delta }));
  const logic = buildNetworkLogic({ redis, bus: lossyBus, logger, metrics: createProcessMetrics({ service: 'network' }) }, { VNI_RANGES: '1000:1999', UNDERLAY_MTU: 1500, BASE_MAC: 'fa:16:3e:00:00:00' });
  server = await startGrpcServer({ port: 0, services: [networkServiceRegistration(logic)], logger, verifier });
  client = createServiceClient(network.NetworkServiceService, server.address, { token: () => tokens.alice, deadlineMs: 20_000 });
  for (const h of Object.keys(HOSTS) as HostId[]) await startOverlay(h);
}, 60_000);

afterAll(async () => {
  for (const h of [...overlays.keys()]) await stopOverlay(h);
  client?.close();
  await server?.shutdown(1000);
  for (const b of [...agentBuses, serviceBus]) await b?.close();
  await redis?.quit();
  await Promise.all([redisServer?.stop(), natsServer?.stop()]);
});

/** Every binding of every vxlan network, read through the API (admin), for the expected FDBs. */
async function expectedFdbs(): Promise<Map<HostId, FdbEntry[]>> {
  const nets = (await client.listNetworks({}, as('admin'))).networks;
  const vni = new Map(nets.filter((n) => n.networkType === 'vxlan').map((n) => [n.id, n.segmentationId]));
  const bindings: PortBinding[] = [];
  for (const p of (await client.listPorts({}, as('admin'))).ports) {
    if (!p.bindingHostId || !vni.has(p.networkId)) continue;
    for (const f of p.fixedIps) bindings.push({ portId: p.id, networkId: p.networkId, segmentationId: vni.get(p.networkId)!, macAddress: p.macAddress, ipAddress: f.ipAddress, hostId: p.bindingHostId });
  }
  const vteps = new Map(Object.entries(HOSTS));
  const ports = new Map((await client.listPorts({}, as('admin'))).ports.map((p) => [p.id, p.networkId]));
  const routers = (await client.listRouters({}, as('admin'))).routers.filter((r) => r.interfaces.length > 1).map((r) => [...new Set(r.interfaces.map((i) => ports.get(i.portId)!))]);
  const routed = (h: HostId) => networksReachedByRouters(new Set(bindings.filter((b) => b.hostId === h).map((b) => b.networkId)), routers);
  return new Map((Object.keys(HOSTS) as HostId[]).map((h) => [h, computeHostFdb(h, bindings, vteps, routed(h))]));
}

async function allOverlaysMatch(): Promise<boolean> {
  const expected = await expectedFdbs();
  const ports = (await client.listPorts({}, as('admin'))).ports;
  const vnicsOf = (h: HostId) => ports.filter((p) => p.bindingHostId === h).flatMap((p) => p.fixedIps.map((f) => `${p.id}|${f.ipAddress}`)).sort();
  return [...overlays].every(
    ([h, o]) =>
      JSON.stringify(o.agent.vswitch.fdb) === JSON.stringify(expected.get(h)) &&
      JSON.stringify(o.agent.vswitch.vnics.map((v) => `${v.portId}|${v.ipAddress}`).sort()) === JSON.stringify(vnicsOf(h)),
  );
}

/** h1's FDB as the service computes it. */
async function logicFdb(hostId: HostId): Promise<FdbEntry[]> {
  return (await client.getHostFdb({ hostId }, as('admin'))).fdb.map((e) => ({ networkId: e.networkId, segmentationId: e.segmentationId, tunnelIp: e.tunnelIp, macAddress: e.macAddress, ipAddress: e.ipAddress, ...(e.portId ? { portId: e.portId } : {}) }));
}

/**
 * The l2pop index (host -> bound ports, port -> binding) of every network, as it should be from the
 * port records; compared with what Redis holds.
 */
async function indexMismatches(): Promise<string[]> {
  const ports = (await client.listPorts({}, as('admin'))).ports;
  const nets = (await client.listNetworks({}, as('admin'))).networks;
  const out: string[] = [];
  for (const n of nets) {
    const bound = ports.filter((p) => p.networkId === n.id && p.bindingHostId);
    const hosts: Record<string, string> = {};
    for (const p of bound) hosts[p.bindingHostId] = String(Number(hosts[p.bindingHostId] ?? 0) + 1);
    const bindings = Object.fromEntries(bound.map((p) => [p.id, { hostId: p.bindingHostId, macAddress: p.macAddress, ipAddresses: p.fixedIps.map((f) => f.ipAddress) }]));
    const gotHosts = await redis.hgetall(keys.networkHosts(n.id));
    const gotBindings = Object.fromEntries(Object.entries(await redis.hgetall(keys.networkBindings(n.id))).map(([k, v]) => [k, JSON.parse(v) as unknown]));
    if (JSON.stringify(Object.entries(gotHosts).sort()) !== JSON.stringify(Object.entries(hosts).sort())) out.push(`${n.name} hosts ${JSON.stringify(gotHosts)} != ${JSON.stringify(hosts)}`);
    expect(gotBindings).toEqual(bindings);
  }
  return out;
}

async function port(networkId: string, ip: string, who: 'alice' | 'bob', host: HostId, extra: Partial<network.CreatePortRequest> = {}): Promise<network.Port> {
  const p = (await client.createPort({ networkId, fixedIps: ip ? [{ subnetId: '', ipAddress: ip }] : [], deviceId: `vm-${ip || Math.random()}`, ...extra }, as(who))).port!;
  return (await client.bindPort({ portId: p.id, hostId: host }, as('admin'))).port!;
}

describe('overlay: traces across real overlay modules over NATS', () => {
  let netA: network.Network, netB: network.Network, subnetA: network.Subnet, ext: network.Network;
  let a1: network.Port, a2: network.Port, a3: network.Port, a4: network.Port, web: network.SecurityGroup;

  beforeAll(async () => {
    netA = (await client.createNetwork({ name: 'alice-net' }, as('alice'))).network!;
    subnetA = (await client.createSubnet({ networkId: netA.id, cidr: '10.0.0.0/24' }, as('alice'))).subnet!;
    netB = (await client.createNetwork({ name: 'bob-net' }, as('bob'))).network!;
    await client.createSubnet({ networkId: netB.id, cidr: '10.0.0.0/24' }, as('bob'));
    web = (await client.createSecurityGroup({ name: 'web' }, as('alice'))).securityGroup!;
    a1 = await port(netA.id, '10.0.0.11', 'alice', 'h1');
    a2 = await port(netA.id, '10.0.0.12', 'alice', 'h1');
    a3 = await port(netA.id, '10.0.0.13', 'alice', 'h2');
    a4 = await port(netA.id, '10.0.0.14', 'alice', 'h2', { securityGroupIds: [web.id] });
    await port(netB.id, '10.0.0.21', 'bob', 'h2');
    ext = (await client.createNetwork({ name: 'public', routerExternal: true }, as('admin'))).network!;
    await client.createSubnet({ networkId: ext.id, cidr: '203.0.113.0/24' }, as('admin'));
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
  }, 30_000);

  const trace = (req: Partial<network.TracePacketRequest>) => client.tracePacket({ protocol: 'tcp', dstPort: 22, ...req }, as('alice'));

  it('same host, same network: switched locally, no VXLAN', async () => {
    const r = await trace({ fromPortId: a1.id, toIp: '10.0.0.12' });
    expect(r.delivered).toBe(true);
    expect(r.hops.map((h) => h.stage)).toEqual(['vnic', 'sg_egress', 'vswitch', 'sg_ingress', 'vnic']);
    expect(new Set(r.hops.map((h) => h.hostId))).toEqual(new Set(['h1']));
    expect(r.hops.at(-1)!.fields).toMatchObject({ port_id: a2.id });
  });

  it('two hosts, same network: VXLAN from VTEP h1 to VTEP h2 on the network VNI, UDP 4789, answered by the second process', async () => {
    const r = await trace({ fromPortId: a1.id, toIp: '10.0.0.13' });
    expect(r.delivered).toBe(true);
    expect(r.hops.map((h) => h.stage)).toEqual(['vnic', 'sg_egress', 'vswitch', 'vtep_encap', 'underlay', 'vtep_decap', 'vswitch', 'sg_ingress', 'vnic']);
    const encap = r.hops.find((h) => h.stage === 'vtep_encap')!;
    expect(encap.fields).toMatchObject({ outer_src_ip: HOSTS.h1, outer_dst_ip: HOSTS.h2, vni: String(netA.segmentationId), udp_dst_port: '4789', outer_size_bytes: '124' });
    expect(r.hops.find((h) => h.stage === 'vtep_decap')!.hostId).toBe('h2');
    expect(r.hops.at(-1)!.fields).toMatchObject({ port_id: a3.id });
  });

  it('two tenants with the same CIDR: dropped, the frame never leaves VNI of the source', async () => {
    const r = await trace({ fromPortId: a1.id, toIp: '10.0.0.21' });
    expect(r.delivered).toBe(false);
    expect(r.dropReason).toContain(`no port with 10.0.0.21 on VNI ${netA.segmentationId}`);
    expect(r.hops.some((h) => h.stage === 'vtep_encap')).toBe(false);
  });

  it('blocked by a security group, which is named; a rule opening tcp/22 lets it through and is named', async () => {
    const blocked = await trace({ fromPortId: a1.id, toIp: '10.0.0.14' });
    expect(blocked.delivered).toBe(false);
    expect(blocked.dropReason).toMatch(/security group ingress: ingress tcp\/22 from 10\.0\.0\.11 dropped: no rule of security group\(s\) web/);
    expect(blocked.hops.at(-2)!.hostId).toBe('h2');
    const rule = (await client.createSecurityGroupRule({ rule: { securityGroupId: web.id, direction: 'ingress', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: '0.0.0.0/0' } }, as('alice'))).rule!;
    const open = await trace({ fromPortId: a1.id, toIp: '10.0.0.14' });
    expect(open.delivered).toBe(true);
    expect(open.hops.find((h) => h.stage === 'sg_ingress')!.fields).toEqual({ rule_id: rule.id });
    expect((await trace({ fromPortId: a1.id, toIp: '10.0.0.14', dstPort: 80 })).delivered).toBe(false);
  });

  it('via a router with SNAT: source rewritten to the router gateway IP on the external network', async () => {
    const router = (await client.createRouter({ name: 'r1' }, as('alice'))).router!;
    const off = await trace({ fromPortId: a1.id, toIp: '198.51.100.7' });
    expect(off.delivered).toBe(false);
    expect(off.dropReason).toContain('no router has an interface');
    await client.addRouterInterface({ routerId: router.id, subnetId: subnetA.id }, as('alice'));
    const gw = (await client.setRouterGateway({ routerId: router.id, externalNetworkId: ext.id, enableSnat: true }, as('alice'))).router!;
    expect(gw.externalIp).toMatch(/^203\.0\.113\./);
    const r = await trace({ fromPortId: a1.id, toIp: '198.51.100.7' });
    expect(r.delivered).toBe(true);
    expect(r.hops.map((h) => h.stage)).toEqual(['vnic', 'sg_egress', 'router', 'snat', 'underlay']);
    expect(r.hops.find((h) => h.stage === 'snat')!.fields).toMatchObject({ original_src_ip: '10.0.0.11', translated_src_ip: gw.externalIp, nat: 'snat' });
  });

  it('to a floating IP from outside: DNAT to the fixed IP on the port\'s host, SG ingress evaluated with the outside source', async () => {
    const fip = (await client.createFloatingIp({ floatingNetworkId: ext.id, portId: a4.id }, as('alice'))).floatingIp!;
    expect(fip).toMatchObject({ portId: a4.id, fixedIpAddress: '10.0.0.14', status: 'ACTIVE' });
    const r = await trace({ fromIp: '198.51.100.9', toIp: fip.floatingIpAddress });
    expect(r.delivered).toBe(true);
    expect(r.hops.map((h) => h.stage)).toEqual(['underlay', 'dnat', 'router', 'vswitch', 'sg_ingress', 'vnic']);
    expect(r.hops.find((h) => h.stage === 'dnat')!.fields).toMatchObject({ floating_ip: fip.floatingIpAddress, fixed_ip: '10.0.0.14' });
    expect(new Set(r.hops.map((h) => h.hostId))).toEqual(new Set(['h2']));
    // a1 (default group: ingress only from the group) is not reachable from outside even with a floating IP.
    const fip2 = (await client.createFloatingIp({ floatingNetworkId: ext.id, portId: a1.id }, as('alice'))).floatingIp!;
    const denied = await trace({ fromIp: '198.51.100.9', toIp: fip2.floatingIpAddress });
    expect(denied.delivered).toBe(false);
    expect(denied.dropReason).toContain('default');
    // Egress from a port with a floating IP is 1:1 NAT to it, not SNAT.
    const out = await trace({ fromPortId: a1.id, toIp: '198.51.100.7' });
    expect(out.hops.find((h) => h.stage === 'snat')!.fields).toMatchObject({ translated_src_ip: fip2.floatingIpAddress, nat: 'floating_ip' });
    // DVR: each host is told the floating IPs of its own ports (it serves them), and follows (dis)association.
    const served = (h: HostId) => overlays.get(h)!.agent.floatingIps.map((f) => `${f.floatingIpAddress}>${f.fixedIpAddress}@${f.portId}`).sort();
    await waitFor(() => served('h1').length === 1 && served('h2').length === 1, { timeoutMs: 5000 });
    expect(served('h1')).toEqual([`${fip2.floatingIpAddress}>10.0.0.11@${a1.id}`]);
    expect(served('h2')).toEqual([`${fip.floatingIpAddress}>10.0.0.14@${a4.id}`]);
    expect(served('h3')).toEqual([]);
    await client.updateFloatingIp({ floatingIpId: fip2.id, portId: '' }, as('alice'));
    await waitFor(() => served('h1').length === 0, { timeoutMs: 5000 });
    await client.updateFloatingIp({ floatingIpId: fip2.id, portId: a1.id }, as('alice'));
    await waitFor(() => served('h1').length === 1, { timeoutMs: 5000 });
    expect(served('h2')).toEqual([`${fip.floatingIpAddress}>10.0.0.14@${a4.id}`]);
  });

  it('refuses a floating IP for a port no router connects, and a second one for the same port', async () => {
    const lone = (await client.createNetwork({ name: 'lone' }, as('alice'))).network!;
    await client.createSubnet({ networkId: lone.id, cidr: '10.9.0.0/24' }, as('alice'));
    const p = (await client.createPort({ networkId: lone.id }, as('alice'))).port!;
    await expect(client.createFloatingIp({ floatingNetworkId: ext.id, portId: p.id }, as('alice'))).rejects.toMatchObject({ code: 'NOT_FOUND', resourceType: 'external_gateway_for_floating_ip' });
    await expect(client.createFloatingIp({ floatingNetworkId: ext.id, portId: a4.id }, as('alice'))).rejects.toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect((await client.listFloatingIps({}, as('alice'))).floatingIps).toHaveLength(2);
    await expect(client.createPort({ networkId: ext.id }, as('alice'))).rejects.toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('east-west between two subnets through a router interface made from a port, and not once the router is down', async () => {
    const router = (await client.listRouters({}, as('alice'))).routers.find((r) => r.interfaces.some((i) => i.subnetId === subnetA.id))!;
    const netC = (await client.createNetwork({ name: 'alice-net-c' }, as('alice'))).network!;
    const subnetC = (await client.createSubnet({ networkId: netC.id, cidr: '10.1.0.0/24' }, as('alice'))).subnet!;
    const c1 = await port(netC.id, '10.1.0.5', 'alice', 'h2');
    // not yet on the router: 10.1.0.5 is just an outside address, SNATed out of the gateway
    const before = await trace({ fromPortId: a1.id, toIp: '10.1.0.5' });
    expect(before.hops.map((h) => h.stage)).toContain('snat');
    expect(before.hops.at(-1)!.stage).toBe('underlay');
    const ifacePort = (await client.createPort({ networkId: netC.id, fixedIps: [{ subnetId: subnetC.id, ipAddress: '10.1.0.254' }] }, as('alice'))).port!;
    const added = await client.addRouterInterface({ routerId: router.id, portId: ifacePort.id }, as('alice'));
    expect(added).toMatchObject({ interface: { subnetId: subnetC.id, portId: ifacePort.id }, networkId: netC.id });
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
    const r = await trace({ fromPortId: a1.id, toIp: '10.1.0.5' });
    expect({ delivered: r.delivered, dropReason: r.dropReason }).toEqual({ delivered: true, dropReason: '' });
    expect(r.hops.map((h) => h.stage)).toContain('router');
    expect(r.hops.map((h) => h.stage)).not.toContain('snat');
    expect(r.hops.at(-1)).toMatchObject({ stage: 'vnic', hostId: 'h2' });
    // h1 has no port on netC: the router's interface there (distributed) brought netC's entries into its FDB
    expect(r.hops.find((h) => h.stage === 'vtep_encap')).toMatchObject({ hostId: 'h1' });
    await client.updateRouter({ routerId: router.id, adminStateUp: false }, as('alice'));
    expect((await trace({ fromPortId: a1.id, toIp: '10.1.0.5' })).delivered).toBe(false);
    await client.updateRouter({ routerId: router.id, adminStateUp: true }, as('alice'));
    await client.removeRouterInterface({ routerId: router.id, portId: ifacePort.id }, as('alice'));
    await expect(client.getPort({ portId: ifacePort.id }, as('alice'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
    expect(overlays.get('h1')!.agent.vswitch.fdb.some((e) => e.networkId === netC.id)).toBe(false);
    await client.deletePort({ portId: c1.id }, as('alice'));
  });

  it('a static route sends the packet to the VM that is its nexthop, on another host; without the route it leaves by SNAT', async () => {
    const router = (await client.listRouters({}, as('alice'))).routers.find((r) => r.interfaces.some((i) => i.subnetId === subnetA.id))!;
    expect((await trace({ fromPortId: a1.id, toIp: '192.168.50.7' })).hops.map((h) => h.stage)).toContain('snat');
    await client.updateRouter({ routerId: router.id, routes: [{ destination: '192.168.50.0/24', nexthop: a3.fixedIps[0]!.ipAddress }], routesUpdate: network.RoutesUpdate.ROUTES_UPDATE_REPLACE }, as('alice'));
    const r = await trace({ fromPortId: a1.id, toIp: '192.168.50.7', protocol: 'icmp' });
    expect({ delivered: r.delivered, dropReason: r.dropReason }).toEqual({ delivered: true, dropReason: '' });
    expect(r.hops.find((h) => h.fields.nexthop)).toMatchObject({ stage: 'router', hostId: 'h1', fields: { destination: '192.168.50.0/24', nexthop: '10.0.0.13' } });
    expect(r.hops.map((h) => h.stage)).not.toContain('snat');
    expect(r.hops.find((h) => h.stage === 'vtep_encap')).toMatchObject({ hostId: 'h1' });
    expect(r.hops.at(-1)).toMatchObject({ stage: 'vnic', hostId: 'h2', fields: { port_id: a3.id } });
    await client.updateRouter({ routerId: router.id, routes: [], routesUpdate: network.RoutesUpdate.ROUTES_UPDATE_REPLACE }, as('alice'));
    expect((await trace({ fromPortId: a1.id, toIp: '192.168.50.7' })).hops.map((h) => h.stage)).toContain('snat');
  });

  it('the FDB follows a rebind (migration / HA restart) on every host within a second', async () => {
    const p = await port(netA.id, '10.0.0.50', 'alice', 'h1');
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
    const samples: number[] = [];
    const targets: HostId[] = ['h3', 'h2', 'h1', 'h3', 'h2', 'h1', 'h3', 'h2', 'h1', 'h3'];
    for (const to of targets) {
      const t0 = performance.now();
      await client.bindPort({ portId: p.id, hostId: to }, as('admin'));
      await waitFor(
        () => [...overlays].every(([h, o]) => {
          if (h === to) return o.agent.vswitch.vnics.some((v) => v.portId === p.id);
          const onNetwork = o.agent.vswitch.vnics.some((v) => v.networkId === netA.id);
          const entries = o.agent.vswitch.fdb.filter((e) => e.portId === p.id);
          const ok = onNetwork ? entries.length === 1 && entries[0]!.tunnelIp === HOSTS[to] : entries.length === 0;
          return ok && o.agent.vswitch.vnics.every((v) => v.portId !== p.id);
        }),
        { timeoutMs: 2000, intervalMs: 1 },
      );
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    // eslint-disable-next-line no-console
    console.log(`FDB convergence after BindPort on ${overlays.size} hosts: median ${samples[5]!.toFixed(1)} ms, max ${samples.at(-1)!.toFixed(1)} ms`);
    expect(samples.at(-1)!).toBeLessThan(1000);
  });
});

describe('overlay: l2pop index and deltas', () => {
  let net: network.Network;
  beforeAll(async () => {
    net = (await client.createNetwork({ name: 'delta-net' }, as('alice'))).network!;
    await client.createSubnet({ networkId: net.id, cidr: '10.60.0.0/24' }, as('alice'));
  });
  afterEach(() => {
    dropFdbUpdated = undefined;
  });

  it('the host index follows bind, rebind on the same host, move, unbind and delete, in the port\'s own transaction', async () => {
    const p = await port(net.id, '10.60.0.5', 'alice', 'h1');
    const q = await port(net.id, '10.60.0.6', 'alice', 'h1');
    expect(await redis.hgetall(keys.networkHosts(net.id))).toEqual({ h1: '2' });
    await client.bindPort({ portId: p.id, hostId: 'h1' }, as('admin'));
    expect(await redis.hgetall(keys.networkHosts(net.id))).toEqual({ h1: '2' });
    await client.bindPort({ portId: p.id, hostId: 'h2' }, as('admin'));
    expect(await redis.hgetall(keys.networkHosts(net.id))).toEqual({ h1: '1', h2: '1' });
    await client.updatePort({ portId: q.id, fixedIps: [{ subnetId: '', ipAddress: '10.60.0.7' }], replaceFixedIps: true }, as('alice'));
    expect(JSON.parse((await redis.hget(keys.networkBindings(net.id), q.id))!)).toEqual({ hostId: 'h1', macAddress: q.macAddress, ipAddresses: ['10.60.0.7'] });
    expect(await indexMismatches()).toEqual([]);
    await client.unbindPort({ portId: q.id }, as('admin'));
    expect(await redis.hgetall(keys.networkHosts(net.id))).toEqual({ h2: '1' });
    expect(await redis.hexists(keys.networkBindings(net.id), q.id)).toBe(0);
    await client.deletePort({ portId: p.id }, as('alice'));
    await client.deletePort({ portId: q.id }, as('alice'));
    expect(await redis.exists(keys.networkHosts(net.id), keys.networkBindings(net.id))).toBe(0);
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
  });

  it('a binding reaches only the hosts on its network, each with a delta; a host already there takes its own port as a delta too', async () => {
    const p1 = await port(net.id, '10.60.0.11', 'alice', 'h1');
    const p2 = await port(net.id, '10.60.0.12', 'alice', 'h2');
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
    const reads = new Map([...overlays].map(([h, o]) => [h, o.agent.counts.fullReads]));
    const seen = fdbSeen.length;
    const p3 = await port(net.id, '10.60.0.13', 'alice', 'h2');
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
    // bindPort awaits its publishes, so every event of this binding is on the bus by now.
    await waitFor(() => fdbSeen.length >= seen + 2, { timeoutMs: 5000 });
    expect(fdbSeen.slice(seen).map((e) => [e.hostId, e.delta]).sort()).toEqual([
      ['h1', true],
      ['h2', true],
    ]);
    for (const [h, o] of overlays) expect(o.agent.counts.fullReads).toBe(reads.get(h));
    for (const id of [p1.id, p2.id, p3.id]) await client.deletePort({ portId: id }, as('alice'));
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
  });

  it('ports bound before the index existed are indexed once, by the first process that needs the index', async () => {
    const p1 = await port(net.id, '10.60.0.31', 'alice', 'h1');
    const p2 = await port(net.id, '10.60.0.32', 'alice', 'h2');
    const p3 = await port(net.id, '', 'alice', 'h2');
    const before = await logicFdb('h1');
    // As a cloud from before the index: records only.
    await redis.del(keys.l2popIndexed(), keys.networkHosts(net.id), keys.networkBindings(net.id));
    const fresh = buildNetworkLogic({ redis, bus: serviceBus, logger, metrics: createProcessMetrics({ service: 'network' }) }, { VNI_RANGES: '1000:1999', UNDERLAY_MTU: 1500, BASE_MAC: 'fa:16:3e:00:00:00' });
    expect((await fresh.l2pop.hostFdb('h1')).fdb).toEqual(before);
    expect(await redis.hgetall(keys.networkHosts(net.id))).toEqual({ h1: '1', h2: '2' });
    expect(await redis.get(keys.l2popIndexed())).toBe('1');
    expect(await indexMismatches()).toEqual([]);
    for (const id of [p1.id, p2.id, p3.id]) await client.deletePort({ portId: id }, as('alice'));
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
  });

  it('an agent that missed a delta holds the next one, re-reads its table and converges', async () => {
    const p1 = await port(net.id, '10.60.0.21', 'alice', 'h1');
    const p2 = await port(net.id, '10.60.0.22', 'alice', 'h2');
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
    const h1 = overlays.get('h1')!.agent;
    const reads = h1.counts.fullReads;
    // The next FdbUpdated for h1 is lost on its way.
    let dropped = 0;
    dropFdbUpdated = (e) => e.hostId === 'h1' && dropped++ === 0;
    const p3 = await port(net.id, '10.60.0.23', 'alice', 'h2');
    expect(dropped).toBeGreaterThan(0);
    expect(h1.vswitch.fdb.some((e) => e.portId === p3.id)).toBe(false);
    // The following change arrives one generation ahead of what h1 holds: held, then a re-read.
    const p4 = await port(net.id, '10.60.0.24', 'alice', 'h2');
    await waitFor(allOverlaysMatch, { timeoutMs: 5000, message: 'h1 did not heal after a lost delta' });
    expect(h1.vswitch.fdb.some((e) => e.portId === p3.id)).toBe(true);
    expect(h1.counts.fullReads).toBeGreaterThan(reads);
    for (const id of [p1.id, p2.id, p3.id, p4.id]) await client.deletePort({ portId: id }, as('alice'));
    await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
  });
});

describe('overlay: l2pop property', () => {
  it('after random create/move/unbind/delete sequences with an agent restart in the middle, every host holds exactly the FDB computed from the bindings', async () => {
    const nets: string[] = [];
    for (const name of ['prop-1', 'prop-2']) {
      const n = (await client.createNetwork({ name }, as('alice'))).network!;
      await client.createSubnet({ networkId: n.id, cidr: name === 'prop-1' ? '10.50.0.0/24' : '10.51.0.0/24' }, as('alice'));
      nets.push(n.id);
    }
    const hostArb = fc.constantFrom<HostId>('h1', 'h2', 'h3');
    const op = fc.oneof(
      fc.record({ kind: fc.constant('create' as const), net: fc.nat(1), host: hostArb }),
      fc.record({ kind: fc.constant('move' as const), pick: fc.nat(), host: hostArb }),
      fc.record({ kind: fc.constant('unbind' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 4, maxLength: 10 }), hostArb, async (ops, restartHost) => {
        const live: string[] = [];
        for (const [i, o] of ops.entries()) {
          if (i === Math.floor(ops.length / 2)) await stopOverlay(restartHost);
          if (o.kind === 'create') {
            const p = (await client.createPort({ networkId: nets[o.net]!, deviceId: 'prop' }, as('alice'))).port!;
            await client.bindPort({ portId: p.id, hostId: o.host }, as('admin'));
            live.push(p.id);
          } else if (live.length) {
            const id = live[o.pick % live.length]!;
            if (o.kind === 'move') await client.bindPort({ portId: id, hostId: o.host }, as('admin'));
            else if (o.kind === 'unbind') await client.unbindPort({ portId: id }, as('admin'));
            else {
              await client.deletePort({ portId: id }, as('alice'));
              live.splice(live.indexOf(id), 1);
            }
          }
        }
        // The restarted agent holds nothing until RegisterVtep hands it the full FDB.
        await startOverlay(restartHost);
        await waitFor(allOverlaysMatch, { timeoutMs: 5000, message: 'overlay FDBs did not converge' });
        expect(await indexMismatches()).toEqual([]);
        for (const id of live) await client.deletePort({ portId: id }, as('alice'));
        await waitFor(allOverlaysMatch, { timeoutMs: 5000 });
        expect(await indexMismatches()).toEqual([]);
      }),
      { numRuns: 6 },
    );
  }, 120_000);
});
