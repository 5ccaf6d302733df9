import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { VXLAN_UDP_PORT, computeHostFdb, computeHostLocalPorts, isValidIpv4, networksReachedByRouters, type FdbEntry, type PortBinding } from '@minicloud/domain-network';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord } from './records';
import type { StoreDeps } from './store/deps';
import { readJsonMany } from './store/json';
import { keys } from './store/keys';

/** A host's FDB and the generation it was read at (read the generation first, so a later change always bumps past it). */
export interface HostFdb {
  fdb: FdbEntry[];
  fdbGeneration: number;
  /** The host's own bound ports (vNICs), towards its own VTEP. */
  localPorts: FdbEntry[];
  /** Floating IPs associated with the host's own bound ports (DVR: the host serves their NAT). */
  floatingIps: HostFloatingIp[];
}

/** A floating IP associated with a port bound on the host (network.v1.HostFloatingIp). */
export interface HostFloatingIp {
  floatingIpId: string;
  floatingIpAddress: string;
  portId: string;
  fixedIpAddress: string;
  routerId: string;
}

/** Observes FDB sizes (metrics); optional. */
export type FdbObserver = (hostId: string, entries: number) => void;

/**
 * l2population: per-host VTEPs, per-host FDBs computed from port bindings (domain-network
 * computeHostFdb), and the per-host `fdb_generation` counter bumped (with an FdbUpdated event) on
 * every change that may alter a host's table. Only vxlan networks take part.
 */
export class L2pop {
  constructor(
    private readonly d: StoreDeps,
    private readonly observe: FdbObserver = () => undefined,
  ) {}

  /**
   * Stores (or updates) a host's VTEP and returns its FDB. A new or changed tunnel IP changes the
   * tables of every host sharing a network with it, so those are bumped too.
   * @throws InvalidArgumentError('host_id' | 'tunnel_ip' | 'udp_port')
   */
  async registerVtep(hostId: string, tunnelIp: string, udpPort: number, requestId?: string): Promise<HostFdb> {
    if (!hostId) throw new InvalidArgumentError('host_id', 'is required');
    if (!isValidIpv4(tunnelIp)) throw new InvalidArgumentError('tunnel_ip', `"${tunnelIp}" is not an IPv4 address`);
    if (udpPort > 65535) throw new InvalidArgumentError('udp_port', `${udpPort} is not a UDP port`);
    const previous = await this.d.redis.hget(keys.vtep(hostId), 'tunnel_ip');
    await this.d.redis
      .multi()
      .hset(keys.vtep(hostId), 'tunnel_ip', tunnelIp, 'udp_port', String(udpPort || VXLAN_UDP_PORT))
      .sadd(keys.vteps(), hostId)
      .exec();
    if (previous !== tunnelIp) {
      const networks = await this.networksOfHost(hostId);
      const peers = await this.hostsOnNetworks(networks);
      peers.add(hostId);
      await this.bump(peers, requestId);
    }
    return this.hostFdb(hostId);
  }

  /**
   * The FDB a host must hold now.
   * @throws InvalidArgumentError('host_id'); NotFoundError('vtep') when the host never registered one
   */
  async hostFdb(hostId: string): Promise<HostFdb> {
    if (!hostId) throw new InvalidArgumentError('host_id', 'is required');
    const generation = Number((await this.d.redis.get(keys.fdbGeneration(hostId))) ?? 0);
    const tunnelIp = await this.d.redis.hget(keys.vtep(hostId), 'tunnel_ip');
    if (!tunnelIp) throw new NotFoundError('vtep', hostId, 'register it with RegisterVtep first');
    const localPortIds = await this.portsOfHost(hostId);
    const local = new Set(localPortIds.map((p) => p.networkId));
    const routed = networksReachedByRouters(local, await this.routerNetworks());
    const bindings: PortBinding[] = [];
    for (const networkId of [...local, ...routed]) bindings.push(...(await this.bindingsOfNetwork(networkId)));
    const hosts = [...new Set([hostId, ...bindings.map((b) => b.hostId)])];
    const ips = await Promise.all(hosts.map((h) => this.d.redis.hget(keys.vtep(h), 'tunnel_ip')));
    const vteps = new Map<string, string>();
    hosts.forEach((h, i) => ips[i] && vteps.set(h, ips[i]!));
    const fdb = computeHostFdb(hostId, bindings, vteps, routed);
    this.observe(hostId, fdb.length);
    return { fdb, fdbGeneration: generation, localPorts: computeHostLocalPorts(hostId, bindings, vteps), floatingIps: await this.floatingIpsOf(localPortIds.map((p) => p.id)) };
  }

