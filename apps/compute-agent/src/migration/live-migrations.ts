import type { agent } from '@minicloud/proto';
import type { Clock } from '@minicloud/domain-clock';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { PreCopyMigration, QEMU_MIGRATION_DEFAULTS } from '@minicloud/domain-migration';
import type { DeepPartial } from '@minicloud/platform-grpc';
import type { Logger } from '@minicloud/platform-logging';
import type { MigrateOutParams } from '../host-command';
import type { SimulatedHost, VmRuntime } from '../simulated-host';
import type { VmSpec } from '../vm-spec';
import { AsyncQueue } from './async-queue';
import type { MigrationMetrics, MigrationOutcomeLabel } from './migration-metrics';

const MiB = 2 ** 20;
const PAGE_SIZE_BYTES = 4096;

/** The Migrate stream as the source calls it (a ServiceClient of agent.MigrationService in production). */
export interface MigrationClient {
  migrate(requests: AsyncIterable<DeepPartial<agent.MigrateRequest>>): AsyncIterable<agent.MigrateResponse>;
  close(): void;
}

/** The migration record fields published with events.MigrationProgressed (compute.v1.Migration). Times in simulated ms. */
export interface MigrationRecord {
  readonly id: string;
  readonly instanceId: string;
  readonly sourceHostId: string;
  readonly destHostId: string;
  /** running, post-migrating, completed, failed, cancelled, error (switch-over outcome unknown). */
  status: string;
  rounds: number;
  transferredBytes: number;
  remainingBytes: number;
  totalTimeMs: number;
  downtimeMs: number;
  cpuThrottlePercentage: number;
  /** Post-copy asked at once, or switched to by a forced completion. */
  postCopy: boolean;
  error: string;
}

export interface LiveMigrationsDeps {
  readonly hosts: ReadonlyMap<string, SimulatedHost>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Opens a client to another agent's MigrationService (with the service token). */
  readonly connect: (endpoint: string) => MigrationClient;
  /** Publishes events.MigrationProgressed (ordered, fire-and-forget). */
  readonly publish: (record: Readonly<MigrationRecord>) => void;
  readonly metrics?: MigrationMetrics;
  /** Stand-in payload per page message, bytes (default 4096): counts are real, the payload is sized down. */
  readonly payloadBytes?: number;
  /** Wall ms the source waits for one answer of the destination before giving up (default 30 s). */
  readonly ackTimeoutMs?: number;
  /** Serves the fault-tolerance checkpoint streams (a `begin` with ft_generation > 0) that share this service. */
  readonly ft?: { serve(begin: agent.MigrationBegin, rest: AsyncIterator<agent.MigrateRequest>): AsyncIterable<DeepPartial<agent.MigrateResponse>> };
}

class MigrationFailure extends Error {
  constructor(readonly outcome: MigrationOutcomeLabel, message: string) {
    super(message);
  }
}

interface Outgoing {
  readonly hostId: string;
  readonly instanceId: string;
  readonly abort: AbortController;
  /** The pre-copy stepper once the stream is up (force-complete asks it). */
  stepper?: PreCopyMigration;
  /** Force-complete asked before the stepper existed: applied when it is made. */
  forceCompleteRequested?: boolean;
  /** The source sent `complete` but never got `resumed`: paused here until the controller decides. */
  unresolved: boolean;
  done?: Promise<void>;
}

/**
 * Live migration between agents (docs/agent-protocol.md, "Live migration"): the destination's
 * prepare/serve side and the source's QEMU pre-copy loop, stepped by @minicloud/domain-migration's
 * PreCopyMigration with each round a real MigrationService message, paced on the agent's Clock (so
 * TIME_SCALE applies). Switch-over point: the source writing `complete`; before it the VM only ever
 * runs on the source, after it only on the destination (or, if the source never hears `resumed`, it
 * stays paused on the source until the controller resolves it with AbortMigration or Destroy).
 */
export class LiveMigrations {
  private readonly outgoing = new Map<string, Outgoing>();

  constructor(private readonly d: LiveMigrationsDeps) {}

  /** prepare_migrate_in (destination). @see SimulatedHost.prepareIncoming */
  prepareIn(host: SimulatedHost, migrationId: string, spec: VmSpec): VmRuntime {
    if (!migrationId) throw new InvalidArgumentError('prepare_migrate_in.migration_id', 'must not be empty');
    return host.prepareIncoming(spec, migrationId);
  }

