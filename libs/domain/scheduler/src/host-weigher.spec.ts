import { HostWeigher, normalize, weighHosts, weightMultiplier } from './host-weigher';
import { makeHost, makeSpec } from './testing';

describe('normalize (Nova weights.normalize)', () => {
  it.each([
    { input: [], output: [] },
    { input: [5], output: [0] },
    { input: [3, 3, 3], output: [0, 0, 0] },
    { input: [0, 5, 10], output: [0, 0.5, 1] },
    { input: [-4, 0, 4], output: [0, 0.5, 1] },
  ])('$input -> $output', ({ input, output }) => {
    expect(normalize(input)).toEqual(output);
  });
});

describe('weightMultiplier', () => {
  const weigher: HostWeigher = { name: 'W', multiplierKey: 'w_weight_multiplier', configuredMultiplier: 1.5, rawWeight: () => 0 };
  it.each([
    { metas: [], expected: 1.5 },
    { metas: [{ w_weight_multiplier: '3' }], expected: 3 },
    { metas: [{ w_weight_multiplier: '3' }, { w_weight_multiplier: '-2' }], expected: -2 },
    { metas: [{ w_weight_multiplier: 'x' }], expected: 1.5 },
    { metas: [{ other: '9' }], expected: 1.5 },
  ])('aggregates $metas -> $expected', ({ metas, expected }) => {
    const host = makeHost({ hostId: 'h', aggregates: metas.map((metadata, i) => ({ id: `a${i}`, metadata })) });
    expect(weightMultiplier(weigher, host)).toBe(expected);
  });
});

describe('weighHosts', () => {
  it('sums multiplier x normalised weight over weighers; ties keep input order', () => {
    const byRam: HostWeigher = { name: 'A', multiplierKey: 'a', configuredMultiplier: 1, rawWeight: (h) => h.ramMbTotal };
    const byCpu: HostWeigher = { name: 'B', multiplierKey: 'b', configuredMultiplier: 2, rawWeight: (h) => h.vcpusTotal };
    const hosts = [
      makeHost({ hostId: 'x', ramMbTotal: 100, vcpusTotal: 4 }),
      makeHost({ hostId: 'y', ramMbTotal: 200, vcpusTotal: 4 }),
      makeHost({ hostId: 'z', ramMbTotal: 100, vcpusTotal: 8 }),
      makeHost({ hostId: 'w', ramMbTotal: 100, vcpusTotal: 4 }),
    ];
    const ranked = weighHosts(hosts, [byRam, byCpu], makeSpec());
    expect(ranked.map((r) => [r.host.hostId, r.weight])).toEqual([
      ['z', 2],
      ['y', 1],
      ['x', 0],
      ['w', 0],
    ]);
  });
});
