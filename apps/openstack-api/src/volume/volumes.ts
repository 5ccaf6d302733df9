import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listAll } from '@minicloud/client';
import { NotFoundError } from '@minicloud/domain-errors';
import type { volume } from '@minicloud/proto';
import type { ApiDeps } from '../deps';
import { callContext, queryValue } from '../http/context';
import { HttpError, invalidField } from '../http/errors';
import { paginate } from '../http/pagination';
import { volumeMetadataRoutes } from './metadata';
import { cinderSortOrder, flag, sortBy } from './query';
import { createVolumeBody, volumeActionBody } from './schemas';
import { cinderTime, volumeBody, volumeDetail, volumeStatusFromName, volumeStatusName, volumeSummary, type VolumeUrls } from './views';

type Req<P = unknown, B = unknown> = FastifyRequest<{ Params: { project_id: string } & P; Body: B }>;
type Urls = (req: FastifyRequest<{ Params: { project_id: string } }>) => VolumeUrls;
type Body = { volume: Record<string, unknown> };

/** Cinder's list filters the service's records can answer (exact match; name also as display_name). */
const FILTERS: Record<string, (v: volume.Volume) => string> = {
  name: (v) => v.name,
  display_name: (v) => v.name,
  status: (v) => volumeStatusName(v.status),
  availability_zone: (v) => v.availabilityZone || 'nova',
  bootable: (v) => String(v.bootable),
  volume_type: (v) => v.volumeType,
  project_id: (v) => v.projectId,
};

/** Cinder's osapi_max_limit: the largest page. */
const MAX_LIMIT = 1000;

/** Sort keys (Cinder sorts by any volume column; these are the ones the records carry). */
const SORT_KEYS: Record<string, (v: volume.Volume) => string | number> = {
  id: (v) => v.id,
  name: (v) => v.name,
  display_name: (v) => v.name,
  status: (v) => volumeStatusName(v.status),
  size: (v) => v.sizeGb,
  created_at: (v) => v.createdAt?.getTime() ?? 0,
  updated_at: (v) => (v.updatedAt ?? v.createdAt)?.getTime() ?? 0,
  availability_zone: (v) => v.availabilityZone,
  volume_type: (v) => v.volumeType,
  bootable: (v) => String(v.bootable),
  project_id: (v) => v.projectId,
};

/** Actions Cinder has that the volume service cannot do (no state behind them): 501, naming the way that works. */
const UNSUPPORTED_ACTIONS: Record<string, string> = {
  'os-reserve': 'attach with os-attach, which reserves and attaches at once',
  'os-unreserve': 'attach with os-attach, which reserves and attaches at once',
  'os-begin_detaching': 'detach with os-detach',
  'os-roll_detaching': 'detach with os-detach',
  'os-force_detach': 'detach with os-detach',
  'os-initialize_connection': 'the compute service connects volumes itself',
  'os-terminate_connection': 'the compute service connects volumes itself',
};

/**
 * Cinder v3.0 volumes: create (from nothing, an image, a snapshot or a volume; 202), list and
 * detail (filters, sort by creation, limit/marker with volumes_links, all_tenants for admins), show,
 * update and metadata ({@link volumeMetadataRoutes}), delete (202), and actions (os-extend,
 * os-retype, os-attach/os-detach as Nova's legacy flow uses them, os-set_bootable,
 * os-update_readonly_flag, os-volume_upload_image: raw/bare only, the volume's bytes unconverted;
 * os-reset_status, admin).
 */
