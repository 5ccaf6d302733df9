import { checkActionAllowed, checkNotLocked, checkReservedMetadata, type InstanceRecord, type PowerAction } from '@minicloud/domain-compute';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { DeepPartial, ServiceHandlers } from '@minicloud/platform-grpc';
import { parseRestartPriority, RESTART_PRIORITIES } from '../ha/restart-policy';
import { vmStateFromProto } from '../proto-states';
import type { ApiDeps } from './api-deps';
import { LIFECYCLE_FIELDS, runLifecycleAction, type LifecycleActionDeps } from './lifecycle-handlers';
import { listLiveMigrations, runMigrationAction, type MigrationActionDeps } from './migration-handlers';
import { canonicalIpv6, checkAccessIps } from './create-server';
import { actionToProto, serverToProto } from './proto-mapping';
import { auth, getScoped } from './scoping';
import { runVolumeAction, type VolumeActionDeps } from './volume-handlers';
import { runInterfaceAction, type InterfaceActionDeps } from './interface-handlers';
import type { AgentClient } from '../agent/agent-client';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/** What the server handlers use (the actions' own deps included). */
export type ServerHandlersDeps = Pick<ApiDeps, 'instances' | 'nowMs' | 'queue' | 'transition' | 'migrationRecords'> & { agents: Pick<AgentClient, 'setAdminPassword'> } & LifecycleActionDeps & MigrationActionDeps & VolumeActionDeps & InterfaceActionDeps;

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
 * migrate/evacuate, volume and interface actions in their modules), update (name, metadata, tags, HA settings),
 * the instance actions log and ListMigrations.
 */
export function serverHandlers(d: ServerHandlersDeps): Pick<Handlers, 'getServer' | 'listServers' | 'deleteServer' | 'serverAction' | 'updateServer' | 'listInstanceActions' | 'listMigrations'> {
  return {
    async getServer(req, ctx) {
      return { server: serverToProto(await getScoped(d, req.serverId, ctx), { admin: isCloudAdmin(ctx.auth) }) };
    },

    async listServers(req, ctx) {
      const a = auth(ctx);
      const admin = isCloudAdmin(a);
      const projectId = admin && req.allProjects ? undefined : a.projectId;
      const vm = vmStateFromProto(req.vmState);
      const size = Math.min(1000, req.page?.pageSize || 100);
      const offset = Number(req.page?.pageToken || 0) || 0;
      const toProto = (page: InstanceRecord[], nextOffset: number | undefined) => ({ servers: page.map((r) => serverToProto(r, { admin })), page: { nextPageToken: nextOffset === undefined ? '' : String(nextOffset) } });
      if (!req.name && !vm && !req.hostId && !req.reservationId) {
        // No filter: the page comes from the created-at index, without reading every record.
        const p = await d.instances.pageByCreated(projectId, req.marker ? { afterId: req.marker } : { start: offset }, size);
        return toProto(p.records, p.more ? p.start + size : undefined);
      }
      const filtered = (await d.instances.list(projectId))
        .filter((r) => !req.name || r.name.includes(req.name))
        .filter((r) => !vm || r.vmState === vm)
        .filter((r) => !req.hostId || (admin && r.hostId === req.hostId))
        .filter((r) => !req.reservationId || r.reservationId === req.reservationId)
        .sort(newestFirst);
      let start = offset;
      if (req.marker) {
        const i = filtered.findIndex((r) => r.id === req.marker);
        if (i < 0) throw new InvalidArgumentError('marker', `marker [${req.marker}] not found`);
        start = i + 1;
      }
      return toProto(filtered.slice(start, start + size), start + size < filtered.length ? start + size : undefined);
    },

    async deleteServer(req, ctx) {
      const a = auth(ctx);
      const r = await getScoped(d, req.serverId, ctx);
      if (r.taskState === 'deleting') return {};
      if (!(req.force && isCloudAdmin(a))) checkNotLocked(r, isCloudAdmin(a));
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
      if (req.attachInterface) return runInterfaceAction(d, r, 'attachInterface', req, ctx, a);
      if (req.detachInterface) return runInterfaceAction(d, r, 'detachInterface', req, ctx, a);
      if (req.changePassword) return changePassword(d, r, req.changePassword.adminPass, ctx.requestId, a);
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
      checkNotLocked(r, isCloudAdmin(a));
      const rule = checkActionAllowed(powerAction, r);
      const now = d.nowMs();
      const next = await d.transition(r.id, (cur) => {
        checkActionAllowed(powerAction, cur);
        return { ...cur, taskState: rule.taskState, taskStartedAtMs: now, actionRequestId: ctx.requestId };
      });
      if (!next) throw new NotFoundError('server', req.serverId);
      await d.instances.startAction(r.id, { requestId: ctx.requestId, action: rule.actionName, userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });
      d.queue.enqueue(r.id);
      return { server: serverToProto(next, { admin: isCloudAdmin(a) }) };
    },

    async updateServer(req, ctx) {
      const r = await getScoped(d, req.serverId, ctx);
      checkNotLocked(r, isCloudAdmin(ctx.auth));
      checkReservedMetadata(req.setMetadata, isCloudAdmin(ctx.auth), req.removeMetadata);
      if (req.name !== undefined && !req.name.trim()) throw new InvalidArgumentError('name', 'must not be empty');
      for (const t of req.addTags) if (!t.trim() || t.length > 60 || t.includes(',') || t.includes('/')) throw new InvalidArgumentError('add_tags', `invalid tag '${t}' (1..60 characters, no ',' or '/')`);
      if (req.restartPriority && !parseRestartPriority(req.restartPriority)) throw new InvalidArgumentError('restart_priority', `must be one of ${RESTART_PRIORITIES.join(', ')}, got '${req.restartPriority}'`);
      checkAccessIps(req.accessIpV4, req.accessIpV6);
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
            // an empty string clears the address (Nova stores null)
            accessIpV4: req.accessIpV4 === undefined ? cur.accessIpV4 : req.accessIpV4 || undefined,
            accessIpV6: req.accessIpV6 === undefined ? cur.accessIpV6 : canonicalIpv6(req.accessIpV6) || undefined,
          };
        },
        d.nowMs(),
      );
      if (!next) throw new NotFoundError('server', req.serverId);
      return { server: serverToProto(next, { admin: isCloudAdmin(ctx.auth) }) };
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

