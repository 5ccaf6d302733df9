import type { agent } from '@minicloud/proto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { checkpointBandwidthBytesPerSecond, CheckpointScheduler, ftStreamId, initialCopyMs, OutputCommitBuffer, REMUS_EPOCH_MS } from '@minicloud/domain-ft';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { Logger } from '@minicloud/platform-logging';
import type { SimulatedHost } from '../simulated-host';
import type { VmRuntime } from '../vm-runtime';
import type { VmSpec } from '../vm-spec';
import { AsyncQueue } from '../migration/async-queue';
import type { MigrationClient } from '../migration/live-migrations';
import type { FtMetrics } from './ft-metrics';

const MiB = 2 ** 20;
const PAGE_SIZE_BYTES = 4096;

/** FtStartPrimaryCommand as the agent reads it (0 = default). */
export interface FtPrimaryParams {
  readonly generation: number;
  readonly secondaryHostId: string;
  readonly secondaryEndpoint: string;
  readonly secondaryEpoch: number;
  /** 0: Remus's 25 ms. */
  readonly epochMs: number;
  readonly secondaryNicGbps: number;
  /** 0: no cap beyond the NICs. */
  readonly maxBandwidthMbps: number;
}

/** FT role of a VM on this agent, for InstanceRuntime. */
export interface FtRole {
  readonly role: 'primary' | 'secondary' | '';
  readonly generation: number;
  readonly ackedCheckpoint: number;
  /** Primary: the stream broke and it holds its output until ft_stop. */
  readonly streamLost: boolean;
}

/** What the agent's FT side needs: this process's hosts, the clock, and a client to another agent's MigrationService. */
export interface FaultToleranceDeps {
  readonly hosts: ReadonlyMap<string, SimulatedHost>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Opens a client to another agent's MigrationService (the checkpoint stream rides on it). */
  readonly connect: (endpoint: string) => MigrationClient;
  readonly metrics?: FtMetrics;
  /** Stand-in payload per checkpoint message, bytes (default 4096): counts are real, the payload is sized down. */
  readonly payloadBytes?: number;
  /** Wall ms a primary waits for an acknowledgement before it stops checkpointing and holds its output (default 2000). */
  readonly ackTimeoutMs?: number;
}

interface Primary {
  readonly hostId: string;
  readonly instanceId: string;
  readonly generation: number;
  readonly abort: AbortController;
  acked: number;
  /** The stream broke after the pair was protected: checkpointing stopped, output held. */
  lost: boolean;
  /** Resolves once the initial copy and the first checkpoint are acknowledged; rejects if the stream failed before. */
  ready: Promise<void>;
  done?: Promise<void>;
}

interface Secondary {
  readonly hostId: string;
  readonly instanceId: string;
  readonly generation: number;
  readonly streamId: string;
  /** Last checkpoint received and acknowledged (0 = the initial copy; -1 = nothing yet). */
  lastCheckpoint: number;
  launchedAtMs?: number;
}

class StreamFailure extends Error {}

/**
 * Fault tolerance on the agents (docs/fault-tolerance.md): Remus-style continuous checkpointing from a
 * primary VM to a standby copy on another host, over the MigrationService stream (a `begin` with
 * ft_generation > 0, then one `round` per checkpoint, each acknowledged `checkpoint_ack`).
 *
 * Primary: after the initial copy (the whole RAM, as a live migration's first round), every epoch
 * (25 ms by default) the pages the workload dirtied are sent (CheckpointScheduler: dirty rate from
 * the memory model, transfer over the stream's share of the slower NIC, lag, slowdown). The guest's
 * output of an epoch is held (OutputCommitBuffer) until that epoch is acknowledged. A primary whose
 * acknowledgements stop (secondary gone, or promoted) stops checkpointing and keeps holding its
 * output: only the controller, holding the FT generation, may tell it to go on alone (ft_stop).
 *
 * Secondary: the standby copy is an incoming VM (paused, flagged migrating, never reported running)
 * that keeps the last acknowledged checkpoint; a broken stream leaves it in place; ft_promote makes it
 * live with the guest's launched_at (no reboot), reported `ft_failover`.
 */
