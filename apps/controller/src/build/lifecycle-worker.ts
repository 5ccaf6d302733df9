import { FailedPreconditionError, NotFoundError } from '@minicloud/domain-errors';
import { compute, image as imageProto, type agent } from '@minicloud/proto';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { Logger } from '@minicloud/platform-logging';
import { scopeOf, type AgentClient } from '../agent/agent-client';
import { flavorToProto } from '../proto-states';
import type { InstancePort, InstanceRecord } from '@minicloud/domain-compute';
import type { Peers } from '../peers';
import type { AllocationStore } from '../store/allocation-store';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { Quotas } from '../placement/quota';

/** What the lifecycle worker borrows from the conductor. */
export interface LifecycleHost {
  transition(id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined): Promise<InstanceRecord | undefined>;
  instanceSpec(r: InstanceRecord): DeepPartial<agent.InstanceSpec>;
  /** Moves the instance's volume attachments to its current host before a spawn there. */
  prepareVolumes(r: InstanceRecord): Promise<InstanceRecord>;
  /** Drops the guest password from the record once the agent has it. */
  forgetAdminPass(id: string): Promise<void>;
  /** Fixes (and records) the guest CPU of a fresh boot on the instance's host. */
  fixGuestCpu(r: InstanceRecord): Promise<InstanceRecord>;
}

export interface LifecycleWorkerDeps {
  instances: InstanceStore;
  hosts: HostStore;
  allocations: AllocationStore;
  peers: Peers;
  agents: AgentClient;
  quotas: Quotas;
  logger: Logger;
  nowMs: () => number;
}

/** Allocation consumer of a resize's new flavor on the destination host. */
export const resizeConsumer = (instanceId: string) => `${instanceId}#resize`;

const RUNNING = compute.PowerState.POWER_STATE_RUNNING;

/**
 * The multi-step actions, one idempotent step per task_state (level-triggered: a step re-run after
 * a crash repeats idempotent agent commands and Lua claims/releases):
 * - rescuing/unrescuing: hard reboot (into / out of the rescue image) -> rescued / active.
 * - rebuilding: destroy -> rebuild_spawning: spawn with the new image on the same host -> ACTIVE on `spawned`
 *   (STOPPED again, powered off, when the rebuild started from stopped, as Nova does).
 * - shelving: power off -> shelving_offloading: destroy, release the claim, host '' -> SHELVED_OFFLOADED.
 * - unshelving (host already claimed by the API): bind ports to the new host, spawn -> ACTIVE on `spawned`.
 * - resize_prep: power off -> resize_migrating: same host: agent `resize` (+ power on); other host:
 *   destroy on source, host := dest, resize_finish: bind + spawn with the new flavor -> RESIZED.
 * - resize_confirming: release the old claim, the `#resize` claim becomes the instance's -> ACTIVE/STOPPED.
 * - resize_reverting: destroy on dest, release the `#resize` claim, host := source, spawn with the old
 *   flavor -> ACTIVE/STOPPED on `spawned`.
 * - image_snapshot: agent `snapshot`, then the new image's bytes are copied from the base image.
 */
export class LifecycleWorker {
  constructor(
    private readonly d: LifecycleWorkerDeps,
    private readonly host: LifecycleHost,
  ) {}

  async step(r: InstanceRecord): Promise<void> {
    switch (r.taskState) {
      case 'rescuing':
      case 'unrescuing':
        return this.rescue(r, r.taskState === 'rescuing');
      case 'rebuilding':
        await this.destroyOn(r.hostId, r);
        return this.next(r, 'rebuilding', (cur) => ({ ...cur, taskState: 'rebuild_spawning' }), (n) => this.spawn(n));
      case 'rebuild_spawning':
      case 'unshelving':
      case 'resize_finish':
        return this.spawn(r);
      case 'shelving':
        await this.powerOffIfOn(r);
        if (r.snapshotImageId) await this.writeSnapshot(r, r.snapshotImageId);
        return this.next(r, 'shelving', (cur) => ({ ...cur, vmState: 'shelved', powerState: 'shutdown', taskState: 'shelving_offloading', snapshotImageId: undefined }), (n) => this.step(n));
      case 'shelving_offloading':
        return this.offload(r);
      case 'resize_prep': {
        const wasRunning = r.resize!.wasRunning;
        await this.powerOffIfOn(r);
        return this.next(r, 'resize_prep', (cur) => ({ ...cur, powerState: 'shutdown', taskState: 'resize_migrating', resize: { ...cur.resize!, wasRunning } }), (n) => this.step(n));
      }
      case 'resize_migrating':
        return this.migrate(r);
      case 'resize_confirming':
        return this.confirmResize(r);
      case 'resize_reverting':
        return this.revertResize(r);
      case 'image_snapshot':
        return this.snapshot(r);
      default:
        return;
    }
  }

