import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { agent, volume } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { Logger } from '@minicloud/platform-logging';
import type { InstanceRecord, InstanceVolume } from '@minicloud/domain-compute';
import type { Peers } from '../peers';
import type { HostRecord, HostStore } from '../store/host-store';
import type { AgentClient } from '../agent/agent-client';
import type { InstanceStore } from '../store/instance-store';

/** vm_states where attach/detach are allowed (Nova: ACTIVE, SHUTOFF; also paused/suspended there, kept narrower here). */
export const VOLUME_ACTION_VM_STATES: ReadonlySet<InstanceRecord['vmState']> = new Set(['active', 'stopped']);

/** An `attaching` entry older than this may be detached (the attach that wrote it died midway). */
export const STALE_ATTACHING_MS = 60_000;

const DEVICE_RE = /^\/dev\/(vd|sd|xvd)[a-z]$/;

/** The root disk's device name (never offered to a volume). */
export const ROOT_DEVICE = '/dev/vda';

/**
 * Device name for a new attachment: `requested` when given (must match /dev/(vd|sd|xvd)[a-z], not the
 * root /dev/vda, not used), else the next free /dev/vdX from /dev/vdb (as Nova picks).
 * @throws InvalidArgumentError('device_name') for a bad, root or used name, or when /dev/vdb..vdz are all taken
 */
export function chooseDeviceName(used: readonly string[], requested?: string): string {
  const taken = new Set([ROOT_DEVICE, ...used]);
  if (requested) {
    if (!DEVICE_RE.test(requested)) throw new InvalidArgumentError('device_name', `must look like /dev/vdb, got '${requested}'`);
    if (requested === ROOT_DEVICE) throw new InvalidArgumentError('device_name', `${ROOT_DEVICE} is the root disk`);
    if (taken.has(requested)) throw new InvalidArgumentError('device_name', `${requested} is already in use on this server`);
    return requested;
  }
  for (let c = 'b'.charCodeAt(0); c <= 'z'.charCodeAt(0); c++) {
    const name = `/dev/vd${String.fromCharCode(c)}`;
    if (!taken.has(name)) return name;
  }
  throw new InvalidArgumentError('device_name', 'no free device name (/dev/vdb../dev/vdz all used)');
}

/**
 * The agent's VolumeRef limits from a volume's QoS (apps/volume/README.md): read/write IOPS fall back
 * to total_iops_sec; bytes limit is total_bytes_sec; 0 = unlimited.
 */
export function qosLimits(v: Pick<volume.Volume, 'qos' | 'sizeGb'>): Pick<InstanceVolume, 'sizeGb' | 'readIopsLimit' | 'writeIopsLimit' | 'totalBytesSecLimit'> {
  const q = v.qos;
  const n = (x: unknown) => Number(x ?? 0) || 0;
  return {
    sizeGb: v.sizeGb,
    readIopsLimit: n(q?.readIopsSec) || n(q?.totalIopsSec),
    writeIopsLimit: n(q?.writeIopsSec) || n(q?.totalIopsSec),
    totalBytesSecLimit: n(q?.totalBytesSec),
  };
}

/** An instance's volume entry as agent.v1.VolumeRef. */
export function volumeRefOf(v: InstanceVolume): DeepPartial<agent.VolumeRef> {
  return {
    volumeId: v.volumeId,
    attachmentId: v.attachmentId,
    deviceName: v.deviceName,
    sizeGb: v.sizeGb,
    readIopsLimit: v.readIopsLimit,
    writeIopsLimit: v.writeIopsLimit,
    totalBytesSecLimit: v.totalBytesSecLimit,
  };
}

export interface VolumeAttachDeps {
  instances: InstanceStore;
  hosts: HostStore;
  peers: Peers;
  agents: AgentClient;
  nowMs: () => number;
  logger?: Logger;
}

/**
 * Attach/detach of volumes to instances with the Cinder v3 attachment flow of apps/volume/README.md,
 * keeping both sides consistent: the instance record gets an `attaching` entry (device reserved)
 * before CreateAttachment, the entry becomes `attached` only after the agent attached the disk and
 * CompleteAttachment put the volume in-use; any failure undoes the agent side and DeleteAttachment,
 * then drops the entry (kept, still `attaching`, when the undo itself failed, so a later detach or
 * server delete cleans it). Volume-service calls use the controller's service token.
 */
export class VolumeAttacher {
  constructor(private readonly d: VolumeAttachDeps) {}

  /**
   * Attaches `vol` (already checked visible to the caller) to instance `instanceId` as `deviceName`
   * (or the next free /dev/vdX).
   * @returns the instance record with the entry `attached`
   * @throws FailedPreconditionError instance_invalid_state (not ACTIVE/SHUTOFF or a task running),
   *   volume_already_attached; InvalidArgumentError('device_name'); NotFoundError('server');
   *   whatever the volume service (e.g. FAILED_PRECONDITION for a volume in use) or the agent threw
   */
  async attach(instanceId: string, vol: volume.Volume, deviceName: string | undefined, requestId: string = randomUUID()): Promise<InstanceRecord> {
    const now = this.d.nowMs();
    let entry: InstanceVolume | undefined;
    const reserved = await this.d.instances.update(
      instanceId,
      (cur) => {
        checkVolumeActionAllowed(cur, 'attach_volume');
        const list = cur.volumesAttached ?? [];
        if (list.some((v) => v.volumeId === vol.id)) throw new FailedPreconditionError(`volume ${vol.id} is already attached to server ${cur.id}`, 'volume_already_attached');
        const device = chooseDeviceName(list.map((v) => v.deviceName), deviceName);
        entry = { volumeId: vol.id, deviceName: device, attachmentId: '', status: 'attaching', deleteOnTermination: false, startedAtMs: now, ...qosLimits(vol) };
        return { ...cur, volumesAttached: [...list, entry] };
      },
      now,
    );
    if (!reserved || !entry) throw new NotFoundError('server', instanceId);
    const e = entry;
    const client = await this.d.peers.volume();
    let agentTouched = false;
    try {
      const att = (await client.createAttachment({ volumeId: vol.id, instanceId, hostId: reserved.hostId, mountpoint: e.deviceName })).attachment;
      if (!att) throw new Error('volume service returned no attachment');
      e.attachmentId = att.id;
      await this.setEntry(instanceId, vol.id, (x) => ({ ...x, attachmentId: att.id }));
      agentTouched = true;
      await this.d.agents.attachVolume(await this.hostOf(reserved), instanceId, volumeRefOf(e), { requestId, step: 'attach_volume' });
      await client.completeAttachment({ attachmentId: att.id });
      const done = await this.setEntry(instanceId, vol.id, (x) => ({ ...x, status: 'attached' }));
      if (!done) throw new NotFoundError('server', instanceId);
      return done;
    } catch (err) {
      await this.undoAttach(reserved, e, agentTouched, requestId);
      throw err;
    }
  }

