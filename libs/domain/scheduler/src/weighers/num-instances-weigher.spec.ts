import { weighHosts } from '../host-weigher';
import { makeHost, makeSpec } from '../testing';
import { createNumInstancesWeigher } from './num-instances-weigher';

describe('NumInstancesWeigher', () => {
  const hosts = [makeHost({ hostId: 'few', numInstances: 1 }), makeHost({ hostId: 'many', numInstances: 9 })];
  it.each([
    { multiplier: undefined, weights: [0, 0] },
    { multiplier: 1, weights: [1, 0] },
    { multiplier: -1, weights: [0, -1] },
  ])('multiplier $multiplier (default 0: off) gives weights $weights', ({ multiplier, weights }) => {
    const ranked = weighHosts(hosts, [createNumInstancesWeigher({ multiplier })], makeSpec());
    expect(ranked.map((w) => w.weight)).toEqual(weights);
  });

  it('positive multiplier packs onto the busy host; negative spreads', () => {
    expect(weighHosts(hosts, [createNumInstancesWeigher({ multiplier: 1 })], makeSpec())[0].host.hostId).toBe('many');
    expect(weighHosts(hosts, [createNumInstancesWeigher({ multiplier: -1 })], makeSpec())[0].host.hostId).toBe('few');
  });
});
