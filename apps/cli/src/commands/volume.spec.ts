import { Command } from 'commander';
import { NotFoundError } from '@minicloud/domain-errors';
import type { CommandContext } from '../context';
import { registerVolumeCommands } from './volume';

/** Runs `minicloud <argv>` against a fake VolumeService client that records every request. */
function run(argv: string[]) {
  const calls: [string, unknown][] = [];
  const vol = { id: 'v-1', name: 'data', status: 2, sizeGb: 1, attachments: [] };
  const record = (name: string, reply: unknown) => async (req: unknown) => (calls.push([name, req]), reply);
  const client = {
    createVolume: record('createVolume', { volume: vol }),
    getVolume: record('getVolume', { volume: vol }),
    listVolumes: record('listVolumes', { volumes: [vol] }),
    extendVolume: record('extendVolume', { volume: vol }),
    retypeVolume: record('retypeVolume', { volume: vol }),
    getSnapshot: async (req: { snapshotId: string }) => {
      calls.push(['getSnapshot', req]);
      throw new NotFoundError('snapshot', req.snapshotId);
    },
    listSnapshots: record('listSnapshots', { snapshots: [{ id: 's-1', name: 'nightly', volumeId: 'v-1' }] }),
    createSnapshot: record('createSnapshot', { snapshot: { id: 's-2' } }),
    deleteSnapshot: record('deleteSnapshot', {}),
    createBackup: record('createBackup', { backup: { id: 'b-1' } }),
    listBackups: record('listBackups', { backups: [] }),
    restoreBackup: record('restoreBackup', { volume: vol }),
    deleteBackup: record('deleteBackup', {}),
    listVolumeTypes: record('listVolumeTypes', { volumeTypes: [] }),
    createVolumeType: record('createVolumeType', { volumeType: { id: 't', name: 'gold' } }),
    listPools: record('listPools', { pools: [] }),
    setPoolState: record('setPoolState', { pools: [], degradedVolumeIds: ['v-1'], repairedVolumeIds: [] }),
  };
  let err = '';
  const ctx = {
    io: { env: {}, stderr: { write: (t: string) => (err += t) } },
    session: { client: async () => client },
    printList: () => undefined,
    printShow: () => undefined,
  } as unknown as CommandContext;
  const program = new Command().exitOverride();
  registerVolumeCommands(program, ctx);
  return { done: program.parseAsync(['node', 'minicloud', ...argv]), calls, err: () => err };
}

describe('minicloud volume', () => {
  it('create --snapshot resolves the snapshot by name and sends it as the source', async () => {
    const r = run(['volume', 'create', 'restored', '--size', '2', '--snapshot', 'nightly', '--type', 'ssd']);
    await r.done;
    expect(r.calls.find(([n]) => n === 'createVolume')![1]).toMatchObject({ name: 'restored', sizeGb: 2, volumeType: 'ssd', snapshotId: 's-1', sourceVolumeId: undefined, imageId: undefined });
  });

  it('create --source clones a volume resolved by name; two sources are refused before any create', async () => {
    const r = run(['volume', 'create', 'clone', '--size', '1', '--source', 'v-1']);
    await r.done;
    expect(r.calls.find(([n]) => n === 'createVolume')![1]).toMatchObject({ sourceVolumeId: 'v-1' });
    const bad = run(['volume', 'create', 'x', '--size', '1', '--source', 'v-1', '--snapshot', 'nightly']);
    await expect(bad.done).rejects.toThrow(/at most one of --image, --snapshot, --source/);
    expect(bad.calls.some(([n]) => n === 'createVolume')).toBe(false);
  });

  it('extend, retype, backups and snapshots send what the flags say', async () => {
    const rt = run(['volume', 'retype', 'v-1', 'replicated']);
    await rt.done;
    expect(rt.calls.find(([n]) => n === 'retypeVolume')![1]).toEqual({ volumeId: 'v-1', newVolumeType: 'replicated' });
    const rs = run(['volume', 'backup', 'restore', 'b-1', '--name', 'back', '--type', 'hdd']);
    await rs.done;
    expect(rs.calls[0]).toEqual(['restoreBackup', { backupId: 'b-1', name: 'back', volumeType: 'hdd' }]);
    const sn = run(['volume', 'snapshot', 'create', 'v-1', '--force']);
    await sn.done;
    expect(sn.calls.find(([n]) => n === 'createSnapshot')![1]).toEqual({ volumeId: 'v-1', name: '', force: true });
    const r = run(['volume', 'backup', 'create', 'v-1', '--incremental']);
    await r.done;
    expect(r.calls.find(([n]) => n === 'createBackup')![1]).toEqual({ volumeId: 'v-1', name: '', incremental: true });
    const e = run(['volume', 'extend', 'v-1', '--size', '8']);
    await e.done;
    expect(e.calls.find(([n]) => n === 'extendVolume')![1]).toEqual({ volumeId: 'v-1', newSizeGb: 8 });
    const d = run(['volume', 'backup', 'delete', 'b-2', 'b-1']);
    await d.done;
    expect(d.calls.filter(([n]) => n === 'deleteBackup').map(([, q]) => q)).toEqual([{ backupId: 'b-2' }, { backupId: 'b-1' }]);
  });

  it('type create parses extra specs; pool set-state --node --down marks the node down and reports degraded volumes', async () => {
    const t = run(['volume', 'type', 'create', 'gold', '--property', 'qos:read_iops_sec=500', '--property', 'replication_count=2']);
    await t.done;
    expect(t.calls[0]).toEqual(['createVolumeType', { name: 'gold', extraSpecs: { 'qos:read_iops_sec': '500', replication_count: '2' } }]);
    const p = run(['volume', 'pool', 'set-state', '--node', 'storage-2', '--down']);
    await p.done;
    expect(p.calls[0]).toEqual(['setPoolState', { pool: '', storageNode: 'storage-2', up: false }]);
    expect(p.err()).toContain('degraded: v-1');
  });
});
