import { randomUUID } from 'node:crypto';
import type { Clock } from '@minicloud/domain-clock';
import { ConflictError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { InvalidVolumeStatusError } from '@minicloud/domain-volume';
import type { Redis } from '@minicloud/platform-state';
import { attachmentHash, type AttachmentRecord } from './records';
import { transitionArg, visibleTo, type Caller, type StatusPublisher, type VolumeScripts } from './store/deps';
import { keys } from './store/keys';
import type { Volumes } from './volumes';

/** What {@link Attachments} uses. */
export interface AttachmentsDeps {
  redis: Redis;
  scripts: Pick<VolumeScripts, 'CREATE_ATTACHMENT' | 'MOVE_ATTACHMENT' | 'COMPLETE_ATTACHMENT' | 'DELETE_ATTACHMENT'>;
  volumes: Pick<Volumes, 'get'>;
  clock: Clock;
  publish: StatusPublisher;
}

/**
 * Cinder's v3 attachments: reserve, complete, delete, force-detach (HA), each one Lua script that
 * moves the volume's status with it (available -> attaching -> in-use -> available), so a volume is
 * never in-use without an attachment nor attached twice unless its type is multiattach.
 */
export class Attachments {
  constructor(private readonly d: AttachmentsDeps) {}

  /**
   * Reserves an attachment: available -> attaching, or (multiattach types only) attaching/in-use
   * unchanged. Idempotent per (volume, instance): an existing attachment of the instance is returned,
   * re-pointed at `hostId` when that differs (the instance moved: HA restart, migration; Cinder's
   * attachment_update with the new host's connector), its status and the volume's unchanged.
   * @throws InvalidArgumentError('instance_id'), InvalidVolumeStatusError naming the status
   */
  async create(caller: Caller, input: { volumeId: string; instanceId: string; hostId: string; mountpoint: string }): Promise<AttachmentRecord> {
    if (!input.instanceId) throw new InvalidArgumentError('instance_id', 'must not be empty');
    const v = await this.d.volumes.get(caller, input.volumeId);
    const att: AttachmentRecord = { id: randomUUID(), volumeId: v.id, projectId: v.projectId, instanceId: input.instanceId, hostId: input.hostId, mountpoint: input.mountpoint, attachStatus: 'reserved', attachedAtMs: 0 };
    const existing = await this.d.redis.hget(keys.volumeInstances(v.id), input.instanceId);
    if (existing) {
      const a = await this.read(existing);
      if (a) return this.pointAt(a, input.hostId);
    }
    const res = (await this.d.scripts.CREATE_ATTACHMENT(
      [keys.volume(v.id), keys.volumeAttachments(v.id), keys.volumeInstances(v.id), keys.attachment(att.id), keys.instanceAttachments(att.instanceId), keys.hostAttachments(att.hostId)],
      [transitionArg('attachment_reserved'), transitionArg('multiattach_reserved'), att.id, att.instanceId, ...attachmentHash.toHash(att)],
    )) as [number, string, string?];
    if (res[0] === -1) throw new NotFoundError('volume', v.id);
    if (res[0] === 2) {
      const a = await this.read(res[1]);
      if (a) return this.pointAt(a, input.hostId);
      throw new NotFoundError('attachment', res[1]);
    }
    if (res[0] === 0) throw new InvalidVolumeStatusError(res[1], v.multiattach ? 'attach' : 'attach (volume type is not multiattach)');
    if (res[1] !== res[2]) await this.d.publish({ volumeId: v.id, projectId: v.projectId, status: res[2]!, instanceId: att.instanceId });
    return att;
  }

  private async read(id: string): Promise<AttachmentRecord | undefined> {
    return attachmentHash.fromHash(await this.d.redis.hgetall(keys.attachment(id)));
  }

  /** `a` re-pointed at `hostId` (no-op when already there or no host given). @throws NotFoundError when it went meanwhile */
  private async pointAt(a: AttachmentRecord, hostId: string): Promise<AttachmentRecord> {
    let cur = a;
    for (let attempt = 0; attempt < 5 && hostId && cur.hostId !== hostId; attempt++) {
      const res = Number(await this.d.scripts.MOVE_ATTACHMENT([keys.attachment(cur.id), keys.hostAttachments(cur.hostId), keys.hostAttachments(hostId)], [cur.id, hostId, cur.hostId]));
      if (res === 0) throw new NotFoundError('attachment', cur.id);
      const next = await this.read(cur.id);
      if (!next) throw new NotFoundError('attachment', cur.id);
      cur = next;
    }
    return cur;
  }

  private async get(caller: Caller, id: string): Promise<AttachmentRecord> {
    return visibleTo(caller, 'attachment', id, id ? await this.read(id) : undefined);
  }

  /** The host connected the volume: attachment attached, volume attaching -> in-use. Idempotent. */
  async complete(caller: Caller, id: string): Promise<AttachmentRecord> {
    const a = await this.get(caller, id);
    const res = (await this.d.scripts.COMPLETE_ATTACHMENT([keys.attachment(id), keys.volume(a.volumeId), keys.volumeAttachments(a.volumeId)], [transitionArg('attachment_completed'), id, this.d.clock.nowMs()])) as [number, string, string?];
    if (res[0] === -1) throw new NotFoundError('attachment', id);
    if (res[0] === 0) throw new InvalidVolumeStatusError(res[1], 'complete attachment');
    if (res[0] === 1 && res[1] !== res[2]) await this.d.publish({ volumeId: a.volumeId, projectId: a.projectId, status: res[2]!, instanceId: a.instanceId });
    return this.get(caller, id);
  }

  /**
   * Removes an attachment, by id or by (volume, instance); the volume becomes available when the last
   * one goes. Idempotent: an id or (volume, instance) without an attachment is a no-op (another
   * project's attachment is NOT_FOUND).
   * @throws InvalidArgumentError('attachment_id') when neither form is given
   */
  async delete(caller: Caller, ref: string | { attachmentId?: string; volumeId?: string; instanceId?: string }): Promise<void> {
    const r = typeof ref === 'string' ? { attachmentId: ref } : ref;
    let id = r.attachmentId ?? '';
    if (!id) {
      if (!r.volumeId || !r.instanceId) throw new InvalidArgumentError('attachment_id', 'attachment_id, or volume_id and instance_id, are required');
      const v = await this.d.volumes.get(caller, r.volumeId);
      id = (await this.d.redis.hget(keys.volumeInstances(v.id), r.instanceId)) ?? '';
      if (!id) return;
    }
    // An attachment re-pointed at another host meanwhile (the instance moved) is re-read: its host set is another key.
    for (let attempt = 0; ; attempt++) {
      const a = await this.read(id);
      if (!a) return;
      if (!caller.admin && a.projectId !== caller.projectId) throw new NotFoundError('attachment', id);
      const res = (await this.d.scripts.DELETE_ATTACHMENT(
        [keys.attachment(id), keys.volume(a.volumeId), keys.volumeAttachments(a.volumeId), keys.volumeInstances(a.volumeId), keys.instanceAttachments(a.instanceId), keys.hostAttachments(a.hostId)],
        [id, a.instanceId, a.hostId],
      )) as [number, string?, string?];
      if (res[0] === -2 && attempt < 20) continue;
      if (res[0] === -2) throw new ConflictError(`attachment ${id} keeps moving between hosts; retry`);
      if (res[0] === 1 && res[1] && res[1] !== res[2]) await this.d.publish({ volumeId: a.volumeId, projectId: a.projectId, status: res[2]!, instanceId: a.instanceId });
      return;
    }
  }

  /**
   * Deletes every attachment of an instance or of a host (HA: the host died, its volumes must become
   * attachable elsewhere). Idempotent.
   * @throws InvalidArgumentError('instance_id') when neither instance_id nor host_id is given
   * @returns the attachments removed
   */
  async forceDetach(caller: Caller, input: { instanceId?: string; hostId?: string }): Promise<AttachmentRecord[]> {
    if (!input.instanceId && !input.hostId) throw new InvalidArgumentError('instance_id', 'instance_id or host_id is required');
    const ids = input.instanceId ? await this.d.redis.smembers(keys.instanceAttachments(input.instanceId)) : await this.d.redis.smembers(keys.hostAttachments(input.hostId!));
    const out: AttachmentRecord[] = [];
    for (const id of ids) {
      const a = await this.read(id);
      if (!a || (input.hostId && a.hostId !== input.hostId)) continue;
      if (!caller.admin && a.projectId !== caller.projectId) continue;
      await this.delete(caller, id);
      out.push(a);
    }
    return out;
  }

  /** Attachments of a volume, or of an instance (at least one of the two). @throws InvalidArgumentError('volume_id') when neither is given */
  async list(caller: Caller, filter: { volumeId?: string; instanceId?: string }): Promise<AttachmentRecord[]> {
    let ids: string[];
    if (filter.volumeId) ids = await this.d.redis.hkeys(keys.volumeAttachments((await this.d.volumes.get(caller, filter.volumeId)).id));
    else if (filter.instanceId) ids = await this.d.redis.smembers(keys.instanceAttachments(filter.instanceId));
    else throw new InvalidArgumentError('volume_id', 'volume_id or instance_id is required');
    const all = await Promise.all(ids.map((id) => this.read(id)));
    return all.filter((a): a is AttachmentRecord => !!a && (caller.admin || a.projectId === caller.projectId) && (!filter.instanceId || a.instanceId === filter.instanceId));
  }
}
