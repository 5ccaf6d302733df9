import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { checkReservedMetadata, type FlavorRecord, type InstanceRecord, type RequestedNetwork } from '@minicloud/domain-compute';
import { compute, image as imageProto } from '@minicloud/proto';
import { isAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial } from '@minicloud/platform-grpc';
import { parseRestartPriority, RESTART_PRIORITIES } from '../ha/restart-policy';
import { scheduleNewServers, type NewServerPlacements } from '../placement/schedule-servers';
import type { ApiDeps } from './api-deps';
import { entriesFor, planBlockDevices, type BlockDevicePlan } from './block-device-mappings';
import { serverToProto } from './proto-mapping';
import { auth } from './scoping';
import { resolveNetworks, splitHint, waitForReservation } from './server-helpers';
import { scopedServerGroup } from './topology-handlers';

const MAX_COUNT_LIMIT = 1000;

/** What createServer uses. */
export type CreateServerDeps = Pick<
  ApiDeps,
  'flavors' | 'instances' | 'serverGroups' | 'placement' | 'quotas' | 'peers' | 'metrics' | 'nowMs' | 'queue' | 'publishState' | 'admission'
>;

/**
 * The request's own checks (no I/O): name, flavor_ref, networks, min/max count.
 * @returns how many servers to create (Nova boots max_count when they fit)
 * @throws InvalidArgumentError naming the field
 */
export function validateCreateServer(req: compute.CreateServerRequest): { count: number } {
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
  if (req.restartPriority && !parseRestartPriority(req.restartPriority)) throw new InvalidArgumentError('restart_priority', `must be one of ${RESTART_PRIORITIES.join(', ')}, got '${req.restartPriority}'`);
  return { count: maxCount };
}

/** The flavor, block devices and image of a create, checked against each other. @throws NotFoundError('flavor'), FailedPreconditionError image_not_active, InvalidArgumentError('flavor_ref') */
async function resolveSources(d: CreateServerDeps, req: compute.CreateServerRequest, count: number, ctx: CallContext): Promise<{ flavor: FlavorRecord; bdm: BlockDevicePlan }> {
  const flavor = await d.flavors.find(req.flavorRef);
  if (!flavor || (!flavor.isPublic && !isAdmin(ctx.auth))) throw new NotFoundError('flavor', req.flavorRef);
  const bdm = await planBlockDevices(d, req, count, ctx);
  const img = bdm.rootImage;
  if (img) {
    if (img.status !== imageProto.ImageStatus.IMAGE_STATUS_ACTIVE) {
      throw new FailedPreconditionError(`image ${img.id} is not active (status ${imageProto.ImageStatus[img.status]})`, 'image_not_active');
    }
    if (img.minRamMb > flavor.ramMb) throw new InvalidArgumentError('flavor_ref', `flavor ram_mb ${flavor.ramMb} is below the image's min_ram_mb ${img.minRamMb}`);
    if (flavor.diskGb > 0 && img.minDiskGb > flavor.diskGb) throw new InvalidArgumentError('flavor_ref', `flavor disk_gb ${flavor.diskGb} is below the image's min_disk_gb ${img.minDiskGb}`);
  }
  return { flavor, bdm };
}

/** Everything a new instance record is made of, besides its id and host. */
interface NewServers {
  req: compute.CreateServerRequest;
  caller: AuthContext;
  flavor: FlavorRecord;
  bdm: BlockDevicePlan;
  requestedNetworks: RequestedNetwork[];
  reservationId: string;
  quotaAccounted: boolean;
  requestId: string;
  nowMs: number;
}

