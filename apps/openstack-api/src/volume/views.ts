import { volume } from '@minicloud/proto';

/** Cinder's timestamp form: ISO 8601 with microseconds and no zone ("2026-12-07T01:02:03.000000"). */
export function cinderTime(d: Date | undefined): string | null {
  return d ? d.toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null;
}

/** Cinder's status name of a volume (`available`, `in-use`, `backing-up`, `error_deleting`...). */
export function volumeStatusName(s: volume.VolumeStatus): string {
  const name = (volume.VolumeStatus[s] ?? '').replace('VOLUME_STATUS_', '').toLowerCase();
  return ({ in_use: 'in-use', backing_up: 'backing-up', restoring_backup: 'restoring-backup', unspecified: '' } as Record<string, string>)[name] ?? name;
}

/** The VolumeStatus of a Cinder status name, or undefined for one the service does not have. */
export function volumeStatusFromName(name: string): volume.VolumeStatus | undefined {
  const key = `VOLUME_STATUS_${name.toUpperCase().replace(/-/g, '_')}` as keyof typeof volume.VolumeStatus;
  const v = volume.VolumeStatus[key];
  return typeof v === 'number' && v !== volume.VolumeStatus.VOLUME_STATUS_UNSPECIFIED ? v : undefined;
}

/** Where a volume's links point: the versioned project URL (`.../volume/v3/<project>`) and the unversioned bookmark. */
export interface VolumeUrls {
  versioned: string;
  bookmark: string;
}

function links(urls: VolumeUrls, kind: string, id: string) {
  return [
    { href: `${urls.versioned}/${kind}/${id}`, rel: 'self' },
    { href: `${urls.bookmark}/${kind}/${id}`, rel: 'bookmark' },
  ];
}

/** A volume in a summary list (`GET /volumes`): id, name, links. */
export function volumeSummary(v: volume.Volume, urls: VolumeUrls): Record<string, unknown> {
  return { id: v.id, name: v.name || null, links: links(urls, 'volumes', v.id) };
}

/**
 * A volume as Cinder v3.0 shows it (`GET /volumes/{id}`, `/volumes/detail`): `bootable` is the
 * string "true"/"false" as Cinder sends it; attachments in Cinder's legacy form (server_id,
 * attachment_id, device, host_name); the pool as `os-vol-host-attr:host` in Cinder's host@backend#pool form (host: the storage node).
 */
export function volumeDetail(v: volume.Volume, urls: VolumeUrls): Record<string, unknown> {
  const [backend, pool] = v.pool.split('@', 2);
  return {
    ...volumeBody(v, urls),
    // Cinder's volume_tenant_attribute, volume_host_attribute, volume_mig_status_attribute and
    // volume_image_metadata extensions decorate show and detail only.
    'os-vol-tenant-attr:tenant_id': v.projectId,
    'os-vol-host-attr:host': v.pool ? `${v.replicas[0]?.storageNode || 'minicloud'}@${backend}#${pool ?? backend}` : null,
    'os-vol-mig-status-attr:migstat': null,
    'os-vol-mig-status-attr:name_id': null,
    ...(v.sourceImageId ? { volume_image_metadata: { image_id: v.sourceImageId } } : {}),
  };
}

/**
 * A volume as Cinder v3.0 answers a create or an update (`POST /volumes`, `PUT /volumes/{id}`): the
 * show body without the extension attributes (tenant, host, migration status, image metadata), which
 * Cinder adds to show and detail only.
 */
export function volumeBody(v: volume.Volume, urls: VolumeUrls): Record<string, unknown> {
  return {
    ...volumeSummary(v, urls),
    status: volumeStatusName(v.status),
    size: v.sizeGb,
    availability_zone: v.availabilityZone || 'nova',
    created_at: cinderTime(v.createdAt),
    updated_at: cinderTime(v.updatedAt),
    description: v.description || null,
    volume_type: v.volumeType || null,
    snapshot_id: v.sourceSnapshotId || null,
    source_volid: v.sourceVolumeId || null,
    // the readonly flag is admin metadata that Cinder merges into the shown metadata once it is set
    metadata: v.readOnly === undefined ? v.metadata : { ...v.metadata, readonly: v.readOnly ? 'True' : 'False' },
    bootable: String(v.bootable),
    encrypted: false,
    multiattach: v.multiattach,
    replication_status: v.replicationStatus || 'disabled',
    consistencygroup_id: null,
    migration_status: null,
    user_id: v.userId || null,
    attachments: v.attachments
      .filter((a) => a.attachStatus === 'attached')
      .map((a) => ({ id: v.id, attachment_id: a.id, volume_id: v.id, server_id: a.instanceId, host_name: a.hostId || null, device: a.mountpoint, attached_at: cinderTime(a.attachedAt) })),
  };
}

/** A snapshot as Cinder v3.0 answers a create or an update and lists it without detail (`GET /snapshots`). */
export function snapshotSummary(s: volume.Snapshot): Record<string, unknown> {
  return {
    id: s.id,
    name: s.name || null,
    description: s.description || null,
    status: s.status,
    size: s.sizeGb,
    volume_id: s.volumeId,
    metadata: s.metadata,
    created_at: cinderTime(s.createdAt),
    updated_at: cinderTime(s.updatedAt),
  };
}

/** A snapshot as Cinder v3.0 shows it (`GET /snapshots/{id}`, `/snapshots/detail`): the extended-attributes extension's project and progress too. */
export function snapshotView(s: volume.Snapshot): Record<string, unknown> {
  return {
    ...snapshotSummary(s),
    'os-extended-snapshot-attributes:project_id': s.projectId,
    'os-extended-snapshot-attributes:progress': s.status === 'available' ? '100%' : '0%',
  };
}

/**
 * A volume type as Cinder's create answers it (`POST /types`): id, name, description (null when
 * none), is_public, the type-access extension's is_public and extra specs; no QoS specs id.
 */
export function volumeTypeCreatedView(t: volume.VolumeType): Record<string, unknown> {
  return { id: t.id, name: t.name, description: t.description || null, is_public: t.isPublic, 'os-volume-type-access:is_public': t.isPublic, extra_specs: t.extraSpecs };
}

/**
 * A volume type as Cinder v3 shows and lists it (`GET /types/{id}`, `GET /types`): the create
 * answer's fields plus `qos_specs_id` (null when none) when the service gives it, i.e. to admins only.
 */
export function volumeTypeView(t: volume.VolumeType): Record<string, unknown> {
  return { ...volumeTypeCreatedView(t), ...(t.qosSpecsId !== undefined ? { qos_specs_id: t.qosSpecsId || null } : {}) };
}

/** A QoS specs as Cinder shows it (the `qos_specs` member of list, show and create answers). */
export function qosSpecsView(q: volume.QosSpecs): Record<string, unknown> {
  return { id: q.id, name: q.name, consumer: q.consumer, specs: q.specs };
}
