import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { image as imageProto, volume, type compute } from '@minicloud/proto';
import type { CallContext } from '@minicloud/platform-grpc';
import type { InstanceVolume } from '@minicloud/domain-compute';
import { chooseDeviceName, ROOT_DEVICE } from '../build/volume-attach';
import type { ApiDeps } from './api-deps';
import { resolveImage } from './server-helpers';

const GIB = 1024 ** 3;
const SOURCES = new Set(['image', 'volume', 'snapshot', 'blank']);

/** One validated BDM, the same for every instance of the request. */
export interface BdmTemplate {
  sourceType: 'image' | 'volume' | 'snapshot' | 'blank';
  /** Image, volume or snapshot id ('' for blank). */
  uuid: string;
  sizeGb: number;
  deviceName: string;
  /** 0 = root disk; undefined = not bootable. */
  bootIndex?: number;
  deleteOnTermination: boolean;
}

/** The block devices of a CreateServer. `rootImage`: the image that boots the server from local disk, when it does. */
export interface BlockDevicePlan {
  bootFromVolume: boolean;
  rootImage?: imageProto.Image;
  /** Image metadata for the scheduler (the root volume's image when booting from volume). */
  imageProperties: Record<string, string>;
  templates: BdmTemplate[];
}

/**
 * Validates CreateServer's image_ref + block_device_mappings with Nova's block_device_mapping_v2 rules
 * (reduced) and resolves every referenced image, volume and snapshot with the caller's token:
 * - source_type image|volume|snapshot|blank; destination_type volume (default) or local (only for
 *   the root image: a plain image boot); boot_index 0 = the root disk /dev/vda (once at most), a
 *   negative boot_index = not bootable (proto3 has no "unset", so pass -1 for data volumes);
 * - image -> volume needs volume_size_gb >= the image's virtual size and min_disk_gb; blank needs a
 *   size; snapshot defaults to the snapshot's size; an existing volume must be available (or in-use
 *   and multiattach) and cannot go to more than one server (max_count > 1);
 * - image_ref is required unless a BDM has boot_index 0, and must be empty (or the same image)
 *   when one does.
 * @throws InvalidArgumentError naming `block_device_mappings[i].<field>` or `image_ref`;
 *   NotFoundError image/volume/snapshot (another project's reads as missing);
 *   FailedPreconditionError volume_not_available / image_not_active / snapshot_not_available
 */
