import { InvalidArgumentError } from '@minicloud/domain-errors';
import { ResourceExhaustedError } from '@minicloud/domain-errors';
import { thrownBy } from '@minicloud/testing';
import { computeFilter } from './filters/compute-filter';
import { ramFilter } from './filters/ram-filter';
import { serverGroupAntiAffinityFilter } from './filters/server-group-anti-affinity-filter';
import { NoValidHostError } from './no-valid-host-error';
import { createScheduler } from './scheduler';
import { makeHost, makeSpec } from './testing';
import { createRamWeigher } from './weighers/ram-weigher';

const fixedRng = (value: number) => () => value;
const flavor = (ramMb: number) => ({ vcpus: 1, ramMb, diskGb: 0, extraSpecs: {} });
const hosts = [
  makeHost({ hostId: 'a', ramMbTotal: 4096 }),
  makeHost({ hostId: 'b', ramMbTotal: 8192 }),
  makeHost({ hostId: 'c', ramMbTotal: 6144 }),
  makeHost({ hostId: 'd', ramMbTotal: 2048 }),
];

function scheduler(opts: { hostSubsetSize?: number; maxAlternates?: number; rng?: number; multiplier?: number } = {}) {
  return createScheduler({
    filters: [computeFilter, ramFilter, serverGroupAntiAffinityFilter],
    weighers: [createRamWeigher({ multiplier: opts.multiplier })],
    hostSubsetSize: opts.hostSubsetSize,
    maxAlternates: opts.maxAlternates,
    rng: fixedRng(opts.rng ?? 0),
  });
}

describe('createScheduler.selectDestinations', () => {
  it.each([
    { name: 'spread picks most free RAM', opts: {}, host: 'b', alternates: ['c', 'a'] },
    { name: 'pack (negative multiplier) picks least free RAM', opts: { multiplier: -1 }, host: 'd', alternates: ['a', 'c'] },
    { name: 'subset 3, rng 0.99 picks the third best', opts: { hostSubsetSize: 3, rng: 0.99 }, host: 'a', alternates: ['b', 'c'] },
    { name: 'subset 3, rng 0.5 picks the second best', opts: { hostSubsetSize: 3, rng: 0.5 }, host: 'c', alternates: ['b', 'a'] },
    { name: 'subset larger than candidates', opts: { hostSubsetSize: 10, rng: 0.99 }, host: 'd', alternates: ['b', 'c'] },
    { name: 'no alternates', opts: { maxAlternates: 0 }, host: 'b', alternates: [] },
    { name: 'all alternates', opts: { maxAlternates: 5 }, host: 'b', alternates: ['c', 'a', 'd'] },
  ])('$name', ({ opts, host, alternates }) => {
    expect(scheduler(opts).selectDestinations(hosts, makeSpec({ flavor: flavor(1024) }))).toEqual([{ hostId: host, alternates }]);
  });

  it('consumes each pick so a multi-instance request spreads and cannot overbook', () => {
    const spec = makeSpec({ numInstances: 4, flavor: flavor(3072), instanceUuids: ['i1', 'i2', 'i3', 'i4'] });
    const picks = scheduler().selectDestinations(hosts, spec);
    // b: 8192 -> 5120 -> 2048; c: 6144 -> 3072; a: 4096 -> 1024. Room for 5 (b 2, c 2, a 1), not 6.
    expect(picks.map((p) => p.hostId)).toEqual(['b', 'c', 'b', 'a']);
    expect(picks[0].instanceUuid).toBe('i1');
    expect(() => scheduler().selectDestinations(hosts, { ...spec, numInstances: 5, instanceUuids: undefined })).not.toThrow();
    expect(() => scheduler().selectDestinations(hosts, { ...spec, numInstances: 6, instanceUuids: undefined })).toThrow(NoValidHostError);
  });

  it('does not mutate the hosts passed in', () => {
    const input = [makeHost({ hostId: 'a', ramMbTotal: 4096, instanceIds: new Set(['x']) })];
    const snapshot = JSON.stringify({ ...input[0], instanceIds: [...input[0].instanceIds] });
    scheduler().selectDestinations(input, makeSpec({ numInstances: 2, flavor: flavor(1024), instanceUuids: ['p', 'q'] }));
    expect(JSON.stringify({ ...input[0], instanceIds: [...input[0].instanceIds] })).toBe(snapshot);
  });

  it('hard anti-affinity sees its own earlier picks', () => {
    const spec = makeSpec({ numInstances: 4, serverGroup: { id: 'g', policy: 'anti-affinity', hostIds: [] } });
    const picks = scheduler().selectDestinations(hosts, spec);
    expect(new Set(picks.map((p) => p.hostId)).size).toBe(4);
    expect(() => scheduler().selectDestinations(hosts, { ...spec, numInstances: 5 })).toThrow(
      'No valid host was found for instance 5 of 5: 4 hosts: 4 already hold anti-affinity group members (ServerGroupAntiAffinityFilter)',
    );
  });

  it('throws NoValidHostError summarising rejections, carrying them per host', () => {
    const input = [
      makeHost({ hostId: 'a', ramMbTotal: 512 }),
      makeHost({ hostId: 'b', ramMbTotal: 512 }),
      makeHost({ hostId: 'c', up: false }),
    ];
    const error = thrownBy(() => scheduler().selectDestinations(input, makeSpec({ flavor: flavor(1024) })));
    expect(error).toBeInstanceOf(NoValidHostError);
    expect(error).toBeInstanceOf(ResourceExhaustedError);
    expect(error).toMatchObject({
      message: 'No valid host was found: 3 hosts: 2 lack RAM (RamFilter), 1 is disabled or down (ComputeFilter)',
      name: 'NoValidHostError',
      code: 'RESOURCE_EXHAUSTED',
      reason: 'no_valid_host',
    });
    const nvh = error as NoValidHostError;
    expect(nvh.rejections.map((r) => [r.hostId, r.filter])).toEqual([
      ['a', 'RamFilter'],
      ['b', 'RamFilter'],
      ['c', 'ComputeFilter'],
    ]);
    expect(nvh.rejections[0].reason).toContain('requested 1024 MB');
  });

  it('with no hosts, says so', () => {
    expect(() => scheduler().selectDestinations([], makeSpec())).toThrow('No valid host was found: 0 hosts');
  });

  it.each([
    { name: 'numInstances 0', spec: makeSpec({ numInstances: 0 }), field: 'numInstances' },
    { name: 'uuid count mismatch', spec: makeSpec({ numInstances: 2, instanceUuids: ['x'] }), field: 'instanceUuids' },
    { name: 'negative ram', spec: makeSpec({ flavor: flavor(-1) }), field: 'flavor.ramMb' },
    {
      name: 'maxServerPerHost 0',
      spec: makeSpec({ serverGroup: { id: 'g', policy: 'anti-affinity', hostIds: [], maxServerPerHost: 0 } }),
      field: 'serverGroup.maxServerPerHost',
    },
  ])('rejects $name with InvalidArgumentError($field)', ({ spec, field }) => {
    expect(() => scheduler().selectDestinations(hosts, spec)).toThrow(expect.objectContaining({ field }));
  });

  it('rejects duplicate host ids and bad options', () => {
    expect(() => scheduler().selectDestinations([hosts[0], hosts[0]], makeSpec())).toThrow(InvalidArgumentError);
    expect(() => scheduler({ hostSubsetSize: 0 })).toThrow(expect.objectContaining({ field: 'hostSubsetSize' }));
    expect(() => scheduler({ maxAlternates: -1 })).toThrow(expect.objectContaining({ field: 'maxAlternates' }));
  });
});