export async function volumeRoutesV3(app: FastifyInstance, deps: ApiDeps, urls: Urls): Promise<void> {
  const volumes = deps.backends.volume;

  const list = async (req: Req) => {
    const ctx = callContext(req);
    const all = await listAll(async (pageToken) => {
      const res = await volumes.listVolumes({ status: 0, page: { pageSize: 1000, pageToken } }, ctx);
      return { items: res.volumes, next: res.page?.nextPageToken ?? '' };
    });
    // an admin sees every project's volumes only with all_tenants, as Cinder lists
    const mine = flag(req, 'all_tenants') ? undefined : (await deps.backends.identity.validateToken({}, ctx)).info?.projectId;
    const filters = Object.keys(FILTERS).flatMap((k) => (queryValue(req, k) === undefined ? [] : [[k, queryValue(req, k)!] as const]));
    const order = cinderSortOrder(req, Object.keys(SORT_KEYS));
    const meta = metadataFilter(queryValue(req, 'metadata'));
    const kept = all
      .filter((v) => mine === undefined || v.projectId === mine)
      .filter((v) => filters.every(([k, want]) => FILTERS[k](v) === want))
      .filter((v) => Object.entries(meta).every(([k, want]) => v.metadata[k] === want));
    const limit = queryValue(req, 'limit');
    const p = paginate(sortBy(kept, order, (v, k) => SORT_KEYS[k](v)), (v) => v.id, { limit, marker: queryValue(req, 'marker') }, MAX_LIMIT);
    // Cinder links a next page whenever a page is full, even when nothing follows it
    const full = p.items.length > 0 && p.items.length === Math.min(limit === undefined ? MAX_LIMIT : Number(limit), MAX_LIMIT);
    return { items: p.items, nextMarker: full ? p.items[p.items.length - 1].id : undefined };
  };
  const page = async (req: Req, view: (v: volume.Volume, u: VolumeUrls) => Record<string, unknown>, path: string) => {
    const p = await list(req);
    const u = urls(req);
    return {
      volumes: p.items.map((v) => view(v, u)),
      ...(p.nextMarker ? { volumes_links: [{ rel: 'next', href: `${u.versioned}/${path}?limit=${p.items.length}&marker=${p.nextMarker}` }] } : {}),
    };
  };
  app.get('/volumes', async (req) => {
    // `/volumes/` names a volume with an empty id (the router ignores the slash): Cinder answers 404
    if (req.url.split('?')[0].endsWith('/')) throw new NotFoundError('volume', '');
    return page(req as Req, volumeSummary, 'volumes');
  });
  app.get('/volumes/detail', async (req) => page(req as Req, volumeDetail, 'volumes/detail'));

  app.get<{ Params: { project_id: string; id: string } }>('/volumes/:id', async (req) => ({ volume: volumeDetail((await volumes.getVolume({ volumeId: req.params.id }, callContext(req))).volume!, urls(req)) }));

  app.post<{ Params: { project_id: string }; Body: Body }>('/volumes', { schema: { body: createVolumeBody } }, async (req, reply) => {
    const v = req.body.volume;
    const str = (k: string) => (typeof v[k] === 'string' && v[k] ? (v[k] as string) : undefined);
    const image = str('imageRef') ?? str('image_id');
    const snapshot = str('snapshot_id');
    const source = str('source_volid');
    if ([image, snapshot, source].filter(Boolean).length > 1) throw invalidField('volume', 'give at most one of imageRef, snapshot_id and source_volid.');
    const ctx = callContext(req);
    let sizeGb = v.size === null || v.size === undefined ? 0 : Number(v.size);
    if (!sizeGb) {
      // Cinder takes the size of the snapshot or source volume when none is given
      if (snapshot) sizeGb = (await volumes.getSnapshot({ snapshotId: snapshot }, ctx)).snapshot!.sizeGb;
      else if (source) sizeGb = (await volumes.getVolume({ volumeId: source }, ctx)).volume!.sizeGb;
      else throw invalidField('volume.size', "'size' is a required property.");
    }
    const created = await volumes.createVolume(
      {
        name: str('name') ?? str('display_name') ?? '',
        description: str('description') ?? str('display_description') ?? '',
        sizeGb,
        volumeType: str('volume_type') ?? '',
        availabilityZone: str('availability_zone') ?? '',
        imageId: image,
        snapshotId: snapshot,
        sourceVolumeId: source,
        metadata: (v.metadata as Record<string, string> | undefined) ?? {},
        projectId: '',
      },
      ctx,
    );
    return reply.code(202).send({ volume: volumeBody(created.volume!, urls(req)) });
  });

  await volumeMetadataRoutes(app, deps, urls);

  app.delete<{ Params: { project_id: string; id: string } }>('/volumes/:id', async (req, reply) => {
    if (flag(req, 'cascade') || flag(req, 'force')) throw new HttpError(501, 'cascade and force deletes are not supported by this cloud.');
    await volumes.deleteVolume({ volumeId: req.params.id }, callContext(req));
    return reply.code(202).send();
  });

  app.post<{ Params: { project_id: string; id: string }; Body: Record<string, Record<string, unknown> | null> }>(
    '/volumes/:id/action',
    { schema: { body: volumeActionBody } },
    async (req, reply) => {
      const [action, arg] = Object.entries(req.body)[0];
      const volumeId = req.params.id;
      const ctx = callContext(req);
      if (action === 'os-extend') {
        await volumes.extendVolume({ volumeId, newSizeGb: Number(arg!.new_size) }, ctx);
      } else if (action === 'os-retype') {
        await volumes.retypeVolume({ volumeId, newVolumeType: String(arg!.new_type) }, ctx);
      } else if (action === 'os-attach') {
        if (!arg!.instance_uuid) throw invalidField('os-attach.instance_uuid', "'instance_uuid' is required: attaching to a host alone is not supported.");
        const { attachment } = await volumes.createAttachment({ volumeId, instanceId: String(arg!.instance_uuid), hostId: (arg!.host_name as string | null) ?? '', mountpoint: String(arg!.mountpoint) }, ctx);
        try {
          await volumes.completeAttachment({ attachmentId: attachment!.id }, ctx);
        } catch (e) {
          // nothing half-made: a reservation that cannot complete is released
          await volumes.deleteAttachment({ attachmentId: attachment!.id, volumeId: '', instanceId: '' }, ctx).catch(() => undefined);
          throw e;
        }
      } else if (action === 'os-volume_upload_image') {
        const { volume: v, imageId } = await volumes.uploadVolumeToImage(
          { volumeId, imageName: String(arg!.image_name), diskFormat: (arg!.disk_format as string | undefined) ?? 'raw', containerFormat: (arg!.container_format as string | undefined) ?? 'bare' },
          ctx,
        );
        return reply.code(202).send({
          'os-volume_upload_image': {
            id: v!.id,
            updated_at: cinderTime(v!.updatedAt),
            status: volumeStatusName(v!.status),
            display_description: v!.description || null,
            size: v!.sizeGb,
            volume_type: null,
            image_id: imageId,
            container_format: (arg!.container_format as string | undefined) ?? 'bare',
            disk_format: (arg!.disk_format as string | undefined) ?? 'raw',
            image_name: arg!.image_name,
          },
        });
      } else if (action === 'os-reset_status') {
        const status = volumeStatusFromName(String(arg!.status));
        if (status === undefined) throw invalidField('os-reset_status.status', `'${String(arg!.status)}' is not a volume status.`);
        await volumes.resetVolumeStatus({ volumeId, status }, ctx);
      } else if (action === 'os-set_bootable') {
        await volumes.updateVolume({ volumeId, bootable: truthy(arg!.bootable), setMetadata: {}, removeMetadata: [] }, ctx);
        return reply.code(200).send(); // Cinder answers this action 200, the others 202
      } else if (action === 'os-update_readonly_flag') {
        await volumes.updateVolume({ volumeId, readOnly: truthy(arg!.readonly), setMetadata: {}, removeMetadata: [] }, ctx);
      } else if (action === 'os-detach') {
        await detach(volumes, volumeId, (arg?.attachment_id as string | null | undefined) ?? undefined, ctx);
      } else if (action in UNSUPPORTED_ACTIONS) {
        throw new HttpError(501, `Action ${action} is not supported by this cloud: ${UNSUPPORTED_ACTIONS[action]}.`);
      } else {
        throw new HttpError(400, `There is no such action: ${action}`);
      }
      return reply.code(202).send();
    },
  );
}