export async function planBlockDevices(d: Pick<ApiDeps, 'peers'>, req: compute.CreateServerRequest, count: number, ctx: CallContext): Promise<BlockDevicePlan> {
  const raw = req.blockDeviceMappings;
  const f = (i: number, field: string) => `block_device_mappings[${i}].${field}`;
  const templates: BdmTemplate[] = [];
  let rootImageRef = '';
  let bootFromVolume = false;
  let imageProperties: Record<string, string> = {};
  const used: string[] = [];
  const roots = raw.filter((b) => b.bootIndex === 0);
  if (roots.length > 1) throw new InvalidArgumentError('block_device_mappings', 'boot_index 0 is given more than once (give data volumes boot_index -1)');
  const vols = raw.some((b) => b.sourceType === 'volume' || b.sourceType === 'snapshot') ? await d.peers.volume() : undefined;
  for (const [i, b] of raw.entries()) {
    if (!SOURCES.has(b.sourceType)) throw new InvalidArgumentError(f(i, 'source_type'), `must be one of image, volume, snapshot, blank, got '${b.sourceType}'`);
    const dest = b.destinationType || 'volume';
    if (dest !== 'volume' && dest !== 'local') throw new InvalidArgumentError(f(i, 'destination_type'), `must be volume or local, got '${b.destinationType}'`);
    const isRoot = b.bootIndex === 0;
    if (dest === 'local') {
      if (!(b.sourceType === 'image' && isRoot)) throw new InvalidArgumentError(f(i, 'destination_type'), 'local is supported only for the root image (source_type image, boot_index 0)');
      rootImageRef = b.uuid || req.imageRef;
      continue;
    }
    const sourceType = b.sourceType as BdmTemplate['sourceType'];
    const uuid = sourceType === 'image' && !b.uuid && isRoot ? req.imageRef : b.uuid;
    if (sourceType !== 'blank' && !uuid) throw new InvalidArgumentError(f(i, 'uuid'), `is required for source_type ${sourceType}`);
    if (sourceType === 'blank' && uuid) throw new InvalidArgumentError(f(i, 'uuid'), 'must be empty for source_type blank');
    if (b.volumeSizeGb < 0) throw new InvalidArgumentError(f(i, 'volume_size_gb'), `must be >= 0, got ${b.volumeSizeGb}`);
    let sizeGb = b.volumeSizeGb;
    let id = uuid;
    if (sourceType === 'image') {
      const img = await resolveImage(d, uuid, ctx);
      if (img.status !== imageProto.ImageStatus.IMAGE_STATUS_ACTIVE) throw new FailedPreconditionError(`image ${img.id} is not active`, 'image_not_active');
      const needGb = Math.max(Math.ceil(img.virtualSizeBytes / GIB), img.minDiskGb, 1);
      if (sizeGb === 0) throw new InvalidArgumentError(f(i, 'volume_size_gb'), `is required for source_type image (at least ${needGb} GB)`);
      if (sizeGb < needGb) throw new InvalidArgumentError(f(i, 'volume_size_gb'), `must be at least ${needGb} GB for image ${img.id}, got ${sizeGb}`);
      id = img.id;
      if (isRoot) imageProperties = img.properties;
    } else if (sourceType === 'blank') {
      if (sizeGb === 0) throw new InvalidArgumentError(f(i, 'volume_size_gb'), 'is required for source_type blank');
    } else if (sourceType === 'snapshot') {
      const snap = await vols!.getSnapshot({ snapshotId: uuid }, { token: ctx.token, requestId: ctx.requestId }).catch((e) => rethrowMissing(e, 'snapshot', uuid));
      const s = snap.snapshot!;
      if (s.status !== 'available') throw new FailedPreconditionError(`snapshot ${uuid} is ${s.status}; it must be available`, 'snapshot_not_available');
      if (sizeGb === 0) sizeGb = s.sizeGb;
      if (sizeGb < s.sizeGb) throw new InvalidArgumentError(f(i, 'volume_size_gb'), `must be at least the snapshot's ${s.sizeGb} GB, got ${sizeGb}`);
    } else {
      if (count > 1) throw new InvalidArgumentError(f(i, 'source_type'), 'an existing volume cannot be attached to more than one server (max_count > 1)');
      const v = (await vols!.getVolume({ volumeId: uuid }, { token: ctx.token, requestId: ctx.requestId }).catch((e) => rethrowMissing(e, 'volume', uuid))).volume!;
      const VS = volume.VolumeStatus;
      if (!(v.status === VS.VOLUME_STATUS_AVAILABLE || (v.multiattach && v.status === VS.VOLUME_STATUS_IN_USE))) {
        throw new FailedPreconditionError(`volume ${v.id} is ${volumeStatusName(v.status)}; it must be available${v.multiattach ? ' or in-use' : ''}`, 'volume_not_available');
      }
      if (templates.some((t) => t.sourceType === 'volume' && t.uuid === v.id)) throw new InvalidArgumentError(f(i, 'uuid'), `volume ${v.id} is mapped twice`);
      sizeGb = v.sizeGb;
      id = v.id;
    }
    let deviceName: string;
    if (isRoot) {
      if (b.deviceName && b.deviceName !== ROOT_DEVICE) throw new InvalidArgumentError(f(i, 'device_name'), `the root disk is ${ROOT_DEVICE}, got '${b.deviceName}'`);
      deviceName = ROOT_DEVICE;
      bootFromVolume = true;
    } else {
      try {
        deviceName = chooseDeviceName(used, b.deviceName || undefined);
      } catch (e) {
        throw e instanceof InvalidArgumentError ? new InvalidArgumentError(f(i, 'device_name'), e.message.replace(/^.*?device_name:?\s*/, '')) : e;
      }
    }
    used.push(deviceName);
    templates.push({ sourceType, uuid: id, sizeGb, deviceName, bootIndex: b.bootIndex >= 0 ? b.bootIndex : undefined, deleteOnTermination: b.deleteOnTermination });
  }
  if (bootFromVolume) {
    const root = templates.find((t) => t.bootIndex === 0)!;
    if (req.imageRef && !(root.sourceType === 'image' && (root.uuid === req.imageRef || (await resolveImage(d, req.imageRef, ctx)).id === root.uuid))) {
      throw new InvalidArgumentError('image_ref', 'must be empty when booting from a volume (boot_index 0 maps the root disk)');
    }
    return { bootFromVolume, imageProperties, templates };
  }
  const ref = rootImageRef || req.imageRef;
  if (!ref) throw new InvalidArgumentError('image_ref', 'is required unless a block device mapping has boot_index 0 (boot from volume)');
  const rootImage = await resolveImage(d, ref, ctx);
  return { bootFromVolume, rootImage, imageProperties: rootImage.properties, templates };
}

/** The instance's `volumesAttached` entries for `plan` (every one `attaching` until the build's block_device_mapping step). */
export function entriesFor(plan: BlockDevicePlan, nowMs: number): InstanceVolume[] {
  return plan.templates.map((t) => ({
    volumeId: t.sourceType === 'volume' ? t.uuid : '',
    deviceName: t.deviceName,
    attachmentId: '',
    status: 'attaching',
    deleteOnTermination: t.deleteOnTermination,
    startedAtMs: nowMs,
    sizeGb: t.sizeGb,
    readIopsLimit: 0,
    writeIopsLimit: 0,
    totalBytesSecLimit: 0,
    bootIndex: t.bootIndex,
    createdByBuild: t.sourceType !== 'volume' ? true : undefined,
    bdmSource: t.sourceType !== 'volume' ? { sourceType: t.sourceType, uuid: t.uuid } : undefined,
  }));
}

function rethrowMissing(e: unknown, what: string, id: string): never {
  if (e instanceof NotFoundError || e instanceof InvalidArgumentError) throw new NotFoundError(what, id);
  throw e;
}

function volumeStatusName(s: volume.VolumeStatus): string {
  return (volume.VolumeStatus[s] ?? String(s)).replace('VOLUME_STATUS_', '').toLowerCase().replace('_', '-');
}