export class FaultTolerance {
  private readonly primaries = new Map<string, Primary>();
  private readonly secondaries = new Map<string, Secondary>();

  constructor(private readonly d: FaultToleranceDeps) {}

  /**
   * ft_prepare_secondary: defines the standby copy of generation `generation`. Idempotent.
   * @throws InvalidArgumentError (`ft_prepare_secondary.ft_generation`); errors of SimulatedHost.prepareIncoming
   */
  prepareSecondary(host: SimulatedHost, generation: number, spec: VmSpec): VmRuntime {
    if (!(generation > 0)) throw new InvalidArgumentError('ft_prepare_secondary.ft_generation', `must be > 0, got ${generation}`);
    const streamId = ftStreamId(spec.instanceId, generation);
    const rt = host.prepareIncoming(spec, streamId);
    const k = key(host.hostId, spec.instanceId);
    if (this.secondaries.get(k)?.streamId !== streamId) this.secondaries.set(k, { hostId: host.hostId, instanceId: spec.instanceId, generation, streamId, lastCheckpoint: -1 });
    return rt;
  }

  /**
   * ft_start_primary: starts checkpointing `instanceId` to its secondary; resolves once the initial
   * copy and the first checkpoint are acknowledged. Idempotent for the same generation; an older
   * generation's loop here is stopped first.
   * @throws InvalidArgumentError naming `ft_start_primary.<field>`; NotFoundError (instance);
   *   FailedPreconditionError ("instance_not_running", or "ft_stream_failed" when the secondary did not
   *   acknowledge: the primary runs on unprotected, its output released)
   */
  async startPrimary(host: SimulatedHost, instanceId: string, p: FtPrimaryParams): Promise<VmRuntime> {
    if (!(p.generation > 0)) throw new InvalidArgumentError('ft_start_primary.ft_generation', `must be > 0, got ${p.generation}`);
    for (const [f, v] of [['secondary_host_id', p.secondaryHostId], ['secondary_endpoint', p.secondaryEndpoint]] as const) {
      if (!v) throw new InvalidArgumentError(`ft_start_primary.${f}`, 'must not be empty');
    }
    if (p.secondaryHostId === host.hostId) throw new InvalidArgumentError('ft_start_primary.secondary_host_id', 'must differ from the primary host');
    if (!(p.secondaryEpoch > 0)) throw new InvalidArgumentError('ft_start_primary.secondary_epoch', `must be > 0, got ${p.secondaryEpoch}`);
    for (const [f, v] of [['epoch_ms', p.epochMs], ['secondary_nic_gbps', p.secondaryNicGbps], ['max_bandwidth_mbps', p.maxBandwidthMbps]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`ft_start_primary.${f}`, `must be >= 0, got ${v}`);
    }
    const rt = host.runtime(instanceId);
    if (!rt) throw new NotFoundError('instance', instanceId, `not on host ${host.hostId}`);
    if (rt.powerState !== 'running' || host.migrationOf(instanceId)) throw new FailedPreconditionError(`instance ${instanceId} is not running here outside a migration`, 'instance_not_running');
    const k = key(host.hostId, instanceId);
    const cur = this.primaries.get(k);
    if (cur && cur.generation === p.generation) {
      await cur.ready;
      return host.runtime(instanceId)!;
    }
    if (cur) await this.stopPrimary(cur);
    const pr: Primary = { hostId: host.hostId, instanceId, generation: p.generation, abort: new AbortController(), acked: -1, lost: false, ready: Promise.resolve() };
    let markReady!: () => void;
    let failReady!: (e: Error) => void;
    pr.ready = new Promise<void>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    pr.ready.catch(() => undefined);
    this.primaries.set(k, pr);
    // Settling `ready` after it resolved is a no-op: these only answer a start that never got protected.
    pr.done = this.runPrimary(host, pr, p, markReady).then(
      () => failReady(new FailedPreconditionError(`FT of ${instanceId} stopped before the secondary was synchronised`, 'ft_stream_failed')),
      (e: unknown) => failReady(new FailedPreconditionError(`FT checkpoint stream of ${instanceId} to ${p.secondaryHostId} failed: ${errText(e)}`, 'ft_stream_failed')),
    );
    await pr.ready;
    return host.runtime(instanceId)!;
  }

