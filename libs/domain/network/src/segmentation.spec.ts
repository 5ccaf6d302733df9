import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { seededRng } from '@minicloud/domain-clock';
import fc from 'fast-check';
import { VNI_MAX, VNI_MIN, assertValidVni, isValidVni, parseVniRange, pickVni, vniRangeSize } from './segmentation';

describe('VNI range', () => {
  it('is 1..16777215 (24 bits, RFC 7348)', () => {
    expect(VNI_MIN).toBe(1);
    expect(VNI_MAX).toBe(16777215);
    expect(isValidVni(0)).toBe(false);
    expect(isValidVni(1)).toBe(true);
    expect(isValidVni(16777215)).toBe(true);
    expect(isValidVni(16777216)).toBe(false);
    expect(isValidVni(2.5)).toBe(false);
    expect(() => assertValidVni(0)).toThrow('invalid segmentation_id: VNI 0 is outside 1..16777215');
  });

  it.each([
    ['1:1000', { min: 1, max: 1000 }],
    [' 4096 : 4096 ', { min: 4096, max: 4096 }],
    ['1:16777215', { min: 1, max: 16777215 }],
  ])('parses %j', (text, range) => {
    expect(parseVniRange(text)).toEqual(range);
  });

  it.each([
    ['1000', /not in "min:max" form/],
    ['a:b', /not in "min:max" form/],
    ['-1:5', /not in "min:max" form/],
    ['0:10', /VNI 0 is outside/],
    ['1:16777216', /VNI 16777216 is outside/],
    ['20:10', /min 20 is greater than max 10/],
  ])('rejects %j', (text, problem) => {
    expect(() => parseVniRange(text)).toThrow(problem);
    expect(() => parseVniRange(text)).toThrow(InvalidArgumentError);
    expect(() => parseVniRange(text)).toThrow(/^invalid vni_ranges/);
  });

  it('sizes ranges inclusively', () => {
    expect(vniRangeSize({ min: 1, max: 1000 })).toBe(1000);
  });
});

describe('pickVni', () => {
  const range = { min: 100, max: 109 };

  it('starts at the random position and skips taken VNIs, wrapping around', () => {
    expect(pickVni(range, () => false, () => 0)).toBe(100);
    expect(pickVni(range, () => false, () => 0.55)).toBe(105);
    expect(pickVni(range, (v) => v >= 105, () => 0.55)).toBe(100);
  });

  it('throws ResourceExhaustedError when the range is full', () => {
    expect(() => pickVni(range, () => true, seededRng(3))).toThrow(ResourceExhaustedError);
    expect(() => pickVni(range, () => true, seededRng(3))).toThrow('no free VNI in range 100:109');
  });

  it('property: always returns a free VNI inside the range when one exists', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 100, max: 109 }), { maxLength: 9 }), fc.integer(), (taken, seed) => {
        const vni = pickVni(range, (v) => taken.includes(v), seededRng(seed));
        return vni >= 100 && vni <= 109 && !taken.includes(vni);
      }),
    );
  });
});
