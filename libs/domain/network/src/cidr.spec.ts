import { InvalidArgumentError } from '@minicloud/domain-errors';
import { assertNoCidrOverlap, cidrContains, cidrsOverlap, parseCidr, prefixToMask } from './cidr';
import { ipToInt } from './ipv4';

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/24', 167772160, 167772415, 256],
    ['192.168.0.0/16', 3232235520, 3232301055, 65536],
    ['0.0.0.0/0', 0, 4294967295, 4294967296],
    ['10.1.2.3/32', 167838211, 167838211, 1],
    ['172.16.0.0/12', 2886729728, 2887778303, 1048576],
  ])('%s -> network %d, broadcast %d, %d addresses', (text, network, broadcast, size) => {
    const c = parseCidr(text);
    expect(c).toEqual({ text, prefixLength: c.prefixLength, networkInt: network, broadcastInt: broadcast, size });
  });

  it.each([
    ['10.0.0.5/24', /host bits set in "10.0.0.5\/24" \(did you mean 10.0.0.0\/24\?\)/],
    ['10.0.0.0/33', /prefix length "33" .* out of range 0..32/],
    ['10.0.0.0/-1', /prefix length "-1"/],
    ['10.0.0.0', /not in address\/prefix form/],
    ['10.0.300.0/24', /bad octet 3 "300"/],
  ])('rejects %s with InvalidArgumentError(cidr) naming the problem', (text, problem) => {
    expect(() => parseCidr(text)).toThrow(problem);
    try {
      parseCidr(text);
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).field).toBe('cidr');
    }
  });

  it('masks', () => {
    expect(prefixToMask(0)).toBe(0);
    expect(prefixToMask(24)).toBe(0xffffff00);
    expect(prefixToMask(32)).toBe(0xffffffff);
  });

  it('contains', () => {
    const c = parseCidr('10.0.0.0/24');
    expect(cidrContains(c, ipToInt('10.0.0.255'))).toBe(true);
    expect(cidrContains(c, ipToInt('10.0.1.0'))).toBe(false);
  });
});

describe('overlap', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.0/24', true],
    ['10.0.0.0/16', '10.0.5.0/24', true],
    ['10.0.5.0/24', '10.0.0.0/16', true],
    ['10.0.0.0/24', '10.0.1.0/24', false],
    ['10.0.0.0/25', '10.0.0.128/25', false],
    ['10.0.0.0/23', '10.0.1.0/24', true],
  ])('%s vs %s -> %s', (a, b, expected) => {
    expect(cidrsOverlap(parseCidr(a), parseCidr(b))).toBe(expected);
  });

  it('assertNoCidrOverlap names the clashing subnet', () => {
    expect(() => assertNoCidrOverlap('10.0.1.0/24', ['10.0.0.0/24', '10.0.2.0/24'])).not.toThrow();
    expect(() => assertNoCidrOverlap('10.0.0.0/16', ['192.168.0.0/24', '10.0.2.0/24'])).toThrow(
      'invalid cidr: 10.0.0.0/16 overlaps with another subnet (10.0.2.0/24) on the same network',
    );
  });
});