  /**
   * ft_promote on the secondary's host: the standby copy goes live from its last acknowledged
   * checkpoint; `generation` is the one the controller's compare-and-set gave the failover (newer than
   * the standby's own). Idempotent (a copy already promoted answers its runtime).
   * @throws NotFoundError when no standby copy of that generation or older is here; FailedPreconditionError
   *   ("ft_not_synchronised") when it never received the initial copy
   */
  promote(host: SimulatedHost, instanceId: string, generation: number): VmRuntime {
    const s = this.secondaries.get(key(host.hostId, instanceId));
    if (!s || s.generation > generation) throw new NotFoundError('ft_secondary', instanceId, `generation ${generation} on host ${host.hostId}`);
    if (host.migrationOf(instanceId)?.migrationId !== s.streamId) {
      const rt = host.runtime(instanceId);
      if (rt && rt.powerState === 'running') return rt;
      throw new NotFoundError('ft_secondary', instanceId, `generation ${generation} on host ${host.hostId}`);
    }
    if (s.lastCheckpoint < 0) throw new FailedPreconditionError(`standby copy of ${instanceId} never received its initial copy`, 'ft_not_synchronised');
    const rt = host.commitIncoming(instanceId, s.streamId, s.launchedAtMs, 'ft_failover');
    this.d.logger.info({ instance_id: instanceId, host_id: host.hostId, ft_generation: generation, checkpoint: s.lastCheckpoint }, 'FT secondary promoted: live from its last acknowledged checkpoint');
    return rt;
  }

  /**
   * ft_stop: FT of generation <= `generation` ends on this host. A primary stops checkpointing and
   * releases its held output (it runs on alone); a standby copy is discarded. Idempotent.
   */
  async stop(host: SimulatedHost, instanceId: string, generation: number): Promise<VmRuntime | undefined> {
    const k = key(host.hostId, instanceId);
    const pr = this.primaries.get(k);
    if (pr && pr.generation <= generation) await this.stopPrimary(pr);
    const s = this.secondaries.get(k);
    if (s && s.generation <= generation) {
      this.secondaries.delete(k);
      host.discardIncoming(instanceId, s.streamId, 'ft_secondary_removed');
    }
    return host.runtime(instanceId);
  }

  /** FT role of a VM here (InstanceRuntime.ft_*). */
  roleOf(host: SimulatedHost, instanceId: string): FtRole {
    const k = key(host.hostId, instanceId);
    const pr = this.primaries.get(k);
    if (pr) return { role: 'primary', generation: pr.generation, ackedCheckpoint: Math.max(0, pr.acked), streamLost: pr.lost };
    const s = this.secondaries.get(k);
    if (s && host.migrationOf(instanceId)?.migrationId === s.streamId) return { role: 'secondary', generation: s.generation, ackedCheckpoint: Math.max(0, s.lastCheckpoint), streamLost: false };
    return { role: '', generation: 0, ackedCheckpoint: 0, streamLost: false };
  }

  /** Resolves when every primary loop running now has ended (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.primaries.values()].map((p) => p.done));
  }

  /** Stops every loop (shutdown). */
  async close(): Promise<void> {
    for (const p of [...this.primaries.values()]) await this.stopPrimary(p);
  }

