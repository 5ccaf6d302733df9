import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  VXLAN_UDP_PORT,
  computeHostFdb,
  computeHostLocalPorts,
  fdbDeltaFor,
  isValidIpv4,
  networksReachedByRouters,
  type FdbDelta,
  type FdbEntry,
  type PortBinding,
  type PortBindingChange,
} from '@minicloud/domain-network';
import type { events } from '@minicloud/proto';
import type { FloatingIpRecord, NetworkRecord, PortRecord, RouterRecord } from './records';
import type { StoreDeps } from './store/deps';
import { readJsonMany } from './store/json';
import { keys } from './store/keys';
import type { Bump, Op } from './store/transact';

/** A bound port as the per-network l2pop index holds it (keys.networkBindings). */
interface IndexedBinding {
  hostId: string;
  macAddress: string;
  ipAddresses: string[];
}

/** What l2pop needs of a network: whether it has an overlay and its VNI (both fixed at creation). */
interface NetworkOverlay {
  overlay: boolean;
  segmentationId: number;
}

/**
 * KEYS: the index-built marker, the set of every port, the set of every network. ARGV: the key prefixes of port records,
 * network host indexes and network binding indexes. Builds the l2pop index from every port record,
 * once per cloud (ports bound before the index existed). Every process runs it before its first
 * index read or write, and it is atomic, so no write of this code precedes it and none is missed;
 * from then on every port write keeps the index.
 */
