import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import type { Rng } from '@minicloud/domain-clock';
import { cidrContains, parseCidr, type Ipv4Cidr } from './cidr';
import { intToIp, ipToInt } from './ipv4';

/** An inclusive range of IPv4 addresses a subnet hands out to ports (Neutron allocation_pools). */
export interface AllocationPool {
  readonly start: string;
  readonly end: string;
}

/** What a client asks for when creating a subnet; absent fields take Neutron's defaults. */
export interface SubnetLayoutRequest {
  readonly cidr: string;
  /** undefined: first host of the CIDR; null: no gateway (Neutron `gateway_ip: null`). */
  readonly gatewayIp?: string | null;
  /** undefined or empty: every host address except the gateway. */
  readonly allocationPools?: readonly AllocationPool[];
}

/** A validated subnet address plan: canonical CIDR, gateway and sorted, non-overlapping pools. */
export interface SubnetLayout {
  readonly cidr: string;
  readonly gatewayIp: string | null;
  readonly allocationPools: readonly AllocationPool[];
}

/** Largest prefix that still has two host addresses (a gateway and one port). */
export const MAX_SUBNET_PREFIX_LENGTH = 30;

function subnetCidr(text: string): Ipv4Cidr {
  const cidr = parseCidr(text);
  if (cidr.prefixLength > MAX_SUBNET_PREFIX_LENGTH) {
    throw new InvalidArgumentError(
      'cidr',
      `prefix /${cidr.prefixLength} of "${cidr.text}" is too small for a subnet (at most /${MAX_SUBNET_PREFIX_LENGTH})`,
    );
  }
  return cidr;
}

/**
 * The default gateway of a subnet: its first host address (10.0.0.0/24 -> 10.0.0.1), as Neutron does.
 * @throws InvalidArgumentError('cidr') when the CIDR is invalid or longer than /30
 */
export function defaultGatewayIp(cidrText: string): string {
  return intToIp(subnetCidr(cidrText).networkInt + 1);
}

/**
 * The default allocation pools: every host address (network and broadcast excluded) except the
 * gateway, which splits the range in two when it is not at an end.
 * 10.0.0.0/24 with gateway 10.0.0.1 -> [10.0.0.2 - 10.0.0.254] (253 addresses).
 * @param gatewayIp the gateway to leave out; undefined = the default gateway; null = none
 * @throws InvalidArgumentError('cidr' | 'gateway_ip') when the CIDR or the gateway is invalid
 */
export function defaultAllocationPools(cidrText: string, gatewayIp?: string | null): AllocationPool[] {
  const cidr = subnetCidr(cidrText);
  const first = cidr.networkInt + 1;
  const last = cidr.broadcastInt - 1;
  const gateway = gatewayIp === undefined ? first : gatewayIp === null ? null : ipToInt(gatewayIp, 'gateway_ip');
  const ranges: Array<[number, number]> = [];
  if (gateway === null || gateway < first || gateway > last) {
    ranges.push([first, last]);
  } else {
    if (gateway > first) ranges.push([first, gateway - 1]);
    if (gateway < last) ranges.push([gateway + 1, last]);
  }
  return ranges.map(([s, e]) => ({ start: intToIp(s), end: intToIp(e) }));
}

/**
 * Validates a subnet request and fills in Neutron's defaults.
 * Rules: the gateway is a host address of the CIDR (not network, not broadcast); each pool has
 * start <= end and lies within the host addresses; pools do not overlap each other; the gateway is
 * in no pool. The result's pools are sorted by start address.
 * @throws InvalidArgumentError naming the field: 'cidr', 'gateway_ip', 'allocation_pools[i]',
 *   'allocation_pools[i].start' or 'allocation_pools[i].end'
 */
export function buildSubnetLayout(request: SubnetLayoutRequest): SubnetLayout {
  const cidr = subnetCidr(request.cidr);
  const gatewayIp = request.gatewayIp === undefined ? intToIp(cidr.networkInt + 1) : request.gatewayIp;
  const gateway = gatewayIp === null ? null : ipToInt(gatewayIp, 'gateway_ip');
  if (gateway !== null && !isHostAddress(cidr, gateway)) {
    throw new InvalidArgumentError('gateway_ip', `${gatewayIp} is not a host address of ${cidr.text}`);
  }
  if (!request.allocationPools || request.allocationPools.length === 0) {
    return { cidr: cidr.text, gatewayIp, allocationPools: defaultAllocationPools(cidr.text, gatewayIp) };
  }
  const pools = request.allocationPools.map((pool, i) => parsePool(cidr, pool, i, gateway));
  const sorted = [...pools].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start <= prev.end) {
      throw new InvalidArgumentError(
        `allocation_pools[${cur.index}]`,
        `pool ${intToIp(cur.start)}-${intToIp(cur.end)} overlaps pool ${intToIp(prev.start)}-${intToIp(prev.end)}`,
      );
    }
  }
  return {
    cidr: cidr.text,
    gatewayIp,
    allocationPools: sorted.map((p) => ({ start: intToIp(p.start), end: intToIp(p.end) })),
  };
}

