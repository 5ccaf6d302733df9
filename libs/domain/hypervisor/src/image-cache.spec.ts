import fc from 'fast-check';
import { InvalidArgumentError, ResourceExhaustedError } from '@minicloud/domain-errors';
import { ImageCache } from './image-cache';

describe('ImageCache', () => {
  it('evicts least recently used images by bytes', () => {
    const c = new ImageCache(100);
    expect(c.add('a', 40)).toEqual([]);
    expect(c.add('b', 40)).toEqual([]);
    expect(c.touch('a')).toBe(true); // b is now the LRU
    expect(c.add('c', 30)).toEqual(['b']);
    expect(c.entries().map((e) => e.imageId)).toEqual(['a', 'c']);
    expect(c.usedBytes).toBe(70);
    expect(c.add('d', 100)).toEqual(['a', 'c']);
    expect(c.usedBytes).toBe(100);
  });

  it('adding a cached image only touches it', () => {
    const c = new ImageCache(100);
    c.add('a', 40);
    c.add('b', 40);
    expect(c.add('a', 40)).toEqual([]);
    expect(c.entries().map((e) => e.imageId)).toEqual(['b', 'a']);
    expect(c.usedBytes).toBe(80);
  });

  it('never evicts a pinned image and refuses without evicting when pins leave no room', () => {
    const c = new ImageCache(100);
    c.add('a', 60);
    c.add('b', 30);
    c.pin('a');
    expect(c.add('c', 40)).toEqual(['b']);
    expect(() => c.add('d', 50)).toThrow(ResourceExhaustedError);
    expect(c.has('c')).toBe(true); // the failed add evicted nothing
    c.unpin('a');
    expect(c.add('d', 50)).toEqual(['a']);
  });

  it('counts pins: two users need two unpins', () => {
    const c = new ImageCache(10);
    c.add('a', 10);
    c.pin('a');
    c.pin('a');
    c.unpin('a');
    expect(c.isPinned('a')).toBe(true);
    c.unpin('a');
    expect(c.isPinned('a')).toBe(false);
    expect(() => c.pin('zzz')).toThrow(InvalidArgumentError);
  });

  it('evict and touch report unknown images', () => {
    const c = new ImageCache(10);
    expect(c.evict('x')).toBe(false);
    expect(c.touch('x')).toBe(false);
    c.add('x', 5);
    expect(c.evict('x')).toBe(true);
    expect(c.usedBytes).toBe(0);
  });

  it('rejects an image larger than the cache and bad sizes', () => {
    expect(() => new ImageCache(10).add('big', 11)).toThrow(/image_cache_full|cannot hold/);
    expect(() => new ImageCache(10).add('a', -1)).toThrow(InvalidArgumentError);
    expect(() => new ImageCache(-1)).toThrow(InvalidArgumentError);
  });

  it('property: used bytes equal the sum of entries and never exceed capacity', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer({ min: 0, max: 60 }))), (ops) => {
        const c = new ImageCache(100);
        for (const [id, size] of ops) {
          c.add(id, size);
          const sum = c.entries().reduce((s, e) => s + e.sizeBytes, 0);
          expect(c.usedBytes).toBe(sum);
          expect(c.usedBytes).toBeLessThanOrEqual(100);
          expect(c.has(id)).toBe(true);
        }
      }),
    );
  });
});
