import { weighHosts } from '../host-weigher';
import { makeHost, makeSpec } from '../testing';
import { createRamWeigher } from './ram-weigher';

const hosts = [
  makeHost({ hostId: 'busy', ramMbTotal: 8192, ramMbUsed: 6144 }),
  makeHost({ hostId: 'idle', ramMbTotal: 8192, ramMbUsed: 0 }),
  makeHost({ hostId: 'half', ramMbTotal: 8192, ramMbUsed: 2048, ramMbReserved: 2048 }),
];

describe('RAMWeigher', () => {
  it.each([
    { host: hosts[0], raw: 2048 },
    { host: hosts[1], raw: 8192 },
    { host: hosts[2], raw: 4096 },
  ])('raw weight of $host.hostId is free MB $raw', ({ host, raw }) => {
    expect(createRamWeigher().rawWeight(host, makeSpec())).toBe(raw);
  });

  it.each([
    { multiplier: undefined, order: ['idle', 'half', 'busy'], top: 1 },
    { multiplier: 2, order: ['idle', 'half', 'busy'], top: 2 },
    { multiplier: -1, order: ['busy', 'half', 'idle'], top: 0 },
  ])('multiplier $multiplier ranks $order', ({ multiplier, order, top }) => {
    const ranked = weighHosts(hosts, [createRamWeigher({ multiplier })], makeSpec());
    expect(ranked.map((w) => w.host.hostId)).toEqual(order);
    expect(ranked[0].weight).toBeCloseTo(top);
  });

  it('aggregate ram_weight_multiplier overrides the configured one per host', () => {
    const packed = { id: 'pack', metadata: { ram_weight_multiplier: '-1.0' } };
    const withAgg = hosts.map((h) => (h.hostId === 'idle' ? { ...h, aggregates: [packed] } : h));
    const ranked = weighHosts(withAgg, [createRamWeigher()], makeSpec());
    // idle normalises to 1 but its multiplier is -1; half (1/3) wins, busy (0) second.
    expect(ranked.map((w) => w.host.hostId)).toEqual(['half', 'busy', 'idle']);
  });
});
