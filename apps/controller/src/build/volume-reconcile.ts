import { NotFoundError } from '@minicloud/domain-errors';
import type { Logger } from '@minicloud/platform-logging';
import type { InstanceRecord, InstanceVolume } from '@minicloud/domain-compute';
import type { AgentClient } from '../agent/agent-client';
import type { Peers } from '../peers';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import { STALE_ATTACHING_MS } from './volume-attach';

/** Stores and clients of {@link VolumeReconciler} (the conductor's own); `staleAttachingMs` in ms. */
export interface VolumeReconcileDeps {
  instances: InstanceStore;
  hosts: HostStore;
  peers: Peers;
  agents: Pick<AgentClient, 'listInstances' | 'detachVolume'>;
  nowMs: () => number;
  logger?: Logger;
  /** An `attaching` entry older than this has no live attach behind it (default STALE_ATTACHING_MS). */
  staleAttachingMs?: number;
}

/** What {@link VolumeReconciler.resyncAttaching} did, per `<instance id>/<volume id>`. */
export interface AttachingResync {
  completed: string[];
  rolledBack: string[];
}

/** Task states whose own worker owns the `attaching` entries (the boot's block device mapping, delete). */
const OWNED_BY_TASK = new Set<InstanceRecord['taskState']>(['block_device_mapping', 'deleting']);

/**
 * Keeps the two records of an attachment (the instance's `volumesAttached` entry and the volume
 * service's attachment) in agreement when the instance moves or a controller dies midway
 * (apps/volume/README.md):
 * - {@link rehome}: before a respawn on another host (HA evacuation, cold migration, unshelve...),
 *   each attached volume's attachment is moved to the instance's current host: steps 1 and 3 of the
 *   attach flow run for the new host (CreateAttachment for the same volume and instance re-points the
 *   existing attachment there, so the volume stays in-use throughout); step 2 is the spawn itself
 *   (the spec carries the volumes, as libvirt defines the domain with its disks).
 * - {@link resyncAttaching}: leader-only; an `attaching` entry older than the stale limit (its
 *   attach died with a controller) is completed when the agent has the disk, else rolled back.
 * Volume-service calls use the controller's service token (admin).
 */
export class VolumeReconciler {
  constructor(private readonly d: VolumeReconcileDeps) {}

  /**
   * Moves the attachments of `r`'s attached volumes to `r.hostId` (idempotent: an attachment
   * already there and attached is left alone; one reserved there is completed). A volume that no
   * longer exists leaves the instance's list.
   * @returns the instance record as stored afterwards (or `r` when nothing changed)
   * @throws the volume service's errors (e.g. FAILED_PRECONDITION when the volume was detached and
   *   taken by another instance meanwhile); the caller's task fails or retries with them
   */
  async rehome(r: InstanceRecord): Promise<InstanceRecord> {
    const list = (r.volumesAttached ?? []).filter((v) => v.status === 'attached');
    if (list.length === 0 || !r.hostId) return r;
    const client = await this.d.peers.volume();
    const mine = (await client.listAttachments({ instanceId: r.id })).attachments;
    let cur = r;
    for (const v of list) {
      const atts = mine.filter((a) => a.volumeId === v.volumeId);
      const here = atts.find((a) => a.hostId === r.hostId);
      if (here?.attachStatus === 'attached' && here.id === v.attachmentId) continue;
      let moved;
      try {
        // Same (volume, instance): the volume service re-points the instance's attachment at the new host
        // (Cinder's attachment_update), so the volume never looks free during the move.
        moved = (await client.createAttachment({ volumeId: v.volumeId, instanceId: r.id, hostId: r.hostId, mountpoint: v.deviceName })).attachment;
        if (!moved) throw new Error('volume service returned no attachment');
        await client.completeAttachment({ attachmentId: moved.id });
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        this.d.logger?.warn({ instance_id: r.id, volume_id: v.volumeId }, 'volume gone: dropped from the server');
        cur = (await this.d.instances.update(r.id, (x) => ({ ...x, volumesAttached: (x.volumesAttached ?? []).filter((e2) => e2.volumeId !== v.volumeId) }), this.d.nowMs())) ?? cur;
        continue;
      }
      const attachmentId = moved.id;
      // Anything else of this instance on the volume (an older record) goes.
      for (const other of atts) if (other.id !== attachmentId) await client.deleteAttachment({ attachmentId: other.id });
      this.d.logger?.info({ instance_id: r.id, volume_id: v.volumeId, host_id: r.hostId, attachment_id: attachmentId }, 'volume attachment moved to the new host');
      cur = (await this.setEntry(r.id, v.volumeId, () => true, (e) => ({ ...e, attachmentId }))) ?? cur;
    }
    return cur;
  }

