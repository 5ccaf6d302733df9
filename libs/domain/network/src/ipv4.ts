import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Number of IPv4 addresses: 2^32. */
export const IPV4_ADDRESS_COUNT = 2 ** 32;

/**
 * Parses a dotted-quad IPv4 address ("10.0.0.1") to its unsigned 32-bit integer value.
 * Octets are decimal 0..255 without leading zeros (a leading zero is ambiguous: some parsers read
 * it as octal, cf. CVE-2021-29921), exactly four of them.
 * @param text the address
 * @param field request field named in the error, default "ip_address"
 * @returns an integer in [0, 2^32 - 1]
 * @throws InvalidArgumentError(field) naming the bad octet or the wrong octet count
 */
export function ipToInt(text: string, field = 'ip_address'): number {
  const octets = text.split('.');
  if (octets.length !== 4) {
    throw new InvalidArgumentError(field, `"${text}" is not a dotted-quad IPv4 address (4 octets expected, got ${octets.length})`);
  }
  let value = 0;
  octets.forEach((octet, i) => {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(octet) || Number(octet) > 255) {
      throw new InvalidArgumentError(field, `bad octet ${i + 1} "${octet}" in "${text}" (decimal 0..255 without leading zeros expected)`);
    }
    value = value * 256 + Number(octet);
  });
  return value;
}

/**
 * Formats an unsigned 32-bit integer as a dotted-quad IPv4 address.
 * @throws InvalidArgumentError('ip_address') when `value` is not an integer in [0, 2^32 - 1]
 */
export function intToIp(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value >= IPV4_ADDRESS_COUNT) {
    throw new InvalidArgumentError('ip_address', `${value} is not a 32-bit unsigned integer`);
  }
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/** True when `text` is a valid dotted-quad IPv4 address (see {@link ipToInt}). */
export function isValidIpv4(text: string): boolean {
  try {
    ipToInt(text);
    return true;
  } catch {
    return false;
  }
}
