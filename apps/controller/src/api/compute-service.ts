import { randomUUID } from 'node:crypto';
import { parseRestartPriority, RESTART_PRIORITIES } from '../ha/restart-policy';
import {
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnauthenticatedError,
} from '@minicloud/domain-errors';
import { NoValidHostError } from '@minicloud/domain-scheduler';
import { compute, image as imageProto } from '@minicloud/proto';
import { isAdmin, type AuthContext } from '@minicloud/platform-auth';
import { service, type CallContext, type DeepPartial, type ServiceRegistration } from '@minicloud/platform-grpc';
import { type InstanceRecord, checkNotLocked, checkActionAllowed, type PowerAction } from '@minicloud/domain-compute';
import type { ControllerMetrics } from '../metrics';
import type { Peers } from '../peers';
import type { AllocationStore } from '../store/allocation-store';
import type { FlavorStore } from '../store/flavor-store';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { AggregateStore } from '../store/aggregate-store';
import type { ServerGroupStore } from '../store/server-group-store';
import type { Conductor } from '../workers/conductor';
import type { Quotas } from '../workers/quota';
import { DEFAULT_AVAILABILITY_ZONE, type Placement } from '../workers/placement';
import type { KeyedWorkQueue } from '../workers/work-queue';
import { LIFECYCLE_FIELDS, runLifecycleAction } from './lifecycle-handlers';
import { listLiveMigrations, runMigrationAction } from './migration-handlers';
import type { MigrationStore } from '../store/migration-store';
import type { MigrationWorker } from '../workers/migration-worker';
import { runVolumeAction } from './volume-handlers';
import { entriesFor, planBlockDevices } from './block-device-mappings';
import { actionToProto, flavorToProto, hostToProto, serverToProto, vmStateFromProto } from './proto-mapping';
import { resolveImage, resolveNetworks, serverGroupPlacement, splitHint, waitForReservation } from './server-helpers';
import { scopedServerGroup, topologyHandlers } from './topology-handlers';
import type { EvacuationRequestDeps } from '../ha/evacuation-request';

export interface ComputeServiceDeps {
  flavors: FlavorStore;
  instances: InstanceStore;
  hosts: HostStore;
  allocations: AllocationStore;
  placement: Placement;
  conductor: Conductor;
  queue: KeyedWorkQueue;
  peers: Peers;
  metrics: ControllerMetrics;
  nowMs: () => number;
  /** HA admission control (ha/admission-guard.ts); throws RESOURCE_EXHAUSTED "admission control: ...". */
  admission?: { check(req: { vcpus: number; ramMb: number; diskGb: number }, count: number): Promise<void> };
  aggregates: AggregateStore;
  serverGroups: ServerGroupStore;
  quotas: Quotas;
  /** Nova's allow_resize_to_same_host. */
  allowResizeToSameHost: boolean;
  /** Live migration (issue 9; workers/migration-worker.ts) and its records; absent: not implemented. */
  migrations?: MigrationWorker;
  migrationRecords?: MigrationStore;
  /** ServerAction evacuate (ha/evacuation-request.ts); absent: not implemented. */
  evacuations?: EvacuationRequestDeps;
}

const MAX_COUNT_LIMIT = 1000;

function auth(ctx: CallContext): AuthContext {
  if (!ctx.auth) throw new UnauthenticatedError('missing bearer token');
  return ctx.auth;
}

