import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { assertNoCidrOverlap, buildSubnetLayout, isValidIpv4, parseCidr, type AllocationPool } from '@minicloud/domain-network';
import type { NetworkQuotas } from './quotas';
import { Networks, canSeeSubnetsOf } from './networks';
import type { NetworkRecord, SubnetRecord } from './records';
import type { SubnetPools } from './subnet-pools';
import { retryCas, type Caller, type StoreDeps } from './store/deps';
import { readJson, readJsonMany, type Stored } from './store/json';
import { keys } from './store/keys';

export interface CreateSubnetInput {
  networkId: string;
  name: string;
  cidr: string;
  /** 0 means 4. */
  ipVersion: number;
  /** '' = first host; 'none' = no gateway. */
  gatewayIp: string;
  allocationPools: AllocationPool[];
  dnsNameservers: string[];
  hostRoutes: { destination: string; nexthop: string }[];
  enableDhcp: boolean;
  /** Allocate the CIDR from this pool ('' or absent: cidr is required). */
  subnetpoolId?: string;
  /** With subnetpoolId and no cidr: the prefix length; 0 the pool's default. */
  prefixlen?: number;
  description?: string;
}

/** A subnet change: unset fields stay; each list is replaced only when its replace flag is set. */
export interface UpdateSubnetInput {
  name?: string;
  /** 'none' (or '') removes the gateway. */
  gatewayIp?: string;
  allocationPools: AllocationPool[];
  replaceAllocationPools: boolean;
  dnsNameservers: string[];
  replaceDnsNameservers: boolean;
  hostRoutes: { destination: string; nexthop: string }[];
  replaceHostRoutes: boolean;
  enableDhcp?: boolean;
  description?: string;
}

/** Subnets and their address plans (IPv4 only). A subnet is visible to its network's owner, admins, and everyone when the network is shared. */
export class Subnets {
  constructor(
    private readonly d: StoreDeps,
    private readonly networks: Networks,
    private readonly quotas?: NetworkQuotas,
    private readonly pools?: SubnetPools,
  ) {}

