import { WanLink } from '@minicloud/domain-dr';
import { UnavailableError } from '@minicloud/domain-errors';
import { volume } from '@minicloud/proto';
import { replicateVolumeOnce, type CycleVolumeApi } from './volume-replication-cycle';

const B = 4; // a tiny block size keeps the fake readable

/** An in-memory region's volume API: volumes and snapshots as block maps; a new volume is `creating` for one poll. */
function fakeRegion(name: string, hooks: { afterSnapshot?: () => void; failWriteAt?: number } = {}) {
  const volumes = new Map<string, { blocks: Map<number, string>; polls: number }>();
  const snapshots = new Map<string, { volumeId: string; blocks: Map<number, string> }>();
  let seq = 0;
  let writes = 0;
  const api = {
    async createSnapshot(req: { volumeId: string }) {
      const id = `${name}-snap-${++seq}`;
      snapshots.set(id, { volumeId: req.volumeId, blocks: new Map(volumes.get(req.volumeId)!.blocks) });
      hooks.afterSnapshot?.();
      return { snapshot: { id, sizeGb: 1 } };
    },
    async deleteSnapshot(req: { snapshotId: string }) {
      snapshots.delete(req.snapshotId);
      return {};
    },
    async listChangedBlocks(req: { baseSnapshotId: string; snapshotId: string; startingBlockIndex: number }) {
      const base = req.baseSnapshotId ? snapshots.get(req.baseSnapshotId)!.blocks : new Map<number, string>();
      const cur = snapshots.get(req.snapshotId)!.blocks;
      const idx = [...new Set([...base.keys(), ...cur.keys()])].filter((i) => base.get(i) !== cur.get(i) && i >= req.startingBlockIndex).sort((a, b) => a - b);
      // Pages of two, to exercise paging.
      return { changedBlocks: idx.slice(0, 2).map((i) => ({ blockIndex: i, zeroed: !cur.has(i) })), blockSizeBytes: B, nextBlockIndex: idx[2] ?? 0, volumeSizeBytes: 1 << 30 };
    },
    async createVolume(req: { snapshotId?: string }) {
      const id = `${name}-vol-${++seq}`;
      volumes.set(id, { blocks: new Map(snapshots.get(req.snapshotId!)!.blocks), polls: 0 });
      return { volume: { id } };
    },
    async getVolume(req: { volumeId: string }) {
      const v = volumes.get(req.volumeId)!;
      return { volume: { id: req.volumeId, status: v.polls++ === 0 ? volume.VolumeStatus.VOLUME_STATUS_CREATING : volume.VolumeStatus.VOLUME_STATUS_AVAILABLE } };
    },
    async deleteVolume(req: { volumeId: string }) {
      volumes.delete(req.volumeId);
      return {};
    },
    async readVolume(req: { volumeId: string; offsetBytes: number; lengthBytes: number }) {
      return { data: Buffer.from(volumes.get(req.volumeId)!.blocks.get(req.offsetBytes / B) ?? '\0'.repeat(B)) };
    },
    async writeVolume(req: { volumeId: string; offsetBytes: number; data: Uint8Array }) {
      if (hooks.failWriteAt !== undefined && ++writes > hooks.failWriteAt) throw new UnavailableError('target region unreachable');
      const s = Buffer.from(req.data).toString();
      if (s === '\0'.repeat(B)) volumes.get(req.volumeId)!.blocks.delete(req.offsetBytes / B);
      else volumes.get(req.volumeId)!.blocks.set(req.offsetBytes / B, s);
      return { allocatedBytes: 0 };
    },
  };
  const put = (id: string, blocks: Record<number, string>) => volumes.set(id, { blocks: new Map(Object.entries(blocks).map(([k, v]) => [Number(k), v])), polls: 1 });
  const write = (id: string, i: number, s: string) => volumes.get(id)!.blocks.set(i, s);
  const blocksOf = (id: string) => Object.fromEntries(volumes.get(id)?.blocks ?? snapshots.get(id)!.blocks);
  return { api: api as unknown as CycleVolumeApi, volumes, snapshots, put, write, blocksOf };
}

function harness(opts: { bandwidth?: number; latencyMs?: number } = {}) {
  let now = 1000;
  const sleeps: number[] = [];
  const link = new WanLink({ bandwidthBytesPerSecond: opts.bandwidth ?? 4, latencyMs: opts.latencyMs ?? 100 });
  return {
    link,
    sleeps,
    deps: (source: CycleVolumeApi, target: CycleVolumeApi) => ({
      source,
      target,
      link,
      nowMs: () => now,
      sleepUntil: async (at: number) => {
        sleeps.push(at);
        now = Math.max(now, at);
      },
    }),
    advance: (ms: number) => (now += ms),
  };
}

