import type { FastifyInstance } from 'fastify';
import { NotFoundError } from '@minicloud/domain-errors';
import { image } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext } from '../http/context';
import { createMemberBody, memberSchema, membersSchema, updateMemberBody } from './schemas';
import { memberView } from './views';

type Member = { Params: { id: string; member: string } };

const STATUS: Record<string, image.ImageMemberStatus> = {
  pending: image.ImageMemberStatus.IMAGE_MEMBER_STATUS_PENDING,
  accepted: image.ImageMemberStatus.IMAGE_MEMBER_STATUS_ACCEPTED,
  rejected: image.ImageMemberStatus.IMAGE_MEMBER_STATUS_REJECTED,
};

/**
 * Glance v2's image members (sharing a `shared` image with another project): list, create (the
 * owner adds a project, status pending), show, update status (the member accepts or rejects), delete
 * (204), and their schemas. Who may do what is the image service's to decide.
 */
export async function imageMemberRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const images = deps.backends.image;
  app.get('/v2/schemas/member', async () => memberSchema);
  app.get('/v2/schemas/members', async () => membersSchema);

  const imageOf = async (req: Parameters<typeof callContext>[0], imageId: string) => (await images.getImage({ imageId }, callContext(req))).image!;

  app.get<{ Params: { id: string } }>('/v2/images/:id/members', async (req) => {
    const img = await imageOf(req, req.params.id);
    const { members } = await images.listImageMembers({ imageId: img.id }, callContext(req));
    return { members: members.map((m) => memberView(m, img.updatedAt ?? img.createdAt)), schema: '/v2/schemas/members' };
  });

  app.post<{ Params: { id: string }; Body: { member: string } }>('/v2/images/:id/members', { schema: { body: createMemberBody } }, async (req) => {
    const { member } = await images.addImageMember({ imageId: req.params.id, memberProjectId: req.body.member }, callContext(req));
    return memberView(member!, new Date());
  });

  app.get<Member>('/v2/images/:id/members/:member', async (req) => {
    const img = await imageOf(req, req.params.id);
    const { members } = await images.listImageMembers({ imageId: img.id }, callContext(req));
    const m = members.find((x) => x.memberProjectId === req.params.member);
    if (!m) throw new NotFoundError('image member', `${img.id}/${req.params.member}`);
    return memberView(m, img.updatedAt ?? img.createdAt);
  });

  app.put<Member & { Body: { status: string } }>('/v2/images/:id/members/:member', { schema: { body: updateMemberBody } }, async (req) => {
    const { member } = await images.updateImageMember({ imageId: req.params.id, memberProjectId: req.params.member, status: STATUS[req.body.status] }, callContext(req));
    return memberView(member!, new Date());
  });

  app.delete<Member>('/v2/images/:id/members/:member', async (req, reply) => {
    await images.removeImageMember({ imageId: req.params.id, memberProjectId: req.params.member }, callContext(req));
    return reply.code(204).send();
  });
}