  /**
   * Creates a subnet, its CIDR given or allocated from a subnet pool (claimed first, released again
   * when the subnet cannot be made).
   * @throws see {@link createWithCidr} and SubnetPools.allocate
   */
  async create(input: CreateSubnetInput, caller: Caller): Promise<SubnetRecord> {
    if (!input.subnetpoolId || !this.pools) return this.createWithCidr(this.d.newId(), input, caller);
    await this.networks.getOwned(input.networkId, caller);
    const id = this.d.newId();
    const cidr = await this.pools.allocate(input.subnetpoolId, id, input.cidr, input.prefixlen ?? 0, caller);
    try {
      return await this.createWithCidr(id, { ...input, cidr }, caller);
    } catch (e) {
      await this.pools.release(input.subnetpoolId, cidr, id).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Creates a subnet on a network the caller owns (or admin). The layout (gateway, pools) and the
   * no-overlap-within-the-network rule come from domain-network; a concurrent create of an
   * overlapping subnet is caught by re-checking after the write and undoing the later one.
   * @throws InvalidArgumentError ('ip_version', 'cidr', 'gateway_ip', 'allocation_pools[i]...',
   *   'dns_nameservers[i]'); NotFoundError('network'); PermissionDeniedError
   */
  private async createWithCidr(id: string, input: CreateSubnetInput, caller: Caller): Promise<SubnetRecord> {
    const network = (await this.networks.getOwned(input.networkId, caller)).value;
    if (input.ipVersion !== 0 && input.ipVersion !== 4) {
      throw new InvalidArgumentError('ip_version', `${input.ipVersion} is not supported (IPv4 only)`);
    }
    if (!input.cidr) throw new InvalidArgumentError('cidr', 'is required');
    const layout = buildSubnetLayout({
      cidr: input.cidr,
      gatewayIp: input.gatewayIp === '' ? undefined : input.gatewayIp === 'none' ? null : input.gatewayIp,
      allocationPools: input.allocationPools,
    });
    checkDnsAndRoutes(input.dnsNameservers, input.hostRoutes);
    const existing = await this.listOfNetwork(network.id);
    assertNoCidrOverlap(layout.cidr, existing.map((s) => s.cidr));
    await this.quotas?.assertRoom(network.projectId, 'subnets');
    const record: SubnetRecord = {
      id,
      networkId: network.id,
      projectId: network.projectId,
      name: input.name,
      cidr: layout.cidr,
      ipVersion: 4,
      gatewayIp: layout.gatewayIp,
      allocationPools: [...layout.allocationPools],
      dnsNameservers: input.dnsNameservers,
      hostRoutes: input.hostRoutes,
      enableDhcp: input.enableDhcp,
      createdAtMs: this.d.nowMs(),
      description: input.description ?? '',
      ...(input.subnetpoolId ? { subnetpoolId: input.subnetpoolId } : {}),
    };
    const res = await this.d.transact({
      key: keys.subnet(record.id),
      expected: '',
      next: JSON.stringify(record),
      guards: [{ kind: 'exists', key: keys.network(network.id) }],
      ops: [
        { kind: 'sadd', key: keys.networkSubnets(network.id), a1: record.id },
        { kind: 'sadd', key: keys.subnets(), a1: record.id },
      ],
    });
    if (!res.ok) throw new NotFoundError('network', network.id);
    // Two overlapping creates may both pass the check above; the later one (by created time, then id) backs out.
    const after = await this.listOfNetwork(network.id);
    const earlier = after.filter((s) => s.id !== record.id && isBefore(s, record));
    try {
      assertNoCidrOverlap(record.cidr, earlier.map((s) => s.cidr));
    } catch (e) {
      await this.removeRecord({ raw: JSON.stringify(record), value: record });
      throw e;
    }
    return record;
  }

  /** Subnets of a network, oldest first (the order ports take addresses in). */
  async listOfNetwork(networkId: string): Promise<SubnetRecord[]> {
    const ids = await this.networks.subnetIds(networkId);
    return sortSubnets(await readJsonMany<SubnetRecord>(this.d.redis, ids.map(keys.subnet)));
  }

  async load(id: string): Promise<Stored<SubnetRecord> | undefined> {
    return id ? readJson<SubnetRecord>(this.d.redis, keys.subnet(id)) : undefined;
  }

  /**
   * A subnet whose network the caller may see.
   * @throws InvalidArgumentError('subnet_id') when empty; NotFoundError('subnet')
   */
  async get(id: string, caller: Caller): Promise<Stored<SubnetRecord>> {
    if (!id) throw new InvalidArgumentError('subnet_id', 'is required');
    const stored = await this.load(id);
    if (!stored) throw new NotFoundError('subnet', id);
    const network = await this.networks.load(stored.value.networkId);
    if (!network || !canSeeSubnetsOf(network.value, caller)) throw new NotFoundError('subnet', id);
    return stored;
  }

  /** Visible subnets, all or of one network (NOT_FOUND for an invisible network). */
  async list(caller: Caller, networkId: string): Promise<SubnetRecord[]> {
    if (networkId) {
      const network = await this.networks.get(networkId, caller);
      return canSeeSubnetsOf(network.value, caller) ? this.listOfNetwork(networkId) : [];
    }
    const ids = await this.d.redis.smembers(keys.subnets());
    const subnets = await readJsonMany<SubnetRecord>(this.d.redis, ids.map(keys.subnet));
    const networkIds = [...new Set(subnets.map((s) => s.networkId))];
    const networks = await readJsonMany<NetworkRecord>(this.d.redis, networkIds.map(keys.network));
    const visible = new Set(networks.filter((n) => canSeeSubnetsOf(n, caller)).map((n) => n.id));
    return sortSubnets(subnets.filter((s) => visible.has(s.networkId)));
  }

  /**
   * Changes a subnet of a network the caller owns (Neutron's updatable subnet attributes). The cidr
   * and ip_version stay; a new gateway or pools are checked against the CIDR and each other as on
   * create (pools left out are kept), and a gateway address a port holds is refused.
   * @throws NotFoundError('subnet'); PermissionDeniedError; InvalidArgumentError ('gateway_ip',
   *   'allocation_pools[i]...', 'dns_nameservers[i]', 'host_routes[i]...');
   *   AlreadyExistsError('ip_address') for a gateway in use by a port
   */
  async update(id: string, patch: UpdateSubnetInput, caller: Caller): Promise<SubnetRecord> {
    checkDnsAndRoutes(patch.replaceDnsNameservers ? patch.dnsNameservers : [], patch.replaceHostRoutes ? patch.hostRoutes : []);
    return retryCas(`subnet ${id}`, async () => {
      const stored = await this.get(id, caller);
      await this.networks.getOwned(stored.value.networkId, caller);
      const cur = stored.value;
      const gatewayIp = patch.gatewayIp === undefined ? cur.gatewayIp : patch.gatewayIp === 'none' || patch.gatewayIp === '' ? null : patch.gatewayIp;
      const layout = buildSubnetLayout({ cidr: cur.cidr, gatewayIp, allocationPools: patch.replaceAllocationPools ? patch.allocationPools : cur.allocationPools });
      if (layout.gatewayIp !== null && layout.gatewayIp !== cur.gatewayIp && (await this.d.redis.sismember(keys.subnetIps(id), layout.gatewayIp))) {
        throw new AlreadyExistsError('ip_address', `${layout.gatewayIp} (held by a port, so it cannot be the gateway)`);
      }
      const next: SubnetRecord = {
        ...cur,
        name: patch.name ?? cur.name,
        gatewayIp: layout.gatewayIp,
        allocationPools: [...layout.allocationPools],
        dnsNameservers: patch.replaceDnsNameservers ? patch.dnsNameservers : cur.dnsNameservers,
        hostRoutes: patch.replaceHostRoutes ? patch.hostRoutes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })) : cur.hostRoutes,
        enableDhcp: patch.enableDhcp ?? cur.enableDhcp,
        description: patch.description ?? cur.description,
      };
      const res = await this.d.transact({ key: keys.subnet(id), expected: stored.raw, next: JSON.stringify(next), ops: [] });
      return res.ok ? next : undefined;
    });
  }

  /**
   * Deletes a subnet of a network the caller owns, refused while any port holds an address from it.
   * @throws NotFoundError('subnet'); PermissionDeniedError; FailedPreconditionError('subnet_in_use')
   */
  async delete(id: string, caller: Caller): Promise<void> {
    await retryCas(`subnet ${id}`, async () => {
      const stored = await this.get(id, caller);
      await this.networks.getOwned(stored.value.networkId, caller);
      return (await this.tryRemove(stored)) || undefined;
    });
  }

  /** @returns false on a concurrent change of the record; throws when IPs are allocated */
  async tryRemove(stored: Stored<SubnetRecord>): Promise<boolean> {
    const s = stored.value;
    const res = await this.d.transact({
      key: keys.subnet(s.id),
      expected: stored.raw,
      next: '',
      guards: [{ kind: 'empty', key: keys.subnetIps(s.id) }],
      ops: [
        { kind: 'srem', key: keys.networkSubnets(s.networkId), a1: s.id },
        { kind: 'srem', key: keys.subnets(), a1: s.id },
      ],
    });
    if (res.ok) {
      if (s.subnetpoolId) await this.pools?.release(s.subnetpoolId, s.cidr, s.id);
      return true;
    }
    if (!res.conflict) {
      const used = await this.d.redis.scard(keys.subnetIps(s.id));
      throw new FailedPreconditionError(`subnet ${s.id} has ${used} IP address(es) allocated to ports`, 'subnet_in_use');
    }
    return false;
  }

  private async removeRecord(stored: Stored<SubnetRecord>): Promise<void> {
    await this.tryRemove(stored);
  }
}

/** @throws InvalidArgumentError('dns_nameservers[i]' | 'host_routes[i].destination' | 'host_routes[i].nexthop') */
function checkDnsAndRoutes(dnsNameservers: string[], hostRoutes: { destination: string; nexthop: string }[]): void {
  dnsNameservers.forEach((ip, i) => {
    if (!isValidIpv4(ip)) throw new InvalidArgumentError(`dns_nameservers[${i}]`, `"${ip}" is not an IPv4 address`);
  });
  hostRoutes.forEach((r, i) => {
    parseCidr(r.destination, `host_routes[${i}].destination`);
    if (!isValidIpv4(r.nexthop)) throw new InvalidArgumentError(`host_routes[${i}].nexthop`, `"${r.nexthop}" is not an IPv4 address`);
  });
}

function isBefore(a: SubnetRecord, b: SubnetRecord): boolean {
  return a.createdAtMs < b.createdAtMs || (a.createdAtMs === b.createdAtMs && a.id < b.id);
}

function sortSubnets(list: SubnetRecord[]): SubnetRecord[] {
  return list.sort((a, b) => (isBefore(a, b) ? -1 : isBefore(b, a) ? 1 : 0));
}
