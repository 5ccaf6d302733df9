import fc from 'fast-check';
import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { Qcow2Chain } from './qcow2-chain';

const KB64 = 65_536;
const MB = 2 ** 20;

describe('Qcow2Chain', () => {
  it('a fresh overlay on a cached base is thin: virtual 10 MiB, allocated 0, reads see the base', () => {
    const d = new Qcow2Chain('vm1', 10 * MB, { imageId: 'img', sizeBytes: 2 * MB });
    expect(d.layers().map((l) => [l.kind, l.allocatedBytes])).toEqual([['base', 2 * MB], ['overlay', 0]]);
    expect(d.allocatedBytes).toBe(0);
    expect(d.read(3)).toBe('img:3');
    expect(d.read(100)).toBeUndefined(); // past the base: zeroes
  });

  it('allocated grows by one cluster per first write of a cluster (copy-on-write)', () => {
    const d = new Qcow2Chain('vm1', 10 * MB, { imageId: 'img', sizeBytes: 2 * MB });
    d.write(3, 'a');
    d.write(3, 'b');
    d.write(150, 'c');
    expect(d.allocatedBytes).toBe(2 * KB64);
    expect(d.read(3)).toBe('b');
    expect(() => d.write(160, 'x')).toThrow(/cluster/); // 10 MiB = 160 clusters: 0..159
  });

  it('a snapshot freezes the overlay; writes go to the new top; deleting it merges and preserves content', () => {
    const d = new Qcow2Chain('vm1', 10 * MB, { imageId: 'img', sizeBytes: 2 * MB });
    d.write(1, 'v1');
    d.write(2, 'v1');
    const snap = d.snapshot();
    d.write(2, 'v2');
    d.write(5, 'v2');
    expect(d.layers().map((l) => l.allocatedBytes)).toEqual([2 * MB, 2 * KB64, 2 * KB64]);
    const before = d.contentMap();
    d.deleteSnapshot(snap);
    expect(d.contentMap()).toEqual(before);
    expect(d.layers()).toHaveLength(2);
    expect(d.allocatedBytes).toBe(3 * KB64); // clusters 1, 2, 5
    expect(d.read(2)).toBe('v2');
  });

  it('a linked clone shares the frozen layers; writes and merges on one never show in the other', () => {
    const src = new Qcow2Chain('vm1', 10 * MB, { imageId: 'img', sizeBytes: 1 * MB });
    src.write(1, 'src');
    const clone = src.linkedClone('vm2');
    expect(clone.read(1)).toBe('src');
    clone.write(1, 'clone');
    src.write(2, 'src2');
    expect(src.read(1)).toBe('src');
    expect(clone.read(2)).toBe('img:2');
    const srcLayers = src.layers().map((l) => l.id);
    const cloneBefore = clone.contentMap();
    src.deleteSnapshot(srcLayers[1]);
    expect(clone.contentMap()).toEqual(cloneBefore);
    expect(src.read(1)).toBe('src');
  });

  it('refuses to delete the base, the active overlay or an unknown layer', () => {
    const d = new Qcow2Chain('vm1', MB);
    const [base, top] = d.layers().map((l) => l.id);
    expect(() => d.deleteSnapshot(base)).toThrow(FailedPreconditionError);
    expect(() => d.deleteSnapshot(top)).toThrow(FailedPreconditionError);
    expect(() => d.deleteSnapshot('nope')).toThrow(NotFoundError);
  });

  type Op = { t: 'w'; c: number; v: string } | { t: 's' } | { t: 'd'; k: number };
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('w' as const), c: fc.integer({ min: 0, max: 63 }), v: fc.string({ maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('s' as const) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('d' as const), k: fc.nat() }) },
  );

  it('property: allocated <= virtual for every layer; deleting any snapshot preserves the content map', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 80 }), (ops) => {
        const d = new Qcow2Chain('p', 64 * KB64 - 100, { imageId: 'img', sizeBytes: 20 * KB64 }); // last cluster partial
        for (const op of ops) {
          if (op.t === 'w') d.write(op.c, op.v);
          else if (op.t === 's') d.snapshot();
          else {
            const snaps = d.layers().slice(1, -1);
            if (snaps.length === 0) continue;
            const before = d.contentMap();
            d.deleteSnapshot(snaps[op.k % snaps.length].id);
            expect(d.contentMap()).toEqual(before);
          }
          for (const l of d.layers()) expect(l.allocatedBytes).toBeLessThanOrEqual(d.virtualSizeBytes);
        }
      }),
      { numRuns: 200 },
    );
  });
});
