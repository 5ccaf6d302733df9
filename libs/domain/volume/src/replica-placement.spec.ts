import fc from 'fast-check';
import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { PoolState } from './pool';
import { placeReplicas, replicationStatusOf } from './replica-placement';

const pool = (name: string, storageNode: string, o: Partial<PoolState> = {}): PoolState => ({
  name,
  backend: name.split('@')[0]!,
  storageNode,
  totalCapacityGb: 1000,
  provisionedCapacityGb: 0,
  maxOverSubscriptionRatio: 1,
  reservedPercentage: 0,
  thinProvisioningSupport: true,
  volumeTypes: ['rep'],
  up: true,
  ...o,
});
const req = { sizeGb: 10, volumeType: { name: 'rep', extraSpecs: {} } };

describe('placeReplicas', () => {
  it('puts each copy on a different storage node, emptiest first', () => {
    const pools = [pool('a@1', 'n1', { provisionedCapacityGb: 500 }), pool('a@2', 'n1'), pool('b@1', 'n2', { provisionedCapacityGb: 100 }), pool('c@1', 'n3', { provisionedCapacityGb: 900 })];
    expect(placeReplicas(pools, req, 2).map((p) => p.name)).toEqual(['a@2', 'b@1']);
    expect(placeReplicas(pools, req, 3).map((p) => p.storageNode)).toEqual(['n1', 'n2', 'n3']);
  });

  it('repair: excludes the nodes that already hold a copy, skips down pools', () => {
    const pools = [pool('a@1', 'n1'), pool('b@1', 'n2', { up: false }), pool('c@1', 'n3', { provisionedCapacityGb: 10 })];
    expect(placeReplicas(pools, req, 1, { excludeNodes: ['n1'] }).map((p) => p.name)).toEqual(['c@1']);
    expect(() => placeReplicas(pools, req, 1, { excludeNodes: ['n1', 'n3'] })).toThrow(/b@1: pool is down/);
  });

  it('fewer nodes than copies: ResourceExhaustedError', () => {
    expect(() => placeReplicas([pool('a@1', 'n1'), pool('a@2', 'n1')], req, 2)).toThrow(ResourceExhaustedError);
    expect(() => placeReplicas([pool('a@1', 'n1'), pool('a@2', 'n1')], req, 2)).toThrow(/need 2 storage nodes, only 1/);
  });

  it('property: copies never share a node and every chosen pool fits the request', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ node: fc.integer({ min: 1, max: 4 }), prov: fc.integer({ min: 0, max: 1000 }), up: fc.boolean() }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4 }),
        (specs, count) => {
          const pools = specs.map((s, i) => pool(`p@${i}`, `n${s.node}`, { provisionedCapacityGb: s.prov, up: s.up }));
          try {
            const chosen = placeReplicas(pools, req, count);
            expect(chosen).toHaveLength(count);
            expect(new Set(chosen.map((p) => p.storageNode)).size).toBe(count);
            for (const p of chosen) expect(p.up && p.provisionedCapacityGb + 10 <= 1000).toBe(true);
          } catch (e) {
            expect(e).toBeInstanceOf(ResourceExhaustedError);
            const feasibleNodes = new Set(pools.filter((p) => p.up && p.provisionedCapacityGb + 10 <= 1000).map((p) => p.storageNode));
            expect(feasibleNodes.size).toBeLessThan(count);
          }
        },
      ),
    );
  });
});

describe('replicationStatusOf', () => {
  it.each([
    [[{ state: 'ok' }], 1, 'disabled'],
    [[{ state: 'ok' }, { state: 'ok' }], 2, 'enabled'],
    [[{ state: 'ok' }, { state: 'lost' }], 2, 'degraded'],
    [[{ state: 'lost' }, { state: 'lost' }], 2, 'error'],
  ] as const)('%j of %d -> %s', (replicas, count, status) => {
    expect(replicationStatusOf(replicas, count)).toBe(status);
  });
});