  /** An agent's `spawned` report for an instance in a lifecycle task. */
  async onSpawned(r: InstanceRecord): Promise<void> {
    const task = r.taskState;
    if (task === 'rebuild_spawning' && r.rebuildFromStopped) {
      await this.d.agents.power(r.hostId, r.id, 'powerOff', scopeOf(r));
      return this.finish(r.id, task, (cur) => ({ ...cur, vmState: 'stopped', powerState: 'shutdown', fault: undefined, rebuildFromStopped: undefined }));
    }
    if (task === 'rebuild_spawning') {
      return this.finish(r.id, task, (cur) => ({ ...cur, vmState: 'active', powerState: 'running', fault: undefined }));
    }
    if (task === 'unshelving') {
      await this.finish(r.id, task, (cur) => ({ ...cur, vmState: 'active', powerState: 'running', fault: undefined, shelvedImageId: undefined }));
      // Nova deletes the shelve snapshot once the unshelved guest runs.
      if (r.shelvedImageId) await deleteShelvedImage(this.d.peers, r.shelvedImageId, this.d.logger);
      return;
    }
    if (task === 'resize_finish') {
      const off = !r.resize!.wasRunning;
      if (off) await this.d.agents.power(r.hostId, r.id, 'powerOff', scopeOf(r));
      return this.finish(r.id, task, (cur) => ({ ...cur, vmState: 'resized', powerState: off ? 'shutdown' : 'running' }));
    }
    if (task === 'resize_reverting' && r.resize?.revertSpawning) {
      const off = !r.resize.wasRunning;
      if (off) await this.d.agents.power(r.hostId, r.id, 'powerOff', scopeOf(r));
      await this.d.quotas.release(r.projectId, { instances: 0, cores: r.resize.quotaDelta.cores, ramMb: r.resize.quotaDelta.ramMb });
      return this.finish(r.id, task, (cur) => ({ ...cur, vmState: off ? 'stopped' : 'active', powerState: off ? 'shutdown' : 'running', resize: undefined }));
    }
  }

  // ---- steps ----

  private async rescue(r: InstanceRecord, into: boolean): Promise<void> {
    const res = await this.d.agents.power(r.hostId, r.id, 'reboot', scopeOf(r), { hard: true });
    if (res.instance?.powerState !== RUNNING) throw new FailedPreconditionError(`instance ${r.id} did not come back running after the ${into ? 'rescue' : 'unrescue'} reboot`, 'rescue_failed');
    // The rescue guest's root password (Nova writes it to the rescue boot's config drive).
    if (into && r.adminPass) {
      await this.d.agents.setAdminPassword(r.hostId, r.id, r.adminPass, scopeOf(r));
      await this.host.forgetAdminPass(r.id);
    }
    await this.finish(r.id, r.taskState!, (cur) => ({ ...cur, vmState: into ? 'rescued' : 'active', powerState: 'running' }));
  }

  private async offload(r: InstanceRecord): Promise<void> {
    await this.destroyOn(r.hostId, r);
    await this.d.allocations.release(r.hostId, r.id);
    await this.finish(r.id, 'shelving_offloading', (cur) => ({ ...cur, vmState: 'shelved_offloaded', powerState: 'nostate', hostId: '' }));
  }

  private async migrate(r: InstanceRecord): Promise<void> {
    const rs = r.resize!;
    if (rs.sourceHostId === rs.destHostId) {
      await this.d.agents.resize(r.hostId, r.id, flavorToProto(rs.newFlavor), scopeOf(r));
      if (rs.wasRunning) await this.d.agents.power(r.hostId, r.id, 'powerOn', scopeOf(r));
      return this.finish(r.id, 'resize_migrating', (cur) => ({ ...cur, vmState: 'resized', flavor: rs.newFlavor, powerState: rs.wasRunning ? 'running' : 'shutdown' }));
    }
    await this.destroyOn(rs.sourceHostId, r);
    return this.next(r, 'resize_migrating', (cur) => ({ ...cur, hostId: rs.destHostId, flavor: rs.newFlavor, powerState: 'nostate', taskState: 'resize_finish' }), (n) => this.spawn(n));
  }

  private async confirmResize(r: InstanceRecord): Promise<void> {
    const rs = r.resize!;
    const pending = (await this.d.allocations.get(rs.destHostId)).byInstance.has(resizeConsumer(r.id));
    if (pending) {
      await this.d.allocations.release(rs.sourceHostId, r.id);
      await this.d.allocations.move(rs.destHostId, resizeConsumer(r.id), r.id);
    }
    // Downsizing gives quota back (Nova counts the larger flavor until confirm).
    await this.d.quotas.release(r.projectId, {
      instances: 0,
      cores: Math.max(0, rs.oldFlavor.vcpus - rs.newFlavor.vcpus),
      ramMb: Math.max(0, rs.oldFlavor.ramMb - rs.newFlavor.ramMb),
    });
    await this.finish(r.id, 'resize_confirming', (cur) => ({
      ...cur,
      vmState: cur.powerState === 'shutdown' ? 'stopped' : 'active',
      resize: undefined,
      quota: { cores: rs.newFlavor.vcpus, ramMb: rs.newFlavor.ramMb },
    }));
  }

