import { randomUUID } from 'node:crypto';
import { isHostDown, type InstancePort, type InstanceRecord, LIFECYCLE_TASK_STATES, ruleForTaskState, type PowerActionRule, readFlavorResourceControls } from '@minicloud/domain-compute';
import { guestCpuOnHost, guestCpuRequestOf } from '@minicloud/domain-hypervisor';
import { FailedPreconditionError, isMinicloudError, NotFoundError, type MinicloudError } from '@minicloud/domain-errors';
import { compute, events, type agent } from '@minicloud/proto';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import type { DeepPartial } from '@minicloud/platform-grpc';
import { isTransientError, type LeaderFence } from '@minicloud/platform-lifecycle';
import { runWithRequestId, type Logger } from '@minicloud/platform-logging';
import { ftConsumer } from '../ft/ft-consumer';
import { flavorToProto, powerStateFromProto, powerStateToProto, taskStateToProto, vmStateToProto } from '../proto-states';
import { scopeOf, type AgentClient } from '../agent/agent-client';
import type { ControllerMetrics } from '../metrics';
import type { Peers } from '../peers';
import type { AllocationStore } from '../store/allocation-store';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { ServerGroupStore } from '../store/server-group-store';
import { deleteShelvedImage, LifecycleWorker, resizeConsumer } from './lifecycle-worker';
import type { Placement } from '../placement/placement';
import { claimElsewhere, isHostRefusal } from '../placement/relocation';
import type { Quotas } from '../placement/quota';
import { BlockDeviceMapper } from './block-device-mapper';
import { releaseInstanceVolumes, volumeRefOf } from './volume-attach';
import { releasePort } from './interface-attach';
import { VolumeReconciler } from './volume-reconcile';

export interface ConductorDeps {
  instances: InstanceStore;
  hosts: HostStore;
  allocations: AllocationStore;
  serverGroups: ServerGroupStore;
  quotas: Quotas;
  peers: Peers;
  /** Commands to the agents (agent/agent-client.ts). */
  agents: AgentClient;
  bus: Bus;
  metrics: ControllerMetrics;
  logger: Logger;
  nowMs: () => number;
  /** A task failing only with transient errors (agent/network unreachable) gives up after this long. */
  taskTimeoutMs: number;
  /**
   * Reschedules a first build its host's agent refuses (Nova's build retry): without it, such a
   * build goes to ERROR at once.
   */
  placement?: Pick<Placement, 'placeAll' | 'instanceZone'>;
  /** Nova's [scheduler] max_attempts: hosts tried in all by one first build (default 3). */
  maxBuildAttempts?: number;
}


/** Lifecycle steps after which a failure leaves no guest behind: the instance goes to ERROR. */
const BROKEN_BY_FAILURE: ReadonlySet<InstanceRecord['taskState']> = new Set(['rebuild_spawning', 'unshelving', 'resize_finish', 'resize_reverting', 'resize_migrating']);

/** A first build with block device mappings still to attach (a moved instance's volumes are rehomed at spawn instead). */
function needsBlockDeviceMapping(r: InstanceRecord): boolean {
  return !r.launchedAtMs && (r.volumesAttached ?? []).some((v) => v.status === 'attaching');
}

