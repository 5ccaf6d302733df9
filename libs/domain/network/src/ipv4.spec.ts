import { InvalidArgumentError } from '@minicloud/domain-errors';
import fc from 'fast-check';
import { intToIp, ipToInt, isValidIpv4 } from './ipv4';

describe('ipToInt / intToIp', () => {
  it.each([
    ['0.0.0.0', 0],
    ['10.0.0.1', 167772161],
    ['192.168.1.255', 3232236031],
    ['255.255.255.255', 4294967295],
  ])('%s <-> %d', (text, value) => {
    expect(ipToInt(text)).toBe(value);
    expect(intToIp(value)).toBe(text);
  });

  it.each([
    ['10.0.0', /4 octets expected, got 3/],
    ['10.0.0.256', /bad octet 4 "256"/],
    ['10.0.01.1', /bad octet 3 "01"/],
    ['10.a.0.1', /bad octet 2 "a"/],
    ['10..0.1', /bad octet 2 ""/],
  ])('rejects %s naming what is wrong', (text, problem) => {
    expect(() => ipToInt(text, 'gateway_ip')).toThrow(problem);
    expect(() => ipToInt(text, 'gateway_ip')).toThrow(InvalidArgumentError);
    expect(() => ipToInt(text, 'gateway_ip')).toThrow(/^invalid gateway_ip/);
  });

  it('rejects integers outside 32 bits', () => {
    expect(() => intToIp(2 ** 32)).toThrow(InvalidArgumentError);
    expect(() => intToIp(-1)).toThrow(InvalidArgumentError);
    expect(() => intToIp(1.5)).toThrow(InvalidArgumentError);
  });

  it('round-trips every 32-bit value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (v) => ipToInt(intToIp(v)) === v));
  });

  it('isValidIpv4', () => {
    expect(isValidIpv4('1.2.3.4')).toBe(true);
    expect(isValidIpv4('1.2.3.4.5')).toBe(false);
  });
});
