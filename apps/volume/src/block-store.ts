import { createHash } from 'node:crypto';
import { BLOCK_SIZE_BYTES, blocksTouched } from '@minicloud/domain-volume';
import { defineLuaScripts, keyspace, type Redis } from '@minicloud/platform-state';

const k = keyspace('volume');

/** Where one copy of some data lives: a storage node and an owner (`vol:<id>`, `snap:<id>`). */
export interface CopyRef {
  node: string;
  owner: string;
}

/** Redis keys of the simulated block store (all under `mc:volume:node:<node>:`). */
export const blockKeys = {
  /** hash sha256 -> block bytes (content-addressed: identical blocks stored once per node). */
  blocks: (node: string) => k('node', node, 'blocks'),
  /** hash sha256 -> reference count (maps pointing at the block). */
  refs: (node: string) => k('node', node, 'refs'),
  /** hash block index -> sha256: one copy's sparse block map. */
  map: (c: CopyRef) => k('node', c.node, 'map', c.owner),
};

/**
 * KEYS: blocks, refs, map. ARGV: index, sha ('' = discard the block), bytes (ignored when sha '').
 * Points the map entry at the block (storing it when new), releasing the previous one. Reply {1}.
 */
const PUT_BLOCK = `
local old = redis.call('HGET', KEYS[3], ARGV[1])
if old == ARGV[2] then return {1} end
if ARGV[2] ~= '' then
  redis.call('HSETNX', KEYS[1], ARGV[2], ARGV[3])
  redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
else
  redis.call('HDEL', KEYS[3], ARGV[1])
end
if old then
  if redis.call('HINCRBY', KEYS[2], old, -1) <= 0 then
    redis.call('HDEL', KEYS[2], old)
    redis.call('HDEL', KEYS[1], old)
  end
end
return {1}
`;

/**
 * KEYS: refs, source map, destination map (same node). Copy-on-write clone: the destination map
 * points at the source's blocks, each gaining a reference. The destination must be empty. Reply {n}.
 */
const CLONE_MAP = `
if redis.call('EXISTS', KEYS[3]) == 1 then return {-1} end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  redis.call('HINCRBY', KEYS[1], all[i + 1], 1)
end
if #all > 0 then redis.call('HSET', KEYS[3], unpack(all)) end
return {#all / 2}
`;

/** KEYS: blocks, refs, map. Drops a copy: releases every block it points at. Reply {n}. */
const DROP_MAP = `
local all = redis.call('HGETALL', KEYS[3])
for i = 1, #all, 2 do
  local h = all[i + 1]
  if redis.call('HINCRBY', KEYS[2], h, -1) <= 0 then
    redis.call('HDEL', KEYS[2], h)
    redis.call('HDEL', KEYS[1], h)
  end
end
redis.call('DEL', KEYS[3])
return {#all / 2}
`;

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE_BYTES);

/** sha256 hex of a block; '' for an all-zero block (zeros are never stored: thin provisioning). */
export function blockId(block: Buffer): string {
  return block.equals(ZERO_BLOCK) ? '' : createHash('sha256').update(block).digest('hex');
}

/**
 * The simulated block store: per storage node, content-addressed 64 KiB blocks with reference counts,
 * and one sparse block map per copy (volume copy or snapshot). Snapshots and clones on the same node
 * share blocks (copy-on-write: a write re-points only the written copy's map entry). A copy on
 * another node gets the bytes copied. Allocation = blocks mapped x block size.
 */
export class BlockStore {
  private readonly scripts;

  constructor(private readonly redis: Redis) {
    this.scripts = defineLuaScripts(redis, { put: PUT_BLOCK, clone: CLONE_MAP, drop: DROP_MAP });
  }