  /**
   * Hosts whose FDB holds any of these networks: those with a bound port on one of them or on a
   * network a router joins to one of them (distributed routing).
   */
  async hostsOnNetworks(networkIds: Iterable<string>): Promise<Set<string>> {
    const ids = new Set(networkIds);
    for (const n of networksReachedByRouters(ids, await this.routerNetworks())) ids.add(n);
    const hosts = new Set<string>();
    for (const id of ids) for (const p of await this.portsOfNetwork(id)) if (p.bindingHostId) hosts.add(p.bindingHostId);
    return hosts;
  }

  /** Each router's networks (those of its interface ports). */
  private async routerNetworks(): Promise<string[][]> {
    const routers = await readJsonMany<RouterRecord>(this.d.redis, (await this.d.redis.smembers(keys.routers())).map(keys.router));
    const out: string[][] = [];
    for (const r of routers) {
      if (r.interfaces.length < 2) continue;
      const ports = await readJsonMany<PortRecord>(this.d.redis, r.interfaces.map((i) => keys.port(i.portId)));
      out.push([...new Set(ports.map((p) => p.networkId))]);
    }
    return out;
  }

  /**
   * Increments each host's fdb_generation and publishes FdbUpdated{host_id, fdb_generation}. The
   * hosts are independent, so their increments and (acknowledged) publishes run concurrently: one
   * round trip of latency for a network spread over many hosts instead of one per host.
   */
  async bump(hosts: Iterable<string>, requestId?: string): Promise<void> {
    await Promise.all(
      [...hosts].filter(Boolean).map(async (hostId) => {
        const generation = await this.d.redis.incr(keys.fdbGeneration(hostId));
        await this.d.events.fdbUpdated({ hostId, fdbGeneration: generation }, requestId);
      }),
    );
  }

  /** The VTEP tunnel IP of a host, '' when it never registered one. */
  async tunnelIpOf(hostId: string): Promise<string> {
    return (await this.d.redis.hget(keys.vtep(hostId), 'tunnel_ip')) ?? '';
  }

  private async networksOfHost(hostId: string): Promise<Set<string>> {
    return new Set((await this.portsOfHost(hostId)).map((p) => p.networkId));
  }

  private async portsOfHost(hostId: string): Promise<PortRecord[]> {
    const ids = await this.d.redis.smembers(keys.hostPorts(hostId));
    const ports = await readJsonMany<PortRecord>(this.d.redis, ids.map(keys.port));
    return ports.filter((p) => p.bindingHostId === hostId);
  }

  /** The floating IPs associated with these ports (keys.floatingIpOfPort, checked against the record). */
  private async floatingIpsOf(portIds: string[]): Promise<HostFloatingIp[]> {
    if (portIds.length === 0) return [];
    const fipIds = await this.d.redis.mget(...portIds.map(keys.floatingIpOfPort));
    const fips = await readJsonMany<FloatingIpRecord>(this.d.redis, fipIds.filter((id): id is string => !!id).map(keys.floatingIp));
    return fips
      .filter((f) => f.portId && portIds.includes(f.portId))
      .map((f) => ({ floatingIpId: f.id, floatingIpAddress: f.floatingIpAddress, portId: f.portId, fixedIpAddress: f.fixedIpAddress, routerId: f.routerId }));
  }

  /** Bumps the hosts these ports are bound to (a floating IP association changed what they serve). */
  async bumpPortHosts(portIds: string[], requestId?: string): Promise<void> {
    const ports = await readJsonMany<PortRecord>(this.d.redis, portIds.filter(Boolean).map(keys.port));
    await this.bump(new Set(ports.map((p) => p.bindingHostId).filter(Boolean)), requestId);
  }

  private async portsOfNetwork(networkId: string): Promise<PortRecord[]> {
    const ids = await this.d.redis.smembers(keys.networkPorts(networkId));
    return readJsonMany<PortRecord>(this.d.redis, ids.map(keys.port));
  }

  private async bindingsOfNetwork(networkId: string): Promise<PortBinding[]> {
    const [network] = await readJsonMany<NetworkRecord>(this.d.redis, [keys.network(networkId)]);
    if (!network || network.networkType !== 'vxlan') return [];
    const out: PortBinding[] = [];
    for (const p of await this.portsOfNetwork(networkId)) {
      if (!p.bindingHostId) continue;
      const ips = p.fixedIps.length ? p.fixedIps.map((f) => f.ipAddress) : [''];
      for (const ipAddress of ips) {
        out.push({ portId: p.id, networkId, segmentationId: network.segmentationId, macAddress: p.macAddress, ipAddress, hostId: p.bindingHostId });
      }
    }
    return out;
  }
}
