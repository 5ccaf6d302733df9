import { fitsInPool, freeCapacityGb, maxProvisionedCapacityGb, reservedCapacityGb } from './pool-capacity';

const pool = (o: Partial<Parameters<typeof fitsInPool>[0]> = {}) => ({
  totalCapacityGb: 100,
  provisionedCapacityGb: 0,
  maxOverSubscriptionRatio: 2.0,
  reservedPercentage: 0,
  thinProvisioningSupport: true,
  ...o,
});

describe('pool capacity (Cinder CapacityFilter)', () => {
  it.each([
    // provisioned, request, fits  — 100 GB thin at ratio 2.0: up to 200 GB provisioned
    [0, 200, true],
    [199, 1, true],
    [200, 1, false],
    [150, 51, false],
    [150, 50, true],
  ])('thin 100 GB x 2.0: provisioned %d + %d GB fits=%s', (provisioned, size, fits) => {
    expect(fitsInPool(pool({ provisionedCapacityGb: provisioned }), size)).toBe(fits);
  });

  it.each([
    // reserved %, thin, max provisioned
    [10, true, 190],
    [10, false, 90],
    [0, false, 100],
    [25, true, 175],
  ])('reserved %d%% thin=%s: max provisioned %d GB', (reserved, thin, max) => {
    const p = pool({ reservedPercentage: reserved, thinProvisioningSupport: thin });
    expect(maxProvisionedCapacityGb(p)).toBe(max);
    expect(fitsInPool(p, max)).toBe(true);
    expect(fitsInPool(p, max + 1)).toBe(false);
  });

  it('a ratio below 1 counts as thick', () => {
    expect(maxProvisionedCapacityGb(pool({ maxOverSubscriptionRatio: 0.5 }))).toBe(100);
  });

  it('reserved is floored and free never goes negative', () => {
    expect(reservedCapacityGb({ totalCapacityGb: 99, reservedPercentage: 10 })).toBe(9);
    expect(freeCapacityGb(pool({ provisionedCapacityGb: 500 }))).toBe(0);
    expect(freeCapacityGb(pool({ provisionedCapacityGb: 50, reservedPercentage: 10 }))).toBe(140);
  });
});