  private async revertResize(r: InstanceRecord): Promise<void> {
    const rs = r.resize!;
    if (!rs.revertSpawning) {
      await this.destroyOn(r.hostId, r);
      await this.d.allocations.release(rs.destHostId, resizeConsumer(r.id));
      const n = await this.host.transition(r.id, (cur) =>
        cur.taskState === 'resize_reverting' ? { ...cur, hostId: rs.sourceHostId, flavor: rs.oldFlavor, powerState: 'nostate', resize: { ...rs, revertSpawning: true } } : undefined,
      );
      if (n?.resize?.revertSpawning) await this.spawn(n);
      return;
    }
    await this.spawn(r);
  }

  private async snapshot(r: InstanceRecord): Promise<void> {
    await this.writeSnapshot(r, r.snapshotImageId!);
    await this.finish(r.id, 'image_snapshot', (cur) => ({ ...cur, snapshotImageId: undefined }));
  }

  /** The agent snapshots the guest's disk into `imageId`, whose bytes are then uploaded unless already there (idempotent). */
  private async writeSnapshot(r: InstanceRecord, imageId: string): Promise<void> {
    const img = await this.d.peers.image();
    const target = (await img.getImage({ imageId })).image;
    if (r.hostId) await this.d.agents.snapshot(r.hostId, r.id, imageId, scopeOf(r));
    if (target && target.status === imageProto.ImageStatus.IMAGE_STATUS_QUEUED) {
      // The simulated disk has no bytes of its own: the snapshot's bytes are the base image's.
      const base = r.image.id;
      async function* parts() {
        yield { imageId };
        for await (const m of img.downloadImage({ imageId: base })) yield { chunk: m.chunk };
      }
      await img.uploadImage(parts(), { deadlineMs: 600_000 });
    }
  }

  // ---- helpers ----

  private async spawn(r: InstanceRecord): Promise<void> {
    const ports = await this.bindPorts(r);
    const n = await this.host.transition(r.id, (cur) => (cur.taskState === r.taskState && JSON.stringify(cur.ports) !== JSON.stringify(ports) ? { ...cur, ports } : undefined));
    const ready = await this.host.prepareVolumes(await this.host.fixGuestCpu(n ?? r));
    const res = await this.d.agents.spawn(ready.hostId, ready.id, this.host.instanceSpec(ready), scopeOf(ready));
    await this.host.forgetAdminPass(ready.id);
    if (res.instance?.powerState === RUNNING) await this.onSpawned(ready);
  }

  /** Binds the instance's ports to its (new) host; idempotent. */
  private async bindPorts(r: InstanceRecord): Promise<InstancePort[]> {
    const net = await this.d.peers.network();
    const deviceOwner = `compute:${r.availabilityZone}`;
    const out: InstancePort[] = [];
    for (const p of r.ports) {
      const bound = (await net.bindPort({ portId: p.portId, hostId: r.hostId, deviceId: r.id, deviceOwner })).port;
      out.push(bound ? { ...p, macAddress: bound.macAddress, ipAddresses: bound.fixedIps.map((f) => f.ipAddress) } : p);
    }
    return out;
  }

  private async powerOffIfOn(r: InstanceRecord): Promise<void> {
    if (r.powerState !== 'running' && r.powerState !== 'paused') return;
    await this.d.agents.powerOffIfPresent(r.hostId, r.id, scopeOf(r));
  }

  private async destroyOn(hostId: string, r: InstanceRecord): Promise<void> {
    if (hostId) await this.d.agents.destroy(hostId, r.id, scopeOf(r));
  }

  /** Moves to the next task_state if still in `from`, then continues with `then`. */
  private async next(r: InstanceRecord, from: InstanceRecord['taskState'], mutate: (cur: InstanceRecord) => InstanceRecord, then: (n: InstanceRecord) => Promise<void>): Promise<void> {
    const n = await this.host.transition(r.id, (cur) => (cur.taskState === from ? { ...mutate(cur), taskStartedAtMs: this.d.nowMs() } : undefined));
    if (n && n.taskState !== from) await then(n);
  }

  /** Ends the task (task_state None) and logs the action as Success. */
  private async finish(id: string, from: InstanceRecord['taskState'], mutate: (cur: InstanceRecord) => InstanceRecord): Promise<void> {
    const n = await this.host.transition(id, (cur) => (cur.taskState === from ? { ...mutate(cur), taskState: null, taskStartedAtMs: this.d.nowMs() } : undefined));
    if (n && n.taskState === null && n.actionRequestId) await this.d.instances.finishAction(id, n.actionRequestId, 'Success', '', this.d.nowMs());
  }
}

/**
 * Deletes a shelve snapshot (Nova's shelved_image_id) after unshelve or with its server. Best effort,
 * as Nova's: an image already gone, or one its owner deleted, is not an error; others are logged.
 */
export async function deleteShelvedImage(peers: Peers, imageId: string, logger: Logger): Promise<void> {
  try {
    await (await peers.image()).deleteImage({ imageId });
  } catch (e) {
    if (!(e instanceof NotFoundError)) logger.warn({ image_id: imageId, err: (e as Error).message }, 'shelved image not deleted');
  }
}
