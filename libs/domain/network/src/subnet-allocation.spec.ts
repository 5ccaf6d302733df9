import { parseCidr } from './cidr';
import { allocateSubnetCidr, cidrWithin } from './subnet-allocation';

describe('subnet allocation from a pool', () => {
  it.each([
    { prefixes: ['10.10.0.0/16'], taken: [], len: 24, want: '10.10.0.0/24' },
    { prefixes: ['10.10.0.0/16'], taken: ['10.10.0.0/24'], len: 24, want: '10.10.1.0/24' },
    { prefixes: ['10.10.0.0/16'], taken: ['10.10.0.0/28'], len: 24, want: '10.10.1.0/24' },
    { prefixes: ['10.10.0.0/16'], taken: ['10.10.1.0/24'], len: 24, want: '10.10.0.0/24' },
    { prefixes: ['10.10.0.0/16'], taken: ['10.10.0.0/23'], len: 26, want: '10.10.2.0/26' },
    { prefixes: ['10.20.0.0/24', '10.10.0.0/24'], taken: ['10.10.0.0/24'], len: 25, want: '10.20.0.0/25' },
    { prefixes: ['10.10.0.0/24'], taken: ['10.10.0.0/25', '10.10.0.128/25'], len: 25, want: null },
    { prefixes: ['10.10.0.0/24'], taken: [], len: 16, want: null },
  ])('$prefixes less $taken, /$len -> $want', ({ prefixes, taken, len, want }) => {
    expect(allocateSubnetCidr(prefixes, taken, len)).toBe(want);
  });

  it('never returns a CIDR that overlaps a taken one or leaves the pool (exhausting a /24 by /28s)', () => {
    const taken: string[] = [];
    for (let i = 0; i < 16; i++) {
      const c = allocateSubnetCidr(['192.168.5.0/24'], taken, 28)!;
      expect(cidrWithin(parseCidr(c), [parseCidr('192.168.5.0/24')])).toBe(true);
      expect(taken).not.toContain(c);
      taken.push(c);
    }
    expect(allocateSubnetCidr(['192.168.5.0/24'], taken, 28)).toBeNull();
  });
});