/** Project scoping: another project's server reads as NOT_FOUND (as OpenStack). */
async function getScoped(d: ComputeServiceDeps, id: string, ctx: CallContext): Promise<InstanceRecord> {
  if (!id) throw new InvalidArgumentError('server_id', 'is required');
  const r = await d.instances.find(id);
  if (!r || (!isAdmin(ctx.auth) && r.projectId !== auth(ctx).projectId)) throw new NotFoundError('server', id);
  return r;
}

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
 * minicloud.compute.v1.ComputeService: flavors, servers (create -> quota reserve + schedule + claim
 * -> async build), power and lifecycle actions (resize/confirm/revert, rebuild, shelve/unshelve,
 * rescue/unrescue, createImage, lock/unlock), delete, metadata/tags, instance actions log, server
 * groups, host aggregates, availability zones, hosts. Roles come from libs/platform/auth's policy
 * table; aggregate calls additionally require admin here (Nova os-aggregates). migrate (live and
 * cold) and evacuate (from a down host, through HA's evacuation record) in api/migration-handlers.ts;
 * maintenance=true drains the host by live migration. Not implemented (FAILED_PRECONDITION
 * not_implemented): interface attach.
 */
export function computeService(d: ComputeServiceDeps): ServiceRegistration {
  return service({
    definition: compute.ComputeServiceService,
    handlers: {
      ...topologyHandlers(d),
      // ---- flavors ----
      async createFlavor(req) {
        const flavor = await d.flavors.create({
          id: req.id,
          name: req.name,
          vcpus: req.vcpus,
          ramMb: req.ramMb,
          diskGb: req.diskGb,
          ephemeralGb: req.ephemeralGb,
          swapMb: req.swapMb,
          isPublic: req.isPublic ?? true,
          extraSpecs: req.extraSpecs,
        });
        return { flavor: flavorToProto(flavor) };
      },
      // Private flavors (is_public=false) are admin-only, as Nova's flavor access without an access list.
      async getFlavor(req, ctx) {
        if (!req.flavorRef) throw new InvalidArgumentError('flavor_ref', 'is required');
        const flavor = await d.flavors.get(req.flavorRef);
        if (!flavor.isPublic && !isAdmin(ctx.auth)) throw new NotFoundError('flavor', req.flavorRef);
        return { flavor: flavorToProto(flavor) };
      },
      async listFlavors(_req, ctx) {
        return { flavors: (await d.flavors.list()).filter((f) => f.isPublic || isAdmin(ctx.auth)).map(flavorToProto) };
      },
      async deleteFlavor(req) {
        await d.flavors.delete(req.flavorId);
        return {};
      },
      async setFlavorExtraSpecs(req) {
        return { flavor: flavorToProto(await d.flavors.setExtraSpecs(req.flavorId, req.extraSpecs, req.unset)) };
      },

      // ---- servers ----
      async createServer(req, ctx) {
        const a = auth(ctx);
        if (!req.name.trim()) throw new InvalidArgumentError('name', 'is required');
        if (!req.flavorRef) throw new InvalidArgumentError('flavor_ref', 'is required');
        const minCount = req.minCount === 0 ? 1 : req.minCount;
        if (!Number.isInteger(minCount) || minCount < 1) throw new InvalidArgumentError('min_count', `must be >= 1, got ${req.minCount}`);
        const maxCount = req.maxCount === 0 ? minCount : req.maxCount;
        if (maxCount < minCount) throw new InvalidArgumentError('max_count', `must be >= min_count (${minCount}), got ${req.maxCount}`);
        if (maxCount > MAX_COUNT_LIMIT) throw new InvalidArgumentError('max_count', `must be <= ${MAX_COUNT_LIMIT}`);
        if (req.networks.length === 0) throw new InvalidArgumentError('networks', 'at least one network is required');
        req.networks.forEach((n, i) => {
          if (n.portId) throw new InvalidArgumentError(`networks[${i}].port_id`, 'booting with an existing port is not implemented yet');
          if (!n.networkId) throw new InvalidArgumentError(`networks[${i}].network_id`, 'is required');
        });

        const flavor = await d.flavors.find(req.flavorRef);
        if (!flavor || (!flavor.isPublic && !isAdmin(ctx.auth))) throw new NotFoundError('flavor', req.flavorRef);
        const bdm = await planBlockDevices(d, req, maxCount, ctx);
        const img = bdm.rootImage;
        if (img) {
          if (img.status !== imageProto.ImageStatus.IMAGE_STATUS_ACTIVE) {
            throw new FailedPreconditionError(`image ${img.id} is not active (status ${imageProto.ImageStatus[img.status]})`, 'image_not_active');
          }
          if (img.minRamMb > flavor.ramMb) throw new InvalidArgumentError('flavor_ref', `flavor ram_mb ${flavor.ramMb} is below the image's min_ram_mb ${img.minRamMb}`);
          if (flavor.diskGb > 0 && img.minDiskGb > flavor.diskGb) throw new InvalidArgumentError('flavor_ref', `flavor disk_gb ${flavor.diskGb} is below the image's min_disk_gb ${img.minDiskGb}`);
        }
        // Nova claims no local root disk for a server booted from volume.
        const rootDiskGb = bdm.bootFromVolume ? 0 : flavor.diskGb;
        const requestedNetworks = await resolveNetworks(d, req.networks, ctx);
        if (req.restartPriority && !parseRestartPriority(req.restartPriority)) throw new InvalidArgumentError('restart_priority', `must be one of ${RESTART_PRIORITIES.join(', ')}, got '${req.restartPriority}'`);
        await d.admission?.check({ vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: rootDiskGb }, maxCount);

        const groupId = req.schedulerHints.group;
        if (groupId) await scopedServerGroup(d, groupId, ctx).catch(() => Promise.reject(new NotFoundError('server_group', groupId)));

        const reservationId = `r-${randomUUID()}`;
        if (req.clientToken) {
          const existing = await d.instances.reserveClientToken(a.projectId, req.clientToken, reservationId);
          if (existing) return { servers: await waitForReservation(d, existing, ctx), reservationId: existing };
        }
        let quotaReservation = '';
        try {
          quotaReservation = await d.quotas.reserve(a.projectId, { instances: maxCount, cores: maxCount * flavor.vcpus, ramMb: maxCount * flavor.ramMb });
          const ids = Array.from({ length: maxCount }, () => randomUUID());
          const started = process.hrtime.bigint();
          let placements: Map<string, string>;
          const place = async () => {
            const group = await serverGroupPlacement(d, groupId);
            const placed = await d.placement.placeAll(
              {
                numInstances: maxCount,
                instanceUuids: ids,
                flavor: { vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: flavor.diskGb, extraSpecs: flavor.extraSpecs },
                image: { properties: bdm.imageProperties },
                availabilityZone: req.availabilityZone || undefined,
                schedulerHints: {
                  differentHost: splitHint(req.schedulerHints.different_host),
                  sameHost: splitHint(req.schedulerHints.same_host),
                },
                serverGroup: group?.spec,
              },
              { vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: rootDiskGb },
              { groupMembers: group?.members },
            );
            // Members join under the group's lock, so the next placement sees them.
            if (groupId) await d.serverGroups.changeMembers(groupId, ids, []);
            return placed;
          };
          try {
            placements = groupId ? await d.serverGroups.withLock(groupId, place) : await place();
          } catch (e) {
            if (e instanceof NoValidHostError || e instanceof ResourceExhaustedError) d.metrics.noValidHost.inc();
            throw e;
          } finally {
            d.metrics.placementSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
          }
          const now = d.nowMs();
          const hostAz = new Map((await d.hosts.list()).map((h) => [h.hostId, h.profile.availabilityZone || DEFAULT_AVAILABILITY_ZONE]));
          const records: InstanceRecord[] = ids.map((id, i) => ({
            id,
            name: maxCount > 1 ? `${req.name}-${i + 1}` : req.name,
            projectId: a.projectId,
            userId: a.userId,
            flavor,
            image: img
              ? { id: img.id, diskFormat: img.diskFormat, sizeBytes: img.sizeBytes, virtualSizeBytes: img.virtualSizeBytes, sha256: img.osHashValue, properties: img.properties }
              : { id: '', diskFormat: '', sizeBytes: 0, virtualSizeBytes: 0, sha256: '', properties: bdm.imageProperties },
            volumesAttached: bdm.templates.length > 0 ? entriesFor(bdm, now) : undefined,
            requestedNetworks,
            ports: [],
            vmState: 'building',
            taskState: 'networking',
            powerState: 'nostate',
            hostId: placements.get(id)!,
            availabilityZone: req.availabilityZone || hostAz.get(placements.get(id)!) || DEFAULT_AVAILABILITY_ZONE,
            metadata: req.metadata,
            tags: req.tags,
            haEnabled: req.haEnabled ?? true,
            restartPriority: req.restartPriority || 'medium',
            reservationId,
            clientToken: req.clientToken || undefined,
            serverGroupId: groupId || undefined,
            quota: d.quotas.enabledFor() ? { cores: flavor.vcpus, ramMb: flavor.ramMb } : undefined,
            keyName: req.keyName,
            userData: req.userData,
            createdAtMs: now,
            updatedAtMs: now,
            taskStartedAtMs: now,
            actionRequestId: ctx.requestId,
          }));
          await d.instances.createMany(records);
          await d.quotas.commit(quotaReservation);
          quotaReservation = '';
          for (const r of records) {
            await d.instances.startAction(r.id, { requestId: ctx.requestId, action: 'create', userId: a.userId, projectId: a.projectId, startMs: now, result: '', message: '' });
            await d.conductor.publish(r, 'building');
            d.queue.enqueue(r.id);
          }
          return { servers: records.map((r) => serverToProto(r, { admin: isAdmin(a) })), reservationId };
        } catch (e) {
          await d.quotas.rollback(quotaReservation);
          if (req.clientToken) await d.instances.releaseClientToken(a.projectId, req.clientToken);
          throw e;
        }
      },

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
        const next = await d.conductor.transition(r.id, (cur) =>
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
        const next = await d.conductor.transition(r.id, (cur) => {
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

      // ---- hosts ----
      async listHosts() {
        const hosts = await d.hosts.list();
        return { hosts: await Promise.all(hosts.map(async (h) => hostToProto(h, await d.allocations.get(h.hostId)))) };
      },
      async getHost(req) {
        const h = await d.hosts.get(req.hostId);
        return { host: hostToProto(h, await d.allocations.get(h.hostId)) };
      },
      async updateHost(req) {
        let h = await d.hosts.get(req.hostId);
        if (req.enabled !== undefined) h = await d.hosts.setEnabled(req.hostId, req.enabled, req.disabledReason);
        // Maintenance (issue 5): disabled + state maintenance (HA ignores the host); draining by live migration is issue 9.
        if (req.maintenance !== undefined) {
          h = await d.hosts.setEnabled(req.hostId, !req.maintenance, req.maintenance ? req.disabledReason || 'maintenance' : '');
          await d.hosts.setState(req.hostId, req.maintenance ? 'maintenance' : 'up');
          h = await d.hosts.get(req.hostId);
          // Drain (issue 9): live-migrate ACTIVE instances off, two at a time, in the background.
          if (req.maintenance && d.migrations) void d.migrations.drainHost(req.hostId).catch(() => undefined);
        }
        return { host: hostToProto(h, await d.allocations.get(h.hostId)) };
      },
    },
  });
}