  /**
   * The secondary's side of one checkpoint stream, after its `begin` (LiveMigrations.serve hands FT
   * streams here): `ready`, then each checkpoint kept and acknowledged. The stream ending or breaking
   * leaves the standby copy (the controller decides); once it was promoted or discarded the stream is
   * answered `aborted`.
   * @throws NotFoundError (host); FailedPreconditionError stale_epoch, or "not_prepared" without a standby copy of this generation
   */
  async *serve(b: agent.MigrationBegin, it: AsyncIterator<agent.MigrateRequest>): AsyncIterable<DeepPartial<agent.MigrateResponse>> {
    const host = this.d.hosts.get(b.destHostId);
    if (!host) throw new NotFoundError('host', b.destHostId);
    host.assertEpoch(Number(b.destEpoch));
    const instanceId = b.spec?.instanceId ?? '';
    const s = this.secondaries.get(key(host.hostId, instanceId));
    const live = () => s && host.migrationOf(instanceId)?.migrationId === s.streamId && this.secondaries.get(key(host.hostId, instanceId)) === s;
    if (!s || s.generation !== Number(b.ftGeneration) || s.streamId !== b.migrationId || !live()) {
      throw new FailedPreconditionError(`no standby copy of ${instanceId} for FT generation ${b.ftGeneration} on host ${host.hostId}`, 'not_prepared');
    }
    yield { status: 'ready' };
    for (;;) {
      const n = await it.next();
      if (n.done) return;
      if (!live()) {
        yield { status: 'aborted', error: 'the standby copy was promoted or removed' };
        return;
      }
      const m = n.value;
      if (m.round) {
        s.lastCheckpoint = m.round.round;
        yield { status: 'checkpoint_ack', round: m.round.round };
      } else if (m.deviceState) {
        s.launchedAtMs = parseLaunchedAt(m.deviceState.state) ?? s.launchedAtMs;
      } else if (m.abort || m.complete) {
        return;
      }
    }
  }

  private async stopPrimary(pr: Primary): Promise<void> {
    pr.abort.abort();
    await pr.done;
  }

  private async runPrimary(host: SimulatedHost, pr: Primary, p: FtPrimaryParams, markReady: () => void): Promise<void> {
    const { clock } = this.d;
    const k = key(host.hostId, pr.instanceId);
    const log = this.d.logger.child({ instance_id: pr.instanceId, host_id: host.hostId, secondary_host_id: p.secondaryHostId, ft_generation: p.generation });
    const ramBytes = (host.runtime(pr.instanceId)?.ramMb ?? 0) * MiB;
    // The stream's share of the slower NIC: FT streams leaving this host split it evenly.
    const streams = [...this.primaries.values()].filter((x) => x.hostId === host.hostId).length;
    let bw = checkpointBandwidthBytesPerSecond([host.profile.nicGbps, p.secondaryNicGbps || host.profile.nicGbps]) / Math.max(1, streams);
    if (p.maxBandwidthMbps > 0) bw = Math.min(bw, (p.maxBandwidthMbps * 1e6) / 8);
    const epochMs = p.epochMs || REMUS_EPOCH_MS;
    const out = new AsyncQueue<DeepPartial<agent.MigrateRequest>>();
    const buffer = new OutputCommitBuffer<number>();
    let client: MigrationClient | undefined;
    let ready = false;
    try {
      const sched = new CheckpointScheduler({ bandwidthBytesPerSecond: bw, ramBytes, epochMs });
      client = this.d.connect(p.secondaryEndpoint);
      const responses = client.migrate(out)[Symbol.asyncIterator]();
      const expect = (want: string) => this.expect(responses, want, pr.abort.signal);
      const streamId = ftStreamId(pr.instanceId, p.generation);
      out.push({ begin: {
        migrationId: streamId, spec: { instanceId: pr.instanceId, flavor: { vcpus: host.runtime(pr.instanceId)?.vcpus, ramMb: ramBytes / MiB } },
        sourceHostId: host.hostId, destHostId: p.secondaryHostId, destEpoch: p.secondaryEpoch, ramBytes, pageSizeBytes: PAGE_SIZE_BYTES, ftGeneration: p.generation,
      } });
      await expect('ready');
      // Initial synchronisation: the whole RAM, as a live migration's first round.
      await sleep(clock, initialCopyMs(ramBytes, bw), pr.abort.signal);
      out.push({ round: this.pages(0, ramBytes, 0) });
      out.push({ deviceState: { state: Buffer.from(JSON.stringify({ launched_at_ms: host.runtime(pr.instanceId)?.launchedAtMs })), finalPages: 0 } });
      await expect('checkpoint_ack');
      pr.acked = 0;
      for (;;) {
        if (!host.runtime(pr.instanceId)) throw new StreamFailure('instance destroyed on the primary host');
        const epochStart = clock.nowMs();
        // Stand-in for the guest's output: one packet in the middle of each epoch.
        await sleep(clock, epochMs / 2, pr.abort.signal);
        buffer.send(buffer.currentEpoch, clock.nowMs());
        await sleep(clock, epochMs / 2, pr.abort.signal);
        const c = sched.next(host.dirtyRateBytesPerSecond(pr.instanceId));
        const epoch = buffer.closeEpoch();
        out.push({ round: this.pages(epoch, c.dirtyBytes, c.throttlePct) });
        await expect('checkpoint_ack');
        pr.acked = epoch;
        // Released when the link (modelled: backlog + transfer) and the real acknowledgement both allow.
        const releaseAt = Math.max(clock.nowMs(), epochStart + epochMs + c.ackDelayMs);
        for (const pkt of buffer.acknowledge(epoch, releaseAt)) this.d.metrics?.outputCommitDelay(pkt.delayMs);
        this.d.metrics?.checkpoint(c.dirtyBytes);
        this.d.metrics?.primary(pr.instanceId, { lagMs: c.lagMs, throttlePct: c.throttlePct, heldPackets: buffer.heldCount, bandwidthBytesPerSecond: bw });
        if (!ready) {
          ready = true;
          markReady();
          log.info({ bandwidth_bytes_per_second: bw, epoch_ms: epochMs }, 'FT protected: initial copy and first checkpoint acknowledged');
        }
      }
    } catch (e) {
      if (pr.abort.signal.aborted) {
        // ft_stop: FT ends here by the controller's decision; the output waits for nothing any more.
        buffer.releaseAll(clock.nowMs());
        out.push({ abort: { reason: 'ft stopped' } });
        log.info('FT checkpointing stopped');
      } else {
        // No acknowledgement: the secondary may be gone or live; hold the output until the controller decides.
        this.d.metrics?.primary(pr.instanceId, { lagMs: 0, throttlePct: 0, heldPackets: buffer.heldCount + 1, bandwidthBytesPerSecond: bw });
        log.warn({ err: errText(e) }, 'FT checkpoint stream lost: checkpointing stopped, output held until the controller decides');
        if (!ready || !host.runtime(pr.instanceId)) throw e;
        pr.lost = true;
        // Keep the record (role primary, last ack) until ft_stop.
        await new Promise<void>((res) => (pr.abort.signal.aborted ? res() : pr.abort.signal.addEventListener('abort', () => res(), { once: true })));
      }
    } finally {
      out.end();
      client?.close();
      if (this.primaries.get(k) === pr) this.primaries.delete(k);
      this.d.metrics?.forget(pr.instanceId);
    }
  }

