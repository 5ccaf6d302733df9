import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial, ServiceHandlers } from '@minicloud/platform-grpc';
import { type InstanceRecord, type ResizeInfo, checkLifecycleAllowed, checkNotLocked } from '@minicloud/domain-compute';
import { resizeConsumer } from '../build/lifecycle-worker';
import type { MigrationRecord } from '../store/migration-store';
import type { ApiDeps } from './api-deps';
import { auth, getScoped } from './scoping';

/** What migrate and evacuate use. */
export type MigrationActionDeps = Pick<
  ApiDeps,
  'instances' | 'hosts' | 'allocations' | 'serverGroups' | 'placement' | 'nowMs' | 'queue' | 'transition' | 'migrations' | 'migrationRecords' | 'evacuations'
>;
import { claimElsewhere, claimOnChosenHost } from '../placement/relocation';
import { serverToProto } from './proto-mapping';
import { requestEvacuation, type EvacuationRequestDeps } from '../ha/evacuation-request';

export type { EvacuationRequestDeps };

/**
 * ServerAction `migrate` and `evacuate`. Live migration (`migrate{live: true, host_id?}`) is admin
 * only (Nova's os_compute_api:os-migrate-server:migrate_live policy) and needs ACTIVE/PAUSED with no
 * task; it returns at once with task_state MIGRATING and the migration id (the outcome lands in
 * ListMigrations and the instance's host). Cold migration (`live: false`) is a same-flavor resize
 * to another host ({@link coldMigrate}). Evacuate (`evacuate{host_id?}`, admin only, from a down
 * host) opens the HA loop's durable evacuation record ({@link requestEvacuation}); the leader fences
 * and restarts it elsewhere; the response carries the server as it is now.
 * @throws PermissionDeniedError for non-admins; FailedPreconditionError (instance_invalid_state,
 *   locked, host_in_use, ...); errors of {@link MigrationWorker.startLive} and
 *   {@link requestEvacuation}
 */
export async function runMigrationAction(
  d: MigrationActionDeps,
  r: InstanceRecord,
  action: 'migrate' | 'evacuate',
  req: compute.ServerActionRequest,
  ctx: CallContext,
  a: AuthContext,
): Promise<DeepPartial<compute.ServerActionResponse>> {
  if (!isCloudAdmin(a)) throw new PermissionDeniedError(`policy requires admin for ${action}`);
  checkNotLocked(r, true);
  // The FT pair's secondary is bound to the primary's host (anti-affinity, checkpoint stream): vSphere too asks to turn FT off first.
  if (action === 'migrate' && r.ft && r.ft.state !== 'not_protected') throw new FailedPreconditionError(`server ${r.id} is fault tolerant: turn fault tolerance off before migrating it`, 'ft_enabled');
  if (action === 'evacuate') {
    await requestEvacuation(d.evacuations, r, { targetHostId: req.evacuate?.hostId || undefined, requestId: ctx.requestId, userId: a.userId, adminPass: req.evacuate?.adminPass || undefined });
    return { server: serverToProto(r, { admin: true }) };
  }
  if (!req.migrate?.live) return coldMigrate(d, r, req.migrate?.hostId || undefined, ctx, a);
  const m = await d.migrations.startLive(r, req.migrate.hostId || undefined, { requestId: ctx.requestId, userId: a.userId, projectId: r.projectId });
  const cur = (await d.instances.find(r.id)) ?? r;
  return { server: serverToProto(cur, { admin: true }), migrationId: m.id };
}

/**
 * Cold migration (Nova: a resize to the same flavor on another host): claim on the destination
 * (consumer `<id>#resize`, scheduler excluding the source, or the given host), task_state
 * resize_prep; the lifecycle worker powers off, destroys on the source, spawns on the destination
 * (ports rebound) and leaves the server in VERIFY_RESIZE until confirm_resize / revert_resize.
 * Allowed from ACTIVE or STOPPED. @throws as {@link runMigrationAction}
 */
