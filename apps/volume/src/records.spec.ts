import { NO_QOS, attachmentHash, backupHash, snapshotHash, volumeHash, type VolumeRecord } from './records';

const volume: VolumeRecord = {
  id: 'v1', name: 'data', projectId: 'p1', status: 'in-use', sizeGb: 10, volumeType: 'replicated', pool: 'lvm@a',
  availabilityZone: 'nova', bootable: true, multiattach: false, sourceImageId: 'img', sourceSnapshotId: '', sourceVolumeId: '',
  metadata: { k: 'v' }, createdAtMs: 1234, sourceBackupId: '', replicationCount: 2,
  replicas: [{ pool: 'lvm@a', storageNode: 's1', state: 'ok' }, { pool: 'lvm@b', storageNode: 's2', state: 'lost' }],
  qos: { ...NO_QOS, readIopsSec: 500 }, fault: '', description: 'scratch space', userId: 'u1', updatedAtMs: 2345, readOnly: true, quotaAccounted: true,
};

/** HSET pairs as Redis hands them back (HGETALL). */
const asHash = (pairs: string[]) => Object.fromEntries(Array.from({ length: pairs.length / 2 }, (_, i) => [pairs[2 * i]!, pairs[2 * i + 1]!]));

describe('record hashes', () => {
  it('a volume round-trips through its hash, fields in snake_case, flags as 1/0', () => {
    const pairs = volumeHash.toHash(volume);
    expect(asHash(pairs)).toMatchObject({ project_id: 'p1', size_gb: '10', bootable: '1', multiattach: '0', created_at_ms: '1234', replication_count: '2' });
    expect(volumeHash.fromHash(asHash(pairs))).toEqual(volume);
  });

  it('absent fields read as their defaults (status error, one copy, no QoS), and a hash without id as undefined', () => {
    const v = volumeHash.fromHash({ id: 'v2' })!;
    expect(v).toMatchObject({ status: 'error', replicationCount: 1, replicas: [], metadata: {}, qos: NO_QOS, bootable: false, sizeGb: 0, quotaAccounted: false });
    v.metadata.x = 'y';
    expect(volumeHash.fromHash({ id: 'v3' })!.metadata).toEqual({});
    expect(volumeHash.fromHash({})).toBeUndefined();
    expect(attachmentHash.fromHash({ id: 'a1' })).toMatchObject({ attachStatus: 'reserved', attachedAtMs: 0 });
    expect(backupHash.fromHash({ id: 'b1', incremental: '1', map: '{"0":"h"}' })).toMatchObject({ incremental: true, map: { 0: 'h' }, delta: {}, status: 'error' });
  });

  it('fields left undefined are not written (a snapshot is created without size and copies)', () => {
    const pairs = snapshotHash.toHash({ id: 's1', volumeId: 'v1', projectId: 'p1', name: 'n', status: 'available', pool: 'lvm@a', createdAtMs: 5 });
    expect(Object.keys(asHash(pairs)).sort()).toEqual(['created_at_ms', 'id', 'name', 'pool', 'project_id', 'status', 'volume_id']);
  });
});
