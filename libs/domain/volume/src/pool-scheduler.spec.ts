import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { PoolState } from './pool';
import { schedulePool } from './pool-scheduler';
import { isMultiattachType, poolServesType } from './volume-type';

const pool = (name: string, o: Partial<PoolState> = {}): PoolState => ({
  name,
  backend: name.split('@')[0]!,
  storageNode: 'storage-1',
  totalCapacityGb: 1000,
  provisionedCapacityGb: 0,
  maxOverSubscriptionRatio: 20,
  reservedPercentage: 0,
  thinProvisioningSupport: true,
  volumeTypes: ['ssd'],
  up: true,
  ...o,
});
const ssd = { name: 'ssd', extraSpecs: {} };

describe('schedulePool', () => {
  it('spreads: picks the pool with the most free capacity, others as alternates', () => {
    const sel = schedulePool([pool('lvm@a', { provisionedCapacityGb: 500 }), pool('lvm@b'), pool('lvm@c', { totalCapacityGb: 10 })], { sizeGb: 10, volumeType: ssd });
    expect(sel.pool.name).toBe('lvm@b');
    expect(sel.alternates.map((p) => p.name)).toEqual(['lvm@a', 'lvm@c']);
  });

  it('a negative multiplier stacks onto the fullest pool', () => {
    const sel = schedulePool([pool('lvm@a', { provisionedCapacityGb: 500 }), pool('lvm@b')], { sizeGb: 10, volumeType: ssd }, { capacityWeightMultiplier: -1 });
    expect(sel.pool.name).toBe('lvm@a');
  });

  it('only pools serving the type; down pools and full pools are rejected with reasons', () => {
    const pools = [pool('lvm@hdd', { volumeTypes: ['hdd'] }), pool('lvm@down', { up: false }), pool('lvm@small', { totalCapacityGb: 1, maxOverSubscriptionRatio: 1 }), pool('lvm@ok')];
    const sel = schedulePool(pools, { sizeGb: 5, volumeType: ssd });
    expect(sel.pool.name).toBe('lvm@ok');
    expect(sel.rejections).toEqual([
      { pool: 'lvm@hdd', reason: 'does not serve volume type ssd' },
      { pool: 'lvm@down', reason: 'pool is down' },
      { pool: 'lvm@small', reason: 'needs 5 GB, 1 GB free' },
    ]);
  });

  it('no pool fits: ResourceExhaustedError naming each pool', () => {
    const p = pool('lvm@ssd', { totalCapacityGb: 100, maxOverSubscriptionRatio: 2, provisionedCapacityGb: 200 });
    expect(() => schedulePool([p], { sizeGb: 1, volumeType: ssd })).toThrow(ResourceExhaustedError);
    expect(() => schedulePool([p], { sizeGb: 1, volumeType: ssd })).toThrow(/lvm@ssd: needs 1 GB, 0 GB free/);
  });

  it('volume_backend_name selects pools by backend; an unlisted type without it goes anywhere', () => {
    const pools = [pool('lvm@ssd'), pool('ceph@rbd', { volumeTypes: [] })];
    expect(schedulePool(pools, { sizeGb: 1, volumeType: { name: 'fast', extraSpecs: { volume_backend_name: 'ceph' } } }).pool.name).toBe('ceph@rbd');
    expect(poolServesType(pools[1]!, { name: 'any', extraSpecs: {} }, false)).toBe(true);
    expect(poolServesType(pools[1]!, { name: 'ssd', extraSpecs: {} }, true)).toBe(false);
  });

  it.each([
    ['<is> True', true],
    ['True', true],
    ['<is> False', false],
    [undefined, false],
  ])('multiattach extra spec %s -> %s', (v, expected) => {
    expect(isMultiattachType({ name: 't', extraSpecs: v === undefined ? {} : { multiattach: v } })).toBe(expected);
  });
});
