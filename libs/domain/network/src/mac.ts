import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { Rng } from '@minicloud/domain-clock';

/** Neutron's default `base_mac`: the fa:16:3e OUI used by OpenStack for port MACs. */
export const DEFAULT_BASE_MAC = 'fa:16:3e:00:00:00';

/** The all-zero MAC; used only by l2pop flooding entries, never by a port. */
export const ZERO_MAC = '00:00:00:00:00:00';

/** The Ethernet broadcast MAC. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';

function parseOctets(text: string, field: string): number[] {
  const parts = text.trim().split(/[:-]/);
  if (parts.length !== 6 || !parts.every((p) => /^[0-9a-fA-F]{2}$/.test(p))) {
    throw new InvalidArgumentError(field, `"${text}" is not a MAC address (6 hex octets separated by ":" or "-")`);
  }
  return parts.map((p) => parseInt(p, 16));
}

function format(octets: readonly number[]): string {
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

/** True when the I/G bit (least significant bit of the first octet) is set: multicast or broadcast. */
export function isMulticastMac(mac: string): boolean {
  return (parseOctets(mac, 'mac_address')[0]! & 1) === 1;
}

/**
 * Validates a port MAC and returns it in canonical form: lowercase, colon separated
 * ("FA-16-3E-AA-BB-CC" -> "fa:16:3e:aa:bb:cc").
 * @param field request field named in errors, default "mac_address"
 * @throws InvalidArgumentError(field) when malformed, all-zero, multicast or broadcast (a port needs
 *   a unicast address, as Neutron's validator requires)
 */
export function normaliseMac(text: string, field = 'mac_address'): string {
  const octets = parseOctets(text, field);
  const mac = format(octets);
  if (mac === ZERO_MAC) throw new InvalidArgumentError(field, `${mac} is the all-zero MAC`);
  if (mac === BROADCAST_MAC) throw new InvalidArgumentError(field, `${mac} is the broadcast MAC`);
  if ((octets[0]! & 1) === 1) throw new InvalidArgumentError(field, `${mac} is a multicast MAC`);
  return mac;
}

/**
 * Generates a port MAC from a base MAC the way Neutron does: the first 3 octets of `baseMac` are
 * kept, the 4th too when it is not 00, and the rest are random bytes from `rng`. The caller checks
 * uniqueness on the network and calls again on collision.
 * @param rng injected random source in [0, 1)
 * @param baseMac e.g. "fa:16:3e:00:00:00" (default) or "fa:16:3e:4f:00:00"
 * @throws InvalidArgumentError('base_mac') when the base MAC is malformed or multicast
 */
export function generateMac(rng: Rng, baseMac: string = DEFAULT_BASE_MAC): string {
  const base = parseOctets(baseMac, 'base_mac');
  if ((base[0]! & 1) === 1) throw new InvalidArgumentError('base_mac', `${baseMac} is a multicast MAC`);
  const fixed = base[3] === 0 ? 3 : 4;
  return format(base.map((octet, i) => (i < fixed ? octet : Math.floor(rng() * 256) & 0xff)));
}
