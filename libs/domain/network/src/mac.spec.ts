import { InvalidArgumentError } from '@minicloud/domain-errors';
import { seededRng } from '@minicloud/domain-clock';
import fc from 'fast-check';
import { DEFAULT_BASE_MAC, generateMac, isMulticastMac, normaliseMac } from './mac';

describe('normaliseMac', () => {
  it.each([
    ['FA:16:3E:AA:BB:CC', 'fa:16:3e:aa:bb:cc'],
    ['fa-16-3e-0a-0b-0c', 'fa:16:3e:0a:0b:0c'],
    [' 02:00:00:00:00:01 ', '02:00:00:00:00:01'],
  ])('%j -> %s', (text, mac) => {
    expect(normaliseMac(text)).toBe(mac);
  });

  it.each([
    ['fa:16:3e:aa:bb', /not a MAC address/],
    ['fa:16:3e:aa:bb:cg', /not a MAC address/],
    ['fa:16:3e:aa:bb:c', /not a MAC address/],
    ['00:00:00:00:00:00', /all-zero/],
    ['FF:FF:FF:FF:FF:FF', /ff:ff:ff:ff:ff:ff is the broadcast MAC/],
    ['01:00:5e:00:00:01', /01:00:5e:00:00:01 is a multicast MAC/],
    ['33:33:00:00:00:01', /multicast/],
  ])('rejects %j', (text, problem) => {
    expect(() => normaliseMac(text, 'port.mac_address')).toThrow(problem);
    expect(() => normaliseMac(text, 'port.mac_address')).toThrow(InvalidArgumentError);
    expect(() => normaliseMac(text, 'port.mac_address')).toThrow(/^invalid port.mac_address/);
  });

  it('isMulticastMac reads the I/G bit', () => {
    expect(isMulticastMac('01:00:5e:00:00:01')).toBe(true);
    expect(isMulticastMac('fa:16:3e:00:00:01')).toBe(false);
  });
});

describe('generateMac', () => {
  it('keeps the base OUI and fills the rest from the rng', () => {
    const values = [0, 0.5, 0.999];
    let i = 0;
    expect(generateMac(() => values[i++]!)).toBe('fa:16:3e:00:80:ff');
  });

  it('keeps a non-zero 4th octet of the base, as Neutron does', () => {
    expect(generateMac(() => 0.5, 'fa:16:3e:4f:00:00')).toBe('fa:16:3e:4f:80:80');
  });

  it('rejects a multicast or malformed base', () => {
    expect(() => generateMac(() => 0, '01:00:5e:00:00:00')).toThrow(/^invalid base_mac/);
    expect(() => generateMac(() => 0, 'nope')).toThrow(InvalidArgumentError);
  });

  it('property: every generated MAC is a valid unicast MAC under the base', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const mac = generateMac(seededRng(seed));
        return normaliseMac(mac) === mac && mac.startsWith(DEFAULT_BASE_MAC.slice(0, 9));
      }),
    );
  });
});
