import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import { BLOCK_SIZE_BYTES, changedBlocks, checkIoRange, InvalidVolumeStatusError, type VolumeStatus } from '@minicloud/domain-volume';
import type { BlockStore } from './block-store';
import type { KeyedMutex } from './keyed-mutex';
import type { Pools } from './pools';
import { snapshotCopy, volumeCopy } from './records';
import type { Snapshots } from './snapshots';
import type { Caller } from './store/deps';
import type { Volumes } from './volumes';

/** Statuses in which guest I/O (WriteVolume/ReadVolume) is served. */
const IO_STATUSES: readonly VolumeStatus[] = ['available', 'attaching', 'in-use', 'detaching'];
/** The most one ReadVolume returns, bytes. */
const MAX_READ_BYTES = 4 * 1024 * 1024;
/** Changed blocks per ListChangedBlocks page: default and most (EBS direct's ListChangedBlocks allows 10 000). */
export const DEFAULT_CHANGED_BLOCKS_PAGE = 1000;
export const MAX_CHANGED_BLOCKS_PAGE = 10_000;

/** One page of changed blocks (ascending index); `nextBlockIndex` 0 when it was the last. */
export interface ChangedBlocksPage {
  blocks: { blockIndex: number; zeroed: boolean }[];
  blockSizeBytes: number;
  nextBlockIndex: number;
  volumeSizeBytes: number;
}

/** Simulated guest I/O on a volume's copies (WriteVolume, ReadVolume), under the volume's lock. */
export class VolumeData {
  constructor(
    private readonly d: {
      volumes: Pick<Volumes, 'get' | 'read' | 'readableCopy' | 'allocatedBytes'>;
      pools: Pick<Pools, 'upNames'>;
      blocks: BlockStore;
      locks: KeyedMutex;
      snapshots: Pick<Snapshots, 'get'>;
    },
  ) {}

  /**
   * Writes `data` at `offsetBytes` to every reachable copy of the volume (a write while a copy is lost
   * lands on the survivors; the repair copies from them).
   * @returns the volume's allocated bytes after the write
   * @throws InvalidArgumentError('offset_bytes' | 'length_bytes'), InvalidVolumeStatusError, FailedPreconditionError('no_reachable_copy')
   */
  async write(caller: Caller, id: string, offsetBytes: number, data: Buffer): Promise<number> {
    const v = await this.d.volumes.get(caller, id);
    checkIoRange(offsetBytes, data.length, v.sizeGb);
    return this.d.locks.run(id, async () => {
      const cur = (await this.d.volumes.read(id)) ?? v;
      if (!IO_STATUSES.includes(cur.status)) throw new InvalidVolumeStatusError(cur.status, 'write');
      const up = await this.d.pools.upNames();
      const copies = cur.replicas.filter((r) => r.state === 'ok' && up.has(r.pool)).map((r) => volumeCopy(id, r));
      if (copies.length === 0) await this.d.volumes.readableCopy(cur);
      await this.d.blocks.write(copies, offsetBytes, data);
      return this.d.volumes.allocatedBytes(cur);
    });
  }

  /** Reads bytes from the first reachable copy (at most 4 MiB). @throws as {@link write} */
  async read(caller: Caller, id: string, offsetBytes: number, lengthBytes: number): Promise<Buffer> {
    const v = await this.d.volumes.get(caller, id);
    checkIoRange(offsetBytes, lengthBytes, v.sizeGb);
    if (lengthBytes > MAX_READ_BYTES) throw new InvalidArgumentError('length_bytes', 'at most 4 MiB per read');
    return this.d.locks.run(id, async () => this.d.blocks.read(await this.d.volumes.readableCopy((await this.d.volumes.read(id)) ?? v), offsetBytes, lengthBytes));
  }

  /**
   * The blocks of the volume (or of its later snapshot `snapshotId`) that differ from its snapshot
   * `baseSnapshotId` (empty: every allocated block), compared by content id under the volume's lock,
   * one page at a time from `startingBlockIndex`. A block discarded since the base is reported `zeroed`.
   * @throws InvalidArgumentError('base_snapshot_id' | 'snapshot_id') for a snapshot of another volume,
   *   ('starting_block_index') negative, ('max_results') outside 0..10000; NotFoundError for the
   *   volume or snapshot (also another project's); FailedPreconditionError('no_reachable_copy') when
   *   no copy of the volume or of the snapshot is on an up pool
   */
  async changedBlocks(caller: Caller, id: string, baseSnapshotId: string, startingBlockIndex: number, maxResults: number, snapshotId = ''): Promise<ChangedBlocksPage> {
    if (!Number.isInteger(startingBlockIndex) || startingBlockIndex < 0) throw new InvalidArgumentError('starting_block_index', 'must be a non-negative integer');
    if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > MAX_CHANGED_BLOCKS_PAGE) throw new InvalidArgumentError('max_results', `must be 0..${MAX_CHANGED_BLOCKS_PAGE} (0: ${DEFAULT_CHANGED_BLOCKS_PAGE})`);
    const limit = maxResults || DEFAULT_CHANGED_BLOCKS_PAGE;
    const v = await this.d.volumes.get(caller, id);
    const base = baseSnapshotId ? await this.d.snapshots.get(caller, baseSnapshotId) : undefined;
    if (base && base.volumeId !== v.id) throw new InvalidArgumentError('base_snapshot_id', `snapshot ${base.id} is of volume ${base.volumeId}, not ${v.id}`);
    const later = snapshotId ? await this.d.snapshots.get(caller, snapshotId) : undefined;
    if (later && later.volumeId !== v.id) throw new InvalidArgumentError('snapshot_id', `snapshot ${later.id} is of volume ${later.volumeId}, not ${v.id}`);
    return this.d.locks.run(id, async () => {
      const up = await this.d.pools.upNames();
      const snapshotMap = async (snap: NonNullable<typeof base>) => {
        const c = snap.copies.find((x) => up.has(x.pool));
        if (!c) throw new FailedPreconditionError(`snapshot ${snap.id} has no reachable copy`, 'no_reachable_copy');
        return this.d.blocks.map(snapshotCopy(snap.id, c));
      };
      const current = later ? await snapshotMap(later) : await this.d.blocks.map(await this.d.volumes.readableCopy((await this.d.volumes.read(id)) ?? v));
      const parent: Record<string, string> = base ? await snapshotMap(base) : {};
      const delta = changedBlocks(parent, current);
      const indices = Object.keys(delta).map(Number).filter((i) => i >= startingBlockIndex).sort((a, b) => a - b);
      const page = indices.slice(0, limit);
      return {
        blocks: page.map((i) => ({ blockIndex: i, zeroed: delta[String(i)] === '' })),
        blockSizeBytes: BLOCK_SIZE_BYTES,
        nextBlockIndex: indices.length > limit ? indices[limit] : 0,
        volumeSizeBytes: v.sizeGb * 1024 ** 3,
      };
    });
  }
}
