import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { compute, events } from '@minicloud/proto';
import { connectBus, POWER_STATE_REPORTED_WILDCARD, type Bus, type EventConsumer } from '@minicloud/platform-bus';
import { silentLogger } from '@minicloud/platform-logging';

/** One violation of the HA safety invariants, with the evidence. */
export interface Violation {
  kind: 'double_running' | 'ft_two_live_copies' | 'stale_epoch_running' | 'over_allocated' | 'lost' | 'stuck' | 'leaked_claim' | 'missing_claim';
  detail: string;
}

/**
 * The chaos suite's referee, fed by the agents' own reports (JetStream
 * minicloud.evt.agent.instance.power_state_reported, its own durable consumer from the start of the
 * stream) and by sampling the controller's allocations in Redis:
 * - double_running: an instance reported running by a host while another host's last report for it
 *   was running (a VM on two hosts at once). ft_two_live_copies: the same for an FT secondary made
 *   live (reason `ft_failover`) while its primary still ran: an FT server never has two live copies
 *   (its standby copy is never reported running before the failover). A host the test killed (`hostKilled`) holds no VM any
 *   more; a host the test froze (`hostFrozen`) runs nothing while frozen, and after `hostResumed`
 *   its first report of each frozen VM must not be running with the old epoch (it must self-fence).
 * - over_allocated: a host's claimed vcpus/ram_mb/disk_gb above (total - reserved) * ratio.
 * - lost / stuck: checked at the end with `checkAcknowledged` against the API's view.
 * - leaked_claim / missing_claim: checked at the end with `checkClaims` once everything settled.
 */
export class InvariantChecker {
  readonly violations: Violation[] = [];
  /** instance -> host -> last reported running? */
  private readonly running = new Map<string, Map<string, boolean>>();
  /** host -> epoch at freeze; instances running there at that moment. */
  private readonly frozen = new Map<string, { epoch: number; ids: Set<string> }>();
  private readonly hostEpoch = new Map<string, number>();
  readonly reports: events.InstancePowerStateReported[] = [];
  private bus?: Bus;
  private consumer?: EventConsumer;
  private redis?: Redis;
  private sampler?: NodeJS.Timeout;

  async start(natsUrl: string, redisUrl: string, sampleEveryMs = 500): Promise<void> {
    this.bus = await connectBus({ url: natsUrl, name: 'chaos-invariant-checker', logger: silentLogger() });
    this.consumer = await this.bus.consumeEvents({
      durable: `chaos-checker-${randomUUID().slice(0, 8)}`,
      filterSubject: POWER_STATE_REPORTED_WILDCARD,
      type: events.InstancePowerStateReported,
      handler: (ev) => this.onReport(ev),
    });
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    this.redis.on('error', () => undefined);
    this.sampler = setInterval(() => void this.sampleAllocations().catch(() => undefined), sampleEveryMs);
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    await this.consumer?.stop().catch(() => undefined);
    await this.bus?.close().catch(() => undefined);
    this.redis?.disconnect();
  }

  /** The test kill -9'd the agent of `hostId`: its VMs are gone with the process. */
  hostKilled(hostId: string): void {
    for (const hosts of this.running.values()) hosts.delete(hostId);
    this.frozen.delete(hostId);
  }

  /** The test SIGSTOPped the agent of `hostId`: its VMs are frozen (not running) from now. */
  hostFrozen(hostId: string): void {
    const ids = new Set<string>();
    for (const [id, hosts] of this.running) if (hosts.get(hostId)) ids.add(id);
    this.frozen.set(hostId, { epoch: this.hostEpoch.get(hostId) ?? 0, ids });
    for (const id of ids) this.running.get(id)!.delete(hostId);
  }

  /**
   * The test cut the agent's NATS link (isolation): its reports cannot reach the checker any more, so
   * its VMs are unobservable from now, as for a frozen host (the scenario checks them through the
   * agent's own gRPC answers), and a later report of one running with the old epoch is a violation.
   */
  hostCutOff(hostId: string): void {
    this.hostFrozen(hostId);
  }

  /** Ids that were running on `hostId` when it was frozen. */
  frozenIds(hostId: string): string[] {
    return [...(this.frozen.get(hostId)?.ids ?? [])];
  }

  /** Reports seen so far from `hostId` about `instanceId`. */
  reportsOf(hostId: string, instanceId?: string): events.InstancePowerStateReported[] {
    return this.reports.filter((r) => r.hostId === hostId && (!instanceId || r.instanceId === instanceId));
  }

  /** Hosts whose last report of `instanceId` is running. */
  runningOn(instanceId: string): string[] {
    return [...(this.running.get(instanceId) ?? new Map<string, boolean>())].filter(([, r]) => r).map(([h]) => h);
  }

