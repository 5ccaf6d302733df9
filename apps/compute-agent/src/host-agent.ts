import { agent, events, network } from '@minicloud/proto';
import { isMinicloudError } from '@minicloud/domain-errors';
import { heartbeatSubject, type Bus } from '@minicloud/platform-bus';
import { sleepUntilAborted, type Runnable } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import type { Redis } from '@minicloud/platform-state';
import { toProtoProfile } from './api/hypervisor-service';
import { toProtoRuntime, toProtoUsage } from './api/mapping';
import type { SimulatedHost } from './simulated-host';

/** The controller's registry, as the agent calls it (a ServiceClient in production). */
export interface HostRegistryClient {
  registerHost(req: Partial<agent.RegisterHostRequest>): Promise<agent.RegisterHostResponse>;
}

/** The network service's VTEP/FDB calls (a ServiceClient in production). */
export interface VtepClient {
  registerVtep(req: Partial<network.RegisterVtepRequest>): Promise<network.RegisterVtepResponse>;
  getHostFdb(req: Partial<network.GetHostFdbRequest>): Promise<network.GetHostFdbResponse>;
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
}

/** Lease key the controller reads as the host's datastore heartbeat (docs/agent-protocol.md). */
export function leaseKey(hostId: string): string {
  return `mc:compute-agent:lease:${hostId}`;
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

  constructor(private readonly d: HostAgentDeps) {
    this.name = `host-agent:${d.host.hostId}`;
    this.hbSequence = Date.now() * 1000;
  }

  /** Asks for a new RegisterHost (after a newer epoch was seen). */
  requestReregister(): void {
    this.reregister = true;
    this.wake?.();
  }

  async start(signal: AbortSignal): Promise<void> {
    await this.register(signal);
    if (signal.aborted) return;
    await Promise.all([this.heartbeatLoop(signal), this.leaseLoop(signal), this.reregisterLoop(signal)]);
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
          instances: this.d.host.runtimes().map(toProtoRuntime),
        });
        this.d.host.setEpoch(Number(res.epoch));
        this.timings = {
          heartbeatIntervalMs: res.heartbeatIntervalMs || 1000,
          leaseTtlMs: res.leaseTtlMs || 3000,
          selfFenceAfterMs: res.selfFenceAfterMs || 5000,
        };
        this.fenced = false;
        this.lastLeaseOkMs = Date.now();
        this.d.host.destroyAll(res.destroyInstanceIds);
        this.d.logger.info({ host_id: this.d.host.hostId, epoch: res.epoch, destroyed: res.destroyInstanceIds.length }, 'host registered');
        await this.renewLease();
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
    await this.d.redis.set(leaseKey(this.d.host.hostId), String(this.d.host.epoch), 'PX', this.timings.leaseTtlMs);
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
