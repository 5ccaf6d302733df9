import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { NoValidHostError } from '@minicloud/domain-scheduler';
import { image as imageProto, type compute } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial } from '@minicloud/platform-grpc';
import { claimedDiskGb, isVolumeBacked, type InstanceRecord, type ResizeInfo, checkLifecycleAllowed, checkNotLocked, type LifecycleAction } from '@minicloud/domain-compute';
import type { ApiDeps } from './api-deps';

/** What the lifecycle actions use. */
export type LifecycleActionDeps = Pick<
  ApiDeps,
  'flavors' | 'instances' | 'allocations' | 'serverGroups' | 'placement' | 'quotas' | 'peers' | 'metrics' | 'nowMs' | 'queue' | 'transition' | 'allowResizeToSameHost' | 'migrationRecords'
>;
import { findVisibleFlavor } from './flavor-handlers';
import { serverToProto } from './proto-mapping';
import { groupPlacementOf } from '../placement/relocation';
import { resolveImage } from './server-helpers';

/** The ServerActionRequest fields handled here, with their rule names. */
export const LIFECYCLE_FIELDS: [keyof compute.ServerActionRequest, LifecycleAction][] = [
  ['resize', 'resize'],
  ['confirmResize', 'confirm_resize'],
  ['revertResize', 'revert_resize'],
  ['rebuild', 'rebuild'],
  ['shelve', 'shelve'],
  ['unshelve', 'unshelve'],
  ['rescue', 'rescue'],
  ['unrescue', 'unrescue'],
  ['createImage', 'create_image'],
  ['lock', 'lock'],
  ['unlock', 'unlock'],
];

/**
 * Runs one lifecycle action of ServerAction: checks lock and allowed states (FAILED_PRECONDITION
 * naming the state), does the synchronous part (placement + claim for resize/unshelve, image
 * record for rebuild/createImage, quota for resize), enters the task_state and enqueues the
 * instance for the conductor's lifecycle worker. lock/unlock complete at once.
 * @throws FailedPreconditionError (instance_invalid_state, instance_locked); NoValidHostError;
 *   InvalidArgumentError naming the field; ResourceExhaustedError from quota
 */