  private pages(round: number, bytes: number, throttlePct: number): DeepPartial<agent.MigrationRound> {
    const b = Math.round(bytes);
    return { round, pages: Math.ceil(b / PAGE_SIZE_BYTES), bytes: b, payload: Buffer.alloc(Math.min(this.d.payloadBytes ?? 4096, b)), remainingDirtyBytes: 0, cpuThrottlePercentage: throttlePct };
  }

  /** Next answer of the secondary; must be `want` within the ack timeout (wall). */
  private async expect(responses: AsyncIterator<agent.MigrateResponse>, want: string, signal: AbortSignal): Promise<void> {
    const next = responses.next();
    next.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timeoutMs = this.d.ackTimeoutMs ?? 2000;
    try {
      const r = await Promise.race([
        next,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new StreamFailure(`no ${want} from the secondary within ${timeoutMs} ms`)), timeoutMs);
          onAbort = () => reject(new StreamFailure('stopped'));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }),
      ]);
      if (r.done) throw new StreamFailure(`secondary closed the stream before ${want}`);
      if (r.value.status !== want) throw new StreamFailure(`expected ${want} from the secondary, got ${r.value.status} ${r.value.error}`);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}

function key(hostId: string, instanceId: string): string {
  return `${hostId}/${instanceId}`;
}

function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new StreamFailure('stopped'));
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(new StreamFailure('stopped'));
    };
    const h = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function parseLaunchedAt(state: Uint8Array): number | undefined {
  try {
    const j = JSON.parse(Buffer.from(state).toString('utf8')) as { launched_at_ms?: number };
    return typeof j.launched_at_ms === 'number' ? j.launched_at_ms : undefined;
  } catch {
    return undefined;
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
