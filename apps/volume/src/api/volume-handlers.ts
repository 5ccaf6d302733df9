import { volume } from '@minicloud/proto';
import { InvalidArgumentError, PermissionDeniedError } from '@minicloud/domain-errors';
import { isAdmin } from '@minicloud/platform-auth';
import { service, type CallContext, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import type { BackupManager } from '../backup-manager';
import type { Caller, VolumeManager } from '../volume-manager';
import { attachmentToProto, backupToProto, poolToProto, snapshotToProto, statusFromProto, volumeToProto, volumeTypeToProto } from './mapping';

function callerOf(ctx: CallContext): Caller {
  return { projectId: ctx.auth?.projectId ?? '', admin: isAdmin(ctx.auth), token: ctx.token };
}

/**
 * minicloud.volume.v1.VolumeService over a {@link VolumeManager} and a {@link BackupManager}.
 * Roles come from the central policy table (libs/platform/auth): CreateVolumeType, ListPools,
 * SetPoolState and ForceDetach need admin; reads (and ReadVolume) reader; the rest member.
 */
export function volumeService(mgr: VolumeManager, backups: BackupManager): ServiceRegistration {
  const withAttachments = async (caller: Caller, v: Awaited<ReturnType<VolumeManager['getVolume']>>) =>
    volumeToProto(v, await mgr.listAttachments(caller, { volumeId: v.id }), await mgr.allocatedBytes(v));
  return service({
    definition: volume.VolumeServiceService,
    handlers: withInputLimits(volume.VolumeServiceService, {
      async createVolume(req, ctx) {
        const caller = callerOf(ctx);
        if (req.projectId && !caller.admin) throw new PermissionDeniedError('project_id is admin only');
        const v = await mgr.createVolume(req.projectId ? { ...caller, projectId: req.projectId } : caller, {
          name: req.name,
          sizeGb: req.sizeGb,
          volumeType: req.volumeType,
          availabilityZone: req.availabilityZone,
          imageId: req.imageId || undefined,
          snapshotId: req.snapshotId || undefined,
          sourceVolumeId: req.sourceVolumeId || undefined,
          metadata: req.metadata,
        });
        return { volume: volumeToProto(v) };
      },
      async getVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await mgr.getVolume(c, req.volumeId)) };
      },
      async listVolumes(req, ctx) {
        const c = callerOf(ctx);
        const status = statusFromProto(req.status);
        if (req.status && !status) throw new InvalidArgumentError('status', 'unknown volume status');
        const vols = await mgr.listVolumes(c, status);
        return { volumes: await Promise.all(vols.map((v) => withAttachments(c, v))) };
      },
      async deleteVolume(req, ctx) {
        await mgr.deleteVolume(callerOf(ctx), req.volumeId);
        return {};
      },
      async extendVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await mgr.extendVolume(c, req.volumeId, req.newSizeGb)) };
      },
      async retypeVolume(req, ctx) {
        const c = callerOf(ctx);
        return { volume: await withAttachments(c, await mgr.retypeVolume(c, req.volumeId, req.newVolumeType)) };
      },
      async createAttachment(req, ctx) {
        const a = await mgr.createAttachment(callerOf(ctx), { volumeId: req.volumeId, instanceId: req.instanceId, hostId: req.hostId, mountpoint: req.mountpoint });
        return { attachment: attachmentToProto(a) };
      },
      async completeAttachment(req, ctx) {
        return { attachment: attachmentToProto(await mgr.completeAttachment(callerOf(ctx), req.attachmentId)) };
      },
      async deleteAttachment(req, ctx) {
        await mgr.deleteAttachment(callerOf(ctx), { attachmentId: req.attachmentId || undefined, volumeId: req.volumeId || undefined, instanceId: req.instanceId || undefined });
        return {};
      },
      async listAttachments(req, ctx) {
        const list = await mgr.listAttachments(callerOf(ctx), { volumeId: req.volumeId || undefined, instanceId: req.instanceId || undefined });
        return { attachments: list.map(attachmentToProto) };
      },
      async createSnapshot(req, ctx) {
        return { snapshot: snapshotToProto(await mgr.createSnapshot(callerOf(ctx), { volumeId: req.volumeId, name: req.name, force: req.force })) };
      },
      async getSnapshot(req, ctx) {
        return { snapshot: snapshotToProto(await mgr.getSnapshot(callerOf(ctx), req.snapshotId)) };
      },
      async listSnapshots(req, ctx) {
        return { snapshots: (await mgr.listSnapshots(callerOf(ctx), req.volumeId || undefined)).map(snapshotToProto) };
      },
      async deleteSnapshot(req, ctx) {
        await mgr.deleteSnapshot(callerOf(ctx), req.snapshotId);
        return {};
      },
      async createVolumeType(req) {
        return { volumeType: volumeTypeToProto(await mgr.createVolumeType(req.name, req.extraSpecs)) };
      },
      async listVolumeTypes() {
        return { volumeTypes: (await mgr.listVolumeTypes()).map(volumeTypeToProto) };
      },
      async listPools() {
        return { pools: (await mgr.listPools()).map(poolToProto) };
      },
      async createBackup(req, ctx) {
        return { backup: backupToProto(await backups.createBackup(callerOf(ctx), { volumeId: req.volumeId, name: req.name, incremental: req.incremental })) };
      },
      async listBackups(req, ctx) {
        const c = callerOf(ctx);
        const volumeId = req.volumeId ? (await mgr.getVolume(c, req.volumeId)).id : undefined;
        return { backups: (await backups.listBackups(c, volumeId)).map(backupToProto) };
      },
      async restoreBackup(req, ctx) {
        return { volume: volumeToProto(await backups.restoreBackup(callerOf(ctx), { backupId: req.backupId, name: req.name, volumeType: req.volumeType })) };
      },
      async deleteBackup(req, ctx) {
        await backups.deleteBackup(callerOf(ctx), req.backupId);
        return {};
      },
      async setPoolState(req) {
        const res = await mgr.setPoolState({ pool: req.pool || undefined, storageNode: req.storageNode || undefined, up: req.up });
        return { pools: (await mgr.listPools()).map(poolToProto), degradedVolumeIds: res.degraded, repairedVolumeIds: res.repaired };
      },
      async forceDetach(req, ctx) {
        const list = await mgr.forceDetach(callerOf(ctx), { instanceId: req.instanceId || undefined, hostId: req.hostId || undefined });
        return { detached: list.map(attachmentToProto) };
      },
      async writeVolume(req, ctx) {
        return { allocatedBytes: await mgr.writeVolume(callerOf(ctx), req.volumeId, Number(req.offsetBytes), Buffer.from(req.data)) };
      },
      async readVolume(req, ctx) {
        return { data: await mgr.readData(callerOf(ctx), req.volumeId, Number(req.offsetBytes), Number(req.lengthBytes)) };
      },
    }),
  });
}
