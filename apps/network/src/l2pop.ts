import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { VXLAN_UDP_PORT, computeHostFdb, computeHostLocalPorts, isValidIpv4, type FdbEntry, type PortBinding } from '@minicloud/domain-network';
import type { NetworkRecord, PortRecord } from './records';
import type { StoreDeps } from './store/deps';
import { readJsonMany } from './store/json';
import { keys } from './store/keys';

/** A host's FDB and the generation it was read at (read the generation first, so a later change always bumps past it). */
export interface HostFdb {
  fdb: FdbEntry[];
  fdbGeneration: number;
  /** The host's own bound ports (vNICs), towards its own VTEP. */
  localPorts: FdbEntry[];
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
    const networkIds = await this.networksOfHost(hostId);
    const bindings: PortBinding[] = [];
    for (const networkId of networkIds) bindings.push(...(await this.bindingsOfNetwork(networkId)));
    const hosts = [...new Set([hostId, ...bindings.map((b) => b.hostId)])];
    const ips = await Promise.all(hosts.map((h) => this.d.redis.hget(keys.vtep(h), 'tunnel_ip')));
    const vteps = new Map<string, string>();
    hosts.forEach((h, i) => ips[i] && vteps.set(h, ips[i]!));
    const fdb = computeHostFdb(hostId, bindings, vteps);
    this.observe(hostId, fdb.length);
    return { fdb, fdbGeneration: generation, localPorts: computeHostLocalPorts(hostId, bindings, vteps) };
  }

  /** Hosts with at least one bound port on any of these networks. */
  async hostsOnNetworks(networkIds: Iterable<string>): Promise<Set<string>> {
    const hosts = new Set<string>();
    for (const id of networkIds) for (const p of await this.portsOfNetwork(id)) if (p.bindingHostId) hosts.add(p.bindingHostId);
    return hosts;
  }

  /** Increments each host's fdb_generation and publishes FdbUpdated{host_id, fdb_generation}. */
  async bump(hosts: Iterable<string>, requestId?: string): Promise<void> {
    for (const hostId of hosts) {
      if (!hostId) continue;
      const generation = await this.d.redis.incr(keys.fdbGeneration(hostId));
      await this.d.events.fdbUpdated({ hostId, fdbGeneration: generation }, requestId);
    }
  }

  /** The VTEP tunnel IP of a host, '' when it never registered one. */
  async tunnelIpOf(hostId: string): Promise<string> {
    return (await this.d.redis.hget(keys.vtep(hostId), 'tunnel_ip')) ?? '';
  }

  private async networksOfHost(hostId: string): Promise<Set<string>> {
    const ids = await this.d.redis.smembers(keys.hostPorts(hostId));
    const ports = await readJsonMany<PortRecord>(this.d.redis, ids.map(keys.port));
    return new Set(ports.filter((p) => p.bindingHostId === hostId).map((p) => p.networkId));
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
