import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import { resolveHost } from '@minicloud/client';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext } from '../http/context';
import { HttpError } from '../http/errors';
import { serverActionBody } from './extra-schemas';
import { serverDetail, type ComputeUrls } from './views';

type Body = Record<string, unknown> | null;
type ActionRequest = Omit<compute.ServerActionRequest, 'serverId'>;

/** Nova's boolean-ish strings ("True", "false", "1", ...) as a boolean (oslo strutils.bool_from_string). */
export function boolOf(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', '1', 'yes', 'on'].includes(v.toLowerCase()));
}

/**
 * `client` with every call carrying `ctx` (the caller's token and request id), for the shared
 * library's resolvers, which call without options.
 */
export function withContext<T extends object>(client: T, ctx: CallContext): T {
  return new Proxy(client, {
    get: (target, method) => {
      const f = (target as Record<string | symbol, unknown>)[method];
      return typeof f === 'function' ? (req: unknown) => f.call(target, req, ctx) : f;
    },
  });
}

/** The controller's host id of a service host name (or host id), as the caller may see it (admin). */
async function hostIdOf(c: ApiDeps['backends']['compute'], ctx: CallContext, host: string): Promise<string> {
  return (await resolveHost(withContext(c, ctx), host)).id;
}

/** Actions whose body carries nothing: Nova name -> the ServerActionRequest field. */
const EMPTY_ACTIONS: Record<string, keyof ActionRequest> = {
  'os-start': 'start',
  'os-stop': 'stop',
  pause: 'pause',
  unpause: 'unpause',
  suspend: 'suspend',
  resume: 'resume',
  unlock: 'unlock',
  shelve: 'shelve',
  unshelve: 'unshelve',
  unrescue: 'unrescue',
  confirmResize: 'confirmResize',
  revertResize: 'revertResize',
};

/**
 * The ServerActionRequest for a Nova action body (already checked by its schema), resolving host
 * names for os-migrateLive and evacuate.
 * @throws HttpError 400 "There is no such action: X" for an action the controller lacks
 */
export async function actionRequest(name: string, body: Body, hostId: (host: string) => Promise<string>): Promise<Partial<ActionRequest>> {
  const b = (body ?? {}) as Record<string, unknown>;
  if (name in EMPTY_ACTIONS) return { [EMPTY_ACTIONS[name]]: {} };
  switch (name) {
    case 'reboot':
      return { reboot: { type: String(b.type).toUpperCase() } };
    case 'lock':
      return { lock: { reason: '' } };
    case 'rebuild':
      return { rebuild: { imageRef: String(b.imageRef) } };
    case 'resize':
      return { resize: { flavorRef: String(b.flavorRef) } };
    case 'createImage':
      return { createImage: { name: String(b.name), metadata: (b.metadata as Record<string, string>) ?? {} } };
    case 'migrate':
      return { migrate: { live: false, hostId: '', blockMigration: false } };
    case 'os-migrateLive':
      return { migrate: { live: true, hostId: b.host ? await hostId(String(b.host)) : '', blockMigration: boolOf(b.block_migration) } };
    case 'evacuate':
      return { evacuate: { hostId: b.host ? await hostId(String(b.host)) : '' } };
    case 'rescue':
      return { rescue: { rescueImageRef: String(b.rescue_image_ref ?? '') } };
    default:
      throw new HttpError(400, `There is no such action: ${name}`);
  }
}

/**
 * POST /servers/{id}/action: every action the controller has, with Nova 2.1's bodies and answers:
 * 202 and no body for most; confirmResize 204; rebuild 202 with the server; createImage 202 with
 * the image's URL in Location (before 2.45); rescue and evacuate 200 with `{}` (Nova with
 * enable_instance_password off: minicloud sets no guest passwords). A wrong state is the
 * controller's FAILED_PRECONDITION, 409 conflictingRequest "Cannot 'pause' instance X while it is
 * in vm_state stopped".
 */
export async function actionRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest) => ComputeUrls): Promise<void> {
  const c = deps.backends.compute;
  app.post<{ Params: { id: string } }>('/servers/:id/action', { schema: { body: serverActionBody } }, async (req, reply: FastifyReply) => {
    const body = req.body as Record<string, Body>;
    const [name] = Object.keys(body);
    const ctx = callContext(req);
    const action = await actionRequest(name, body[name], (host) => hostIdOf(c, ctx, host));
    const res = await c.serverAction({ serverId: req.params.id, ...action }, ctx);
    switch (name) {
      case 'confirmResize':
        return reply.code(204).send();
      case 'rescue':
      case 'evacuate':
        return reply.code(200).send({});
      case 'createImage':
        return reply.code(202).header('location', `${baseUrl(req, deps.publicUrl)}/image/v2/images/${res.imageId}`).send();
      case 'rebuild': {
        const b = body.rebuild as { name?: string; metadata?: Record<string, string> };
        let server = res.server ?? (await c.getServer({ serverId: req.params.id }, ctx)).server!;
        // Nova's rebuild also renames and replaces metadata; the controller's rebuild takes the image only
        if (b.name !== undefined || b.metadata !== undefined) {
          const remove = b.metadata ? Object.keys(server.metadata).filter((k) => !(k in b.metadata!)) : [];
          server = (await c.updateServer({ serverId: req.params.id, name: b.name, setMetadata: b.metadata ?? {}, removeMetadata: remove }, ctx)).server!;
        }
        return reply.code(202).send({ server: serverDetail(server, urls(req)) });
      }
      default:
        return reply.code(202).send();
    }
  });
}
