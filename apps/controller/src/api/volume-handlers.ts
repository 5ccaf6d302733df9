import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute, volume } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial } from '@minicloud/platform-grpc';
import { type InstanceRecord, checkNotLocked } from '@minicloud/domain-compute';
import { checkVolumeActionAllowed, VolumeAttacher } from '../build/volume-attach';
import type { ApiDeps } from './api-deps';

/** What the volume actions use. */
export type VolumeActionDeps = Pick<ApiDeps, 'instances' | 'hosts' | 'peers' | 'agents' | 'nowMs'>;
import { serverToProto } from './proto-mapping';

/**
 * The volume as the caller sees it (GetVolume with the caller's token, so project scoping is the
 * volume service's). @throws NotFoundError('volume', id) when absent or another project's
 */
export async function resolveVolume(d: Pick<ApiDeps, 'peers'>, volumeId: string, ctx: CallContext): Promise<volume.Volume> {
  const client = await d.peers.volume();
  try {
    const res = await client.getVolume({ volumeId }, { token: ctx.token, requestId: ctx.requestId });
    if (res.volume) return res.volume;
  } catch (e) {
    if (!(e instanceof NotFoundError || e instanceof InvalidArgumentError)) throw e;
  }
  throw new NotFoundError('volume', volumeId);
}

/**
 * ServerAction `attach_volume{volume_id, device_name}` / `detach_volume{volume_id}` (Nova's
 * os-volume_attachments), synchronous: returns once the volume is in-use and shown in the server's
 * volumes_attached (attach) or available again and gone from it (detach). Allowed in ACTIVE and
 * SHUTOFF without a task; refused on a locked server. The sequence and its undo are
 * {@link VolumeAttacher}'s. Logged in the instance actions as attach_volume / detach_volume.
 * @throws InvalidArgumentError ('attach_volume.volume_id', 'detach_volume.volume_id', 'device_name');
 *   NotFoundError('volume') for a volume the caller cannot see, ('volume_attachment') for a detach of
 *   a volume not attached; FailedPreconditionError (instance_invalid_state, instance_locked,
 *   volume_already_attached, the volume service's refusal of a volume in use)
 */
export async function runVolumeAction(
  d: VolumeActionDeps,
  r: InstanceRecord,
  action: 'attachVolume' | 'detachVolume',
  req: compute.ServerActionRequest,
  ctx: CallContext,
  a: AuthContext,
): Promise<DeepPartial<compute.ServerActionResponse>> {
  const admin = isCloudAdmin(a);
  const volumeId = action === 'attachVolume' ? req.attachVolume?.volumeId : req.detachVolume?.volumeId;
  const field = action === 'attachVolume' ? 'attach_volume.volume_id' : 'detach_volume.volume_id';
  if (!volumeId) throw new InvalidArgumentError(field, 'is required');
  checkNotLocked(r, admin);
  const name = action === 'attachVolume' ? 'attach_volume' : 'detach_volume';
  checkVolumeActionAllowed(r, name);
  const attacher = new VolumeAttacher({ instances: d.instances, hosts: d.hosts, peers: d.peers, agents: d.agents, nowMs: d.nowMs });
  const vol = action === 'attachVolume' ? await resolveVolume(d, volumeId, ctx) : undefined;
  await d.instances.startAction(r.id, { requestId: ctx.requestId, action: name, userId: a.userId, projectId: a.projectId, startMs: d.nowMs(), result: '', message: '' });
  try {
    const next = vol ? await attacher.attach(r.id, vol, req.attachVolume?.deviceName || undefined, ctx.requestId) : await attacher.detach(r.id, volumeId, ctx.requestId);
    await d.instances.finishAction(r.id, ctx.requestId, 'Success', '', d.nowMs());
    return { server: serverToProto(next, { admin }) };
  } catch (e) {
    await d.instances.finishAction(r.id, ctx.requestId, 'Error', e instanceof Error ? e.message : String(e), d.nowMs());
    throw e;
  }
}
