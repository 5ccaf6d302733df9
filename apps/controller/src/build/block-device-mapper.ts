import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { volume } from '@minicloud/proto';
import type { Logger } from '@minicloud/platform-logging';
import type { InstanceRecord, InstanceVolume } from '@minicloud/domain-compute';
import type { Peers } from '../peers';
import type { InstanceStore } from '../store/instance-store';
import { qosLimits } from './volume-attach';

/** Metadata keys on a volume the build created (find it again after a crash; operators see whose it is). */
export const BOOT_INSTANCE_KEY = 'minicloud_boot_instance_id';
export const BOOT_DEVICE_KEY = 'minicloud_boot_device';

/** How often the build re-reads a volume still `creating` (ms). */
export const VOLUME_POLL_MS = 250;

/** Stores and clients of {@link BlockDeviceMapper} (the conductor's own). */
export interface BlockDeviceMapperDeps {
  instances: InstanceStore;
  peers: Peers;
  nowMs: () => number;
  logger?: Logger;
}

/**
 * Nova's `_prep_block_device` for task_state block_device_mapping: for each `attaching` entry of a
 * building instance, in order,
 * 1. a BDM to create (`bdmSource` image/snapshot/blank, no volume yet): CreateVolume in the instance's
 *    project (service token + project_id), tagged {@link BOOT_INSTANCE_KEY}/{@link BOOT_DEVICE_KEY} so
 *    a step re-run after a crash finds it instead of creating a second one; the id is recorded;
 * 2. wait until it is `available` (requeue every {@link VOLUME_POLL_MS}); `error` fails the build;
 * 3. CreateAttachment for the instance's host (idempotent per volume and instance; an existing volume
 *    was reserved by the API already), CompleteAttachment, entry `attached` with the volume's QoS.
 * The agent side (step 2 of the attach flow) is the spawn: its spec carries the attached volumes.
 */
export class BlockDeviceMapper {
  constructor(private readonly d: BlockDeviceMapperDeps) {}

  /**
   * Runs the steps above for `r`.
   * @returns ms to requeue after when a volume is still being created, or undefined when every
   *   entry is attached (the caller moves on to spawning)
   * @throws FailedPreconditionError volume_error (a volume went to error), the volume service's
   *   errors (FAILED_PRECONDITION volume in use, RESOURCE_EXHAUSTED no pool with room, NOT_FOUND)
   */
  async step(r: InstanceRecord): Promise<number | undefined> {
    const client = await this.d.peers.volume();
    for (const e0 of r.volumesAttached ?? []) {
      if (e0.status !== 'attaching') continue;
      let e = e0;
      if (!e.volumeId) e = await this.createVolume(r, e);
      const v = (await client.getVolume({ volumeId: e.volumeId })).volume;
      if (!v) throw new NotFoundError('volume', e.volumeId);
      if (v.status === volume.VolumeStatus.VOLUME_STATUS_CREATING) return VOLUME_POLL_MS;
      if (v.status === volume.VolumeStatus.VOLUME_STATUS_ERROR) {
        throw new FailedPreconditionError(`volume ${v.id} for ${e.deviceName} went to error${v.fault?.message ? `: ${v.fault.message}` : ''}`, 'volume_error');
      }
      let attachmentId = e.attachmentId;
      if (!attachmentId) {
        const att = (await client.createAttachment({ volumeId: v.id, instanceId: r.id, hostId: r.hostId, mountpoint: e.deviceName })).attachment;
        if (!att) throw new Error('volume service returned no attachment');
        attachmentId = att.id;
        await this.setEntry(r.id, e.deviceName, (x) => ({ ...x, attachmentId }));
      }
      await client.completeAttachment({ attachmentId });
      await this.setEntry(r.id, e.deviceName, (x) => ({ ...x, attachmentId, status: 'attached', ...qosLimits(v) }));
    }
    return undefined;
  }

  /**
   * Build failed (or the server was deleted) before the instance ever ran: attachments deleted,
   * volumes the build created or marked delete_on_termination deleted (a volume still `creating`
   * is refused by the volume service: the throw makes the caller retry), the list emptied. Idempotent.
   */
  async rollback(r: InstanceRecord): Promise<void> {
    const list = r.volumesAttached ?? [];
    if (list.length === 0) return;
    const client = await this.d.peers.volume();
    for (const e of list) {
      let volumeId = e.volumeId;
      if (!volumeId && e.createdByBuild) volumeId = (await this.findCreated(r, e))?.id ?? '';
      if (!volumeId) continue;
      await client.deleteAttachment({ volumeId, instanceId: r.id });
      if (e.createdByBuild || e.deleteOnTermination) await client.deleteVolume({ volumeId }).catch((x) => (x instanceof NotFoundError ? undefined : Promise.reject(x)));
    }
    await this.d.instances.update(r.id, (cur) => ({ ...cur, volumesAttached: [] }), this.d.nowMs());
  }

  private async createVolume(r: InstanceRecord, e: InstanceVolume): Promise<InstanceVolume> {
    const src = e.bdmSource;
    if (!src) throw new FailedPreconditionError(`block device ${e.deviceName} of server ${r.id} has neither a volume nor a source`, 'bdm_invalid');
    const client = await this.d.peers.volume();
    let volumeId = (await this.findCreated(r, e))?.id;
    if (!volumeId) {
      const created = await client.createVolume({
        name: `${r.name}-${e.deviceName.replace('/dev/', '')}`,
        sizeGb: e.sizeGb,
        projectId: r.projectId,
        imageId: src.sourceType === 'image' ? src.uuid : undefined,
        snapshotId: src.sourceType === 'snapshot' ? src.uuid : undefined,
        metadata: { [BOOT_INSTANCE_KEY]: r.id, [BOOT_DEVICE_KEY]: e.deviceName },
      });
      volumeId = created.volume!.id;
      this.d.logger?.info({ instance_id: r.id, volume_id: volumeId, device: e.deviceName, source: src.sourceType }, 'boot volume created');
    }
    const id = volumeId;
    const next = await this.setEntry(r.id, e.deviceName, (x) => ({ ...x, volumeId: id }));
    return next?.volumesAttached?.find((x) => x.deviceName === e.deviceName) ?? { ...e, volumeId: id };
  }

  private async findCreated(r: InstanceRecord, e: InstanceVolume): Promise<volume.Volume | undefined> {
    const client = await this.d.peers.volume();
    return (await client.listVolumes({})).volumes.find((v) => v.metadata[BOOT_INSTANCE_KEY] === r.id && v.metadata[BOOT_DEVICE_KEY] === e.deviceName);
  }

  private async setEntry(instanceId: string, deviceName: string, f: (v: InstanceVolume) => InstanceVolume): Promise<InstanceRecord | undefined> {
    return (await this.d.instances.updateVolumeEntry(instanceId, (v) => v.deviceName === deviceName, f, this.d.nowMs())).record;
  }
}
