import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { seededRng } from '@minicloud/domain-clock';
import fc from 'fast-check';
import {
  buildSubnetLayout,
  candidateIps,
  defaultAllocationPools,
  defaultGatewayIp,
  nextFreeIp,
  poolSize,
} from './ipam';

describe('defaults', () => {
  it.each([
    ['10.0.0.0/24', '10.0.0.1', [{ start: '10.0.0.2', end: '10.0.0.254' }], 253],
    ['192.168.0.0/16', '192.168.0.1', [{ start: '192.168.0.2', end: '192.168.255.254' }], 65533],
    ['10.0.0.0/30', '10.0.0.1', [{ start: '10.0.0.2', end: '10.0.0.2' }], 1],
    ['10.0.0.0/29', '10.0.0.1', [{ start: '10.0.0.2', end: '10.0.0.6' }], 5],
  ])('%s -> gateway %s, pools %j, %d addresses', (cidr, gateway, pools, size) => {
    expect(defaultGatewayIp(cidr)).toBe(gateway);
    expect(defaultAllocationPools(cidr)).toEqual(pools);
    expect(poolSize(pools)).toBe(size);
  });

  it('a gateway in the middle splits the pool; no gateway leaves all hosts', () => {
    expect(defaultAllocationPools('10.0.0.0/24', '10.0.0.100')).toEqual([
      { start: '10.0.0.1', end: '10.0.0.99' },
      { start: '10.0.0.101', end: '10.0.0.254' },
    ]);
    expect(defaultAllocationPools('10.0.0.0/24', '10.0.0.254')).toEqual([{ start: '10.0.0.1', end: '10.0.0.253' }]);
    expect(defaultAllocationPools('10.0.0.0/24', null)).toEqual([{ start: '10.0.0.1', end: '10.0.0.254' }]);
  });

  it('rejects prefixes with no room for a gateway and a port', () => {
    expect(() => defaultGatewayIp('10.0.0.0/31')).toThrow(/too small for a subnet/);
  });
});

describe('buildSubnetLayout', () => {
  it('fills Neutron defaults', () => {
    expect(buildSubnetLayout({ cidr: '10.0.0.0/24' })).toEqual({
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.1',
      allocationPools: [{ start: '10.0.0.2', end: '10.0.0.254' }],
    });
  });

  it('keeps given pools, sorted', () => {
    const layout = buildSubnetLayout({
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.254',
      allocationPools: [
        { start: '10.0.0.100', end: '10.0.0.200' },
        { start: '10.0.0.10', end: '10.0.0.20' },
      ],
    });
    expect(layout.allocationPools).toEqual([
      { start: '10.0.0.10', end: '10.0.0.20' },
      { start: '10.0.0.100', end: '10.0.0.200' },
    ]);
    expect(poolSize(layout.allocationPools)).toBe(11 + 101);
  });

  it.each([
    [{ cidr: '10.0.0.0/24', gatewayIp: '10.0.1.1' }, 'gateway_ip', /not a host address of 10.0.0.0\/24/],
    [{ cidr: '10.0.0.0/24', gatewayIp: '10.0.0.255' }, 'gateway_ip', /not a host address/],
    [{ cidr: '10.0.0.0/24', gatewayIp: '10.0.0.0' }, 'gateway_ip', /not a host address/],
    [{ cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.0', end: '10.0.0.9' }] }, 'allocation_pools[0].start', /not a host address/],
    [{ cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.2', end: '10.0.1.9' }] }, 'allocation_pools[0].end', /not a host address/],
    [{ cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.9', end: '10.0.0.2' }] }, 'allocation_pools[0]', /start 10.0.0.9 is after end 10.0.0.2/],
    [{ cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.1', end: '10.0.0.9' }] }, 'allocation_pools[0]', /gateway 10.0.0.1 lies inside pool/],
    [
      { cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.50', end: '10.0.0.60' }, { start: '10.0.0.10', end: '10.0.0.50' }] },
      'allocation_pools[0]',
      /pool 10.0.0.50-10.0.0.60 overlaps pool 10.0.0.10-10.0.0.50/,
    ],
    [{ cidr: '10.0.0.0/24', allocationPools: [{ start: '10.0.0.x', end: '10.0.0.9' }] }, 'allocation_pools[0].start', /bad octet 4/],
    [{ cidr: '10.0.0.1/24' }, 'cidr', /host bits set/],
  ])('rejects %j on field %s', (request, field, problem) => {
    let error: unknown;
    try {
      buildSubnetLayout(request);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect((error as Error).message).toMatch(problem);
  });
});

describe('allocation', () => {
  const layout = buildSubnetLayout({
    cidr: '10.0.0.0/24',
    allocationPools: [
      { start: '10.0.0.10', end: '10.0.0.11' },
      { start: '10.0.0.20', end: '10.0.0.21' },
    ],
  });

  it('candidateIps yields in pool order, lazily', () => {
    expect([...candidateIps(layout.allocationPools)]).toEqual(['10.0.0.10', '10.0.0.11', '10.0.0.20', '10.0.0.21']);
    const big = candidateIps(defaultAllocationPools('10.0.0.0/8'));
    expect(big.next().value).toBe('10.0.0.2');
  });

  it('nextFreeIp without rng is the first free address in pool order', () => {
    expect(nextFreeIp(layout, new Set())).toBe('10.0.0.10');
    expect(nextFreeIp(layout, new Set(['10.0.0.10', '10.0.0.11']))).toBe('10.0.0.20');
  });

  it('nextFreeIp with rng starts at a random position and wraps around', () => {
    expect(nextFreeIp(layout, new Set(), () => 0.6)).toBe('10.0.0.20'); // floor(0.6 * 4) = 2
    expect(nextFreeIp(layout, new Set(['10.0.0.21']), () => 0.99)).toBe('10.0.0.10'); // 3 taken -> wraps to 0
  });

  it('throws ResourceExhaustedError when the pools are full', () => {
    const all = new Set(candidateIps(layout.allocationPools));
    expect(() => nextFreeIp(layout, all)).toThrow(ResourceExhaustedError);
    expect(() => nextFreeIp(layout, all, seededRng(1))).toThrow(/no free IP address/);
  });

  it('property: allocating a whole /27 hands out each pool address exactly once', () => {
    const sub = buildSubnetLayout({ cidr: '10.9.8.32/27' });
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const rng = seededRng(seed);
        const taken = new Set<string>();
        for (let i = 0; i < poolSize(sub.allocationPools); i++) taken.add(nextFreeIp(sub, taken, rng));
        expect([...taken].sort()).toEqual([...candidateIps(sub.allocationPools)].sort());
        expect(taken.has('10.9.8.33')).toBe(false); // gateway
        expect(() => nextFreeIp(sub, taken, rng)).toThrow(ResourceExhaustedError);
      }),
      { numRuns: 50 },
    );
  });
});
