import { events, network } from '@minicloud/proto';
import {
  receiveAtVtep,
  traceFromExternal,
  traceFromVnic,
  overlayTraceSubject,
  vtepSubject,
  type FdbEntry,
  type OverlayTraceReply,
  type OverlayTraceRequest,
  type TraceHop,
  type VtepFrameMessage,
} from '@minicloud/domain-network';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import { sleepUntilAborted, type Runnable } from '@minicloud/platform-lifecycle';
import type { Logger } from '@minicloud/platform-logging';
import { VirtualSwitch } from './virtual-switch';

/** The network service's VTEP/FDB calls the overlay makes (a ServiceClient in production). */
export interface OverlayVtepClient {
  registerVtep(req: Partial<network.RegisterVtepRequest>): Promise<network.RegisterVtepResponse>;
  getHostFdb(req: Partial<network.GetHostFdbRequest>): Promise<network.GetHostFdbResponse>;
}

export interface OverlayAgentDeps {
  hostId: string;
  tunnelIp: string;
  vtep: () => Promise<OverlayVtepClient>;
  bus: Pick<Bus, 'nc' | 'subscribe'>;
  logger: Logger;
  /** Deadline of a frame sent to a remote VTEP (ms), default 3000. */
  frameTimeoutMs?: number;
  /** Told the floating IPs of the host's own ports after every read of its tables (DVR: the host serves them). */
  onFloatingIps?: (fips: readonly network.HostFloatingIp[]) => void;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The overlay module of one host (a Runnable): registers the VTEP (RegisterVtep returns the full
 * FDB: a restart resyncs from scratch), re-reads the FDB on events.FdbUpdated for this host and
 * applies the diff to the VirtualSwitch, and serves two core-NATS subjects:
 * `minicloud.overlay.trace.<host_id>` (a trace started by the network service) and
 * `minicloud.vtep.<tunnel_ip>` (simulated VXLAN frames from other VTEPs).
 */
export class OverlayAgent implements Runnable {
  readonly name: string;
  readonly vswitch: VirtualSwitch;
  private registered = false;

  constructor(private readonly d: OverlayAgentDeps) {
    this.name = `overlay:${d.hostId}`;
    this.vswitch = new VirtualSwitch(d.hostId, d.tunnelIp);
  }

  /** True once the VTEP is registered and the first full FDB applied. */
  get ready(): boolean {
    return this.registered;
  }

  async start(signal: AbortSignal): Promise<void> {
    const subs = [
      this.d.bus.subscribe(Subjects.fdbUpdated, events.FdbUpdated, (ev) => {
        if (ev.hostId === this.d.hostId && this.registered && Number(ev.fdbGeneration) > this.vswitch.generation) void this.refresh();
      }),
      this.d.bus.nc.subscribe(overlayTraceSubject(this.d.hostId), { callback: (err, msg) => !err && void this.answer(msg, (b) => this.startTrace(JSON.parse(b) as OverlayTraceRequest)) }),
      this.d.bus.nc.subscribe(vtepSubject(this.d.tunnelIp), { callback: (err, msg) => !err && void this.answer(msg, async (b) => this.receive(JSON.parse(b) as VtepFrameMessage)) }),
    ];
    await this.register(signal);
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    subs.forEach((s) => s.unsubscribe());
  }

  private async answer(msg: { data: Uint8Array; respond: (d: Uint8Array) => boolean }, handle: (body: string) => Promise<OverlayTraceReply>): Promise<void> {
    let reply: OverlayTraceReply;
    try {
      reply = await handle(dec.decode(msg.data));
    } catch (e) {
      const reason = `host ${this.d.hostId} failed the trace: ${(e as Error).message}`;
      reply = { hops: [{ stage: 'drop', hostId: this.d.hostId, description: reason, fields: {} }], delivered: false, dropReason: reason };
    }
    msg.respond(enc.encode(JSON.stringify(reply)));
  }

