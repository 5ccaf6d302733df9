import { checkActionAllowed, checkNotLocked, checkReservedMetadata, type PowerAction } from '@minicloud/domain-compute';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import { isAdmin } from '@minicloud/platform-auth';
import type { DeepPartial, ServiceHandlers } from '@minicloud/platform-grpc';
import { parseRestartPriority, RESTART_PRIORITIES } from '../ha/restart-policy';
import { vmStateFromProto } from '../proto-states';
import type { ApiDeps } from './api-deps';
import { LIFECYCLE_FIELDS, runLifecycleAction, type LifecycleActionDeps } from './lifecycle-handlers';
import { listLiveMigrations, runMigrationAction, type MigrationActionDeps } from './migration-handlers';
import { actionToProto, serverToProto } from './proto-mapping';
import { auth, getScoped } from './scoping';
import { runVolumeAction, type VolumeActionDeps } from './volume-handlers';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/** What the server handlers use (the actions' own deps included). */
export type ServerHandlersDeps = Pick<ApiDeps, 'instances' | 'nowMs' | 'queue' | 'transition' | 'migrationRecords'> & LifecycleActionDeps & MigrationActionDeps & VolumeActionDeps;

const POWER_FIELDS: [keyof compute.ServerActionRequest, PowerAction | 'reboot'][] = [
  ['stop', 'stop'],
  ['start', 'start'],
  ['reboot', 'reboot'],
  ['pause', 'pause'],
  ['unpause', 'unpause'],
  ['suspend', 'suspend'],
  ['resume', 'resume'],
];

/**
 * Server handlers but create (api/create-server.ts): get/list (project-scoped; admins see hosts),
 * delete (task_state deleting, the worker destroys), ServerAction (power actions here; lifecycle,
 * migrate/evacuate and volume actions in their modules), update (name, metadata, tags, HA settings),
 * the instance actions log and ListMigrations.
 */