  /**
   * Detaches `volumeId`: agent DetachVolume, then DeleteAttachment{volume_id, instance_id}, then the
   * entry leaves the instance record.
   * @throws NotFoundError('volume_attachment') when the server has no such volume;
   *   FailedPreconditionError instance_invalid_state / volume_attaching (an attach is in progress)
   */
  async detach(instanceId: string, volumeId: string, requestId: string = randomUUID()): Promise<InstanceRecord> {
    const r = await this.d.instances.get(instanceId);
    checkVolumeActionAllowed(r, 'detach_volume');
    const e = (r.volumesAttached ?? []).find((v) => v.volumeId === volumeId);
    if (!e) throw new NotFoundError('volume_attachment', volumeId, `volume ${volumeId} is not attached to server ${instanceId}`);
    if (e.status === 'attaching' && this.d.nowMs() - e.startedAtMs < STALE_ATTACHING_MS) {
      throw new FailedPreconditionError(`volume ${volumeId} is being attached to server ${instanceId}`, 'volume_attaching');
    }
    // A VM the agent no longer has has no disk to unplug.
    await this.d.agents.detachVolume(await this.hostOf(r), instanceId, volumeId, { requestId, step: 'detach_volume' });
    await (await this.d.peers.volume()).deleteAttachment({ volumeId, instanceId });
    const next = await this.d.instances.update(instanceId, (cur) => ({ ...cur, volumesAttached: (cur.volumesAttached ?? []).filter((v) => v.volumeId !== volumeId) }), this.d.nowMs());
    if (!next) throw new NotFoundError('server', instanceId);
    return next;
  }

  private async undoAttach(r: InstanceRecord, e: InstanceVolume, agentTouched: boolean, requestId: string): Promise<void> {
    try {
      if (agentTouched) await this.d.agents.detachVolume(await this.hostOf(r), r.id, e.volumeId, { requestId, step: 'undo_attach' });
      await (await this.d.peers.volume()).deleteAttachment({ volumeId: e.volumeId, instanceId: r.id });
      await this.d.instances.update(r.id, (cur) => ({ ...cur, volumesAttached: (cur.volumesAttached ?? []).filter((v) => v.volumeId !== e.volumeId) }), this.d.nowMs());
    } catch (x) {
      // The entry stays `attaching`: a detach (after STALE_ATTACHING_MS) or the server's delete finishes the undo.
      this.d.logger?.warn({ instance_id: r.id, volume_id: e.volumeId, err: x instanceof Error ? x.message : x }, 'attach undo failed');
    }
  }

  private async setEntry(instanceId: string, volumeId: string, f: (v: InstanceVolume) => InstanceVolume): Promise<InstanceRecord | undefined> {
    return (await this.d.instances.updateVolumeEntry(instanceId, (v) => v.volumeId === volumeId, f, this.d.nowMs())).record;
  }

  private async hostOf(r: InstanceRecord): Promise<HostRecord> {
    const host = await this.d.hosts.find(r.hostId);
    if (!host) throw new FailedPreconditionError(`server ${r.id} has no host`, 'instance_not_on_host');
    return host;
  }
}

/** @throws FailedPreconditionError reason instance_invalid_state naming vm_state/task_state */
export function checkVolumeActionAllowed(r: InstanceRecord, action: 'attach_volume' | 'detach_volume'): void {
  if (!VOLUME_ACTION_VM_STATES.has(r.vmState) || r.taskState !== null) {
    throw new FailedPreconditionError(
      `cannot ${action} while server ${r.id} is in vm_state ${r.vmState}${r.taskState ? ` task_state ${r.taskState}` : ''}`,
      'instance_invalid_state',
    );
  }
}

/**
 * Server delete: frees the instance's volumes on the volume side (DeleteAttachment by volume and
 * instance; no-op when gone) and deletes those with delete_on_termination. Call after the guest was
 * destroyed. Idempotent; throws the volume service's error so the caller retries.
 */
export async function releaseInstanceVolumes(peers: Peers, r: InstanceRecord): Promise<void> {
  const list = r.volumesAttached ?? [];
  if (list.length === 0) return;
  const client = await peers.volume();
  for (const v of list) {
    await client.deleteAttachment({ volumeId: v.volumeId, instanceId: r.id });
    if (v.deleteOnTermination) {
      await client.deleteVolume({ volumeId: v.volumeId }).catch((e) => (e instanceof NotFoundError ? undefined : Promise.reject(e)));
    }
  }
}