/**
 * ServerAction `change_password` (Nova's set_admin_password): the server must be unlocked (or the
 * caller an admin) and ACTIVE with no task; the agent sets the guest's root password before the
 * answer (Nova's compute RPC is a call), logged as the `changePassword` instance action. The password
 * is passed on, never stored.
 * @throws InvalidArgumentError (`change_password.admin_pass`) when empty; FailedPreconditionError
 *   (instance_locked, instance_invalid_state), or the agent's when the guest is not running
 */
async function changePassword(
  d: ServerHandlersDeps,
  r: InstanceRecord,
  adminPass: string,
  requestId: string,
  a: AuthContext,
): Promise<DeepPartial<compute.ServerActionResponse>> {
  if (!adminPass) throw new InvalidArgumentError('change_password.admin_pass', 'must not be empty');
  checkNotLocked(r, isCloudAdmin(a));
  if (r.vmState !== 'active' || r.taskState !== null) {
    throw new FailedPreconditionError(`Cannot 'changePassword' instance ${r.id} while it is in vm_state ${r.vmState}${r.taskState ? `, task_state ${r.taskState}` : ''}`, 'instance_invalid_state');
  }
  const now = d.nowMs();
  await d.instances.startAction(r.id, { requestId, action: 'changePassword', userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });
  try {
    await d.agents.setAdminPassword(r.hostId, r.id, adminPass, { requestId, step: 'updating_password' });
  } catch (e) {
    await d.instances.finishAction(r.id, requestId, 'Error', e instanceof Error ? e.message : String(e), d.nowMs());
    throw e;
  }
  await d.instances.finishAction(r.id, requestId, 'Success', '', d.nowMs());
  return { server: serverToProto(r, { admin: isCloudAdmin(a) }) };
}

/** Nova's default list order: created_at descending, then id descending (the created-at index's order too). */
function newestFirst(x: InstanceRecord, y: InstanceRecord): number {
  return y.createdAtMs - x.createdAtMs || (y.id < x.id ? -1 : y.id > x.id ? 1 : 0);
}