  private onReport(ev: events.InstancePowerStateReported): void {
    this.reports.push(ev);
    this.hostEpoch.set(ev.hostId, Math.max(this.hostEpoch.get(ev.hostId) ?? 0, ev.epoch));
    const isRunning = ev.powerState === compute.PowerState.POWER_STATE_RUNNING;
    const fr = this.frozen.get(ev.hostId);
    if (fr?.ids.has(ev.instanceId)) {
      fr.ids.delete(ev.instanceId);
      if (isRunning && ev.epoch <= fr.epoch) {
        this.violations.push({ kind: 'stale_epoch_running', detail: `${ev.instanceId} reported running by ${ev.hostId} with its pre-freeze epoch ${ev.epoch} (reason ${ev.reason}) after it resumed` });
      }
    }
    const hosts = this.running.get(ev.instanceId) ?? new Map<string, boolean>();
    this.running.set(ev.instanceId, hosts);
    const handingOver = this.handover.get(ev.instanceId);
    if (handingOver?.has(ev.hostId)) {
      // The source of a live migration after the switch-over: it may only leave (migrated_out or any
      // non-running report); running again there would be a second copy.
      handingOver.delete(ev.hostId);
      if (isRunning) this.violations.push({ kind: 'double_running', detail: `${ev.instanceId} reported running again on live-migration source ${ev.hostId} (reason ${ev.reason}) after the destination took over` });
    } else if (isRunning) {
      const others = [...hosts].filter(([h, r]) => r && h !== ev.hostId).map(([h]) => h);
      if (others.length > 0 && ev.reason === 'migrated_in') {
        // QEMU's switch-over: the source paused (stop-and-copy) before the destination resumed; the
        // source's own report (migrated_out) follows. Until then its copy is paused, not running.
        this.handover.set(ev.instanceId, new Set(others));
        for (const h of others) hosts.set(h, false);
      } else if (others.length > 0 && ev.reason === 'ft_failover') {
        this.violations.push({ kind: 'ft_two_live_copies', detail: `FT secondary of ${ev.instanceId} went live on ${ev.hostId} while the primary ran on ${others.join(', ')}` });
      } else if (others.length > 0) {
        this.violations.push({ kind: 'double_running', detail: `${ev.instanceId} reported running on ${ev.hostId} (reason ${ev.reason}) while running on ${others.join(', ')}` });
      }
    }
    hosts.set(ev.hostId, isRunning);
  }

  /** Live migrations past their switch-over: instance -> source hosts whose final report is pending. */
  private readonly handover = new Map<string, Set<string>>();

  /** One sample of every host's claims against its capacity. */
  async sampleAllocations(): Promise<void> {
    const r = this.redis!;
    const ids = await r.smembers('mc:controller:hosts');
    for (const id of ids) {
      const [h, u] = await Promise.all([r.hgetall(`mc:controller:host:${id}`), r.hgetall(`mc:controller:host:${id}:usage`)]);
      const classes: [string, string, string, string][] = [
        ['vcpus', 'vcpus_total', 'vcpus_reserved', 'cpu_allocation_ratio'],
        ['ram_mb', 'ram_mb_total', 'ram_mb_reserved', 'ram_allocation_ratio'],
        ['disk_gb', 'disk_gb_total', 'disk_gb_reserved', 'disk_allocation_ratio'],
      ];
      for (const [used, total, reserved, ratio] of classes) {
        const cap = (Number(h[total] ?? 0) - Number(h[reserved] ?? 0)) * Number(h[ratio] ?? 1);
        if (Number(u[used] ?? 0) > cap + 1e-9) this.violations.push({ kind: 'over_allocated', detail: `host ${id} ${used} ${u[used]} > capacity ${cap}` });
      }
    }
  }

  /**
   * End-of-scenario check of the controller's claims (Placement allocations in Redis) once nothing
   * is in flight: each of `servers` with a host holds exactly one claim, on that host (a claim left on
   * another host is leaked, e.g. by an HA restart done twice); no host holds a claim of one of them
   * under any other consumer (`<id>#migration`, `<id>#resize`) but an FT secondary's `<id>#ft` on the
   * server's ft_secondary_host_id.
   */
  async checkClaims(servers: readonly compute.Server[]): Promise<void> {
    const r = this.redis!;
    const byId = new Map(servers.map((s) => [s.id, s]));
    const holders = new Map<string, string[]>();
    for (const host of await r.smembers('mc:controller:hosts')) {
      for (const consumer of Object.keys(await r.hgetall(`mc:controller:host:${host}:allocations`))) {
        const id = consumer.split('#')[0];
        if (!byId.has(id)) continue;
        // An FT server's secondary holds its reservation `<id>#ft` on the secondary's host.
        if (consumer === `${id}#ft` && byId.get(id)!.ftSecondaryHostId === host) continue;
        if (consumer !== id || byId.get(id)!.hostId !== host) this.violations.push({ kind: 'leaked_claim', detail: `host ${host} holds claim ${consumer} of a server on ${byId.get(id)!.hostId || 'no host'}` });
        else holders.set(id, [...(holders.get(id) ?? []), host]);
      }
    }
    for (const s of servers) {
      if (s.hostId && (holders.get(s.id) ?? []).length !== 1) this.violations.push({ kind: 'missing_claim', detail: `${s.id} on ${s.hostId} holds ${(holders.get(s.id) ?? []).length} claim(s) there` });
    }
  }

  /**
   * End-of-scenario check of acknowledged creates against the API: each must exist (not lost),
   * not be left in a task_state (stuck), and an ACTIVE one must run, per the agents' reports, on
   * exactly its host.
   */
  checkAcknowledged(ackedIds: readonly string[], servers: readonly compute.Server[]): void {
    const byId = new Map(servers.map((s) => [s.id, s]));
    for (const id of ackedIds) {
      const s = byId.get(id);
      if (!s) {
        this.violations.push({ kind: 'lost', detail: `acknowledged instance ${id} is gone` });
        continue;
      }
      if (s.taskState !== compute.TaskState.TASK_STATE_UNSPECIFIED) {
        this.violations.push({ kind: 'stuck', detail: `${id} still in task_state ${compute.TaskState[s.taskState]}` });
      }
      if (s.vmState === compute.VmState.VM_STATE_ACTIVE) {
        const on = this.runningOn(id);
        if (on.length !== 1 || on[0] !== s.hostId) this.violations.push({ kind: 'double_running', detail: `${id} ACTIVE on ${s.hostId} but agents report it running on [${on.join(', ')}]` });
      }
    }
  }
}
