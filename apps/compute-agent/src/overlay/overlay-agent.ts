import { events, network } from '@minicloud/proto';
import {
  FdbSequencer,
  receiveAtVtep,
  traceFromExternal,
  traceFromVnic,
  overlayTraceSubject,
  vtepSubject,
  type FdbDelta,
  type FdbEntry,
  type OverlayTraceReply,
  type OverlayTraceRequest,
  type TraceHop,
  type VtepFrameMessage,
} from '@minicloud/domain-network';
import { fdbUpdatedSubject, type Bus } from '@minicloud/platform-bus';
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
  /**
   * How long a delta that overtook an earlier one is held for the missing one before the host
   * re-reads its whole table (ms), default {@link DEFAULT_FDB_GAP_TIMEOUT_MS}.
   */
  fdbGapTimeoutMs?: number;
}

/**
 * Default wait for a missing FDB delta. FdbUpdated events of one host are published concurrently by
 * concurrent port bindings, so one may overtake another by a few milliseconds; a missing one still
 * absent after this long was lost, and the table is re-read.
 */
export const DEFAULT_FDB_GAP_TIMEOUT_MS = 250;

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * The overlay module of one host (a Runnable): registers the VTEP (RegisterVtep returns the full
 * FDB: a restart resyncs from scratch), applies the l2pop deltas of events.FdbUpdated for this host
 * in generation order (FdbSequencer; an event without a delta, or a gap not filled in time, makes it
 * re-read the whole table with GetHostFdb), and serves two core-NATS subjects:
 * `minicloud.overlay.trace.<host_id>` (a trace started by the network service) and
 * `minicloud.vtep.<tunnel_ip>` (simulated VXLAN frames from other VTEPs).
 */
export class OverlayAgent implements Runnable {
  readonly name: string;
  readonly vswitch: VirtualSwitch;
  private registered = false;
  private readonly sequencer = new FdbSequencer();
  private gapTimer?: ReturnType<typeof setTimeout>;
  /** Whole-table reads (GetHostFdb) and deltas applied, for observers (tests, logs). */
  readonly counts = { fullReads: 0, deltasApplied: 0 };

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
      this.d.bus.subscribe(fdbUpdatedSubject(this.d.hostId), events.FdbUpdated, (ev) => {
        if (ev.hostId === this.d.hostId && this.registered) this.onFdbUpdated(Number(ev.fdbGeneration), ev.delta && deltaFromProto(ev.delta));
      }),
      this.d.bus.nc.subscribe(overlayTraceSubject(this.d.hostId), { callback: (err, msg) => !err && void this.answer(msg, (b) => this.startTrace(JSON.parse(b) as OverlayTraceRequest)) }),
      this.d.bus.nc.subscribe(vtepSubject(this.d.tunnelIp), { callback: (err, msg) => !err && void this.answer(msg, async (b) => this.receive(JSON.parse(b) as VtepFrameMessage)) }),
    ];
    await this.register(signal);
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    subs.forEach((s) => s.unsubscribe());
    clearTimeout(this.gapTimer);
  }

  /** One FdbUpdated for this host: apply its delta in order, hold it for a missing one, or re-read. */
  private onFdbUpdated(generation: number, delta: FdbDelta | undefined): void {
    const action = this.sequencer.offer(generation, delta);
    switch (action.kind) {
      case 'apply':
        this.applyDeltas(action.deltas);
        break;
      case 'resync':
        void this.refresh();
        break;
      case 'wait':
        this.gapTimer ??= setTimeout(() => {
          this.gapTimer = undefined;
          if (this.sequencer.waiting) void this.refresh();
        }, this.d.fdbGapTimeoutMs ?? DEFAULT_FDB_GAP_TIMEOUT_MS);
        this.gapTimer.unref?.();
        break;
      case 'ignore':
        break;
    }
  }

  private applyDeltas(deltas: readonly { generation: number; delta: FdbDelta }[]): void {
    for (const { generation, delta } of deltas) this.vswitch.applyDelta(delta, generation);
    this.counts.deltasApplied += deltas.length;
    if (!this.sequencer.waiting) {
      clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
    }
  }

  /** Installs a whole table read at `generation` (unless newer deltas were applied meanwhile), then the held deltas that follow it. */
  private install(res: { fdb: network.FdbEntry[]; localPorts: network.FdbEntry[]; fdbGeneration: number; floatingIps: network.HostFloatingIp[] }): void {
    const generation = Number(res.fdbGeneration);
    const r = this.sequencer.resynced(generation);
    if (r.install) this.vswitch.apply(res.fdb.map(fromProto), res.localPorts.map(fromProto), generation, true);
    this.applyDeltas(r.deltas);
    this.setFloatingIps(res.floatingIps);
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
        this.install(res);
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
   * Re-reads the host's whole tables and applies the diff (an FdbUpdated without a delta, or a
   * missing delta). Requests that arrive while a read is in flight coalesce into one more read.
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
          this.counts.fullReads++;
          this.install(await (await this.d.vtep()).getHostFdb({ hostId: this.d.hostId }));
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

function deltaFromProto(d: events.FdbDelta): FdbDelta {
  return { add: d.add.map(fromProto), remove: d.remove.map(fromProto), localPortsAdd: d.localPortsAdd.map(fromProto), localPortsRemove: d.localPortsRemove.map(fromProto) };
}

function fromProto(e: network.FdbEntry): FdbEntry {
  return { networkId: e.networkId, segmentationId: e.segmentationId, tunnelIp: e.tunnelIp, macAddress: e.macAddress, ipAddress: e.ipAddress, ...(e.portId ? { portId: e.portId } : {}) };
}