function isHostAddress(cidr: Ipv4Cidr, ipInt: number): boolean {
  return cidrContains(cidr, ipInt) && ipInt !== cidr.networkInt && ipInt !== cidr.broadcastInt;
}

function parsePool(
  cidr: Ipv4Cidr,
  pool: AllocationPool,
  index: number,
  gateway: number | null,
): { start: number; end: number; index: number } {
  const field = `allocation_pools[${index}]`;
  const start = ipToInt(pool.start, `${field}.start`);
  const end = ipToInt(pool.end, `${field}.end`);
  if (!isHostAddress(cidr, start)) {
    throw new InvalidArgumentError(`${field}.start`, `${pool.start} is not a host address of ${cidr.text}`);
  }
  if (!isHostAddress(cidr, end)) {
    throw new InvalidArgumentError(`${field}.end`, `${pool.end} is not a host address of ${cidr.text}`);
  }
  if (start > end) {
    throw new InvalidArgumentError(field, `start ${pool.start} is after end ${pool.end}`);
  }
  if (gateway !== null && gateway >= start && gateway <= end) {
    throw new InvalidArgumentError(field, `gateway ${intToIp(gateway)} lies inside pool ${pool.start}-${pool.end}`);
  }
  return { start, end, index };
}

/**
 * Number of addresses in the pools (inclusive ranges): [10.0.0.2 - 10.0.0.254] -> 253.
 * @throws InvalidArgumentError('allocation_pools...') on a malformed address
 */
export function poolSize(pools: readonly AllocationPool[]): number {
  return pools.reduce(
    (sum, p, i) =>
      sum + Math.max(0, ipToInt(p.end, `allocation_pools[${i}].end`) - ipToInt(p.start, `allocation_pools[${i}].start`) + 1),
    0,
  );
}

/** Yields every address of the pools in pool order, then address order. Lazy: safe on a /8. */
export function* candidateIps(pools: readonly AllocationPool[]): Generator<string> {
  for (const pool of pools) {
    const end = ipToInt(pool.end);
    for (let ip = ipToInt(pool.start); ip <= end; ip++) yield intToIp(ip);
  }
}

/**
 * Picks a free address of a subnet.
 * Without `rng` it returns the first free address in pool order (deterministic, like Neutron's
 * sequential IPAM). With `rng` it starts at a random position of the pools and wraps around, which
 * spreads concurrent allocators over the pool so their optimistic claims rarely collide. The caller
 * claims the address atomically and retries on conflict.
 * @param subnet a layout from {@link buildSubnetLayout} (only its pools are read)
 * @param allocated addresses already in use on this subnet
 * @param rng injected random source in [0, 1)
 * @throws ResourceExhaustedError(reason 'ip_address_generation_failure') when every pool address is taken
 */
export function nextFreeIp(
  subnet: Pick<SubnetLayout, 'allocationPools'>,
  allocated: ReadonlySet<string>,
  rng?: Rng,
): string {
  const ranges = subnet.allocationPools.map((p) => [ipToInt(p.start), ipToInt(p.end)] as const);
  const total = ranges.reduce((sum, [s, e]) => sum + (e - s + 1), 0);
  const offset = rng ? Math.floor(rng() * total) : 0;
  for (let k = 0; k < total; k++) {
    const ip = intToIp(addressAt(ranges, (offset + k) % total));
    if (!allocated.has(ip)) return ip;
  }
  throw new ResourceExhaustedError(
    `no free IP address in allocation pools of ${total} addresses`,
    'ip_address_generation_failure',
  );
}

function addressAt(ranges: ReadonlyArray<readonly [number, number]>, index: number): number {
  let rest = index;
  for (const [start, end] of ranges) {
    const size = end - start + 1;
    if (rest < size) return start + rest;
    rest -= size;
  }
  throw new RangeError(`index ${index} beyond pools`);
}
