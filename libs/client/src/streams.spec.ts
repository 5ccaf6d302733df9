import { chunksOf, imageUploadMessages } from './streams';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function* source<T>(...pieces: T[]) {
  yield* pieces;
}

describe('imageUploadMessages', () => {
  it('sends the image id first, then the bytes re-cut to the chunk limit, dropping empty pieces', async () => {
    const seen: number[] = [];
    const msgs = await collect(imageUploadMessages('img-1', source<string | Uint8Array>(Buffer.from('abcdefg'), '', 'hi'), { maxChunkBytes: 3, onBytes: (n) => seen.push(n) }));
    expect(msgs[0]).toEqual({ imageId: 'img-1' });
    expect(msgs.slice(1).map((m) => Buffer.from(m.chunk!).toString())).toEqual(['abc', 'def', 'g', 'hi']);
    expect(seen).toEqual([3, 6, 7, 9]);
  });

  it('chunksOf yields the non-empty chunks of a download stream', async () => {
    const out = await collect(chunksOf(source({ chunk: Buffer.from('a') }, { chunk: new Uint8Array() }, { chunk: Buffer.from('b') })));
    expect(out.map((c) => Buffer.from(c).toString())).toEqual(['a', 'b']);
  });
});
