import { agent, events, network } from '@minicloud/proto';
import { isMinicloudError } from '@minicloud/domain-errors';
import { heartbeatSubject, type Bus } from '@minicloud/platform-bus';
import { sleepUntilAborted, type Runnable } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import { HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { toProtoProfile } from './api/hypervisor-service';
import { toProtoUsage } from './api/mapping';
import { inventoryOf, runtimesOf } from './inventory';
import type { SimulatedHost } from './simulated-host';
import { evaluateIsolation, shutdownPlan, type ClusterView, type IsolationResponse } from './isolation';

/** The controller's registry, as the agent calls it (a ServiceClient in production). */
export interface HostRegistryClient {
  registerHost(req: Partial<agent.RegisterHostRequest>): Promise<agent.RegisterHostResponse>;
}

/** The network service's VTEP/FDB calls (a ServiceClient in production). */
export interface VtepClient {
  registerVtep(req: Partial<network.RegisterVtepRequest>): Promise<network.RegisterVtepResponse>;
  getHostFdb(req: Partial<network.GetHostFdbRequest>): Promise<network.GetHostFdbResponse>;
  /** Whether a port's security groups let a new inbound flow in (the guests' sshd asks); absent in tests without a network service. */
  checkPortIngress?(req: Partial<network.CheckPortIngressRequest>): Promise<network.CheckPortIngressResponse>;
}

export interface HostAgentDeps {
  host: SimulatedHost;
  registry: () => Promise<HostRegistryClient>;
  bus: Bus;
  redis: Redis;
  logger: Logger;
  tunnelIp: string;
  agentEndpoint: () => string;
  profileExtra: { hostname: string; availabilityZone: string; rackId: string };
  /** Backoff of registration retries (ms); defaults 100 .. 5000. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Host isolation response (vSphere HA); defaults: power_off after 5000 ms, 300 s shutdown timeout, guests shut down in 1 s. */
  isolation?: Partial<IsolationSettings>;
  /** One NATS round trip (PING/PONG); default `bus.nc.flush()`. */
  roundTrip?: () => Promise<void>;
}

/** ISOLATION_RESPONSE, ISOLATION_AFTER_MS, ISOLATION_SHUTDOWN_TIMEOUT_MS, GUEST_SHUTDOWN_MS (config.ts). */
export interface IsolationSettings {
  response: IsolationResponse;
  afterMs: number;
  shutdownTimeoutMs: number;
  guestShutdownMs: number;
}


/**
 * One host's link to the control plane (a Runnable): RegisterHost with backoff until the controller
 * answers (re-registering when asked), core-NATS heartbeats every heartbeat_interval_ms, the Redis
 * lease renewed every lease_ttl_ms/3 (self-fencing: VMs powered off when it could not be renewed for
 * self_fence_after_ms). The VTEP and its FDB belong to the host's overlay module (overlay/).
 * Liveness runs on wall-clock time.
 */
export class HostAgent implements Runnable {
  readonly name: string;
  timings = { heartbeatIntervalMs: 1000, leaseTtlMs: 3000, selfFenceAfterMs: 5000 };
  private hbSequence: number;
  private reregister = false;
  private wake?: () => void;
  private lastLeaseOkMs = Date.now();
  private fenced = false;
  private lastRoundTripOkMs = Date.now();
  /** Epoch for which the isolation response was applied (and whether its record is stored). */
  private isolation?: { epoch: number; response: IsolationResponse; poweredOffIds: string[]; appliedAtMs: number; recorded: boolean; recovering?: boolean };
  private readonly iso: IsolationSettings;

  constructor(private readonly d: HostAgentDeps) {
    this.name = `host-agent:${d.host.hostId}`;
    this.hbSequence = Date.now() * 1000;
    this.iso = { response: 'power_off', afterMs: 5000, shutdownTimeoutMs: 300_000, guestShutdownMs: 1000, ...(d.isolation ?? {}) };
  }

  /** The isolation response applied in the current epoch, if any (tests, logs). */
  get isolationApplied(): { response: IsolationResponse; poweredOffIds: string[] } | undefined {
    return this.isolation && { response: this.isolation.response, poweredOffIds: [...this.isolation.poweredOffIds] };
  }

  /** Asks for a new RegisterHost (after a newer epoch was seen). */
  requestReregister(): void {
    this.reregister = true;
    this.wake?.();
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.register(signal);
    if (signal.aborted) return;
    await Promise.all([this.heartbeatLoop(signal), this.leaseLoop(signal), this.reregisterLoop(signal), this.isolationLoop(signal)]);
  }

  /** One RegisterHost, retried with exponential backoff until it succeeds or the signal aborts. */
  async register(signal: AbortSignal): Promise<void> {
    const base = this.d.retryBaseMs ?? 100;
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const client = await this.d.registry();
        const res = await client.registerHost({
          profile: toProtoProfile(this.d.host.profile, this.d.profileExtra),
          agentEndpoint: this.d.agentEndpoint(),
          tunnelIp: this.d.tunnelIp,
          instances: runtimesOf(this.d.host),
        });
        this.d.host.setEpoch(Number(res.epoch));
        this.timings = {
          heartbeatIntervalMs: res.heartbeatIntervalMs || 1000,
          leaseTtlMs: res.leaseTtlMs || 3000,
          selfFenceAfterMs: res.selfFenceAfterMs || 5000,
        };
        this.d.host.destroyAll(res.destroyInstanceIds);
        // The lease with the new epoch first: a self-fenced or isolated host starts no VM (the hold)
        // until it holds its lease again (a failure here registers again after the backoff).
        await this.renewLease();
        this.fenced = false;
        // A fresh epoch ends an isolation episode: the controller decides again (it may power the
        // VMs it did not restart elsewhere back on); the old record no longer counts (older epoch).
        if (this.isolation) {
          this.isolation = undefined;
          await this.d.redis.del(HaProtocolKeys.isolation(this.d.host.hostId)).catch(() => undefined);
        }
        this.d.host.setIsolationHold(false);
        this.d.logger.info({ host_id: this.d.host.hostId, epoch: res.epoch, destroyed: res.destroyInstanceIds.length }, 'host registered');
        return;
      } catch (e) {
        const delay = Math.min(this.d.retryMaxMs ?? 5000, base * 2 ** Math.min(attempt, 10));
        this.d.logger.warn({ host_id: this.d.host.hostId, err: errText(e), retry_in_ms: delay }, 'RegisterHost failed; retrying');
        await sleepUntilAborted(delay, signal);
      }
    }
  }

  /** Publishes one heartbeat (events.Heartbeat on core NATS). */
  heartbeat(): void {
    const h = this.d.host;
    this.hbSequence += 1;
    this.d.bus.publishCore(heartbeatSubject(h.hostId), events.Heartbeat, {
      hostId: h.hostId, epoch: h.epoch, sequence: this.hbSequence, sentAt: new Date(),
      usage: toProtoUsage(h.usage()), runningInstanceIds: h.runningIds(),
      instances: inventoryOf(h), inventoryComplete: true,
    });
  }

  /**
   * Watchdog (Proxmox HA rule, checked before any other work of a loop turn): when the lease has not
   * been renewed for self_fence_after (the process was frozen, or Redis unreachable), power every VM
   * off, then register afresh (the controller may have restarted them elsewhere: it answers with
   * destroy_instance_ids). Returns true when it fenced now.
   */
  private watchdog(): boolean {
    if (this.fenced || Date.now() - this.lastLeaseOkMs < this.timings.selfFenceAfterMs) return false;
    // Hold first: nothing may start a VM here until a registration renewed the lease again.
    this.d.host.setIsolationHold(true);
    const ids = this.d.host.powerOffAll('self_fenced');
    this.fenced = true;
    this.d.logger.error({ host_id: this.d.host.hostId, powered_off: ids.length }, 'lease lost: self-fenced');
    this.requestReregister();
    return true;
  }

  private async heartbeatLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.watchdog();
      try {
        this.heartbeat();
      } catch (e) {
        this.d.logger.warn({ host_id: this.d.host.hostId, err: errText(e) }, 'heartbeat failed');
      }
      await sleepUntilAborted(this.timings.heartbeatIntervalMs, signal);
    }
  }

  private async renewLease(): Promise<void> {
    // The watchdog counts from before the SET: Redis starts the TTL when it runs the command, which is
    // after this moment, so a reply delayed (or a process frozen) past it cannot make us fence late.
    const sentAtMs = Date.now();
    await this.d.redis.set(HaProtocolKeys.lease(this.d.host.hostId), String(this.d.host.epoch), 'PX', this.timings.leaseTtlMs);
    this.lastLeaseOkMs = sentAtMs;
  }

  private async leaseLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      // A fenced host stops renewing until it registered afresh (register() renews with the new epoch).
      if (!this.watchdog() && !this.fenced) {
        try {
          await this.renewLease();
        } catch (e) {
          this.d.logger.warn({ host_id: this.d.host.hostId, err: errText(e) }, 'lease renewal failed');
          this.watchdog();
        }
      }
      await sleepUntilAborted(Math.max(10, Math.floor(this.timings.leaseTtlMs / 3)), signal);
    }
  }

  /**
   * Isolation (see isolation.ts): every heartbeat interval one NATS round trip, bounded by the interval.
   * Round trips failing for ISOLATION_AFTER_MS while the lease still renews, with a controller that
   * would restart the VMs: apply ISOLATION_RESPONSE once per epoch, then record it in Redis. When round
   * trips work again after a response was applied, register afresh (destroying what was moved).
   */
  private async isolationLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const interval = this.timings.heartbeatIntervalMs;
      if (await this.roundTripOk(interval)) {
        this.lastRoundTripOkMs = Date.now();
        const i = this.isolation;
        if (i?.response === 'leave_running') {
          // Nothing was touched: the VMs ran on, the controller restarted nothing.
          this.isolation = undefined;
          await this.d.redis.del(HaProtocolKeys.isolation(this.d.host.hostId)).catch(() => undefined);
          this.d.logger.warn({ host_id: this.d.host.hostId }, 'network back after isolation (leave_running)');
        } else if (i && !i.recovering) {
          i.recovering = true;
          this.d.logger.warn({ host_id: this.d.host.hostId, response: i.response }, 'network back after isolation: registering afresh');
          this.requestReregister();
        }
      } else if (!this.fenced) {
        try {
          await this.onRoundTripFailed(signal);
        } catch (e) {
          this.d.logger.warn({ host_id: this.d.host.hostId, err: errText(e) }, 'isolation check failed');
        }
      }
      await sleepUntilAborted(Math.max(10, interval), signal);
    }
  }

  private async roundTripOk(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const probe = Promise.resolve()
      .then(() => (this.d.roundTrip ?? (() => this.d.bus.nc.flush()))())
      .then(() => true, () => false);
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async onRoundTripFailed(signal: AbortSignal): Promise<void> {
    const h = this.d.host;
    if (this.isolation?.epoch === h.epoch) {
      if (!this.isolation.recorded) await this.record();
      return;
    }
    const verdict = evaluateIsolation({ hostId: h.hostId, nowMs: Date.now(), lastRoundTripOkMs: this.lastRoundTripOkMs, clusterView: await this.clusterView() }, this.iso.afterMs);
    if (verdict.state !== 'isolated') {
      if (verdict.state === 'isolated_unprotected') this.d.logger.warn({ host_id: h.hostId, why: verdict.why, silent_for_ms: verdict.silentForMs }, 'isolated but no controller would restart the VMs: isolation response held');
      return;
    }
    const epoch = h.epoch;
    const response = this.iso.response;
    this.d.logger.error({ host_id: h.hostId, epoch, response, silent_for_ms: verdict.silentForMs }, 'host isolated: applying the isolation response');
    let poweredOffIds: string[] = [];
    if (response !== 'leave_running') {
      // Hold first: from now on nothing may start a VM here until a fresh registration.
      h.setIsolationHold(true);
      if (response === 'shutdown') {
        const plan = shutdownPlan(this.iso.guestShutdownMs, this.iso.shutdownTimeoutMs);
        await sleepUntilAborted(plan.offAfterMs, signal);
        poweredOffIds = h.powerOffAll(plan.reason);
      } else {
        poweredOffIds = h.powerOffAll('isolation_power_off');
      }
    }
    if (h.epoch !== epoch) return; // re-registered meanwhile: that registration decided afresh
    this.isolation = { epoch, response, poweredOffIds, appliedAtMs: Date.now(), recorded: false };
    await this.record();
  }

  /** Writes the isolation record (after the VMs are off); retried every turn until stored. */
  private async record(): Promise<void> {
    const i = this.isolation!;
    const body = { epoch: i.epoch, response: i.response, powered_off_ids: i.poweredOffIds, applied_at_ms: i.appliedAtMs };
    await this.d.redis.set(HaProtocolKeys.isolation(this.d.host.hostId), JSON.stringify(body), 'PX', 24 * 3600 * 1000);
    i.recorded = true;
    this.d.logger.error({ host_id: this.d.host.hostId, epoch: i.epoch, response: i.response, powered_off: i.poweredOffIds.length }, 'isolation response applied and recorded');
  }

  private async clusterView(): Promise<ClusterView | undefined> {
    try {
      const raw = await this.d.redis.get(HaProtocolKeys.clusterView());
      if (!raw) return undefined;
      const v = JSON.parse(raw) as { hosts_up?: string[] };
      return { hostsUp: v.hosts_up ?? [] };
    } catch {
      return undefined;
    }
  }

  private async reregisterLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.reregister) {
        this.reregister = false;
        await this.register(signal);
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
      this.wake = undefined;
    }
  }
}

function errText(e: unknown): string {
  return isMinicloudError(e) || e instanceof Error ? e.message : String(e);
}
