import { makeHost, makeSpec } from '../testing';
import { memoryStateFilter } from './memory-state-filter';

describe('MemoryStateFilter', () => {
  it.each([
    [undefined, true],
    ['high', true],
    ['soft', true],
    ['hard', true],
    ['low', false],
  ])('memory state %s -> passes %s', (memoryState, passed) => {
    expect(memoryStateFilter.hostPasses(makeHost({ hostId: 'h1', memoryState }), makeSpec()).passed).toBe(passed);
  });
});