function faultOf(e: unknown): { code: string; message: string } {
  return isMinicloudError(e) ? { code: (e as MinicloudError).code, message: e.message } : { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

/**
 * The conductor role: a level-triggered reconciler per instance. `reconcile(id)` re-reads the
 * instance and continues from its task_state (networking -> spawning -> waits for the agent's report;
 * a power action; deleting), so it resumes after a controller restart; every step is idempotent
 * (ports are found by device_id before creating, agent commands are idempotent, claims and releases
 * are idempotent Lua). Agent reports complete builds and actions through `handlePowerReport`.
 * Multi-step actions (resize, rebuild, shelve, rescue, snapshot...) are delegated to
 * {@link LifecycleWorker}; their failures end the task (and put a destroyed guest in ERROR).
 */
export class Conductor {
  readonly lifecycle: LifecycleWorker;
  /** Attachments that follow a moved instance, and the leader's resync of stale `attaching` entries. */
  readonly volumes: VolumeReconciler;
  private readonly blockDevices: BlockDeviceMapper;
  /** Live migration's report hook (migration/migration-worker.ts); true = the report was consumed. */
  onMigrationReport?: (ev: events.InstancePowerStateReported, r: InstanceRecord) => Promise<boolean>;

  constructor(private readonly d: ConductorDeps) {
    this.volumes = new VolumeReconciler(d);
    this.blockDevices = new BlockDeviceMapper(d);
    this.lifecycle = new LifecycleWorker(d, this);
  }

  /**
   * Worker entry point. The step runs as part of the request that started the instance's current
   * action (its log lines, agent and network calls and events carry that request id).
   * @returns ms to requeue after, or nothing
   */
  async reconcile(id: string): Promise<number | void> {
    const r = await this.d.instances.find(id);
    if (!r) return;
    return runWithRequestId(r.actionRequestId, () => this.step(r));
  }

  private async step(r: InstanceRecord): Promise<number | void> {
    if (r.taskState === 'deleting') return this.deleteInstance(r);
    if (r.pendingCleanup) return this.cleanupAfterFailure(r);
    try {
      if (r.taskState === 'networking') return await this.allocateNetwork(r);
      else if (r.taskState === 'block_device_mapping') return await this.mapBlockDevices(r);
      else if (r.taskState === 'spawning') await this.spawn(r);
      else if (r.taskState && LIFECYCLE_TASK_STATES.has(r.taskState)) await this.lifecycle.step(r);
      else {
        const rule = ruleForTaskState(r.taskState);
        if (rule) await this.runPowerAction(r, rule);
      }
    } catch (e) {
      const timedOut = this.d.nowMs() - r.taskStartedAtMs > this.d.taskTimeoutMs;
      if (isTransientError(e) && !timedOut) throw e;
      // Not a known-transient error: the step fails now (retrying a bug would only repeat it).
      const bug = !isMinicloudError(e);
      if (bug) this.d.logger.error({ instance_id: r.id, task_state: r.taskState, err: e instanceof Error ? e.message : String(e), stack: e instanceof Error ? e.stack : undefined }, 'instance step failed');
      // Only a spawn is refused this way (`r` may still say networking: the spawn follows in the same turn).
      if (r.vmState === 'building' && !r.launchedAtMs && isHostRefusal(e)) {
        const cur = await this.d.instances.find(r.id);
        if (cur?.taskState === 'spawning' && cur.hostId === r.hostId && (await this.reschedule(cur, e))) return 0;
      }
      if (r.vmState === 'building') await this.failBuild(r.id, e);
      else if (r.taskState && LIFECYCLE_TASK_STATES.has(r.taskState)) await this.failLifecycle(r.id, e, bug);
      else if (bug) await this.failWithFault(r.id, e);
      else await this.failAction(r.id, e);
    }
  }

  // ---- build ----

  private async allocateNetwork(r: InstanceRecord): Promise<number | void> {
    const net = await this.d.peers.network();
    const existing = (await net.listPorts({ deviceId: r.id })).ports;
    const used = new Set<string>();
    const deviceOwner = `compute:${r.availabilityZone}`;
    const ports: InstancePort[] = [];
    // A guest that ran before (an HA restart elsewhere) keeps the ports it has now, attached or detached since boot.
    for (const rn of r.launchedAtMs ? [] : r.requestedNetworks) {
      let port = existing.find((p) => p.networkId === rn.networkId && !used.has(p.id));
      if (!port) {
        port = (
          await net.createPort({
            networkId: rn.networkId,
            projectId: r.projectId,
            deviceId: r.id,
            deviceOwner,
            fixedIps: rn.fixedIp ? [{ ipAddress: rn.fixedIp }] : [],
            securityGroupIds: r.securityGroupIds ?? [],
          })
        ).port!;
      }
      used.add(port.id);
      const bound = (await net.bindPort({ portId: port.id, hostId: r.hostId, deviceId: r.id, deviceOwner })).port ?? port;
      ports.push({
        portId: bound.id,
        networkId: rn.networkId,
        networkName: rn.networkName,
        macAddress: bound.macAddress,
        ipAddresses: bound.fixedIps.map((f) => f.ipAddress),
        segmentationId: rn.segmentationId,
        mtu: rn.mtu,
      });
    }
    for (const p of r.launchedAtMs ? r.ports : []) {
      const bound = (await net.bindPort({ portId: p.portId, hostId: r.hostId, deviceId: r.id, deviceOwner })).port;
      ports.push(bound ? { ...p, macAddress: bound.macAddress, ipAddresses: bound.fixedIps.map((f) => f.ipAddress) } : p);
    }
    const next = await this.transition(r.id, (cur) => {
      if (cur.taskState !== 'networking') return undefined;
      return { ...cur, ports, taskState: needsBlockDeviceMapping(cur) ? 'block_device_mapping' : 'spawning', taskStartedAtMs: this.d.nowMs() };
    });
    if (next?.taskState === 'block_device_mapping') return this.mapBlockDevices(next);
    if (next?.taskState === 'spawning') await this.spawn(next);
  }

  /** task_state block_device_mapping (first build only): create/wait/attach the BDM volumes, then spawn. */
  private async mapBlockDevices(r: InstanceRecord): Promise<number | void> {
    const requeueMs = await this.blockDevices.step(r);
    if (requeueMs !== undefined) {
      const waitedMs = this.d.nowMs() - r.taskStartedAtMs;
      if (waitedMs > this.d.taskTimeoutMs) throw new FailedPreconditionError(`block device mapping: a volume is still being created after ${Math.round(waitedMs / 1000)} s`, 'volume_create_timeout');
      return requeueMs;
    }
    const next = await this.transition(r.id, (cur) => (cur.taskState === 'block_device_mapping' ? { ...cur, taskState: 'spawning', taskStartedAtMs: this.d.nowMs() } : undefined));
    if (next?.taskState === 'spawning') await this.spawn(next);
  }

  /**
   * Before any spawn on the instance's (possibly new) host: its attached volumes' attachments move
   * there (HA evacuation, cold migration, unshelve reuse this). @returns the record to spawn from
   */
  async prepareVolumes(r: InstanceRecord): Promise<InstanceRecord> {
    return this.volumes.rehome(r);
  }

  /**
   * Nova's build reschedule: the agent of `r.hostId` refused the first spawn (`refusal`), so claim
   * another host (never one that refused before), move the instance there (task_state networking:
   * its ports are rebound, its volumes follow) and release the refusing host's claim. Order makes a
   * crash harmless: a claim made but not recorded is found and adopted by the next attempt.
   * @returns true when moved; false when attempts are used up or no other host fits (the caller
   *   fails the build; the fault says which hosts refused)
   */
  private async reschedule(r: InstanceRecord, refusal: unknown): Promise<boolean> {
    const tried = [...(r.retryHostIds ?? []), r.hostId];
    const maxAttempts = this.d.maxBuildAttempts ?? 3;
    if (!this.d.placement || tried.length >= maxAttempts) return false;
    const untried = (await this.d.hosts.list()).map((h) => h.hostId).filter((h) => !tried.includes(h));
    let to = await this.d.allocations.hostHolding(r.id, untried);
    if (!to) {
      try {
        to = await claimElsewhere({ instances: this.d.instances, placement: this.d.placement, serverGroups: this.d.serverGroups }, r, '', { ignoreHostIds: tried });
      } catch (e) {
        if (isMinicloudError(e) && e.code === 'RESOURCE_EXHAUSTED') {
          this.d.logger.warn({ instance_id: r.id, tried, err: e.message }, 'build refused by its host and no other host fits');
          return false;
        }
        throw e;
      }
    }
    const target = to;
    const now = this.d.nowMs();
    const next = await this.transition(r.id, (cur) =>
      cur.hostId === r.hostId && cur.vmState === 'building' && cur.taskState === 'spawning'
        ? { ...cur, hostId: target, taskState: 'networking', retryHostIds: tried, taskStartedAtMs: now }
        : undefined,
    );
    if (next?.hostId !== target) {
      await this.d.allocations.release(target, r.id);
      return next !== undefined;
    }
    await this.d.allocations.release(r.hostId, r.id);
    this.d.metrics.buildReschedules.inc();
    this.d.logger.warn({ instance_id: r.id, from_host_id: r.hostId, to_host_id: target, attempt: tried.length + 1, refusal: faultOf(refusal).message }, 'build refused by its host; rescheduled');
    return true;
  }

  /**
   * A fresh boot of `r` on its host fixes the guest's CPU there (Nova records instance.vcpu_model at
   * spawn): from the flavor's/image's `hw:cpu_mode` and the host's CPU, recorded on the instance when
   * it changed. Every spawn (build, rebuild, resize, unshelve, evacuation, a lost guest re-created) goes
   * through here; a live migration keeps the recorded CPU.
   * @returns the record with its guestCpu
   * @throws InvalidArgumentError ('hw:cpu_mode' / 'hw:cpu_model') for a CPU request that is malformed or
   *   that the host's CPU cannot provide (a custom model the scheduler's CpuModelFilter would have avoided)
   */
  async fixGuestCpu(r: InstanceRecord): Promise<InstanceRecord> {
    const host = await this.d.hosts.find(r.hostId);
    if (!host) return r;
    const guestCpu = guestCpuOnHost(guestCpuRequestOf(r.flavor.extraSpecs, r.image.properties), { cpuModel: host.profile.cpuModel, cpuFlags: host.profile.cpuFlags ?? [] });
    const cpu = { mode: guestCpu.mode, model: guestCpu.model, flags: [...guestCpu.flags] };
    if (JSON.stringify(r.guestCpu) === JSON.stringify(cpu)) return r;
    const next = await this.transition(r.id, (cur) => (cur.hostId === r.hostId ? { ...cur, guestCpu: cpu } : undefined));
    return { ...(next ?? r), guestCpu: cpu };
  }

  private async spawn(r0: InstanceRecord): Promise<void> {
    const r = await this.prepareVolumes(await this.fixGuestCpu(r0));
    const res = await this.d.agents.spawn(r.hostId, r.id, this.instanceSpec(r), scopeOf(r));
    await this.forgetAdminPass(r.id);
    // A report may have been missed: the runtime says it already runs.
    if (res.instance?.powerState === compute.PowerState.POWER_STATE_RUNNING) await this.markSpawned(r.id);
  }

  /** Drops the guest password from the record once the agent has it (the spawn or password command was sent). */
  async forgetAdminPass(id: string): Promise<void> {
    await this.transition(id, (cur) => (cur.adminPass === undefined ? undefined : { ...cur, adminPass: undefined }));
  }

  /** The agent's InstanceSpec of a record. @throws InvalidArgumentError naming a malformed `quota:*` extra spec */
  instanceSpec(r: InstanceRecord): DeepPartial<agent.InstanceSpec> {
    const specs = r.flavor.extraSpecs;
    const { cpu } = readFlavorResourceControls(specs, r.flavor.vcpus);
    return {
      instanceId: r.id,
      name: r.name,
      projectId: r.projectId,
      flavor: flavorToProto(r.flavor),
      // Booted from volume: no image to fetch; the root disk is the volume at /dev/vda.
      image: r.image.id ? { imageId: r.image.id, diskFormat: r.image.diskFormat, sizeBytes: r.image.sizeBytes, virtualSizeBytes: r.image.virtualSizeBytes, sha256: r.image.sha256 } : undefined,
      ports: r.ports.map((p) => ({ portId: p.portId, networkId: p.networkId, segmentationId: p.segmentationId, macAddress: p.macAddress, ipAddresses: p.ipAddresses, mtu: p.mtu })),
      metadata: r.metadata,
      workload: { model: r.metadata['minicloud:workload'] ?? specs['minicloud:workload'] ?? 'idle' },
      cpuShares: cpu?.shares ?? 0,
      cpuReservationMhz: cpu?.reservationMhz ?? 0,
      cpuLimitMhz: cpu?.limitMhz ?? 0,
      volumes: (r.volumesAttached ?? []).filter((v) => v.status === 'attached').map(volumeRefOf),
      guestCpu: r.guestCpu,
      ...guestFieldsOf(r),
    };
  }

  private async markSpawned(id: string): Promise<void> {
    const now = this.d.nowMs();
    const next = await this.transition(id, (cur) => {
      if (cur.vmState !== 'building' || cur.taskState === 'deleting') return undefined;
      return { ...cur, vmState: 'active', taskState: null, powerState: 'running', launchedAtMs: now, fault: undefined, taskStartedAtMs: now };
    });
    if (next?.vmState === 'active' && next.launchedAtMs === now) {
      this.d.metrics.bootSeconds.observe((now - next.createdAtMs) / 1000);
      this.d.logger.info({ instance_id: id, host_id: next.hostId, boot_seconds: (now - next.createdAtMs) / 1000 }, 'instance active');
      if (next.actionRequestId) await this.d.instances.finishAction(id, next.actionRequestId, 'Success', '', now);
    }
  }

  /** Build failed: ERROR with a fault, then ports deleted and claim released (retried until done). */
  async failBuild(id: string, e: unknown): Promise<void> {
    const fault = faultOf(e);
    this.d.logger.warn({ instance_id: id, fault }, 'build failed');
    const next = await this.transition(id, (cur) => {
      if (cur.vmState !== 'building' || cur.taskState === 'deleting') return undefined;
      return { ...cur, vmState: 'error', taskState: null, powerState: 'nostate', fault, pendingCleanup: true, taskStartedAtMs: this.d.nowMs() };
    });
    if (!next || next.vmState !== 'error') return;
    if (next.actionRequestId) await this.d.instances.finishAction(id, next.actionRequestId, 'Error', fault.message, this.d.nowMs());
    await this.cleanupAfterFailure(next);
  }

  private async cleanupAfterFailure(r: InstanceRecord): Promise<void> {
    await this.releaseResources(r);
    // A first build that failed gives its volumes back (created ones deleted); a moved instance keeps them.
    if (!r.launchedAtMs) await this.blockDevices.rollback(r);
    await this.d.instances.update(r.id, (cur) => (cur.pendingCleanup ? { ...cur, pendingCleanup: false, ports: [] } : undefined), this.d.nowMs());
  }

  /**
   * Gives the instance's ports back (by record and by device_id: ports made for it are deleted, ports
   * the user attached are unbound and keep living, as Nova's preserve_on_delete) and releases its
   * claim. Idempotent.
   */
  private async releaseResources(r: InstanceRecord): Promise<void> {
    const net = await this.d.peers.network();
    const ports = new Map<string, Pick<InstancePort, 'portId' | 'preserveOnDelete'>>(r.ports.map((p) => [p.portId, p]));
    for (const p of (await net.listPorts({ deviceId: r.id })).ports) if (!ports.has(p.id)) ports.set(p.id, { portId: p.id });
    for (const p of ports.values()) await releasePort(this.d.peers, p, r.id);
    await this.d.allocations.release(r.hostId, r.id);
  }

  // ---- power actions ----

  private async runPowerAction(r: InstanceRecord, rule: PowerActionRule): Promise<void> {
    const scope = scopeOf(r);
    const res = await this.d.agents.power(r.hostId, r.id, rule.command, scope, { hard: rule.taskState === 'rebooting_hard' }).catch(async (e: unknown) => {
      // The host has no such VM (its hypervisor lost it): a start re-creates the guest from the record,
      // as Nova's power_on does with libvirt (a hard reboot defines the domain afresh). Completed by `spawned`.
      if (rule.command !== 'powerOn' || !(e instanceof NotFoundError)) throw e;
      return this.d.agents.spawn(r.hostId, r.id, this.instanceSpec(await this.prepareVolumes(await this.fixGuestCpu(r))), scope);
    });
    if (res.instance && powerStateFromProto(res.instance.powerState) === rule.toPowerState) await this.completeAction(r.id, rule);
  }

  private async completeAction(id: string, rule: PowerActionRule): Promise<void> {
    const next = await this.transition(id, (cur) => {
      if (cur.taskState !== rule.taskState) return undefined;
      return { ...cur, vmState: rule.toVmState, taskState: null, powerState: rule.toPowerState, taskStartedAtMs: this.d.nowMs() };
    });
    if (next && next.taskState === null && next.actionRequestId) await this.d.instances.finishAction(id, next.actionRequestId, 'Success', '', this.d.nowMs());
  }

  /** A power action failed unexpectedly (not a refusal): ERROR with a fault (Nova's instance fault), action logged as Error. */
  private async failWithFault(id: string, e: unknown): Promise<void> {
    const fault = faultOf(e);
    const before = await this.d.instances.find(id);
    const next = await this.transition(id, (cur) => (cur.taskState === before?.taskState ? { ...cur, vmState: 'error', taskState: null, fault, taskStartedAtMs: this.d.nowMs() } : undefined));
    if (next && before?.actionRequestId) await this.d.instances.finishAction(id, before.actionRequestId, 'Error', fault.message, this.d.nowMs());
  }

  /** A power action the agent refused: task_state back to none, vm_state unchanged, action logged as Error. */
  private async failAction(id: string, e: unknown): Promise<void> {
    const fault = faultOf(e);
    const before = await this.d.instances.find(id);
    const next = await this.transition(id, (cur) => (ruleForTaskState(cur.taskState) ? { ...cur, taskState: null, taskStartedAtMs: this.d.nowMs() } : undefined));
    if (next && before?.actionRequestId) await this.d.instances.finishAction(id, before.actionRequestId, 'Error', fault.message, this.d.nowMs());
  }

  /**
   * A lifecycle step failed for good: task_state back to None and the action logged as Error; an
   * instance whose guest was already destroyed (rebuild/unshelve/resize spawning), or any instance
   * when `toError` (an unexpected error), goes to ERROR with a fault (Nova sets vm_state ERROR when a
   * resize or rebuild fails on the compute host).
   */
  private async failLifecycle(id: string, e: unknown, toError = false): Promise<void> {
    const fault = faultOf(e);
    this.d.logger.warn({ instance_id: id, fault }, 'lifecycle action failed');
    const before = await this.d.instances.find(id);
    const broken = (t: InstanceRecord['taskState']) => toError || BROKEN_BY_FAILURE.has(t);
    const next = await this.transition(id, (cur) =>
      cur.taskState && LIFECYCLE_TASK_STATES.has(cur.taskState)
        ? { ...cur, taskState: null, vmState: broken(cur.taskState) ? 'error' : cur.vmState, fault: broken(cur.taskState) ? fault : cur.fault, snapshotImageId: undefined, taskStartedAtMs: this.d.nowMs() }
        : undefined,
    );
    if (next && before?.actionRequestId) await this.d.instances.finishAction(id, before.actionRequestId, 'Error', fault.message, this.d.nowMs());
  }

  // ---- delete ----

  private async deleteInstance(r: InstanceRecord): Promise<void> {
    if (r.hostId) await this.destroyOn(r.hostId, r);
    if (r.resize) {
      // A resize in flight or awaiting confirm holds two claims; the guest may be on either host.
      const other = r.hostId === r.resize.destHostId ? r.resize.sourceHostId : r.resize.destHostId;
      await this.destroyOn(other, r);
      await this.d.allocations.release(r.resize.destHostId, resizeConsumer(r.id));
      await this.d.allocations.release(r.resize.sourceHostId, r.id);
    }
    if (r.ft?.secondaryHostId) {
      // The FT standby copy and its reservation go with the server.
      await this.destroyOn(r.ft.secondaryHostId, r);
      await this.d.allocations.release(r.ft.secondaryHostId, ftConsumer(r.id));
    }
    await this.releaseResources(r);
    // Deleted before it ever ran: its build's volumes go back as after a failed build.
    if (!r.launchedAtMs) await this.blockDevices.rollback(r);
    else await releaseInstanceVolumes(this.d.peers, r);
    if (r.quota) {
      const extra = r.resize?.quotaDelta ?? { cores: 0, ramMb: 0 };
      await this.d.quotas.release(r.projectId, { instances: 1, cores: r.quota.cores + extra.cores, ramMb: r.quota.ramMb + extra.ramMb });
      await this.d.instances.update(r.id, (cur) => ({ ...cur, quota: undefined }), this.d.nowMs());
    }
    if (r.serverGroupId) await this.d.serverGroups.changeMembers(r.serverGroupId, [], [r.id]);
    if (r.shelvedImageId) await deleteShelvedImage(this.d.peers, r.shelvedImageId, this.d.logger);
    await this.publish({ ...r, vmState: 'deleted', taskState: null, powerState: 'nostate' }, r.vmState);
    await this.d.instances.remove(r);
  }

  /** Destroys the guest on `hostId`; gone or a down host counts as done (Nova's local delete). */
  private async destroyOn(hostId: string, r: InstanceRecord): Promise<void> {
    const host = hostId ? await this.d.hosts.find(hostId) : undefined;
    if (!host) return;
    try {
      await this.d.agents.destroy(host, r.id, { requestId: r.actionRequestId, step: 'deleting' });
    } catch (e) {
      // Nova's "local delete": a down host's VMs are cleaned when it registers again (destroy_instance_ids).
      if (!(isHostDown(host.state) && isTransientError(e))) throw e;
    }
  }

  // ---- agent reports ----

  /**
   * Applies an agent's power-state report: ignored when its epoch is older than the host's (fenced)
   * or the instance is not (or no longer) on that host. spawned -> ACTIVE; spawn_failed -> ERROR +
   * cleanup; a report completing the action in progress -> that action's target states; anything else
   * updates power_state only.
   */
  async handlePowerReport(ev: events.InstancePowerStateReported): Promise<void> {
    const epoch = await this.d.hosts.epoch(ev.hostId);
    if (ev.epoch < epoch) {
      this.d.logger.info({ host_id: ev.hostId, instance_id: ev.instanceId, epoch: ev.epoch, current_epoch: epoch }, 'stale report ignored');
      return;
    }
    const r = await this.d.instances.find(ev.instanceId);
    if (r && r.taskState !== 'deleting' && this.onMigrationReport && (await this.onMigrationReport(ev, r))) return;
    if (!r || r.hostId !== ev.hostId || r.taskState === 'deleting') return;
    if (r.taskState && LIFECYCLE_TASK_STATES.has(r.taskState)) {
      // The lifecycle worker drives these steps itself; only a spawn's outcome arrives by report.
      if (ev.reason === 'spawned') return this.lifecycle.onSpawned(r);
      if (ev.reason === 'spawn_failed') return this.failLifecycle(r.id, new Error(`spawn failed on host ${ev.hostId}: ${ev.error || 'unknown error'}`));
      return;
    }
    const rule = ruleForTaskState(r.taskState);
    // A start that had to re-create a lost guest (runPowerAction) ends with the spawn's outcome.
    if (rule?.command === 'powerOn' && ev.reason === 'spawned') return this.completeAction(r.id, rule);
    if (rule?.command === 'powerOn' && ev.reason === 'spawn_failed') return this.failAction(r.id, new Error(`spawn failed on host ${ev.hostId}: ${ev.error || 'unknown error'}`));
    if (ev.reason === 'spawned') return this.markSpawned(r.id);
    if (ev.reason === 'spawn_failed') {
      return this.failBuild(r.id, new Error(`spawn failed on host ${ev.hostId}: ${ev.error || 'unknown error'}`));
    }
    if (rule && rule.completedBy === ev.reason) return this.completeAction(r.id, rule);
    const power = powerStateFromProto(ev.powerState);
    await this.transition(r.id, (cur) => (cur.powerState === power ? undefined : { ...cur, powerState: power }));
  }

  // ---- helpers ----

  /**
   * CAS update + InstanceStateChanged when any of the three states changed. `fence`: a leader loop's
   * write (HA, power sync, consolidation), which lands only under this replica's fencing token.
   * @throws LeaderFenceLostError (with `fence`) when this replica no longer leads: nothing written, nothing published
   */
  async transition(id: string, mutate: (r: InstanceRecord) => InstanceRecord | undefined, fence?: LeaderFence): Promise<InstanceRecord | undefined> {
    let old: InstanceRecord | undefined;
    const next = await this.d.instances.update(
      id,
      (cur) => {
        old = cur;
        const next = mutate(cur);
        // The guest password lives only while the task that hands it over does (a build that failed, an action that ended).
        return next && next.taskState === null && next.adminPass !== undefined ? { ...next, adminPass: undefined } : next;
      },
      this.d.nowMs(),
      fence,
    );
    if (next && old && (old.vmState !== next.vmState || old.taskState !== next.taskState || old.powerState !== next.powerState)) {
      await this.publish(next, old.vmState);
    }
    return next;
  }

  /** Publishes events.InstanceStateChanged (a hint: consumers re-read). */
  async publish(r: InstanceRecord, oldVmState: InstanceRecord['vmState']): Promise<void> {
    await this.d.bus.publishEvent(Subjects.instanceStateChanged, events.InstanceStateChanged, {
      meta: { eventId: randomUUID(), occurredAt: new Date(this.d.nowMs()), source: 'controller' },
      instanceId: r.id,
      projectId: r.projectId,
      hostId: r.hostId,
      vmState: vmStateToProto(r.vmState),
      taskState: taskStateToProto(r.taskState),
      powerState: powerStateToProto(r.powerState),
      oldVmState: vmStateToProto(oldVmState),
    });
  }
}

/** What the guest's cloud-init reads (the config drive's data): user data (base64), the key pair and the zone. */
function guestFieldsOf(r: InstanceRecord): Pick<agent.InstanceSpec, 'userData' | 'keyName' | 'publicKey' | 'availabilityZone' | 'adminPass'> {
  return { userData: r.userData, keyName: r.keyName, publicKey: r.keyData ?? '', availabilityZone: r.availabilityZone, adminPass: r.adminPass ?? '' };
}
