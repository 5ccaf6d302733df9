import { createHash, randomUUID, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { InternalError, InvalidArgumentError } from '@minicloud/domain-errors';

/** Download chunk size: 1 MiB, as the proto promises. */
export const BLOB_READ_CHUNK_BYTES = 1024 * 1024;

const SHA256_HEX = /^[0-9a-f]{64}$/;
const TEMP_PREFIX = '.upload-';
const TEMP_SUFFIX = '.tmp';

/** Hashes of a finished blob write: sha256 (Glance os_hash_value) and md5 (Glance checksum), hex. */
export interface BlobDigest {
  sha256: string;
  md5: string;
  sizeBytes: number;
}

/**
 * One blob being written: bytes go to a temp file next to the blobs while sha256 and md5 are
 * computed. `finish` fsyncs and closes; `commit` renames into place (or drops the temp file when
 * the same content is already stored); `abort` deletes the temp file. `abort` after `commit` is a
 * no-op, so callers can always abort in a finally/catch.
 */
export class BlobWriter {
  private readonly sha256: Hash = createHash('sha256');
  private readonly md5: Hash = createHash('md5');
  private written = 0;
  private fh?: FileHandle;
  private done = false;
  private digest?: BlobDigest;

  constructor(
    private readonly store: BlobStore,
    /** Absolute path of the temp file. */
    readonly tempPath: string,
  ) {}

  /** Bytes written so far. */
  get sizeBytes(): number {
    return this.written;
  }

  /** @internal opens the temp file (exclusive create). */
  async open(): Promise<void> {
    this.fh = await open(this.tempPath, 'wx', 0o640);
  }

  /** Appends a chunk and feeds the hashes. */
  async write(chunk: Uint8Array): Promise<void> {
    if (!this.fh || this.digest) throw new InternalError('blob writer is closed');
    let off = 0;
    while (off < chunk.length) {
      const { bytesWritten } = await this.fh.write(chunk, off, chunk.length - off);
      off += bytesWritten;
    }
    this.sha256.update(chunk);
    this.md5.update(chunk);
    this.written += chunk.length;
  }

  /** Flushes the temp file to disk (fsync), closes it and returns the digests. */
  async finish(): Promise<BlobDigest> {
    if (this.digest) return this.digest;
    if (!this.fh) throw new InternalError('blob writer is closed');
    await this.fh.sync();
    await this.fh.close();
    this.fh = undefined;
    this.digest = { sha256: this.sha256.digest('hex'), md5: this.md5.digest('hex'), sizeBytes: this.written };
    return this.digest;
  }

  /**
   * Moves the finished temp file to its content address. Call while holding the blob's lock
   * ({@link BlobStore.withLock}). Returns false when identical content was stored already (the temp
   * file is then deleted: content is stored once).
   */
  async commit(): Promise<boolean> {
    const digest = await this.finish();
    const target = this.store.pathOf(digest.sha256);
    this.done = true;
    if (await exists(target)) {
      await rm(this.tempPath, { force: true });
      return false;
    }
    await mkdir(join(target, '..'), { recursive: true });
    await rename(this.tempPath, target);
    await fsyncDir(join(target, '..'));
    return true;
  }

  /** Closes and deletes the temp file; a no-op once committed. Never throws. */
  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh?.close().catch(() => undefined);
    this.fh = undefined;
    await rm(this.tempPath, { force: true }).catch(() => undefined);
  }
}

/**
 * Content-addressed blob store on local disk (Glance's filesystem store, deduplicated):
 * `<root>/blobs/sha256/<first 2 hex>/<sha256 hex>`. Uploads stream into
 * `<root>/blobs/sha256/.upload-<uuid>.tmp` (same file system, so the final rename is atomic), are
 * fsynced, then renamed. Which images use a blob is counted in Redis by the caller; this class only
 * serialises work on one blob inside the process (`withLock`) so "store if absent" and "delete when
 * the last reference goes" never interleave.
 */
export class BlobStore {
  private readonly locks = new Map<string, Promise<unknown>>();
  readonly blobDir: string;

  /** @param root IMAGE_DATA_DIR */
  constructor(readonly root: string) {
    this.blobDir = join(root, 'blobs', 'sha256');
  }

  /**
   * Creates the directories and deletes temp files left by a crashed process. Assumes one image
   * service process per data dir.
   */
  async init(): Promise<void> {
    await mkdir(this.blobDir, { recursive: true });
    for (const f of await this.tempFiles()) await rm(join(this.blobDir, f), { force: true });
  }

  /** Names of upload temp files currently in the blob dir (tests, crash sweep). */
  async tempFiles(): Promise<string[]> {
    const names = await readdir(this.blobDir).catch(() => [] as string[]);
    return names.filter((n) => n.startsWith(TEMP_PREFIX) && n.endsWith(TEMP_SUFFIX));
  }

  /** Starts writing a new blob into a fresh temp file. */
  async createWriter(): Promise<BlobWriter> {
    const w = new BlobWriter(this, join(this.blobDir, `${TEMP_PREFIX}${randomUUID()}${TEMP_SUFFIX}`));
    await w.open();
    return w;
  }

  /**
   * Path of the blob with this sha256.
   * @throws InvalidArgumentError('sha256') when not 64 lowercase hex digits
   */
  pathOf(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new InvalidArgumentError('sha256', `"${sha256}" is not a sha256 hex digest`);
    return join(this.blobDir, sha256.slice(0, 2), sha256);
  }

  /** Whether a blob is stored. */
  has(sha256: string): Promise<boolean> {
    return exists(this.pathOf(sha256));
  }

  /** Deletes a blob file (no error when absent). Call while holding its lock. */
  async remove(sha256: string): Promise<void> {
    await unlink(this.pathOf(sha256)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /**
   * Reads a blob in chunks of `chunkBytes` (default 1 MiB).
   * @throws InternalError when the blob file is missing (the store lost data a record points to)
   */
  async *read(sha256: string, chunkBytes = BLOB_READ_CHUNK_BYTES): AsyncIterable<Buffer> {
    const path = this.pathOf(sha256);
    if (!(await exists(path))) throw new InternalError(`blob ${sha256} is missing from the store`);
    for await (const chunk of createReadStream(path, { highWaterMark: chunkBytes })) yield chunk as Buffer;
  }

  /** Runs `fn` with exclusive access to one blob within this process (FIFO per sha256). */
  async withLock<T>(sha256: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(sha256) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(sha256, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(sha256) === tail) this.locks.delete(sha256);
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/** fsync of a directory so a rename into it survives a crash. */
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
