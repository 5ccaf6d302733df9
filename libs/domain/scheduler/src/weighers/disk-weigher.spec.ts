import { makeHost, makeSpec } from '../testing';
import { createDiskWeigher } from './disk-weigher';

describe('DiskWeigher', () => {
  it.each([
    { total: 100, used: 0, reserved: undefined, raw: 100 },
    { total: 100, used: 30, reserved: 10, raw: 60 },
  ])('total $total used $used reserved $reserved -> $raw GB', ({ total, used, reserved, raw }) => {
    const host = makeHost({ hostId: 'h', diskGbTotal: total, diskGbUsed: used, diskGbReserved: reserved });
    expect(createDiskWeigher().rawWeight(host, makeSpec())).toBe(raw);
  });

  it('has Nova defaults', () => {
    expect(createDiskWeigher()).toMatchObject({ multiplierKey: 'disk_weight_multiplier', configuredMultiplier: 1 });
  });
});
