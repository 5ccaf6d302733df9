import { keyspace } from '@minicloud/platform-state';

const k = keyspace('volume');

/** Redis keys of the volume service (all under `mc:volume:`). */
export const keys = {
  pool: (name: string) => k('pool', name),
  types: () => k('types'),
  /** QoS specs by id (JSON). */
  qosSpecs: () => k('qos_specs'),
  volume: (id: string) => k('volume', id),
  volumeAttachments: (id: string) => k('volume', id, 'attachments'),
  volumeInstances: (id: string) => k('volume', id, 'instances'),
  volumeSnapshots: (id: string) => k('volume', id, 'snapshots'),
  volumeBackups: (id: string) => k('volume', id, 'backups'),
  projectVolumes: (projectId: string) => k('project', projectId, 'volumes'),
  projectSnapshots: (projectId: string) => k('project', projectId, 'snapshots'),
  projectBackups: (projectId: string) => k('project', projectId, 'backups'),
  allVolumes: () => k('volumes'),
  attachment: (id: string) => k('attachment', id),
  instanceAttachments: (instanceId: string) => k('instance', instanceId, 'attachments'),
  hostAttachments: (hostId: string) => k('host', hostId, 'attachments'),
  snapshot: (id: string) => k('snapshot', id),
  backup: (id: string) => k('backup', id),
  /** Incremental backups based on a backup. */
  backupChildren: (id: string) => k('backup', id, 'children'),
  /** Creation-order counter of backups. */
  backupSeq: () => k('backup_seq'),
};