  /** Bytes of `copy` at [offset, offset+length); unmapped blocks read as zeros. */
  async read(copy: CopyRef, offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    const idx = blocksTouched(offsetBytes, lengthBytes);
    if (idx.length === 0) return Buffer.alloc(0);
    const shas = await this.redis.hmget(blockKeys.map(copy), ...idx.map(String));
    const blocks = await Promise.all(shas.map((h) => (h ? this.redis.hgetBuffer(blockKeys.blocks(copy.node), h) : null)));
    const whole = Buffer.concat(blocks.map((b) => b ?? ZERO_BLOCK));
    const start = offsetBytes - idx[0]! * BLOCK_SIZE_BYTES;
    return whole.subarray(start, start + lengthBytes);
  }

  /**
   * Writes `data` at `offsetBytes` into every copy in `copies` (all hold the same content before the
   * write; `copies[0]` is read for partial blocks). Callers serialise writes per volume.
   */
  async write(copies: readonly CopyRef[], offsetBytes: number, data: Buffer): Promise<void> {
    const idx = blocksTouched(offsetBytes, data.length);
    if (idx.length === 0 || copies.length === 0) return;
    const firstStart = idx[0]! * BLOCK_SIZE_BYTES;
    const span = idx.length * BLOCK_SIZE_BYTES;
    const current = offsetBytes === firstStart && data.length === span ? Buffer.alloc(span) : Buffer.from(await this.read(copies[0]!, firstStart, span));
    data.copy(current, offsetBytes - firstStart);
    for (let i = 0; i < idx.length; i++) {
      const block = current.subarray(i * BLOCK_SIZE_BYTES, (i + 1) * BLOCK_SIZE_BYTES);
      const sha = blockId(block);
      for (const c of copies) await this.scripts.put([blockKeys.blocks(c.node), blockKeys.refs(c.node), blockKeys.map(c)], [String(idx[i]), sha, (sha ? Buffer.from(block) : '') as unknown as string]);
    }
  }

  /** The sparse map of a copy: block index -> sha256. */
  async map(copy: CopyRef): Promise<Record<string, string>> {
    return this.redis.hgetall(blockKeys.map(copy));
  }

  /** Number of blocks a copy maps (its allocation is this x {@link BLOCK_SIZE_BYTES}). */
  async blockCount(copy: CopyRef): Promise<number> {
    return this.redis.hlen(blockKeys.map(copy));
  }

  /** One block's bytes by content id on a node (undefined when the node does not hold it). */
  async block(node: string, sha: string): Promise<Buffer | undefined> {
    return (await this.redis.hgetBuffer(blockKeys.blocks(node), sha)) ?? undefined;
  }

  /** Points `dst`'s block `index` at `bytes` (stored on dst's node); empty bytes discard the block. */
  async putBlock(dst: CopyRef, index: number, bytes: Buffer | undefined): Promise<void> {
    const sha = bytes ? blockId(bytes) : '';
    await this.scripts.put([blockKeys.blocks(dst.node), blockKeys.refs(dst.node), blockKeys.map(dst)], [String(index), sha, (sha ? bytes! : '') as unknown as string]);
  }

  /**
   * Makes `dst` a copy of `src` (dst is dropped first, so re-running is harmless): on the same node
   * a copy-on-write clone of the map, on another node a byte copy of every block.
   */
  async copy(src: CopyRef, dst: CopyRef): Promise<number> {
    await this.dropCopy(dst);
    if (src.node === dst.node) return ((await this.scripts.clone([blockKeys.refs(src.node), blockKeys.map(src), blockKeys.map(dst)], [])) as number[])[0]!;
    const m = await this.map(src);
    for (const [i, sha] of Object.entries(m)) {
      const bytes = await this.block(src.node, sha);
      if (bytes) await this.putBlock(dst, Number(i), bytes);
    }
    return Object.keys(m).length;
  }

  /** Drops a copy, releasing its blocks (blocks no other copy references are deleted). */
  async dropCopy(copy: CopyRef): Promise<void> {
    await this.scripts.drop([blockKeys.blocks(copy.node), blockKeys.refs(copy.node), blockKeys.map(copy)], []);
  }

  /** Blocks physically stored on a node (deduplicated), for pool allocation reporting and tests. */
  async nodeBlockCount(node: string): Promise<number> {
    return this.redis.hlen(blockKeys.blocks(node));
  }
}
