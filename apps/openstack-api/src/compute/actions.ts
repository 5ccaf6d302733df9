import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { compute } from '@minicloud/proto';
import { resolveHost } from '@minicloud/client';
import { MinicloudError, NotFoundError } from '@minicloud/domain-errors';
import type { CallContext } from '../backends';
import type { ApiDeps } from '../deps';
import { baseUrl, callContext } from '../http/context';
import { HttpError } from '../http/errors';
import { adminPassOf } from './admin-password';
import { serverActionBody } from './extra-schemas';
import { securityGroupAction } from './security-groups';
import { serverBasic, type ComputeUrls } from './views';

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
 * @throws HttpError 400 "There is no such action: X" for an action the controller lacks, 400 for an
 *   unknown os-migrateLive host; NotFoundError for an unknown evacuate host
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
      return { rebuild: { imageRef: String(b.imageRef), adminPass: adminPassOf(b) } };
    case 'resize':
      return { resize: { flavorRef: String(b.flavorRef) } };
    case 'createImage':
      return { createImage: { name: String(b.name), metadata: (b.metadata as Record<string, string>) ?? {} } };
    case 'migrate':
      return { migrate: { live: false, hostId: '', blockMigration: false } };
    case 'os-migrateLive': {
      // Nova answers an unknown destination of a live migration with 400 (ComputeHostNotFound ->
      // HTTPBadRequest); evacuate keeps its 404
      const dest = b.host ? await hostId(String(b.host)).catch((e: unknown) => Promise.reject(e instanceof NotFoundError ? new HttpError(400, e.message) : e)) : '';
      return { migrate: { live: true, hostId: dest, blockMigration: boolOf(b.block_migration) } };
    }
    case 'evacuate':
      // Nova: the given adminPass, else a generated one unless the disk on shared storage keeps the guest's own
      return { evacuate: { hostId: b.host ? await hostId(String(b.host)) : '', adminPass: typeof b.adminPass === 'string' || !boolOf(b.onSharedStorage) ? adminPassOf(b) : '' } };
    case 'rescue':
      return { rescue: { rescueImageRef: String(b.rescue_image_ref ?? ''), adminPass: adminPassOf(b) } };
    case 'changePassword':
      return { changePassword: { adminPass: String(b.adminPass) } };
    default:
      throw new HttpError(400, `There is no such action: ${name}`);
  }
}

/** Reasons of a live migration's failed pre-checks (the scheduler's, the controller's, the destination agent's). */
const LIVE_MIGRATION_PRECHECKS: ReadonlySet<string> = new Set(['no_valid_host', 'cpu_incompatible', 'host_memory_low']);

/** Control characters Nova strips from console output (all below 0x20 but tab and newline). */
const CONSOLE_CONTROL_CHARS = /[\x00-\x08\x0B-\x1F]/g;

/**
 * os-getConsoleOutput: `{"output": "..."}`, the last `length` lines (null or -1: all; a string of
 * digits is taken as Nova takes it; below -1 a 400 naming length), control characters removed as Nova does.
 * A server with no console (no host, being deleted or migrated) is the controller's
 * FAILED_PRECONDITION, 409.
 */
async function consoleOutput(c: ApiDeps['backends']['compute'], ctx: CallContext, serverId: string, body: Body): Promise<{ output: string }> {
  const raw = (body as { length?: unknown } | null)?.length;
  const length = raw === null || raw === undefined ? undefined : Number(raw);
  if (length !== undefined && (!Number.isInteger(length) || length < -1 || length > 2147483647)) {
    throw new HttpError(400, `Invalid input for field/attribute length. Value: ${String(raw)}. ${String(raw)} is less than the minimum of -1`);
  }
  const res = await c.getConsoleOutput({ serverId, length: length === -1 ? undefined : length }, ctx);
  return { output: res.output.replace(CONSOLE_CONTROL_CHARS, '') };
}

