import { UnauthenticatedError } from '@minicloud/domain-errors';
import { isCloudAdmin, isComputeAgent } from '@minicloud/platform-auth';
import { service, type CallContext, type ServiceRegistration, withInputLimits } from '@minicloud/platform-grpc';
import { image as pb } from '@minicloud/proto';
import type { Caller, ImageService } from '../image-service';
import { imageToPb, memberStatusFromPb, memberToPb, statusFromPb, visibilityFromPb } from './image-mapping';

/**
 * The caller of an image RPC. A compute agent sees every image as an admin does: it downloads the
 * image of whatever server it boots, in any project (nova-compute's service user); the policy
 * table lets its role (which implies reader only) make no change.
 */
function callerOf(ctx: CallContext): Caller {
  if (!ctx.auth) throw new UnauthenticatedError('a token is required');
  return { viewer: { projectId: ctx.auth.projectId, admin: isCloudAdmin(ctx.auth) || isComputeAgent(ctx.auth) }, requestId: ctx.requestId, signal: ctx.signal };
}

/** gRPC registration of minicloud.image.v1.ImageService over an {@link ImageService}. */
export function imageServiceRegistration(images: ImageService): ServiceRegistration {
  return service({
    definition: pb.ImageServiceService,
    handlers: withInputLimits(pb.ImageServiceService, {
      createImage: async (req, ctx) => ({
        image: imageToPb(
          await images.create(callerOf(ctx), {
            name: req.name,
            diskFormat: req.diskFormat,
            containerFormat: req.containerFormat,
            visibility: visibilityFromPb(req.visibility),
            protected: req.protected,
            minRamMb: req.minRamMb,
            minDiskGb: req.minDiskGb,
            properties: req.properties,
            sourceInstanceId: req.sourceInstanceId,
            tags: req.tags,
          }),
        ),
      }),
      uploadImage: async (requests, ctx) => {
        const parts = (async function* () {
          for await (const r of requests) yield { imageId: r.imageId, chunk: r.chunk };
        })();
        return { image: imageToPb(await images.upload(callerOf(ctx), parts)) };
      },
      downloadImage: (req, ctx) =>
        (async function* () {
          for await (const chunk of await images.download(callerOf(ctx), req.imageId)) yield { chunk };
        })(),
      getImage: async (req, ctx) => ({ image: imageToPb(await images.get(callerOf(ctx), req.imageId)) }),
      listImages: async (req, ctx) => {
        const res = await images.list(callerOf(ctx), {
          name: req.name || undefined,
          status: statusFromPb(req.status),
          visibility: visibilityFromPb(req.visibility),
          pageSize: req.page?.pageSize ?? 0,
          pageToken: req.page?.pageToken ?? '',
        });
        return { images: res.images.map(imageToPb), page: { nextPageToken: res.nextPageToken } };
      },
      updateImage: async (req, ctx) => ({
        image: imageToPb(
          await images.update(callerOf(ctx), req.imageId, {
            name: req.name,
            visibility: visibilityFromPb(req.visibility),
            protected: req.protected,
            minRamMb: req.minRamMb,
            minDiskGb: req.minDiskGb,
            setProperties: req.setProperties,
            removeProperties: req.removeProperties,
            addTags: req.addTags,
            removeTags: req.removeTags,
          }),
        ),
      }),
      deleteImage: async (req, ctx) => {
        await images.delete(callerOf(ctx), req.imageId);
        return {};
      },
      deactivateImage: async (req, ctx) => ({ image: imageToPb(await images.deactivate(callerOf(ctx), req.imageId)) }),
      reactivateImage: async (req, ctx) => ({ image: imageToPb(await images.reactivate(callerOf(ctx), req.imageId)) }),
      addImageMember: async (req, ctx) => ({ member: memberToPb(await images.addMember(callerOf(ctx), req.imageId, req.memberProjectId)) }),
      updateImageMember: async (req, ctx) => ({
        member: memberToPb(await images.updateMember(callerOf(ctx), req.imageId, req.memberProjectId, memberStatusFromPb(req.status))),
      }),
      removeImageMember: async (req, ctx) => {
        await images.removeMember(callerOf(ctx), req.imageId, req.memberProjectId);
        return {};
      },
      listImageMembers: async (req, ctx) => ({ members: (await images.listMembers(callerOf(ctx), req.imageId)).map(memberToPb) }),
    }),
  });
}
