import { InvalidArgumentError } from '@minicloud/domain-errors';
import { checkIoRange, InvalidVolumeStatusError, type VolumeStatus } from '@minicloud/domain-volume';
import type { BlockStore } from './block-store';
import type { KeyedMutex } from './keyed-mutex';
import type { Pools } from './pools';
import { volumeCopy } from './records';
import type { Caller } from './store/deps';
import type { Volumes } from './volumes';

/** Statuses in which guest I/O (WriteVolume/ReadVolume) is served. */
const IO_STATUSES: readonly VolumeStatus[] = ['available', 'attaching', 'in-use', 'detaching'];
/** The most one ReadVolume returns, bytes. */
const MAX_READ_BYTES = 4 * 1024 * 1024;

/** Simulated guest I/O on a volume's copies (WriteVolume, ReadVolume), under the volume's lock. */
export class VolumeData {
  constructor(
    private readonly d: {
      volumes: Pick<Volumes, 'get' | 'read' | 'readableCopy' | 'allocatedBytes'>;
      pools: Pick<Pools, 'upNames'>;
      blocks: BlockStore;
      locks: KeyedMutex;
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
}
