import fc from 'fast-check';
import { DEFAULT_QUOTA_LIMITS, QUOTA_RESOURCES, effectiveLimits, firstOverrun, quotaExceededMessage, validateDeltas, validateLimits } from './quota-math';

describe('quota arithmetic', () => {
  it('defaults follow Nova/Cinder/Neutron', () => {
    expect(effectiveLimits({})).toEqual({ instances: 10, cores: 20, ram_mb: 51200, volumes: 10, gigabytes: 1000, networks: 100, subnets: 100, ports: 500, routers: 10, floating_ips: 50, security_groups: 10, security_group_rules: 100 });
    expect(effectiveLimits({ instances: 3 }).instances).toBe(3);
    expect(effectiveLimits({ instances: 3 }).cores).toBe(20);
  });

  it.each([
    // limit, inUse, reserved, delta, fits
    [10, 9, 0, 1, true],
    [10, 9, 0, 2, false],
    [10, 5, 5, 1, false],
    [10, 0, 0, 10, true],
    [0, 0, 0, 1, false],
    [-1, 1e9, 1e9, 1e9, true],
  ])('limit %d, in use %d, reserved %d, delta %d -> fits %s', (limit, inUse, reserved, delta, fits) => {
    const o = firstOverrun({ instances: limit }, { instances: inUse }, { instances: reserved }, { instances: delta });
    expect(o === undefined).toBe(fits);
  });

  it('names the first resource that does not fit, with Nova-like numbers', () => {
    const o = firstOverrun({ cores: 4 }, { instances: 9, cores: 2 }, { cores: 1 }, { instances: 1, cores: 2 });
    expect(o).toEqual({ resource: 'cores', limit: 4, inUse: 3, requested: 2 });
    expect(quotaExceededMessage({ resource: 'instances', limit: 10, inUse: 9, requested: 2 })).toBe(
      'quota exceeded for instances: limit 10, in use 9, requested 2',
    );
  });

  it('property: reservations accepted one by one never push usage above the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1, max: 30 }), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 40 }), (limit, requests) => {
        let reserved = 0;
        for (const d of requests) {
          if (!firstOverrun({ cores: limit }, {}, { cores: reserved }, { cores: d })) reserved += d;
        }
        return limit === -1 ? reserved === requests.reduce((a, b) => a + b, 0) : reserved <= limit;
      }),
    );
  });

  it('validates deltas and limits, naming the field', () => {
    expect(() => validateDeltas({})).toThrow(/invalid deltas/);
    expect(() => validateDeltas({ gpus: 1 })).toThrow(/invalid deltas.gpus/);
    expect(() => validateDeltas({ cores: -2 })).toThrow(/invalid deltas.cores: must be a positive integer/);
    expect(() => validateDeltas({ cores: 1.5 })).toThrow(/deltas.cores/);
    expect(validateDeltas({ cores: 2, instances: 0 })).toEqual({ cores: 2 });
    expect(() => validateLimits({ ports: -2 })).toThrow(/invalid limits.ports/);
    expect(() => validateLimits({ bananas: 1 })).toThrow(/limits.bananas/);
    expect(validateLimits({ ports: -1 })).toEqual({ ports: -1 });
    expect(Object.keys(DEFAULT_QUOTA_LIMITS)).toEqual([...QUOTA_RESOURCES]);
  });
});
