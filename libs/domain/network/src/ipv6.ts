import { InvalidArgumentError } from '@minicloud/domain-errors';

/** An IPv6 prefix as eight 16-bit groups and a prefix length 0..128. */
export interface Ipv6Cidr {
  readonly groups: readonly number[];
  readonly prefixLength: number;
}

/**
 * Parses an IPv6 address in RFC 4291 text form (hex groups, one `::`, no embedded IPv4).
 * @returns the eight groups, or undefined when the text is not such an address
 */
export function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return all.map((g) => parseInt(g, 16));
}

/**
 * Parses "addr/len" (len 0..128; without "/len", a host prefix /128), the host bits cleared
 * as Neutron stores a rule's remote_ip_prefix.
 * @throws InvalidArgumentError(field) when it is not an IPv6 prefix
 */
export function parseIpv6Cidr(text: string, field = 'cidr'): Ipv6Cidr {
  const [addr, len, extra] = text.split('/');
  const groups = parseIpv6(addr ?? '');
  const prefixLength = len === undefined ? 128 : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!groups || extra !== undefined || !(prefixLength >= 0 && prefixLength <= 128)) {
    throw new InvalidArgumentError(field, `"${text}" is not an IPv6 prefix`);
  }
  const masked = groups.map((g, i) => {
    const bits = Math.min(16, Math.max(0, prefixLength - i * 16));
    return bits === 0 ? 0 : g & ((0xffff << (16 - bits)) & 0xffff);
  });
  return { groups: masked, prefixLength };
}

/** The canonical text of a prefix ("2001:db8::/32"): lower case, the longest zero run as `::`. */
export function formatIpv6Cidr(c: Ipv6Cidr): string {
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (c.groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && c.groups[j] === 0) j++;
    if (j - i > best.len && j - i > 1) best = { at: i, len: j - i };
    i = j;
  }
  const hex = c.groups.map((g) => g.toString(16));
  const text = best.at < 0 ? hex.join(':') : `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
  return `${text}/${c.prefixLength}`;
}