/**
 * Cinder's `metadata` list filter: a dict literal of the items a volume must have, as JSON or in
 * Python's form (`{'Type': 'work'}`, which Cinder reads with ast.literal_eval and clients send).
 * @throws HttpError 400 naming metadata when it is not such an object of strings
 */
export function metadataFilter(raw: string | undefined): Record<string, string> {
  if (raw === undefined || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    try {
      // single-quoted Python strings as JSON strings (a quote inside one is escaped as \')
      parsed = JSON.parse(raw.replace(/'((?:[^'\\]|\\.)*)'/g, (_m, body: string) => JSON.stringify(body.replace(/\\'/g, "'"))));
    } catch {
      parsed = undefined;
    }
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed) || !Object.values(parsed).every((x) => typeof x === 'string')) {
    throw invalidField('metadata', `'${raw}' is not a dict of strings.`);
  }
  return parsed as Record<string, string>;
}

/** A boolean action argument as Cinder's strutils.bool_from_string reads it (the schema admits only its forms). */
function truthy(v: unknown): boolean {
  return v === true || ['true', '1', 'yes', 'on', 'y', 't'].includes(String(v).toLowerCase());
}

/**
 * os-detach: the named attachment, or the volume's only one (Cinder needs attachment_id when a
 * multiattach volume has several).
 * @throws HttpError 400 when the volume has several attachments and none is named, 409 when it has none
 */
async function detach(volumes: ApiDeps['backends']['volume'], volumeId: string, attachmentId: string | undefined, ctx: ReturnType<typeof callContext>): Promise<void> {
  const v = (await volumes.getVolume({ volumeId }, ctx)).volume!;
  if (attachmentId) {
    if (!v.attachments.some((a) => a.id === attachmentId)) throw new HttpError(404, `Attachment ${attachmentId} could not be found.`);
  } else {
    if (v.attachments.length === 0) throw new HttpError(409, `Invalid volume: volume ${volumeId} is not attached.`);
    if (v.attachments.length > 1) throw invalidField('os-detach.attachment_id', 'the volume has several attachments: name one.');
    attachmentId = v.attachments[0].id;
  }
  await volumes.deleteAttachment({ attachmentId, volumeId: '', instanceId: '' }, ctx);
}