const BUILD_INDEX_LUA = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for _, n in ipairs(redis.call('SMEMBERS', KEYS[3])) do redis.call('DEL', ARGV[2] .. n .. ':hosts', ARGV[2] .. n .. ':bindings') end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local raw = redis.call('GET', ARGV[1] .. id)
  if raw then
    local ok, p = pcall(cjson.decode, raw)
    if ok and type(p) == 'table' and type(p.bindingHostId) == 'string' and p.bindingHostId ~= '' then
      local ips = {}
      for _, f in ipairs(p.fixedIps or {}) do ips[#ips + 1] = cjson.encode(f.ipAddress) end
      redis.call('HINCRBY', ARGV[2] .. p.networkId .. ':hosts', p.bindingHostId, 1)
      -- Written by hand: cjson would write an empty list as {}.
      local b = '{"hostId":' .. cjson.encode(p.bindingHostId) .. ',"macAddress":' .. cjson.encode(p.macAddress) .. ',"ipAddresses":[' .. table.concat(ips, ',') .. ']}'
      redis.call('HSET', ARGV[2] .. p.networkId .. ':bindings', id, b)
    end
  end
end
redis.call('SET', KEYS[1], '1')
return 1`;

/** Networks whose overlay facts are kept in memory; beyond it the memo is cleared (they are re-read). */
const MAX_MEMO_NETWORKS = 10_000;

/**
 * What a port write adds to its transaction to keep l2pop right, atomically with the write: the
 * per-network index ops, the generation bump of every host holding the network, and, once written,
 * the FdbUpdated deltas to publish.
 */
export interface L2popPlan {
  ops: Op[];
  bump: Bump;
  /** Publishes FdbUpdated to each bumped host: its new generation and its delta (or none: re-read). */
  publish(written: { counts: number[]; generations: Map<string, number> }, requestId?: string): Promise<void>;
}

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

  private indexed?: Promise<void>;

  /** Makes sure the l2pop index covers ports bound before it existed (once per process; the script itself runs once per cloud). */
  private ensureIndexed(): Promise<void> {
    this.indexed ??= (async () => {
      // keys.network('') is the prefix of keys.networkHosts / networkBindings (`<prefix><id>:hosts`).
      await this.d.redis.eval(BUILD_INDEX_LUA, 3, keys.l2popIndexed(), keys.ports(), keys.networks(), keys.port(''), keys.network(''));
    })().catch((e) => {
      this.indexed = undefined;
      throw e;
    });
    return this.indexed;
  }

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
   * The FDB a host must hold now (a full resync). Reads the host's own ports, then for each of its
   * networks (and those its routers reach) the network's l2pop index of bound ports: never the port
   * records of other hosts. The generation is read first, so the tables are at least that new.
   * @throws InvalidArgumentError('host_id'); NotFoundError('vtep') when the host never registered one
   */
  async hostFdb(hostId: string): Promise<HostFdb> {
    if (!hostId) throw new InvalidArgumentError('host_id', 'is required');
    await this.ensureIndexed();
    const generation = Number((await this.d.redis.get(keys.fdbGeneration(hostId))) ?? 0);
    const tunnelIp = await this.d.redis.hget(keys.vtep(hostId), 'tunnel_ip');
    if (!tunnelIp) throw new NotFoundError('vtep', hostId, 'register it with RegisterVtep first');
    const localPortIds = await this.portsOfHost(hostId);
    const local = new Set(localPortIds.map((p) => p.networkId));
    const routed = networksReachedByRouters(local, await this.routerNetworks());
    const bindings = (await Promise.all([...local, ...routed].map((n) => this.bindingsOfNetwork(n)))).flat();
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
   * network a router joins to one of them (distributed routing). Read from the per-network host
   * index, not from the ports.
   */
  async hostsOnNetworks(networkIds: Iterable<string>): Promise<Set<string>> {
    await this.ensureIndexed();
    const ids = new Set(networkIds);
    for (const n of networksReachedByRouters(ids, await this.routerNetworks())) ids.add(n);
    const lists = await Promise.all([...ids].map((id) => this.d.redis.hkeys(keys.networkHosts(id))));
    return new Set(lists.flat());
  }

  /**
   * The l2pop part of a port write from `cur` to `next` (undefined: created / deleted), or undefined
   * when the write changes no binding (host or addresses of a bound port). The caller runs `ops` and
   * `bump` in the port's own transaction, then `publish`. Reads, before the write: the network's
   * overlay facts, the routers, the two hosts' VTEPs and the port's floating IP.
   */
  async planPortChange(cur: PortRecord | undefined, next: PortRecord | undefined): Promise<L2popPlan | undefined> {
    const port = next ?? cur;
    if (!port) return undefined;
    const prevHost = cur?.bindingHostId ?? '';
    const nextHost = next?.bindingHostId ?? '';
    const prevIps = (cur?.fixedIps ?? []).map((f) => f.ipAddress);
    const nextIps = (next?.fixedIps ?? []).map((f) => f.ipAddress);
    if (prevHost === nextHost && (!nextHost || sameList(prevIps, nextIps))) return undefined;
    await this.ensureIndexed();
    const networkId = port.networkId;
    const [net, routers, vtepPrev, vtepNext, fip] = await Promise.all([
      this.overlayOf(networkId),
      this.routerNetworks(),
      prevHost ? this.tunnelIpOf(prevHost) : '',
      nextHost ? this.tunnelIpOf(nextHost) : '',
      this.d.redis.get(keys.floatingIpOfPort(port.id)),
    ]);
    const hostsKey = keys.networkHosts(networkId);
    const ops: Op[] = [];
    // Which `counts` entry gives each side's port count on the network (after the ops). Only these
    // `hincr` ops return counts: the callers' own ops (index sets, claims) have none.
    let prevCount = -1;
    let nextCount = -1;
    let n = 0;
    if (prevHost && prevHost !== nextHost) {
      ops.push({ kind: 'hincr', key: hostsKey, a1: prevHost, a2: '-1' });
      prevCount = n++;
    }
    if (nextHost) {
      ops.push({ kind: 'hincr', key: hostsKey, a1: nextHost, a2: nextHost === prevHost ? '0' : '1' });
      nextCount = n++;
      const b: IndexedBinding = { hostId: nextHost, macAddress: port.macAddress, ipAddresses: nextIps };
      ops.push({ kind: 'hset', key: keys.networkBindings(networkId), a1: port.id, a2: JSON.stringify(b) });
    } else {
      ops.push({ kind: 'hdel', key: keys.networkBindings(networkId), a1: port.id });
    }
    const routed = networksReachedByRouters([networkId], routers);
    const bump: Bump = { indexKeys: [hostsKey, ...[...routed].map(keys.networkHosts)], hosts: [prevHost, nextHost].filter(Boolean), generationPrefix: keys.fdbGeneration('') };
    return {
      ops,
      bump,
      publish: async (written, requestId) => {
        const afterCount = nextCount >= 0 ? written.counts[nextCount]! : 0;
        const change: PortBindingChange = {
          portId: port.id,
          networkId,
          segmentationId: net.segmentationId,
          overlay: net.overlay,
          macAddress: port.macAddress,
          ownHostsResync: !!fip,
          ...(prevHost
            ? { before: { hostId: prevHost, tunnelIp: vtepPrev, ipAddresses: prevIps, otherPortsOnNetwork: prevHost === nextHost ? afterCount - 1 : written.counts[prevCount]! } }
            : {}),
          ...(nextHost ? { after: { hostId: nextHost, tunnelIp: vtepNext, ipAddresses: nextIps, otherPortsOnNetwork: afterCount - 1 } } : {}),
        };
        await Promise.all(
          [...written.generations].map(([hostId, fdbGeneration]) => {
            const delta = fdbDeltaFor(hostId, change);
            return this.d.events.fdbUpdated({ hostId, fdbGeneration, ...(delta ? { delta: deltaToProto(delta) } : {}) }, requestId);
          }),
        );
      },
    };
  }

  private readonly overlays = new Map<string, NetworkOverlay>();

  /** A network's overlay facts (type and VNI never change, so they are read once). */
  private async overlayOf(networkId: string): Promise<NetworkOverlay> {
    const known = this.overlays.get(networkId);
    if (known) return known;
    const [network] = await readJsonMany<NetworkRecord>(this.d.redis, [keys.network(networkId)]);
    const o = { overlay: network?.networkType === 'vxlan', segmentationId: network?.segmentationId ?? 0 };
    if (!network) return o;
    if (this.overlays.size >= MAX_MEMO_NETWORKS) this.overlays.clear();
    this.overlays.set(networkId, o);
    return o;
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
   * Increments each host's fdb_generation and publishes FdbUpdated{host_id, fdb_generation} without a
   * delta (the host re-reads its table): for changes other than a port's binding (VTEPs, routers,
   * floating IPs). The
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

  /** The bound ports of a network, from its l2pop index (one hash read, no port records). */
  private async bindingsOfNetwork(networkId: string): Promise<PortBinding[]> {
    const [net, index] = await Promise.all([this.overlayOf(networkId), this.d.redis.hgetall(keys.networkBindings(networkId))]);
    if (!net.overlay) return [];
    const out: PortBinding[] = [];
    for (const [portId, raw] of Object.entries(index)) {
      const b = JSON.parse(raw) as IndexedBinding;
      for (const ipAddress of b.ipAddresses.length ? b.ipAddresses : ['']) {
        out.push({ portId, networkId, segmentationId: net.segmentationId, macAddress: b.macAddress, ipAddress, hostId: b.hostId });
      }
    }
    return out;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function entryToProto(e: FdbEntry): events.FdbDelta['add'][number] {
  return { networkId: e.networkId, segmentationId: e.segmentationId, tunnelIp: e.tunnelIp, macAddress: e.macAddress, ipAddress: e.ipAddress, portId: e.portId ?? '' };
}

function deltaToProto(d: FdbDelta): events.FdbDelta {
  return { add: d.add.map(entryToProto), remove: d.remove.map(entryToProto), localPortsAdd: d.localPortsAdd.map(entryToProto), localPortsRemove: d.localPortsRemove.map(entryToProto) };
}
