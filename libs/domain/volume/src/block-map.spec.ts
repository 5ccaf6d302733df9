import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { applyDeltas, blocksTouched, changedBlocks, checkIoRange } from './block-map';

describe('block map arithmetic', () => {
  it.each([
    [0, 0, []],
    [0, 1, [0]],
    [10, 6, [2, 3]],
    [15, 1, [3]],
    [16, 16, [4, 5, 6, 7]],
  ])('offset %d length %d touches blocks %j (block size 4)', (offset, length, blocks) => {
    expect(blocksTouched(offset, length, 4)).toEqual(blocks);
  });

  it('checks ranges against the volume size, naming the field', () => {
    expect(() => checkIoRange(-1, 1, 1)).toThrow(expect.objectContaining({ field: 'offset_bytes' }));
    expect(() => checkIoRange(1024 ** 3, 1, 1)).toThrow(InvalidArgumentError);
    expect(() => checkIoRange(1024 ** 3 - 1, 1, 1)).not.toThrow();
  });

  it('incremental delta: new and rewritten blocks, discarded ones as empty', () => {
    expect(changedBlocks({ 0: 'a', 1: 'b', 2: 'c' }, { 0: 'a', 1: 'x', 3: 'd' })).toEqual({ 1: 'x', 3: 'd', 2: '' });
  });

  it('property: applying full + chain of incrementals rebuilds every point in time', () => {
    const mapArb = fc.dictionary(fc.integer({ min: 0, max: 20 }).map(String), fc.constantFrom('a', 'b', 'c', 'd'));
    fc.assert(
      fc.property(fc.array(mapArb, { minLength: 1, maxLength: 6 }), (states) => {
        const deltas = states.map((s, i) => (i === 0 ? s : changedBlocks(states[i - 1]!, s)));
        for (let i = 0; i < states.length; i++) expect(applyDeltas(deltas.slice(0, i + 1))).toEqual(states[i]);
      }),
    );
  });
});