/** The records of a create (pure): building, task networking, one per placed server (`name-1`.. when several). */
export function newInstanceRecords(s: NewServers, placements: NewServerPlacements): InstanceRecord[] {
  const { req, flavor, bdm } = s;
  const img = bdm.rootImage;
  const count = placements.size;
  return [...placements].map(([id, where], i) => ({
    id,
    name: count > 1 ? `${req.name}-${i + 1}` : req.name,
    projectId: s.caller.projectId,
    userId: s.caller.userId,
    flavor,
    image: img
      ? { id: img.id, diskFormat: img.diskFormat, sizeBytes: img.sizeBytes, virtualSizeBytes: img.virtualSizeBytes, sha256: img.osHashValue, properties: img.properties }
      : { id: '', diskFormat: '', sizeBytes: 0, virtualSizeBytes: 0, sha256: '', properties: bdm.imageProperties },
    volumesAttached: bdm.templates.length > 0 ? entriesFor(bdm, s.nowMs) : undefined,
    requestedNetworks: s.requestedNetworks,
    ports: [],
    vmState: 'building',
    taskState: 'networking',
    powerState: 'nostate',
    hostId: where.hostId,
    // The zone is the host's (an aggregate's included), whether or not the request named one.
    availabilityZone: where.availabilityZone,
    metadata: req.metadata,
    tags: req.tags,
    haEnabled: req.haEnabled ?? true,
    restartPriority: req.restartPriority || 'medium',
    reservationId: s.reservationId,
    clientToken: req.clientToken || undefined,
    serverGroupId: req.schedulerHints.group || undefined,
    quota: s.quotaAccounted ? { cores: flavor.vcpus, ramMb: flavor.ramMb } : undefined,
    keyName: req.keyName,
    userData: req.userData,
    createdAtMs: s.nowMs,
    updatedAtMs: s.nowMs,
    taskStartedAtMs: s.nowMs,
    actionRequestId: s.requestId,
  }));
}

/**
 * ComputeService.CreateServer, top to bottom: validate the request; resolve flavor, image, block
 * devices and networks with the caller's token; HA admission control; client-token idempotency;
 * reserve quota; schedule and claim (placement/schedule-servers.ts); record the instances (building,
 * task networking), commit quota, log the `create` action and hand each to the instance worker,
 * which builds it (build/conductor.ts). Any failure before the records exist rolls quota and the
 * client token back.
 */
export function createServerHandler(d: CreateServerDeps) {
  return async function createServer(req: compute.CreateServerRequest, ctx: CallContext): Promise<DeepPartial<compute.CreateServerResponse>> {
    const caller = auth(ctx);
    const { count } = validateCreateServer(req);
    // Workload metadata (`minicloud:*`) makes the agent read a trace: an operator's choice.
    checkReservedMetadata(req.metadata, isAdmin(caller));
    const { flavor, bdm } = await resolveSources(d, req, count, ctx);
    // Nova claims no local root disk for a server booted from volume.
    const rootDiskGb = bdm.bootFromVolume ? 0 : flavor.diskGb;
    const requestedNetworks = await resolveNetworks(d, req.networks, ctx);
    await d.admission?.check({ vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: rootDiskGb }, count);
    const groupId = req.schedulerHints.group || undefined;
    if (groupId) await scopedServerGroup(d, groupId, ctx).catch(() => Promise.reject(new NotFoundError('server_group', groupId)));

    const reservationId = `r-${randomUUID()}`;
    if (req.clientToken) {
      const existing = await d.instances.reserveClientToken(caller.projectId, req.clientToken, reservationId);
      if (existing) return { servers: await waitForReservation(d, existing, ctx), reservationId: existing };
    }
    let quotaReservation = '';
    try {
      quotaReservation = await d.quotas.reserve(caller.projectId, { instances: count, cores: count * flavor.vcpus, ramMb: count * flavor.ramMb });
      const placements = await scheduleNewServers(d, {
        instanceIds: Array.from({ length: count }, () => randomUUID()),
        flavor,
        rootDiskGb,
        imageProperties: bdm.imageProperties,
        availabilityZone: req.availabilityZone || undefined,
        differentHost: splitHint(req.schedulerHints.different_host),
        sameHost: splitHint(req.schedulerHints.same_host),
        groupId,
      });
      const now = d.nowMs();
      const records = newInstanceRecords({ req, caller, flavor, bdm, requestedNetworks, reservationId, quotaAccounted: d.quotas.enabledFor(), requestId: ctx.requestId, nowMs: now }, placements);
      await d.instances.createMany(records);
      await d.quotas.commit(quotaReservation);
      quotaReservation = '';
      for (const r of records) {
        await d.instances.startAction(r.id, { requestId: ctx.requestId, action: 'create', userId: caller.userId, projectId: caller.projectId, startMs: now, result: '', message: '' });
        await d.publishState(r, 'building');
        d.queue.enqueue(r.id);
      }
      return { servers: records.map((r) => serverToProto(r, { admin: isAdmin(caller) })), reservationId };
    } catch (e) {
      await d.quotas.rollback(quotaReservation);
      if (req.clientToken) await d.instances.releaseClientToken(caller.projectId, req.clientToken);
      throw e;
    }
  };
}
