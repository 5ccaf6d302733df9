import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { assertNoCidrOverlap, buildSubnetLayout, isValidIpv4, parseCidr, type AllocationPool } from '@minicloud/domain-network';
import { Networks, canSeeNetwork } from './networks';
import type { NetworkRecord, SubnetRecord } from './records';
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
}

/** Subnets and their address plans (IPv4 only). A subnet is visible when its network is. */
export class Subnets {
  constructor(
    private readonly d: StoreDeps,
    private readonly networks: Networks,
  ) {}

  /**
   * Creates a subnet on a network the caller owns (or admin). The layout (gateway, pools) and the
   * no-overlap-within-the-network rule come from domain-network; a concurrent create of an
   * overlapping subnet is caught by re-checking after the write and undoing the later one.
   * @throws InvalidArgumentError ('ip_version', 'cidr', 'gateway_ip', 'allocation_pools[i]...',
   *   'dns_nameservers[i]'); NotFoundError('network'); PermissionDeniedError
   */
  async create(input: CreateSubnetInput, caller: Caller): Promise<SubnetRecord> {
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
    input.dnsNameservers.forEach((ip, i) => {
      if (!isValidIpv4(ip)) throw new InvalidArgumentError(`dns_nameservers[${i}]`, `"${ip}" is not an IPv4 address`);
    });
    input.hostRoutes.forEach((r, i) => {
      parseCidr(r.destination, `host_routes[${i}].destination`);
      if (!isValidIpv4(r.nexthop)) throw new InvalidArgumentError(`host_routes[${i}].nexthop`, `"${r.nexthop}" is not an IPv4 address`);
    });
    const existing = await this.listOfNetwork(network.id);
    assertNoCidrOverlap(layout.cidr, existing.map((s) => s.cidr));
    const record: SubnetRecord = {
      id: this.d.newId(),
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
    if (!network || !canSeeNetwork(network.value, caller)) throw new NotFoundError('subnet', id);
    return stored;
  }

  /** Visible subnets, all or of one network (NOT_FOUND for an invisible network). */
  async list(caller: Caller, networkId: string): Promise<SubnetRecord[]> {
    if (networkId) {
      await this.networks.get(networkId, caller);
      return this.listOfNetwork(networkId);
    }
    const ids = await this.d.redis.smembers(keys.subnets());
    const subnets = await readJsonMany<SubnetRecord>(this.d.redis, ids.map(keys.subnet));
    const networkIds = [...new Set(subnets.map((s) => s.networkId))];
    const networks = await readJsonMany<NetworkRecord>(this.d.redis, networkIds.map(keys.network));
    const visible = new Set(networks.filter((n) => canSeeNetwork(n, caller)).map((n) => n.id));
    return sortSubnets(subnets.filter((s) => visible.has(s.networkId)));
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
    if (res.ok) return true;
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

function isBefore(a: SubnetRecord, b: SubnetRecord): boolean {
  return a.createdAtMs < b.createdAtMs || (a.createdAtMs === b.createdAtMs && a.id < b.id);
}

function sortSubnets(list: SubnetRecord[]): SubnetRecord[] {
  return list.sort((a, b) => (isBefore(a, b) ? -1 : isBefore(b, a) ? 1 : 0));
}
