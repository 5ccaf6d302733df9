import type { CloudClients } from '@minicloud/client';
import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { WanLink, WanTransfer } from '@minicloud/domain-dr';
import { volume } from '@minicloud/proto';

/** The VolumeService calls a cycle makes, as the shared client library's volume client offers them. */
export type CycleVolumeApi = Pick<CloudClients['volume'], 'createSnapshot' | 'deleteSnapshot' | 'listChangedBlocks' | 'createVolume' | 'getVolume' | 'deleteVolume' | 'readVolume' | 'writeVolume'>;

/** One volume's replication, as the DR service keeps it between cycles. */
export interface VolumeReplicationInput {
  /** The protected volume, in the source region. */
  readonly sourceVolumeId: string;
  /** Its replica volume, in the target region (created once, as large as the source). */
  readonly replicaVolumeId: string;
  /** The source snapshot the previous cycle shipped (S1), or null before the first, full, sync. */
  readonly baseSnapshotId: string | null;
  /** Names the cycle's snapshots and temporary volume (`dr-<label>-...`): the protection group id. */
  readonly label: string;
}

/** What one cycle did. */
export interface VolumeReplicationCycle {
  /** The new source snapshot (S2): the next cycle's base. */
  readonly sourceSnapshotId: string;
  /** The snapshot of the replica holding S2's data: what a recovery starts from. */
  readonly replicaSnapshotId: string;
  /** When S2 was taken, ms: the recovery point of the replica. */
  readonly recoveryPointMs: number;
  readonly changedBlocks: number;
  /** Bytes shipped over the WAN link. */
  readonly bytes: number;
  readonly transfer: WanTransfer;
}

/** Dependencies of a cycle: each region's volume API (the caller's session in each region), the WAN link, time. */
export interface CycleDeps {
  readonly source: CycleVolumeApi;
  readonly target: CycleVolumeApi;
  readonly link: WanLink;
  readonly nowMs: () => number;
  /** Waits until the clock reads `atMs` (the WAN transfer's arrival); tests advance a fake clock. */
  readonly sleepUntil: (atMs: number) => Promise<void>;
  /** Polls a volume until it leaves `creating`: how long between polls, ms (default 50), at most how many (default 200). */
  readonly pollMs?: number;
  readonly maxPolls?: number;
}

/**
 * One replication cycle of a volume, crash-consistent as vSphere Replication's lightweight deltas:
 * snapshot the source (S2, the new recovery point); list the blocks changed between the previous
 * cycle's snapshot S1 and S2 (ListChangedBlocks with both; every allocated block on the first cycle);
 * read them from a copy-on-write volume made from S2 and write them to the replica in the target
 * region; the bytes go over the modelled WAN link and the replica is snapshotted once they have
 * arrived; then the temporary volume and S1 are deleted. On a failure everything the cycle created
 * is deleted again (best effort) and S1 stays the base, so the next cycle repeats the delta.
 * @returns the new base (S2), the replica snapshot and what was shipped
 * @throws the services' typed errors (NOT_FOUND for a deleted volume, ...), FailedPreconditionError
 *   ('volume_not_available') when the temporary volume does not become available
 */
export async function replicateVolumeOnce(input: VolumeReplicationInput, d: CycleDeps): Promise<VolumeReplicationCycle> {
  const name = (what: string) => `dr-${input.label}-${what}`;
  const recoveryPointMs = d.nowMs();
  const created: (() => Promise<unknown>)[] = [];
  try {
    const { snapshot: s2 } = await d.source.createSnapshot({ volumeId: input.sourceVolumeId, name: name('point'), force: true, description: 'recovery point of DR replication', metadata: { dr_recovery_point_ms: String(recoveryPointMs) } });
    const s2Id = s2!.id;
    created.push(() => d.source.deleteSnapshot({ snapshotId: s2Id }));
    const blocks: { blockIndex: number; zeroed: boolean }[] = [];
    let blockSize = 0;
    for (let start = 0; ; ) {
      const page = await d.source.listChangedBlocks({ volumeId: input.sourceVolumeId, baseSnapshotId: input.baseSnapshotId ?? '', snapshotId: s2Id, startingBlockIndex: start, maxResults: 0 });
      blocks.push(...page.changedBlocks);
      blockSize = page.blockSizeBytes;
      if (!page.nextBlockIndex) break;
      start = page.nextBlockIndex;
    }
    let bytes = 0;
    if (blocks.some((b) => !b.zeroed)) {
      const { volume: tmp } = await d.source.createVolume({ name: name('read'), sizeGb: s2!.sizeGb, volumeType: '', availabilityZone: '', snapshotId: s2Id, metadata: {}, projectId: '', description: 'temporary read view of a DR recovery point' });
      const tmpId = tmp!.id;
      created.push(() => d.source.deleteVolume({ volumeId: tmpId }));
      await untilAvailable(d, tmpId);
      for (const b of blocks) {
        const data = b.zeroed ? Buffer.alloc(blockSize) : Buffer.from((await d.source.readVolume({ volumeId: tmpId, offsetBytes: b.blockIndex * blockSize, lengthBytes: blockSize })).data);
        await d.target.writeVolume({ volumeId: input.replicaVolumeId, offsetBytes: b.blockIndex * blockSize, data });
        bytes += b.zeroed ? 0 : data.length;
      }
    } else {
      for (const b of blocks) await d.target.writeVolume({ volumeId: input.replicaVolumeId, offsetBytes: b.blockIndex * blockSize, data: Buffer.alloc(blockSize) });
    }
    const transfer = d.link.send(bytes, recoveryPointMs);
    await d.sleepUntil(transfer.completedAtMs);
    const { snapshot: replicaSnap } = await d.target.createSnapshot({ volumeId: input.replicaVolumeId, name: name('replica'), force: true, description: 'DR replica', metadata: { dr_recovery_point_ms: String(recoveryPointMs) } });
    // Committed: only the temporary volume and the old base go.
    const cleanup = created.slice(1);
    created.length = 0;
    for (const undo of cleanup) await undo().catch(() => undefined);
    if (input.baseSnapshotId) await d.source.deleteSnapshot({ snapshotId: input.baseSnapshotId }).catch(() => undefined);
    return { sourceSnapshotId: s2Id, replicaSnapshotId: replicaSnap!.id, recoveryPointMs, changedBlocks: blocks.length, bytes, transfer };
  } catch (e) {
    for (const undo of created.reverse()) await undo().catch(() => undefined);
    throw e;
  }
}

async function untilAvailable(d: CycleDeps, volumeId: string): Promise<void> {
  const pollMs = d.pollMs ?? 50;
  for (let i = 0; i < (d.maxPolls ?? 200); i++) {
    const v = (await d.source.getVolume({ volumeId })).volume;
    if (v?.status === volume.VolumeStatus.VOLUME_STATUS_AVAILABLE) return;
    if (v?.status !== volume.VolumeStatus.VOLUME_STATUS_CREATING) break;
    await d.sleepUntil(d.nowMs() + pollMs);
  }
  throw new FailedPreconditionError(`temporary volume ${volumeId} did not become available`, 'volume_not_available');
}