export async function runLifecycleAction(
  d: LifecycleActionDeps,
  r: InstanceRecord,
  action: LifecycleAction,
  req: compute.ServerActionRequest,
  ctx: CallContext,
  a: AuthContext,
): Promise<DeepPartial<compute.ServerActionResponse>> {
  const admin = isCloudAdmin(a);
  const now = d.nowMs();
  const logStart = (name: string) =>
    d.instances.startAction(r.id, { requestId: ctx.requestId, action: name, userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });

  if (action === 'lock' || action === 'unlock') {
    const next = await d.instances.update(
      r.id,
      (cur) => {
        if (action === 'unlock' && cur.locked && cur.lockedByAdmin && !admin) throw new PermissionDeniedError(`instance ${cur.id} was locked by an admin`);
        return action === 'lock'
          ? { ...cur, locked: true, lockedReason: req.lock?.reason ?? '', lockedByAdmin: admin }
          : { ...cur, locked: false, lockedReason: '', lockedByAdmin: false };
      },
      now,
    );
    if (!next) throw new NotFoundError('server', r.id);
    await logStart(action);
    await d.instances.finishAction(r.id, ctx.requestId, 'Success', '', now);
    return { server: serverToProto(next, { admin }) };
  }

  checkNotLocked(r, admin);
  const rule = checkLifecycleAllowed(action, r);
  const extra: Partial<InstanceRecord> = {};
  let undo: () => Promise<void> = async () => undefined;
  let response: DeepPartial<compute.ServerActionResponse> = {};

  if (action === 'resize') {
    const ref = req.resize?.flavorRef;
    if (!ref) throw new InvalidArgumentError('resize.flavor_ref', 'is required');
    const flavor = await findVisibleFlavor(d.flavors, ref, ctx.auth);
    if (!flavor) throw new NotFoundError('flavor', ref);
    if (flavor.id === r.flavor.id) throw new InvalidArgumentError('resize.flavor_ref', 'is the current flavor (Nova: CannotResizeToSameFlavor)');
    if (flavor.diskGb < r.flavor.diskGb) throw new InvalidArgumentError('resize.flavor_ref', `disk_gb ${flavor.diskGb} is smaller than the current ${r.flavor.diskGb} (disks are not shrunk)`);
    const quotaDelta = { cores: Math.max(0, flavor.vcpus - r.flavor.vcpus), ramMb: Math.max(0, flavor.ramMb - r.flavor.ramMb) };
    const qres = await d.quotas.reserve(r.projectId, { instances: 0, ...quotaDelta });
    let dest: string;
    try {
      const group = await groupPlacementOf({ ...d, migrations: d.migrationRecords }, r.serverGroupId, r.id);
      const placements = await d.placement.placeAll(
        {
          numInstances: 1,
          instanceUuids: [r.id],
          flavor: { vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: flavor.diskGb, extraSpecs: flavor.extraSpecs },
          image: { properties: r.image.properties },
          availabilityZone: await d.placement.instanceZone(r),
          schedulerHints: d.allowResizeToSameHost ? {} : { differentHost: [r.id] },
          serverGroup: group?.spec,
        },
        { vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: claimedDiskGb(r, flavor.diskGb) },
        { consumerSuffix: '#resize', groupMembers: group?.members },
      );
      dest = placements.get(r.id)!;
      await d.quotas.commit(qres);
    } catch (e) {
      await d.quotas.rollback(qres);
      if (e instanceof NoValidHostError) d.metrics.noValidHost.inc();
      throw e;
    }
    const info: ResizeInfo = {
      migrationId: randomUUID(),
      sourceHostId: r.hostId,
      destHostId: dest,
      oldFlavor: r.flavor,
      newFlavor: flavor,
      wasRunning: r.powerState === 'running',
      quotaDelta,
    };
    extra.resize = info;
    undo = async () => {
      await d.allocations.release(dest, `${r.id}#resize`);
      await d.quotas.release(r.projectId, { instances: 0, ...quotaDelta });
    };
    response = { migrationId: info.migrationId };
  } else if (action === 'unshelve') {
    const group = await groupPlacementOf({ ...d, migrations: d.migrationRecords }, r.serverGroupId, r.id);
    let placements;
    try {
      placements = await d.placement.placeAll(
        {
          numInstances: 1,
          instanceUuids: [r.id],
          flavor: { vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: r.flavor.diskGb, extraSpecs: r.flavor.extraSpecs },
          image: { properties: r.image.properties },
          availabilityZone: await d.placement.instanceZone(r),
          schedulerHints: {},
          serverGroup: group?.spec,
        },
        { vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: claimedDiskGb(r, r.flavor.diskGb) },
        { groupMembers: group?.members },
      );
    } catch (e) {
      if (e instanceof NoValidHostError) d.metrics.noValidHost.inc();
      throw e;
    }
    const host = placements.get(r.id)!;
    extra.hostId = host;
    undo = async () => void (await d.allocations.release(host, r.id));
  } else if (action === 'rebuild') {
    if (isVolumeBacked(r)) throw new FailedPreconditionError(`server ${r.id} boots from volume: rebuild needs an image on local disk`, 'volume_backed');
    const ref = req.rebuild?.imageRef || r.image.id;
    const img = await resolveImage(d, ref, ctx);
    if (img.status !== imageProto.ImageStatus.IMAGE_STATUS_ACTIVE) throw new FailedPreconditionError(`image ${img.id} is not active`, 'image_not_active');
    extra.image = { id: img.id, diskFormat: img.diskFormat, sizeBytes: img.sizeBytes, virtualSizeBytes: img.virtualSizeBytes, sha256: img.osHashValue, properties: img.properties };
    // Nova's rebuild of a stopped instance leaves it stopped (compute manager: stop after rebuild)
    extra.rebuildFromStopped = r.vmState === 'stopped' || undefined;
    extra.adminPass = req.rebuild?.adminPass || undefined;
  } else if (action === 'rescue') {
    extra.adminPass = req.rescue?.adminPass || undefined;
  } else if (action === 'create_image') {
    if (isVolumeBacked(r)) throw new FailedPreconditionError(`server ${r.id} boots from volume: snapshot its volume instead`, 'volume_backed');
    const name = req.createImage?.name?.trim();
    if (!name) throw new InvalidArgumentError('create_image.name', 'is required');
    const created = await createSnapshotImage(d, r, name, req.createImage?.metadata ?? {}, ctx);
    extra.snapshotImageId = created.id;
    undo = created.undo;
    response = { imageId: created.id };
  } else if (action === 'shelve' && !isVolumeBacked(r)) {
    // Nova's shelve of an image-backed server snapshots it to `<name>-shelved` (shelved_image_id),
    // which unshelve boots from and then deletes; a volume-backed server keeps its disk on the volume.
    const created = await createSnapshotImage(d, r, `${r.name}-shelved`, {}, ctx);
    extra.snapshotImageId = created.id;
    extra.shelvedImageId = created.id;
    undo = created.undo;
  }

  const next = await d.transition(r.id, (cur) => {
    checkNotLocked(cur, admin);
    checkLifecycleAllowed(action, cur);
    return { ...cur, ...extra, taskState: rule.taskState, taskStartedAtMs: now, actionRequestId: ctx.requestId };
  }).catch(async (e: unknown) => {
    await undo();
    throw e;
  });
  if (!next) {
    await undo();
    throw new NotFoundError('server', r.id);
  }
  await logStart(rule.actionName);
  d.queue.enqueue(r.id);
  return { ...response, server: serverToProto(next, { admin }) };
}

/**
 * Creates the queued image a snapshot of `r` will fill (create_image, shelve), in the caller's
 * project, with Nova's snapshot properties: the base image's, then image_type snapshot,
 * instance_uuid and base_image_ref, then `metadata` over them (an image_type given wins).
 * @returns the new image's id and an undo that deletes it
 */
async function createSnapshotImage(
  d: LifecycleActionDeps,
  r: InstanceRecord,
  name: string,
  metadata: Record<string, string>,
  ctx: CallContext,
): Promise<{ id: string; undo: () => Promise<void> }> {
  const client = await d.peers.image();
  const base = await client.getImage({ imageId: r.image.id }).then((x) => x.image).catch(() => undefined);
  const created = (
    await client.createImage(
      {
        name,
        diskFormat: r.image.diskFormat,
        containerFormat: base?.containerFormat || 'bare',
        minRamMb: base?.minRamMb ?? 0,
        minDiskGb: base?.minDiskGb ?? 0,
        properties: { ...r.image.properties, image_type: 'snapshot', instance_uuid: r.id, base_image_ref: r.image.id, ...metadata },
        sourceInstanceId: r.id,
      },
      { token: ctx.token, requestId: ctx.requestId },
    )
  ).image!;
  return { id: created.id, undo: async () => void (await client.deleteImage({ imageId: created.id }, { token: ctx.token }).catch(() => undefined)) };
}