  /**
   * One pass over every instance: each `attaching` entry older than the stale limit, on an instance
   * whose own task does not own it, is resolved with {@link resolveAttaching}. Errors on one entry
   * (agent unreachable, volume service down) leave it for the next pass. Stops when `signal` (the
   * leadership's) aborts.
   */
  async resyncAttaching(signal?: AbortSignal): Promise<AttachingResync> {
    const out: AttachingResync = { completed: [], rolledBack: [] };
    const now = this.d.nowMs();
    const limit = this.d.staleAttachingMs ?? STALE_ATTACHING_MS;
    for (const r of await this.d.instances.list()) {
      if (signal?.aborted) break;
      if (OWNED_BY_TASK.has(r.taskState)) continue;
      for (const e of r.volumesAttached ?? []) {
        if (e.status !== 'attaching' || now - e.startedAtMs < limit) continue;
        try {
          const res = await this.resolveAttaching(r, e);
          if (res !== 'skipped') (res === 'completed' ? out.completed : out.rolledBack).push(`${r.id}/${e.volumeId}`);
        } catch (err) {
          this.d.logger?.warn({ instance_id: r.id, volume_id: e.volumeId, err: err instanceof Error ? err.message : err }, 'attaching resync failed; retried next pass');
        }
      }
    }
    return out;
  }

  /**
   * Resolves one `attaching` entry: the agent has the disk and the volume service the attachment ->
   * CompleteAttachment, entry `attached`; otherwise the agent's disk (if any) is unplugged, the
   * attachment deleted and the entry dropped. An instance whose host is unknown is rolled back on
   * the volume side only (no disk can exist).
   * @returns 'skipped' when the entry changed meanwhile (a live attach or detach owns it)
   * @throws agent/volume errors (retry later)
   */
  async resolveAttaching(r: InstanceRecord, e: InstanceVolume): Promise<'completed' | 'rolled_back' | 'skipped'> {
    const client = await this.d.peers.volume();
    const att = (await client.listAttachments({ instanceId: r.id })).attachments.find((a) => a.volumeId === e.volumeId && (!r.hostId || a.hostId === r.hostId));
    const host = r.hostId ? await this.d.hosts.find(r.hostId) : undefined;
    let agentHas = false;
    if (host) {
      const rt = (await this.d.agents.listInstances(host)).find((i) => i.instanceId === r.id);
      agentHas = !!rt?.volumeIds.includes(e.volumeId);
    }
    const same = (x: InstanceVolume) => x.status === 'attaching' && x.startedAtMs === e.startedAtMs;
    if (agentHas && att) {
      const done = await client.completeAttachment({ attachmentId: att.id });
      const completed = done.attachment ?? att;
      const next = await this.setEntry(r.id, e.volumeId, same, (x) => ({ ...x, attachmentId: completed.id, status: 'attached' }));
      this.d.logger?.info({ instance_id: r.id, volume_id: e.volumeId }, 'stale attaching entry completed (agent has the disk)');
      return next ? 'completed' : 'skipped';
    }
    if (agentHas && host) {
      await this.d.agents.detachVolume(host, r.id, e.volumeId, { requestId: `attach-resync-${r.id}-${e.volumeId}-${e.startedAtMs}` });
    }
    await client.deleteAttachment({ volumeId: e.volumeId, instanceId: r.id });
    const cur = await this.d.instances.update(
      r.id,
      (x) => {
        const entry = (x.volumesAttached ?? []).find((v) => v.volumeId === e.volumeId);
        return entry && same(entry) ? { ...x, volumesAttached: (x.volumesAttached ?? []).filter((v) => v !== entry) } : undefined;
      },
      this.d.nowMs(),
    );
    const gone = !(cur?.volumesAttached ?? []).some((v) => v.volumeId === e.volumeId && same(v));
    this.d.logger?.info({ instance_id: r.id, volume_id: e.volumeId }, 'stale attaching entry rolled back (agent lacks the disk)');
    return gone ? 'rolled_back' : 'skipped';
  }

  private async setEntry(
    instanceId: string,
    volumeId: string,
    when: (v: InstanceVolume) => boolean,
    f: (v: InstanceVolume) => InstanceVolume,
  ): Promise<InstanceRecord | undefined> {
    const { record, changed } = await this.d.instances.updateVolumeEntry(instanceId, (v) => v.volumeId === volumeId && when(v), f, this.d.nowMs());
    return changed ? record : undefined;
  }
}