  private async register(signal: AbortSignal): Promise<void> {
    for (let attempt = 0; !signal.aborted; attempt++) {
      try {
        const res = await (await this.d.vtep()).registerVtep({ hostId: this.d.hostId, tunnelIp: this.d.tunnelIp, udpPort: 4789 });
        this.vswitch.apply(res.fdb.map(fromProto), res.localPorts.map(fromProto), Number(res.fdbGeneration), true);
        this.setFloatingIps(res.floatingIps);
        this.registered = true;
        return;
      } catch (e) {
        const delay = Math.min(10_000, 200 * 2 ** Math.min(attempt, 6));
        this.d.logger.warn({ host_id: this.d.hostId, err: (e as Error).message, retry_in_ms: delay }, 'overlay RegisterVtep failed; retrying');
        await sleepUntilAborted(delay, signal);
      }
    }
  }

  private fips: readonly network.HostFloatingIp[] = [];

  /** The floating IPs associated with this host's ports, as of the last read of its tables. */
  get floatingIps(): readonly network.HostFloatingIp[] {
    return this.fips;
  }

  private setFloatingIps(fips: readonly network.HostFloatingIp[] | undefined): void {
    this.fips = fips ?? [];
    this.d.onFloatingIps?.(this.fips);
  }

  private refreshing?: Promise<void>;
  private refreshAgain = false;

  /**
   * Re-reads the host's tables and applies the diff (on FdbUpdated). Events that arrive while a read
   * is in flight coalesce into one more read, so a burst of port bindings costs each host at most two
   * GetHostFdb calls instead of one per event.
   */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.refreshAgain = true;
      return this.refreshing;
    }
    this.refreshing = (async () => {
      do {
        this.refreshAgain = false;
        try {
          const res = await (await this.d.vtep()).getHostFdb({ hostId: this.d.hostId });
          this.vswitch.apply(res.fdb.map(fromProto), res.localPorts.map(fromProto), Number(res.fdbGeneration));
          this.setFloatingIps(res.floatingIps);
        } catch (e) {
          this.d.logger.warn({ host_id: this.d.hostId, err: (e as Error).message }, 'overlay GetHostFdb failed');
        }
      } while (this.refreshAgain);
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async startTrace(req: OverlayTraceRequest): Promise<OverlayTraceReply> {
    const view = this.vswitch.view();
    const step = req.start.kind === 'vnic' ? traceFromVnic(view, req.start.srcPortId, req.probe, req.l3, req.firewalls) : traceFromExternal(view, req.start.srcIp, req.probe, req.l3, req.firewalls);
    const hops: TraceHop[] = [...step.hops];
    switch (step.outcome.kind) {
      case 'delivered':
      case 'external':
        return { hops, delivered: true, dropReason: '' };
      case 'dropped':
        return { hops, delivered: false, dropReason: step.outcome.reason };
      case 'tunnel': {
        const frame = step.outcome.frame;
        const subject = vtepSubject(frame.outerDstIp);
        hops.push({ stage: 'underlay', hostId: this.d.hostId, description: `UDP ${frame.udpSrcPort} -> ${frame.outerDstIp}:${frame.udpDstPort} over the underlay (NATS ${subject})`, fields: { subject, outer_size_bytes: String(frame.outerSizeBytes) } });
        try {
          const msg = await this.d.bus.nc.request(subject, enc.encode(JSON.stringify({ frame, firewalls: req.firewalls } satisfies VtepFrameMessage)), { timeout: this.d.frameTimeoutMs ?? 3000 });
          const remote = JSON.parse(dec.decode(msg.data)) as OverlayTraceReply;
          return { hops: [...hops, ...remote.hops], delivered: remote.delivered, dropReason: remote.dropReason };
        } catch (e) {
          const reason = `no VTEP answered at ${frame.outerDstIp} (${(e as Error).message})`;
          hops.push({ stage: 'drop', hostId: this.d.hostId, description: reason, fields: {} });
          return { hops, delivered: false, dropReason: reason };
        }
      }
    }
  }

  private receive(m: VtepFrameMessage): OverlayTraceReply {
    const step = receiveAtVtep(this.vswitch.view(), m.frame, m.firewalls);
    return { hops: step.hops, delivered: step.outcome.kind === 'delivered', dropReason: step.outcome.kind === 'dropped' ? step.outcome.reason : '' };
  }
}

function fromProto(e: network.FdbEntry): FdbEntry {
  return { networkId: e.networkId, segmentationId: e.segmentationId, tunnelIp: e.tunnelIp, macAddress: e.macAddress, ipAddress: e.ipAddress, ...(e.portId ? { portId: e.portId } : {}) };
}
