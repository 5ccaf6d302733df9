import { weighHosts } from '../host-weigher';
import { makeHost, makeSpec } from '../testing';
import { createBuildFailureWeigher } from './build-failure-weigher';
import { createRamWeigher } from './ram-weigher';

describe('BuildFailureWeigher', () => {
  it.each([
    { failed: 0, raw: 0 },
    { failed: 4, raw: -4 },
  ])('$failed failures -> raw $raw', ({ failed, raw }) => {
    expect(createBuildFailureWeigher().rawWeight(makeHost({ hostId: 'h', failedBuilds: failed }), makeSpec()) + 0).toBe(raw);
  });

  it('one failure outweighs every free-RAM advantage at the default multiplier', () => {
    const hosts = [
      makeHost({ hostId: 'roomy-but-failing', ramMbTotal: 1 << 20, failedBuilds: 1 }),
      makeHost({ hostId: 'tight', ramMbTotal: 2048 }),
    ];
    const ranked = weighHosts(hosts, [createRamWeigher(), createBuildFailureWeigher()], makeSpec());
    expect(ranked.map((w) => w.host.hostId)).toEqual(['tight', 'roomy-but-failing']);
    expect(ranked[0].weight).toBe(1_000_000);
  });
});
