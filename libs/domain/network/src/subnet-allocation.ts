import { intToIp } from './ipv4';
import { parseCidr, type Ipv4Cidr } from './cidr';

/**
 * Neutron's subnet allocation from a subnet pool: the lowest free CIDR of `prefixLength` inside the
 * pool's prefixes (in address order) that overlaps none of `taken`. A candidate that overlaps a taken
 * CIDR is skipped past it, aligned to the wanted size.
 * @param prefixes the pool's prefixes (canonical CIDR text)
 * @param taken CIDRs already allocated from the pool
 * @returns the CIDR text, or null when the pool has no room of that size
 */
export function allocateSubnetCidr(prefixes: readonly string[], taken: readonly string[], prefixLength: number): string | null {
  const size = 2 ** (32 - prefixLength);
  const used = taken.map((t) => parseCidr(t)).sort((a, b) => a.networkInt - b.networkInt);
  const pools = prefixes.map((p) => parseCidr(p)).filter((p) => p.prefixLength <= prefixLength).sort((a, b) => a.networkInt - b.networkInt);
  for (const pool of pools) {
    let candidate = pool.networkInt;
    while (candidate + size - 1 <= pool.broadcastInt) {
      const clash = used.find((u) => u.networkInt <= candidate + size - 1 && candidate <= u.broadcastInt);
      if (!clash) return `${intToIp(candidate)}/${prefixLength}`;
      candidate = Math.ceil((clash.broadcastInt + 1) / size) * size;
    }
  }
  return null;
}

/** Whether `inner` lies wholly inside one of `prefixes`. */
export function cidrWithin(inner: Ipv4Cidr, prefixes: readonly Ipv4Cidr[]): boolean {
  return prefixes.some((p) => p.networkInt <= inner.networkInt && inner.broadcastInt <= p.broadcastInt);
}
