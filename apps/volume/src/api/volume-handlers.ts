import { volume } from '@minicloud/proto';
import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import { isAdmin } from '@minicloud/platform-auth';
import { service, type CallContext, type ServiceRegistration } from '@minicloud/platform-grpc';
import type { Caller, VolumeManager } from '../volume-manager';
import { attachmentToProto, poolToProto, snapshotToProto, statusFromProto, volumeToProto, volumeTypeToProto } from './mapping';

function callerOf(ctx: CallContext): Caller {
  return { projectId: ctx.auth?.projectId ?? '', admin: isAdmin(ctx.auth) };
}

const notImplemented = async (): Promise<never> => {
  throw new FailedPreconditionError('not implemented yet', 'not_implemented');
};

/**
 * minicloud.volume.v1.VolumeService over a {@link VolumeManager}. Policy: CreateVolumeType and
 * ListPools need admin; reads need reader, the rest member. Backups and retype answer
 * FAILED_PRECONDITION "not implemented yet".
 */
export function volumeService(mgr: VolumeManager): ServiceRegistration {
  const withAttachments = async (caller: Caller, v: Awaited<ReturnType<VolumeManager['getVolume']>>) =>
    volumeToProto(v, await mgr.listAttachments(caller, { volumeId: v.id }));
  return service({
    definition: volume.VolumeServiceService,
    policy: { createVolumeType: 'admin', listPools: 'admin' },
    handlers: {
      async createVolume(req, ctx) {
        const v = await mgr.createVolume(callerOf(ctx), {
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
        return { volume: volumeToProto(await mgr.extendVolume(callerOf(ctx), req.volumeId, req.newSizeGb)) };
      },
      retypeVolume: notImplemented,
      async createAttachment(req, ctx) {
        const a = await mgr.createAttachment(callerOf(ctx), { volumeId: req.volumeId, instanceId: req.instanceId, hostId: req.hostId, mountpoint: req.mountpoint });
        return { attachment: attachmentToProto(a) };
      },
      async completeAttachment(req, ctx) {
        return { attachment: attachmentToProto(await mgr.completeAttachment(callerOf(ctx), req.attachmentId)) };
      },
      async deleteAttachment(req, ctx) {
        await mgr.deleteAttachment(callerOf(ctx), req.attachmentId);
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
      createBackup: notImplemented,
      listBackups: notImplemented,
      restoreBackup: notImplemented,
      deleteBackup: notImplemented,
    },
  });
}
