import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore } from './blob-store';

let root: string;
let store: BlobStore;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'blob-store-'));
  store = new BlobStore(root);
  await store.init();
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

async function put(bytes: Buffer): Promise<{ sha256: string; placed: boolean }> {
  const w = await store.createWriter();
  await w.write(bytes.subarray(0, 3));
  await w.write(bytes.subarray(3));
  const d = await w.finish();
  const placed = await w.commit();
  return { sha256: d.sha256, placed };
}

describe('BlobStore', () => {
  it('stores content under its sha256 (blobs/sha256/ab/abcd...) with md5, and no temp file left', async () => {
    const bytes = Buffer.from('hello image bytes');
    const w = await store.createWriter();
    await w.write(bytes);
    const d = await w.finish();
    expect(d).toEqual({
      sha256: createHash('sha256').update(bytes).digest('hex'),
      md5: createHash('md5').update(bytes).digest('hex'),
      sizeBytes: bytes.length,
    });
    expect(await w.commit()).toBe(true);
    const path = join(root, 'blobs', 'sha256', d.sha256.slice(0, 2), d.sha256);
    expect(store.pathOf(d.sha256)).toBe(path);
    expect(readFileSync(path)).toEqual(bytes);
    expect(await store.tempFiles()).toEqual([]);
  });

  it('stores identical content once', async () => {
    const a = await put(Buffer.from('same content'));
    const b = await put(Buffer.from('same content'));
    expect(a).toEqual({ sha256: b.sha256, placed: true });
    expect(b.placed).toBe(false);
    expect(await store.tempFiles()).toEqual([]);
  });

  it('abort deletes the temp file and stores nothing', async () => {
    const w = await store.createWriter();
    await w.write(Buffer.from('partial'));
    expect(existsSync(w.tempPath)).toBe(true);
    await w.abort();
    expect(existsSync(w.tempPath)).toBe(false);
    expect(await store.tempFiles()).toEqual([]);
  });

  it('init sweeps temp files left by a crash', async () => {
    writeFileSync(join(store.blobDir, '.upload-crashed.tmp'), 'x');
    await new BlobStore(root).init();
    expect(await store.tempFiles()).toEqual([]);
  });

  it('reads a blob back in chunks of the asked size', async () => {
    const bytes = Buffer.alloc(10_000, 7);
    const { sha256 } = await put(bytes);
    const parts: Buffer[] = [];
    for await (const c of store.read(sha256, 4096)) parts.push(c);
    expect(parts.map((p) => p.length)).toEqual([4096, 4096, 1808]);
    expect(Buffer.concat(parts)).toEqual(bytes);
  });

  it('refuses a path for something that is not a sha256', () => {
    expect(() => store.pathOf('../../etc/passwd')).toThrow(expect.objectContaining({ field: 'sha256' }));
  });

  it('runs work on one blob one at a time', async () => {
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = store.withLock('k', async () => {
      order.push('a-start');
      await gate;
      order.push('a-end');
    });
    const fast = store.withLock('k', async () => void order.push('b'));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(['a-start']);
    release();
    await Promise.all([slow, fast]);
    expect(order).toEqual(['a-start', 'a-end', 'b']);
  });
});
