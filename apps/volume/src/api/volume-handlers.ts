import { volume } from '@minicloud/proto';
import { InvalidArgumentError, PermissionDeniedError } from '@minicloud/domain-errors';
import { isCloudAdmin } from '@minicloud/platform-auth';
import { service, type CallContext, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import type { Attachments } from '../attachments';
import type { Backups } from '../backups';
import type { Pools } from '../pools';
import type { QosSpecsStore } from '../qos-specs';
import type { Replication } from '../replication';
import type { Snapshots } from '../snapshots';
import type { Caller } from '../store/deps';
import type { VolumeCreation } from '../volume-creation';
import type { VolumeData } from '../volume-data';
import type { VolumeTypes } from '../volume-types';
import type { VolumeUpload } from '../volume-upload';
import type { Volumes } from '../volumes';
import { attachmentToProto, backupToProto, poolToProto, qosSpecsToProto, snapshotToProto, statusFromProto, volumeToProto, volumeTypeToProto } from './mapping';

function callerOf(ctx: CallContext): Caller {
  return { projectId: ctx.auth?.projectId ?? '', admin: isCloudAdmin(ctx.auth), token: ctx.token, userId: ctx.auth?.userId ?? '' };
}

/** The resource modules the handlers call (built by wire.ts). */
export interface VolumeLogic {
  types: VolumeTypes;
  qos: QosSpecsStore;
  pools: Pools;
  volumes: Volumes;
  creation: VolumeCreation;
  data: VolumeData;
  attachments: Attachments;
  snapshots: Snapshots;
  backups: Backups;
  replication: Replication;
  upload: VolumeUpload;
}

/**
 * minicloud.volume.v1.VolumeService over the resource modules.
 * Roles come from the central policy table (libs/platform/auth): volume type writes, QoS specs,
 * ListPools, SetPoolState, ForceDetach and ResetVolumeStatus need admin; reads (and ReadVolume) reader; the rest member.
 */
export function volumeService(l: VolumeLogic): ServiceRegistration {
  const typeInUse = async (name: string) => (await l.volumes.list({ projectId: '', admin: true })).some((v) => v.volumeType === name);
  const withAttachments = async (caller: Caller, v: Awaited<ReturnType<Volumes['get']>>) =>
    volumeToProto(v, await l.attachments.list(caller, { volumeId: v.id }), await l.volumes.allocatedBytes(v));
  return service({
    definition: volume.VolumeServiceService,
    handlers: withInputLimits(volume.VolumeServiceService, {
      async createVolume(req, ctx) {
        const caller = callerOf(ctx);
        if (req.projectId && !caller.admin) throw new PermissionDeniedError('project_id is admin only');
        const v = await l.creation.create(req.projectId ? { ...caller, projectId: req.projectId } : caller, {
          name: req.name,
          sizeGb: req.sizeGb,
          volumeType: req.volumeType,
          availabilityZone: req.availabilityZone,
          imageId: req.imageId || undefined,
          snapshotId: req.snapshotId || undefined,
          sourceVolumeId: req.sourceVolumeId || undefined,
          metadata: req.metadata,
          description: req.description,
        });
        return { volume: volumeToProto(v) };
      },
      async getVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await l.volumes.get(c, req.volumeId)) };
      },
      async listVolumes(req, ctx) {
        const c = callerOf(ctx);
        const status = statusFromProto(req.status);
        if (req.status && !status) throw new InvalidArgumentError('status', 'unknown volume status');
        const vols = await l.volumes.list(c, status);
        return { volumes: await Promise.all(vols.map((v) => withAttachments(c, v))) };
      },
      async deleteVolume(req, ctx) {
        await l.volumes.delete(callerOf(ctx), req.volumeId);
        return {};
      },
      async updateVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await l.volumes.update(c, req.volumeId, { name: req.name, description: req.description, bootable: req.bootable, readOnly: req.readOnly, setMetadata: req.setMetadata, removeMetadata: req.removeMetadata })) };
      },
      async extendVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await l.volumes.extend(c, req.volumeId, req.newSizeGb)) };
      },
      async retypeVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await l.volumes.retype(c, req.volumeId, req.newVolumeType)) };
      },
      async resetVolumeStatus(req, ctx) {
        const c = callerOf(ctx);
        const status = statusFromProto(req.status);
        if (!status) throw new InvalidArgumentError('status', 'unknown volume status');
        return { volume: await withAttachments(c, await l.volumes.resetStatus(c, req.volumeId, status)) };
      },
      async uploadVolumeToImage(req, ctx) {
        const c = callerOf(ctx);
        const { volume: v, imageId } = await l.upload.start(c, { volumeId: req.volumeId, imageName: req.imageName, diskFormat: req.diskFormat, containerFormat: req.containerFormat });
        return { volume: await withAttachments(c, v), imageId };
      },
      async createAttachment(req, ctx) {
        const a = await l.attachments.create(callerOf(ctx), { volumeId: req.volumeId, instanceId: req.instanceId, hostId: req.hostId, mountpoint: req.mountpoint });
        return { attachment: attachmentToProto(a) };
      },
      async completeAttachment(req, ctx) {
        return { attachment: attachmentToProto(await l.attachments.complete(callerOf(ctx), req.attachmentId)) };
      },
      async deleteAttachment(req, ctx) {
        await l.attachments.delete(callerOf(ctx), { attachmentId: req.attachmentId || undefined, volumeId: req.volumeId || undefined, instanceId: req.instanceId || undefined });
        return {};
      },
      async listAttachments(req, ctx) {
        const list = await l.attachments.list(callerOf(ctx), { volumeId: req.volumeId || undefined, instanceId: req.instanceId || undefined });
        return { attachments: list.map(attachmentToProto) };
      },
      async createSnapshot(req, ctx) {
        return { snapshot: snapshotToProto(await l.snapshots.create(callerOf(ctx), { volumeId: req.volumeId, name: req.name, force: req.force, description: req.description, metadata: req.metadata })) };
      },
      async getSnapshot(req, ctx) {
        return { snapshot: snapshotToProto(await l.snapshots.get(callerOf(ctx), req.snapshotId)) };
      },
      async listSnapshots(req, ctx) {
        return { snapshots: (await l.snapshots.list(callerOf(ctx), req.volumeId || undefined)).map(snapshotToProto) };
      },
      async updateSnapshot(req, ctx) {
        const patch = { name: req.name, description: req.description, setMetadata: req.setMetadata, removeMetadata: req.removeMetadata };
        return { snapshot: snapshotToProto(await l.snapshots.update(callerOf(ctx), req.snapshotId, patch)) };
      },
      async deleteSnapshot(req, ctx) {
        await l.snapshots.delete(callerOf(ctx), req.snapshotId);
        return {};
      },
      async createVolumeType(req, ctx) {
        return { volumeType: volumeTypeToProto(await l.types.create(req.name, req.extraSpecs, req.description), isCloudAdmin(ctx.auth)) };
      },
      async listVolumeTypes(_req, ctx) {
        const admin = isCloudAdmin(ctx.auth);
        return { volumeTypes: (await l.types.list()).map((t) => volumeTypeToProto(t, admin)) };
      },
      async updateVolumeType(req) {
        const change = { name: req.name, description: req.description, set: req.setExtraSpecs, remove: req.removeExtraSpecs };
        return { volumeType: volumeTypeToProto(await l.types.update(req.volumeTypeId, change, typeInUse), true) };
      },
      async deleteVolumeType(req) {
        await l.types.delete(req.volumeTypeId, typeInUse);
        return {};
      },
      async createQosSpecs(req) {
        return { qosSpecs: qosSpecsToProto(await l.qos.create({ name: req.name, consumer: req.consumer, specs: req.specs })) };
      },
      async getQosSpecs(req) {
        return { qosSpecs: qosSpecsToProto(await l.qos.get(req.qosSpecsId)) };
      },
      async listQosSpecs() {
        return { qosSpecs: (await l.qos.list()).map(qosSpecsToProto) };
      },
      async updateQosSpecs(req) {
        return { qosSpecs: qosSpecsToProto(await l.qos.update(req.qosSpecsId, { consumer: req.consumer, set: req.setSpecs, remove: req.removeKeys })) };
      },
      async deleteQosSpecs(req) {
        await l.qos.delete(req.qosSpecsId, req.force);
        return {};
      },
      async associateQosSpecs(req) {
        await l.qos.associate(req.qosSpecsId, req.volumeTypeId);
        return {};
      },
      async disassociateQosSpecs(req) {
        await l.qos.disassociate(req.qosSpecsId, req.all ? undefined : req.volumeTypeId);
        return {};
      },
      async listQosSpecsAssociations(req) {
        await l.qos.get(req.qosSpecsId);
        return { volumeTypes: (await l.qos.associations(req.qosSpecsId)).map((t) => volumeTypeToProto(t, true)) };
      },
      async listPools() {
        return { pools: (await l.pools.list()).map(poolToProto) };
      },
      async createBackup(req, ctx) {
        return { backup: backupToProto(await l.backups.create(callerOf(ctx), { volumeId: req.volumeId, name: req.name, incremental: req.incremental })) };
      },
      async listBackups(req, ctx) {
        const c = callerOf(ctx);
        const volumeId = req.volumeId ? (await l.volumes.get(c, req.volumeId)).id : undefined;
        return { backups: (await l.backups.list(c, volumeId)).map(backupToProto) };
      },
      async restoreBackup(req, ctx) {
        return { volume: volumeToProto(await l.backups.restore(callerOf(ctx), { backupId: req.backupId, name: req.name, volumeType: req.volumeType })) };
      },
      async deleteBackup(req, ctx) {
        await l.backups.delete(callerOf(ctx), req.backupId);
        return {};
      },
      async setPoolState(req) {
        const res = await l.replication.setPoolState({ pool: req.pool || undefined, storageNode: req.storageNode || undefined, up: req.up });
        return { pools: (await l.pools.list()).map(poolToProto), degradedVolumeIds: res.degraded, repairedVolumeIds: res.repaired };
      },
      async forceDetach(req, ctx) {
        const list = await l.attachments.forceDetach(callerOf(ctx), { instanceId: req.instanceId || undefined, hostId: req.hostId || undefined });
        return { detached: list.map(attachmentToProto) };
      },
      async writeVolume(req, ctx) {
        return { allocatedBytes: await l.data.write(callerOf(ctx), req.volumeId, Number(req.offsetBytes), Buffer.from(req.data)) };
      },
      async readVolume(req, ctx) {
        return { data: await l.data.read(callerOf(ctx), req.volumeId, Number(req.offsetBytes), Number(req.lengthBytes)) };
      },
      async listChangedBlocks(req, ctx) {
        const p = await l.data.changedBlocks(callerOf(ctx), req.volumeId, req.baseSnapshotId, Number(req.startingBlockIndex), req.maxResults, req.snapshotId);
        return { changedBlocks: p.blocks, blockSizeBytes: p.blockSizeBytes, nextBlockIndex: p.nextBlockIndex, volumeSizeBytes: p.volumeSizeBytes };
      },
    }),
  });
}