export function serverHandlers(d: ServerHandlersDeps): Pick<Handlers, 'getServer' | 'listServers' | 'deleteServer' | 'serverAction' | 'updateServer' | 'listInstanceActions' | 'listMigrations'> {
  return {
    async getServer(req, ctx) {
      return { server: serverToProto(await getScoped(d, req.serverId, ctx), { admin: isAdmin(ctx.auth) }) };
    },

    async listServers(req, ctx) {
      const a = auth(ctx);
      const admin = isAdmin(a);
      const all = admin && req.allProjects ? await d.instances.list() : await d.instances.list(a.projectId);
      const vm = vmStateFromProto(req.vmState);
      const filtered = all
        .filter((r) => !req.name || r.name.includes(req.name))
        .filter((r) => !vm || r.vmState === vm)
        .filter((r) => !req.hostId || (admin && r.hostId === req.hostId))
        .filter((r) => !req.reservationId || r.reservationId === req.reservationId)
        .sort((x, y) => y.createdAtMs - x.createdAtMs || x.id.localeCompare(y.id));
      const size = Math.min(1000, req.page?.pageSize || 100);
      const offset = Number(req.page?.pageToken || 0) || 0;
      const page = filtered.slice(offset, offset + size);
      const next = offset + size < filtered.length ? String(offset + size) : '';
      return { servers: page.map((r) => serverToProto(r, { admin })), page: { nextPageToken: next } };
    },

    async deleteServer(req, ctx) {
      const a = auth(ctx);
      const r = await getScoped(d, req.serverId, ctx);
      if (r.taskState === 'deleting') return {};
      if (!(req.force && isAdmin(a))) checkNotLocked(r, isAdmin(a));
      const now = d.nowMs();
      const next = await d.transition(r.id, (cur) =>
        cur.taskState === 'deleting' ? undefined : { ...cur, taskState: 'deleting', taskStartedAtMs: now, actionRequestId: ctx.requestId },
      );
      if (!next) throw new NotFoundError('server', req.serverId);
      await d.instances.startAction(r.id, { requestId: ctx.requestId, action: 'delete', userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });
      d.queue.enqueue(r.id);
      return {};
    },

    async serverAction(req, ctx) {
      const a = auth(ctx);
      const r = await getScoped(d, req.serverId, ctx);
      const lifecycle = LIFECYCLE_FIELDS.find(([f]) => req[f] !== undefined);
      if (lifecycle) return runLifecycleAction(d, r, lifecycle[1], req, ctx, a);
      if (req.migrate) return runMigrationAction(d, r, 'migrate', req, ctx, a);
      if (req.evacuate) return runMigrationAction(d, r, 'evacuate', req, ctx, a);
      if (req.attachVolume) return runVolumeAction(d, r, 'attachVolume', req, ctx, a);
      if (req.detachVolume) return runVolumeAction(d, r, 'detachVolume', req, ctx, a);
      const field = POWER_FIELDS.find(([f]) => req[f] !== undefined);
      if (!field) {
        const other = Object.keys(req).find((k) => k !== 'serverId' && (req as unknown as Record<string, unknown>)[k] !== undefined);
        if (!other) throw new InvalidArgumentError('action', 'exactly one action is required');
        throw new FailedPreconditionError(`action ${other} is not implemented yet`, 'not_implemented');
      }
      let action = field[1];
      if (action === 'reboot') {
        const type = (req.reboot?.type || 'SOFT').toUpperCase();
        if (type !== 'SOFT' && type !== 'HARD') throw new InvalidArgumentError('reboot.type', `must be SOFT or HARD, got ${req.reboot?.type}`);
        action = type === 'HARD' ? 'reboot_hard' : 'reboot_soft';
      }
      const powerAction = action as PowerAction;
      checkNotLocked(r, isAdmin(a));
      const rule = checkActionAllowed(powerAction, r);
      const now = d.nowMs();
      const next = await d.transition(r.id, (cur) => {
        checkActionAllowed(powerAction, cur);
        return { ...cur, taskState: rule.taskState, taskStartedAtMs: now, actionRequestId: ctx.requestId };
      });
      if (!next) throw new NotFoundError('server', req.serverId);
      await d.instances.startAction(r.id, { requestId: ctx.requestId, action: rule.actionName, userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });
      d.queue.enqueue(r.id);
      return { server: serverToProto(next, { admin: isAdmin(a) }) };
    },

    async updateServer(req, ctx) {
      const r = await getScoped(d, req.serverId, ctx);
      checkNotLocked(r, isAdmin(ctx.auth));
      checkReservedMetadata(req.setMetadata, isAdmin(ctx.auth), req.removeMetadata);
      if (req.name !== undefined && !req.name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
      for (const t of req.addTags) if (!t.trim() || t.length > 60 || t.includes(',') || t.includes('/')) throw new InvalidArgumentError('add_tags', `invalid tag '${t}' (1..60 characters, no ',' or '/')`);
      if (req.restartPriority && !parseRestartPriority(req.restartPriority)) throw new InvalidArgumentError('restart_priority', `must be one of ${RESTART_PRIORITIES.join(', ')}, got '${req.restartPriority}'`);
      const next = await d.instances.update(
        r.id,
        (cur) => {
          const metadata = { ...cur.metadata, ...req.setMetadata };
          for (const k of req.removeMetadata) delete metadata[k];
          const tags = [...new Set([...cur.tags, ...req.addTags])].filter((t) => !req.removeTags.includes(t));
          return {
            ...cur,
            name: req.name ?? cur.name,
            metadata,
            tags,
            haEnabled: req.haEnabled ?? cur.haEnabled,
            restartPriority: req.restartPriority ?? cur.restartPriority,
          };
        },
        d.nowMs(),
      );
      if (!next) throw new NotFoundError('server', req.serverId);
      return { server: serverToProto(next, { admin: isAdmin(ctx.auth) }) };
    },

    async listInstanceActions(req, ctx) {
      const r = await getScoped(d, req.serverId, ctx);
      return { actions: (await d.instances.listActions(r.id)).map((x) => actionToProto(r.id, x)) };
    },

    /** Resizes in flight or awaiting confirm (finished ones are not kept), then live migrations (kept, newest first). */
    async listMigrations(req, ctx) {
      const rows = (await d.instances.list())
        .filter((r) => r.resize && (!req.serverId || r.id === req.serverId))
        .filter((r) => !req.hostId || r.resize!.sourceHostId === req.hostId || r.resize!.destHostId === req.hostId);
      return {
        migrations: (rows.map((r) => ({
          id: r.resize!.migrationId,
          instanceId: r.id,
          migrationType: 'resize',
          sourceHostId: r.resize!.sourceHostId,
          destHostId: r.resize!.destHostId,
          status: r.vmState === 'resized' ? 'finished' : r.taskState === 'resize_reverting' ? 'reverting' : r.taskState === 'resize_confirming' ? 'confirming' : 'migrating',
        })) as DeepPartial<compute.Migration>[]).concat(await listLiveMigrations(d, req, ctx)),
      };
    },
  };
}