describe('replicateVolumeOnce', () => {
  it('first cycle: every allocated block, over the WAN; the replica snapshot holds the source as of the recovery point', async () => {
    const src = fakeRegion('r1');
    const dst = fakeRegion('r2');
    src.put('v', { 0: 'aaaa', 3: 'bbbb', 8: 'cccc' });
    dst.put('replica', {});
    const h = harness({ bandwidth: 4, latencyMs: 100 });
    const c = await replicateVolumeOnce({ sourceVolumeId: 'v', replicaVolumeId: 'replica', baseSnapshotId: null, label: 'pg1' }, h.deps(src.api, dst.api));
    expect(c).toMatchObject({ changedBlocks: 3, bytes: 12, recoveryPointMs: 1000 });
    // 12 bytes at 4 B/s = 3 s, plus 100 ms latency
    expect(c.transfer.completedAtMs).toBe(1000 + 3000 + 100);
    expect(h.sleeps).toContain(4100);
    expect(dst.blocksOf(c.replicaSnapshotId)).toEqual({ 0: 'aaaa', 3: 'bbbb', 8: 'cccc' });
    // Only the new base remains at the source; the temporary read volume is gone.
    expect([...src.snapshots.keys()]).toEqual([c.sourceSnapshotId]);
    expect([...src.volumes.keys()]).toEqual(['v']);
  });

  it('next cycle: only the blocks changed between the two snapshots; writes after the new point wait for the next cycle; the old base is dropped', async () => {
    const src = fakeRegion('r1');
    const dst = fakeRegion('r2');
    src.put('v', { 0: 'aaaa', 3: 'bbbb', 8: 'cccc' });
    dst.put('replica', {});
    const h = harness({ bandwidth: 1000, latencyMs: 0 });
    const first = await replicateVolumeOnce({ sourceVolumeId: 'v', replicaVolumeId: 'replica', baseSnapshotId: null, label: 'pg1' }, h.deps(src.api, dst.api));
    src.write('v', 3, 'BBBB');
    src.volumes.get('v')!.blocks.delete(8);
    src.write('v', 9, 'dddd');
    // The guest writes on while the cycle runs: after S2 is taken.
    const hooked = { ...src.api, createSnapshot: async (req: Parameters<CycleVolumeApi['createSnapshot']>[0]) => {
      const r = await src.api.createSnapshot(req);
      src.write('v', 0, 'LATE');
      return r;
    } } as CycleVolumeApi;
    h.advance(5000);
    const second = await replicateVolumeOnce({ sourceVolumeId: 'v', replicaVolumeId: 'replica', baseSnapshotId: first.sourceSnapshotId, label: 'pg1' }, h.deps(hooked, dst.api));
    // The first cycle's clock: 1000, +50 ms polling the temporary volume; then 5 s pass.
    expect(second).toMatchObject({ changedBlocks: 3, bytes: 8, recoveryPointMs: 1000 + 50 + 5000 });
    expect(dst.blocksOf(second.replicaSnapshotId)).toEqual({ 0: 'aaaa', 3: 'BBBB', 9: 'dddd' });
    expect(dst.blocksOf(first.replicaSnapshotId)).toEqual({ 0: 'aaaa', 3: 'bbbb', 8: 'cccc' });
    expect([...src.snapshots.keys()]).toEqual([second.sourceSnapshotId]);
  });

  it('a failed cycle deletes what it created and keeps the base', async () => {
    const src = fakeRegion('r1');
    const dst = fakeRegion('r2', { failWriteAt: 1 });
    src.put('v', { 0: 'aaaa', 1: 'bbbb' });
    dst.put('replica', {});
    const h = harness();
    await expect(replicateVolumeOnce({ sourceVolumeId: 'v', replicaVolumeId: 'replica', baseSnapshotId: null, label: 'pg1' }, h.deps(src.api, dst.api))).rejects.toBeInstanceOf(UnavailableError);
    expect(src.snapshots.size).toBe(0);
    expect([...src.volumes.keys()]).toEqual(['v']);
    expect(dst.snapshots.size).toBe(0);
  });

  it('nothing changed: no bytes, still a replica snapshot (the recovery point moves on)', async () => {
    const src = fakeRegion('r1');
    const dst = fakeRegion('r2');
    src.put('v', { 2: 'xxxx' });
    dst.put('replica', {});
    const h = harness({ bandwidth: 1000, latencyMs: 10 });
    const first = await replicateVolumeOnce({ sourceVolumeId: 'v', replicaVolumeId: 'replica', baseSnapshotId: null, label: 'g' }, h.deps(src.api, dst.api));
    h.advance(1000);
    const again = await replicateVolumeOnce({ sourceVolumeId: 'v', replicaVolumeId: 'replica', baseSnapshotId: first.sourceSnapshotId, label: 'g' }, h.deps(src.api, dst.api));
    expect(again).toMatchObject({ changedBlocks: 0, bytes: 0 });
    expect(again.recoveryPointMs).toBeGreaterThan(first.recoveryPointMs);
    expect(dst.blocksOf(again.replicaSnapshotId)).toEqual({ 2: 'xxxx' });
  });
});