async function coldMigrate(d: MigrationActionDeps, r: InstanceRecord, hostId: string | undefined, ctx: CallContext, a: AuthContext): Promise<DeepPartial<compute.ServerActionResponse>> {
  const rule = checkLifecycleAllowed('resize', r);
  const dest = hostId ? (await claimOnChosenHost(d, r, hostId, resizeConsumer(r.id))).hostId : await claimElsewhere({ instances: d.instances, placement: d.placement, serverGroups: d.serverGroups, migrations: d.migrationRecords }, r, '#resize');
  const info: ResizeInfo = { migrationId: randomUUID(), sourceHostId: r.hostId, destHostId: dest, oldFlavor: r.flavor, newFlavor: r.flavor, wasRunning: r.powerState === 'running', quotaDelta: { cores: 0, ramMb: 0 } };
  const now = d.nowMs();
  const next = await d
    .transition(r.id, (cur) => {
      checkLifecycleAllowed('resize', cur);
      if (cur.hostId !== r.hostId) throw new FailedPreconditionError(`server ${r.id} moved meanwhile`, 'instance_moved');
      return { ...cur, resize: info, taskState: rule.taskState, taskStartedAtMs: now, actionRequestId: ctx.requestId };
    })
    .catch(async (e: unknown) => {
      await d.allocations.release(dest, resizeConsumer(r.id));
      throw e;
    });
  if (!next) {
    await d.allocations.release(dest, resizeConsumer(r.id));
    throw new NotFoundError('server', r.id);
  }
  await d.instances.startAction(r.id, { requestId: ctx.requestId, action: 'migrate', userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });
  d.queue.enqueue(r.id);
  return { server: serverToProto(next, { admin: true }), migrationId: info.migrationId };
}

/**
 * AbortServerMigration and ForceCompleteServerMigration (admin; Nova's server migrations API):
 * the server is looked up as the caller may see it, then {@link MigrationWorker.abort} /
 * {@link MigrationWorker.forceComplete}. Answers with the migration record as it stands.
 * @throws PermissionDeniedError for non-admins; InvalidArgumentError ('server_id', 'migration_id')
 *   when empty; NotFoundError (server, migration); FailedPreconditionError ('migration_not_running')
 */
export function serverMigrationHandlers(d: Pick<ApiDeps, 'instances' | 'migrations'>): Pick<ServiceHandlers<typeof compute.ComputeServiceService>, 'abortServerMigration' | 'forceCompleteServerMigration'> {
  const run = async (req: { serverId: string; migrationId: string }, ctx: CallContext, verb: 'AbortServerMigration' | 'ForceCompleteServerMigration') => {
    if (!isCloudAdmin(auth(ctx))) throw new PermissionDeniedError(`policy requires admin for ${verb}`);
    if (!req.migrationId) throw new InvalidArgumentError('migration_id', 'must not be empty');
    const r = await getScoped(d, req.serverId, ctx);
    const m = verb === 'AbortServerMigration' ? await d.migrations.abort(r, req.migrationId) : await d.migrations.forceComplete(r, req.migrationId);
    return { migration: migrationToProto(m) };
  };
  return {
    abortServerMigration: (req, ctx) => run(req, ctx, 'AbortServerMigration'),
    forceCompleteServerMigration: (req, ctx) => run(req, ctx, 'ForceCompleteServerMigration'),
  };
}

/**
 * ListMigrations' live-migration rows, newest first, filtered by server and/or host. The policy
 * table makes ListMigrations admin-only; should that change, non-admins see only their project's
 * servers, with host ids blanked (hosts are admin-only data, as Nova).
 */
export async function listLiveMigrations(d: Pick<ApiDeps, 'migrationRecords' | 'instances'>, req: compute.ListMigrationsRequest, ctx: CallContext): Promise<DeepPartial<compute.Migration>[]> {
  const rows = await d.migrationRecords.list({ instanceId: req.serverId || undefined, hostId: req.hostId || undefined });
  if (isCloudAdmin(ctx.auth)) return rows.map(migrationToProto);
  if (!ctx.auth || req.hostId) return [];
  const own = new Set((await d.instances.list(ctx.auth.projectId)).map((r) => r.id));
  return rows.filter((m) => own.has(m.instanceId)).map((m) => ({ ...migrationToProto(m), sourceHostId: '', destHostId: '' }));
}

/** compute.Migration of a record (times as Date). */
export function migrationToProto(m: MigrationRecord): DeepPartial<compute.Migration> {
  return {
    id: m.id,
    instanceId: m.instanceId,
    migrationType: m.migrationType,
    sourceHostId: m.sourceHostId,
    destHostId: m.destHostId,
    status: m.status,
    rounds: m.rounds,
    transferredBytes: m.transferredBytes,
    remainingBytes: m.remainingBytes,
    totalTimeMs: m.totalTimeMs,
    downtimeMs: m.downtimeMs,
    cpuThrottlePercentage: m.cpuThrottlePercentage,
    postCopy: m.postCopy,
    createdAt: new Date(m.createdAtMs),
    updatedAt: new Date(m.updatedAtMs),
    error: m.error,
  };
}