  /**
   * migrate_out (source): validates, marks the VM migrating and starts the loop in the background;
   * returns at once. Idempotent for the same migration id.
   * @throws InvalidArgumentError naming `migrate_out.<field>`; NotFoundError (instance);
   *   FailedPreconditionError when the VM cannot migrate now.
   */
  migrateOut(host: SimulatedHost, instanceId: string, p: MigrateOutParams): VmRuntime {
    for (const [f, v] of [['migration_id', p.migrationId], ['dest_host_id', p.destHostId], ['dest_endpoint', p.destEndpoint]] as const) {
      if (!v) throw new InvalidArgumentError(`migrate_out.${f}`, 'must not be empty');
    }
    if (p.destHostId === host.hostId) throw new InvalidArgumentError('migrate_out.dest_host_id', 'must differ from the source host');
    if (!(p.destEpoch > 0)) throw new InvalidArgumentError('migrate_out.dest_epoch', `must be > 0, got ${p.destEpoch}`);
    for (const [f, v] of [['max_bandwidth_mbps', p.maxBandwidthMbps], ['max_downtime_ms', p.maxDowntimeMs], ['timeout_seconds', p.timeoutSeconds]] as const) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`migrate_out.${f}`, `must be >= 0, got ${v}`);
    }
    const runtime = host.beginOutgoing(instanceId, p.migrationId);
    if (this.outgoing.has(p.migrationId)) return runtime;
    const o: Outgoing = { hostId: host.hostId, instanceId, abort: new AbortController(), unresolved: false };
    this.outgoing.set(p.migrationId, o);
    o.done = this.runSource(host, instanceId, p, o).catch((e) => this.d.logger.error({ err: e, migration_id: p.migrationId }, 'migration loop failed'));
    return runtime;
  }

  /**
   * abort_migration, on either side. Source, before the switch-over: the loop stops, the destination is
   * told, the VM keeps running here. Source, switch-over unresolved: the controller established that
   * the destination never resumed the VM: it resumes here. Destination, before the switch-over: the
   * incoming VM is discarded (`migration_aborted`). Unknown migration: no-op (idempotent).
   * @throws FailedPreconditionError ("migration_switched_over") on the destination once the VM runs there.
   */
  abort(host: SimulatedHost, instanceId: string, migrationId: string): VmRuntime | undefined {
    const o = this.outgoing.get(migrationId);
    if (o && o.hostId === host.hostId) {
      if (o.unresolved) {
        this.outgoing.delete(migrationId);
        host.endOutgoing(instanceId, 'migration_aborted');
      } else {
        o.abort.abort();
      }
      return host.runtime(instanceId);
    }
    const m = host.migrationOf(instanceId);
    if (m?.role === 'incoming' && m.migrationId === migrationId) host.discardIncoming(instanceId, migrationId, 'migration_aborted');
    return host.runtime(instanceId);
  }

  /**
   * force_complete_migration (source): the running migration ends at its next step, post-copy when
   * it permits it, else as a stop-and-copy of everything left with the guest paused
   * ({@link PreCopyMigration.requestForceComplete}). Idempotent while the migration runs.
   * @throws NotFoundError ('migration') when this host runs no such outgoing migration of the
   *   instance; FailedPreconditionError ('migration_not_running') once the switch-over has begun.
   */
  forceComplete(host: SimulatedHost, instanceId: string, migrationId: string): VmRuntime | undefined {
    const o = this.outgoing.get(migrationId);
    if (!o || o.hostId !== host.hostId || o.instanceId !== instanceId) throw new NotFoundError('migration', migrationId);
    if (o.unresolved || o.stepper?.outcome) throw new FailedPreconditionError(`migration ${migrationId} is past its switch-over`, 'migration_not_running');
    if (o.stepper) {
      if (!o.stepper.forceCompleteRequested) o.stepper.requestForceComplete();
    } else {
      o.forceCompleteRequested = true;
    }
    this.d.logger.info({ migration_id: migrationId, instance_id: instanceId }, 'live migration force-complete requested');
    return host.runtime(instanceId);
  }

  /** Resolves when every source loop running now has ended (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.outgoing.values()].map((o) => o.done));
  }

  /**
   * The destination side of one Migrate stream: `begin` (checked against the host's epoch and the
   * prepared incoming VM) -> `ready`; each `round` -> `round_ack`; `device_state` is kept;
   * `complete` resumes the VM here (`migrated_in`) -> `resumed`; `abort` -> discard, `aborted`. A
   * stream that ends or breaks before `complete` discards the incoming VM (`migration_aborted`); one
   * that breaks during a post-copy pull crashes it (`postcopy_failed`: its pages are lost).
   * `assertSource` checks that the caller may act for `begin.source_host_id` (throws, e.g. PermissionDeniedError).
   * @throws InvalidArgumentError (`begin`) when the first message is not begin; NotFoundError (host);
   *   FailedPreconditionError stale_epoch, or "not_prepared" when no incoming VM of this migration is here.
   */
  async *serve(requests: AsyncIterable<agent.MigrateRequest>, signal: AbortSignal, assertSource?: (sourceHostId: string) => void): AsyncIterable<DeepPartial<agent.MigrateResponse>> {
    const it = requests[Symbol.asyncIterator]();
    const first = await it.next();
    const b = first.done ? undefined : first.value.begin;
    if (!b) throw new InvalidArgumentError('begin', 'the first message of a Migrate stream must be begin');
    assertSource?.(b.sourceHostId);
    if (Number(b.ftGeneration) > 0) {
      if (!this.d.ft) throw new FailedPreconditionError('fault tolerance is not served by this agent', 'not_implemented');
      yield* this.d.ft.serve(b, it);
      return;
    }
    const host = this.d.hosts.get(b.destHostId);
    if (!host) throw new NotFoundError('host', b.destHostId);
    host.assertEpoch(Number(b.destEpoch));
    const instanceId = b.spec?.instanceId ?? '';
    const mig = host.migrationOf(instanceId);
    if (mig?.role !== 'incoming' || mig.migrationId !== b.migrationId) {
      throw new FailedPreconditionError(`no incoming VM ${instanceId} prepared for migration ${b.migrationId} on host ${host.hostId}`, 'not_prepared');
    }
    let phase: 'receiving' | 'pulling' | 'done' = 'receiving';
    let device: { launchedAtMs?: number; postCopy?: boolean } = {};
    const cleanup = (why: string) => {
      if (phase === 'receiving') host.discardIncoming(instanceId, b.migrationId, 'migration_aborted');
      if (phase === 'pulling') host.crash(instanceId, 'postcopy_failed', why);
      phase = 'done';
    };
    const onCancel = () => cleanup('stream cancelled');
    signal.addEventListener('abort', onCancel, { once: true });
    try {
      yield { status: 'ready' };
      for (;;) {
        const n = await it.next();
        if (n.done) break;
        const m = n.value;
        if (phase === 'receiving' && host.migrationOf(instanceId)?.migrationId !== b.migrationId) {
          yield { status: 'aborted', error: 'migration aborted on the destination' };
          return;
        }
        if (m.round) {
          if (phase === 'pulling' && Number(m.round.remainingDirtyBytes) === 0) phase = 'done';
          yield { status: 'round_ack', round: m.round.round };
        } else if (m.deviceState) {
          device = parseDeviceState(m.deviceState.state);
        } else if (m.complete) {
          if (phase !== 'receiving') continue;
          host.commitIncoming(instanceId, b.migrationId, device.launchedAtMs);
          phase = device.postCopy ? 'pulling' : 'done';
          yield { status: 'resumed' };
        } else if (m.abort) {
          cleanup(m.abort.reason);
          yield { status: 'aborted', error: m.abort.reason };
          return;
        }
      }
      cleanup('source closed the stream');
    } finally {
      signal.removeEventListener('abort', onCancel);
      cleanup('stream broken');
    }
  }

  private async runSource(host: SimulatedHost, instanceId: string, p: MigrateOutParams, o: Outgoing): Promise<void> {
    const { clock } = this.d;
    const ramBytes = (host.runtime(instanceId)?.ramMb ?? 0) * MiB;
    const nicBytesPerSecond = (host.profile.nicGbps * 1e9) / 8;
    const bw = p.maxBandwidthMbps > 0 ? (p.maxBandwidthMbps * 1e6) / 8 : Math.min(QEMU_MIGRATION_DEFAULTS.maxBandwidthBytesPerSecond, nicBytesPerSecond);
    const timeoutMs = p.timeoutSeconds > 0 ? p.timeoutSeconds * 1000 : 800_000 * Math.max(1, ramBytes / 2 ** 30);
    const rec: MigrationRecord = {
      id: p.migrationId, instanceId, sourceHostId: host.hostId, destHostId: p.destHostId, status: 'preparing', rounds: 0, transferredBytes: 0,
      remainingBytes: ramBytes, totalTimeMs: 0, downtimeMs: 0, cpuThrottlePercentage: 0, postCopy: p.postCopy, error: '',
    };
    const log = this.d.logger.child({ migration_id: p.migrationId, instance_id: instanceId, source_host_id: host.hostId, dest_host_id: p.destHostId });
    let committed = false;
    let resumed = false;
    const out = new AsyncQueue<DeepPartial<agent.MigrateRequest>>();
    let client: MigrationClient | undefined;
    const progress = (m: PreCopyMigration | undefined, status = rec.status) => {
      rec.status = status;
      if (m) {
        rec.rounds = m.rounds.length;
        rec.transferredBytes = Math.round(m.transferredBytes);
        rec.remainingBytes = Math.round(m.outcome && m.outcome.kind !== 'abort' ? 0 : m.remainingBytes);
        rec.totalTimeMs = Math.round(m.elapsedMs);
        rec.cpuThrottlePercentage = m.maxThrottlePct;
      }
      this.d.publish({ ...rec });
    };
    let m: PreCopyMigration | undefined;
    try {
      m = new PreCopyMigration({ ramBytes }, {
        maxBandwidthBytesPerSecond: bw, downtimeLimitMs: p.maxDowntimeMs || QEMU_MIGRATION_DEFAULTS.downtimeLimitMs, autoConverge: p.autoConverge,
        postcopyAfterRounds: p.postCopy ? 1 : undefined, timeoutMs, timeoutAction: p.timeoutAction, permitPostCopy: p.permitPostCopy,
      });
      o.stepper = m;
      if (o.forceCompleteRequested) m.requestForceComplete();
      client = this.d.connect(p.destEndpoint);
      const responses = client.migrate(out)[Symbol.asyncIterator]();
      const expectStatus = (want: string, abortable: boolean) => this.expect(responses, want, abortable ? o.abort.signal : undefined);
      out.push({ begin: {
        migrationId: p.migrationId, spec: { instanceId, flavor: { vcpus: host.runtime(instanceId)?.vcpus, ramMb: ramBytes / MiB } },
        sourceHostId: host.hostId, destHostId: p.destHostId, destEpoch: p.destEpoch, ramBytes, pageSizeBytes: PAGE_SIZE_BYTES,
      } });
      await expectStatus('ready', true);
      progress(m, 'running');
      for (;;) {
        if (o.abort.signal.aborted) throw new MigrationFailure('cancelled', 'aborted by the controller');
        if (!host.runtime(instanceId)) throw new MigrationFailure('cancelled', 'instance destroyed on the source');
        const step = m.next(host.dirtyRateBytesPerSecond(instanceId));
        if (step.kind === 'round') {
          await sleep(clock, step.round.durationMs, o.abort.signal);
          out.push({ round: this.pages(step.round.index, step.round.sentBytes, step.round.dirtiedBytes, step.round.throttlePct) });
          await expectStatus('round_ack', true);
          progress(m);
          continue;
        }
        if (step.kind === 'abort') {
          out.push({ abort: { reason: step.reason } });
          throw new MigrationFailure(step.reason === 'timeout' ? 'timeout' : 'failed', `did not converge: ${step.reason}`);
        }
        // Stop-and-copy (or post-copy switch): pause, send the rest and the device state, then `complete`.
        host.pauseForSwitchover(instanceId);
        await sleep(clock, step.downtimeMs, o.abort.signal);
        const finalBytes = step.kind === 'stop_and_copy' ? step.remainingBytes : 0;
        const launchedAtMs = host.runtime(instanceId)?.launchedAtMs;
        out.push({ deviceState: { state: Buffer.from(JSON.stringify({ launched_at_ms: launchedAtMs, post_copy: step.kind === 'postcopy' })), finalPages: Math.ceil(finalBytes / PAGE_SIZE_BYTES) } });
        if (o.abort.signal.aborted) throw new MigrationFailure('cancelled', 'aborted by the controller');
        // ---- switch-over point: after this write the source never resumes on its own ----
        committed = true;
        out.push({ complete: {} });
        await expectStatus('resumed', false);
        resumed = true;
        rec.downtimeMs = Math.round(step.downtimeMs);
        if (step.kind === 'postcopy') {
          rec.postCopy = true;
          progress(m, 'post-migrating');
          await sleep(clock, step.pullMs);
          out.push({ round: { ...this.pages(m.rounds.length, step.remainingBytes, 0, m.throttlePct), remainingDirtyBytes: 0 } });
          await expectStatus('round_ack', false);
        }
        out.end();
        host.completeOutgoing(instanceId);
        this.outgoing.delete(p.migrationId);
        progress(m, 'completed');
        this.d.metrics?.record('completed', { downtimeMs: step.downtimeMs, totalTimeMs: m.elapsedMs, rounds: m.rounds.length });
        log.info({ rounds: rec.rounds, downtime_ms: rec.downtimeMs, total_time_ms: rec.totalTimeMs }, 'live migration completed');
        return;
      }
    } catch (e) {
      const f = e instanceof MigrationFailure ? e : new MigrationFailure(o.abort.signal.aborted ? 'cancelled' : 'failed', errText(e));
      rec.error = f.message;
      if (!committed) {
        out.push({ abort: { reason: f.message } });
        out.end();
        host.endOutgoing(instanceId, 'migration_aborted');
        this.outgoing.delete(p.migrationId);
        progress(m, f.outcome === 'cancelled' ? 'cancelled' : 'failed');
        this.d.metrics?.record(f.outcome, { downtimeMs: 0, totalTimeMs: m?.elapsedMs ?? 0, rounds: m?.rounds.length ?? 0 });
        log.warn({ err: f.message, outcome: f.outcome }, 'live migration failed; the VM stays on the source');
      } else if (resumed) {
        // Post-copy pull broken: the destination runs (then crashes) the VM; the source copy is dropped.
        host.completeOutgoing(instanceId);
        this.outgoing.delete(p.migrationId);
        progress(m, 'error');
        this.d.metrics?.record('failed', { downtimeMs: 0, totalTimeMs: m?.elapsedMs ?? 0, rounds: m?.rounds.length ?? 0 });
        log.error({ err: f.message }, 'post-copy pull failed after the switch-over');
      } else {
        o.unresolved = true;
        rec.error = `switch-over unresolved: ${f.message}`;
        progress(m, 'error');
        this.d.metrics?.record('unknown', { downtimeMs: 0, totalTimeMs: m?.elapsedMs ?? 0, rounds: m?.rounds.length ?? 0 });
        log.error({ err: f.message }, 'complete sent but resumed not received: VM kept paused on the source until the controller resolves it');
      }
    } finally {
      client?.close();
    }
  }

  /** One page message: real counts, a payload sized down to at most payloadBytes. */
  private pages(round: number, bytes: number, dirtiedBytes: number, throttlePct: number): DeepPartial<agent.MigrationRound> {
    const b = Math.round(bytes);
    return {
      round, pages: Math.ceil(b / PAGE_SIZE_BYTES), bytes: b, payload: Buffer.alloc(Math.min(this.d.payloadBytes ?? 4096, b)),
      remainingDirtyBytes: Math.round(dirtiedBytes), cpuThrottlePercentage: throttlePct,
    };
  }

  /** Next answer of the destination; must be `want`. Races the ack timeout (wall) and, before the switch-over, the abort. */
  private async expect(responses: AsyncIterator<agent.MigrateResponse>, want: string, signal?: AbortSignal): Promise<agent.MigrateResponse> {
    const next = responses.next();
    next.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      const r = await Promise.race([
        next,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new MigrationFailure('failed', `no ${want} from the destination within ${this.d.ackTimeoutMs ?? 30_000} ms`)), this.d.ackTimeoutMs ?? 30_000);
          if (signal) {
            onAbort = () => reject(new MigrationFailure('cancelled', 'aborted by the controller'));
            if (signal.aborted) onAbort();
            else signal.addEventListener('abort', onAbort, { once: true });
          }
        }),
      ]);
      if (r.done) throw new MigrationFailure('failed', `destination closed the stream before ${want}`);
      if (r.value.status === 'aborted') throw new MigrationFailure('failed', `destination aborted: ${r.value.error}`);
      if (r.value.status !== want) throw new MigrationFailure('failed', `expected ${want} from the destination, got ${r.value.status}`);
      return r.value;
    } catch (e) {
      if (e instanceof MigrationFailure) throw e;
      throw new MigrationFailure('failed', `destination stream broke: ${errText(e)}`);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** Sleeps `ms` of the clock's time; rejects early when `signal` aborts. */
function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new MigrationFailure('cancelled', 'aborted by the controller'));
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(new MigrationFailure('cancelled', 'aborted by the controller'));
    };
    const h = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function parseDeviceState(state: Uint8Array): { launchedAtMs?: number; postCopy?: boolean } {
  try {
    const j = JSON.parse(Buffer.from(state).toString('utf8')) as { launched_at_ms?: number; post_copy?: boolean };
    return { launchedAtMs: typeof j.launched_at_ms === 'number' ? j.launched_at_ms : undefined, postCopy: j.post_copy === true };
  } catch {
    return {};
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