/**
 * POST /servers/{id}/action: every action the controller has, with Nova 2.1's bodies and answers
 * (addSecurityGroup / removeSecurityGroup update the server's ports in the network service):
 * 202 and no body for most; os-getConsoleOutput 200 with the output; confirmResize 204; rebuild 202 with the server (Nova's basic view
 * and its `adminPass`); createImage 202 with the image's URL in Location (before 2.45); rescue and
 * evacuate 200 with `{"adminPass": ...}` (Nova with enable_instance_password on; the body's adminPass
 * or a generated one, which the guest gets); changePassword 202 (the running guest's root password,
 * set through the agent; 409 unless ACTIVE). A wrong state is the
 * controller's FAILED_PRECONDITION, 409 conflictingRequest "Cannot 'pause' instance X while it is
 * in vm_state stopped".
 */
export async function actionRoutes(app: FastifyInstance, deps: ApiDeps, urls: (req: FastifyRequest) => ComputeUrls): Promise<void> {
  const c = deps.backends.compute;
  app.post<{ Params: { id: string } }>('/servers/:id/action', { schema: { body: serverActionBody } }, async (req, reply: FastifyReply) => {
    const body = req.body as Record<string, Body>;
    const [name] = Object.keys(body);
    const ctx = callContext(req);
    if (name === 'os-getConsoleOutput') return reply.code(200).send(await consoleOutput(c, ctx, req.params.id, body[name]));
    if (name === 'addSecurityGroup' || name === 'removeSecurityGroup') return securityGroupAction(deps, req, reply, name, String((body[name] as { name: string }).name));
    const action = await actionRequest(name, body[name], (host) => hostIdOf(c, ctx, host));
    const res = await c.serverAction({ serverId: req.params.id, ...action }, ctx).catch((e: unknown) => {
      // Nova answers 400 for the flavor of a resize or the image of a rebuild that does not exist
      if (e instanceof NotFoundError && name === 'resize' && e.resourceType === 'flavor') throw new HttpError(400, 'Unable to locate requested flavor.');
      if (e instanceof NotFoundError && name === 'rebuild' && e.resourceType === 'image') throw new HttpError(400, 'Cannot find image for rebuild');
      // Nova's os-migrateLive answers every failed pre-check 400 (NoValidHost, MigrationPreCheckError,
      // InvalidCPUInfo for a destination whose CPU cannot take the guest's, a destination that takes no new VM)
      if (name === 'os-migrateLive' && e instanceof MinicloudError && LIVE_MIGRATION_PRECHECKS.has(e.reason ?? '')) throw new HttpError(400, e.message);
      throw e;
    });
    switch (name) {
      case 'confirmResize':
        return reply.code(204).send();
      // Nova 2.1 (before 2.14 for evacuate) with enable_instance_password: the password set, null for an
      // evacuation on shared storage that keeps the guest's own
      case 'rescue':
        return reply.code(200).send({ adminPass: action.rescue!.adminPass });
      case 'evacuate':
        return reply.code(200).send({ adminPass: action.evacuate!.adminPass || null });
      case 'createImage':
        return reply.code(202).header('location', `${baseUrl(req, deps.publicUrl)}/image/v2/images/${res.imageId}`).send();
      case 'rebuild': {
        const b = body.rebuild as { name?: string; metadata?: Record<string, string>; accessIPv4?: string; accessIPv6?: string };
        let server = res.server ?? (await c.getServer({ serverId: req.params.id }, ctx)).server!;
        // Nova's rebuild also renames, replaces metadata and sets the access addresses; the controller's
        // rebuild takes the image only
        if (b.name !== undefined || b.metadata !== undefined || b.accessIPv4 !== undefined || b.accessIPv6 !== undefined) {
          const remove = b.metadata ? Object.keys(server.metadata).filter((k) => !(k in b.metadata!)) : [];
          server = (
            await c.updateServer(
              { serverId: req.params.id, name: b.name, setMetadata: b.metadata ?? {}, removeMetadata: remove, accessIpV4: b.accessIPv4, accessIpV6: b.accessIPv6 },
              ctx,
            )
          ).server!;
        }
        return reply.code(202).send({ server: { ...serverBasic(server, urls(req)), adminPass: action.rebuild!.adminPass } });
      }
      default:
        return reply.code(202).send();
    }
  });
}
