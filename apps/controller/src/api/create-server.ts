import { ftRequestedByFlavor } from '@minicloud/domain-ft';
import { randomUUID } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { guestCpuRequestOf } from '@minicloud/domain-hypervisor';
import { checkReservedMetadata, type FlavorRecord, type InstanceRecord, type RequestedNetwork } from '@minicloud/domain-compute';
import { compute, image as imageProto } from '@minicloud/proto';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial } from '@minicloud/platform-grpc';
import { parseRestartPriority, RESTART_PRIORITIES } from '../ha/restart-policy';
import { scheduleNewServers, type NewServerPlacements } from '../placement/schedule-servers';
import type { ApiDeps } from './api-deps';
import { entriesFor, planBlockDevices, type BlockDevicePlan } from './block-device-mappings';
import { findVisibleFlavor } from './flavor-handlers';
import { serverToProto } from './proto-mapping';
import { keypairForServer } from './keypair-handlers';
import { auth } from './scoping';
import { resolveNetworks, resolveSecurityGroups, splitHint, waitForReservation } from './server-helpers';
import { scopedServerGroup } from './topology-handlers';

const MAX_COUNT_LIMIT = 1000;

/** What createServer uses. */
export type CreateServerDeps = Pick<
  ApiDeps,
  'flavors' | 'instances' | 'serverGroups' | 'keypairs' | 'placement' | 'quotas' | 'peers' | 'metrics' | 'nowMs' | 'queue' | 'publishState' | 'admission'
>;

/**
 * The request's own checks (no I/O): name, flavor_ref, networks, min/max count. No networks is
 * allowed: {@link resolveNetworks} picks the project's one network, or none, as Nova 2.1 does.
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
  req.networks.forEach((n, i) => {
    if (n.portId) throw new InvalidArgumentError(`networks[${i}].port_id`, 'booting with an existing port is not implemented yet');
    if (!n.networkId) throw new InvalidArgumentError(`networks[${i}].network_id`, 'is required');
  });
  checkAccessIps(req.accessIpV4, req.accessIpV6);
  if (req.restartPriority && !parseRestartPriority(req.restartPriority)) throw new InvalidArgumentError('restart_priority', `must be one of ${RESTART_PRIORITIES.join(', ')}, got '${req.restartPriority}'`);
  return { count: maxCount };
}

/**
 * Nova's accessIPv4/accessIPv6 formats (empty = none).
 * @throws InvalidArgumentError('access_ip_v4' | 'access_ip_v6')
 */
export function checkAccessIps(v4: string | undefined, v6: string | undefined): void {
  if (v4 && !isIPv4(v4)) throw new InvalidArgumentError('access_ip_v4', `'${v4}' is not an IPv4 address`);
  if (v6 && !isIPv6(v6)) throw new InvalidArgumentError('access_ip_v6', `'${v6}' is not an IPv6 address`);
}

/**
 * An IPv6 address in its canonical text form (RFC 5952: lower-case hex, zeros compressed, an
 * embedded IPv4 tail as hex), as Nova stores accessIPv6; '' stays ''. The WHATWG URL parser
 * serializes IPv6 hosts exactly so.
 */
export function canonicalIpv6(v6: string): string {
  return v6 ? new URL(`http://[${v6}]/`).hostname.slice(1, -1) : v6;
}

/**
 * The flavor, block devices and image of a create, checked against each other.
 * @throws NotFoundError('flavor'), FailedPreconditionError image_not_active, InvalidArgumentError('flavor_ref'),
 *   InvalidArgumentError ('hw:cpu_mode' / 'hw:cpu_model') for a guest CPU request that is malformed or where flavor and image disagree
 */
async function resolveSources(d: CreateServerDeps, req: compute.CreateServerRequest, count: number, ctx: CallContext): Promise<{ flavor: FlavorRecord; bdm: BlockDevicePlan }> {
  const flavor = await findVisibleFlavor(d.flavors, req.flavorRef, ctx.auth);
  if (!flavor) throw new NotFoundError('flavor', req.flavorRef);
  const bdm = await planBlockDevices(d, req, count, ctx);
  const img = bdm.rootImage;
  if (img) {
    if (img.status !== imageProto.ImageStatus.IMAGE_STATUS_ACTIVE) {
      throw new FailedPreconditionError(`image ${img.id} is not active (status ${imageProto.ImageStatus[img.status]})`, 'image_not_active');
    }
    if (img.minRamMb > flavor.ramMb) throw new InvalidArgumentError('flavor_ref', `flavor ram_mb ${flavor.ramMb} is below the image's min_ram_mb ${img.minRamMb}`);
    if (flavor.diskGb > 0 && img.minDiskGb > flavor.diskGb) throw new InvalidArgumentError('flavor_ref', `flavor disk_gb ${flavor.diskGb} is below the image's min_disk_gb ${img.minDiskGb}`);
  }
  // A malformed or conflicting guest CPU request is the caller's error, not a NoValidHost.
  guestCpuRequestOf(flavor.extraSpecs, img ? img.properties : bdm.imageProperties);
  return { flavor, bdm };
}

/** Everything a new instance record is made of, besides its id and host. */
interface NewServers {
  req: compute.CreateServerRequest;
  caller: AuthContext;
  flavor: FlavorRecord;
  bdm: BlockDevicePlan;
  requestedNetworks: RequestedNetwork[];
  /** Resolved security group ids ([]: the project's default). */
  securityGroupIds: string[];
  /** The public key of the request's key pair ('' without key_name). */
  keyData: string;
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
    securityGroupIds: s.securityGroupIds.length > 0 ? s.securityGroupIds : undefined,
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
    // Born protected: the FT loop places a secondary once the server is ACTIVE.
    ...(ftRequestedByFlavor(flavor.extraSpecs) ? { ft: { state: 'need_secondary' as const, generation: 0, unprotectedSinceMs: s.nowMs } } : {}),
    restartPriority: req.restartPriority || 'medium',
    reservationId: s.reservationId,
    clientToken: req.clientToken || undefined,
    serverGroupId: req.schedulerHints.group || undefined,
    quota: s.quotaAccounted ? { cores: flavor.vcpus, ramMb: flavor.ramMb } : undefined,
    keyName: req.keyName,
    keyData: s.keyData || undefined,
    accessIpV4: req.accessIpV4 || undefined,
    accessIpV6: canonicalIpv6(req.accessIpV6) || undefined,
    userData: req.userData,
    adminPass: req.adminPass || undefined,
    createdAtMs: s.nowMs,
    updatedAtMs: s.nowMs,
    taskStartedAtMs: s.nowMs,
    actionRequestId: s.requestId,
  }));
}

/**
 * ComputeService.CreateServer, top to bottom: validate the request; resolve flavor, image, block
 * devices, networks and security groups with the caller's token; HA admission control; client-token idempotency;
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
    checkReservedMetadata(req.metadata, isCloudAdmin(caller));
    // Nova looks key_name up among the caller's own pairs and copies the public key to the instance.
    const keyData = req.keyName ? (await keypairForServer(d.keypairs, caller.userId, req.keyName)).publicKey : '';
    // Independent reads (flavor + image + volumes, networks) in parallel; the first failure in this
    // order is the one reported, whichever answered first.
    const [sources, networks, groups] = await Promise.allSettled([resolveSources(d, req, count, ctx), resolveNetworks(d, req.networks, ctx), resolveSecurityGroups(d, req.securityGroups, ctx)]);
    if (sources.status === 'rejected') throw sources.reason;
    if (networks.status === 'rejected') throw networks.reason;
    if (groups.status === 'rejected') throw groups.reason;
    const securityGroupIds = groups.value;
    const { flavor, bdm } = sources.value;
    const requestedNetworks = networks.value;
    // Nova claims no local root disk for a server booted from volume.
    const rootDiskGb = bdm.bootFromVolume ? 0 : flavor.diskGb;
    await d.admission?.check({ vcpus: flavor.vcpus, ramMb: flavor.ramMb, diskGb: rootDiskGb }, count);
    const groupId = req.schedulerHints.group || undefined;
    if (groupId) await scopedServerGroup(d, groupId, ctx).catch(() => Promise.reject(new NotFoundError('server_group', groupId)));

    const reservationId = `r-${randomUUID()}`;
    const token = req.clientToken ? { projectId: caller.projectId, token: req.clientToken } : undefined;
    if (token) {
      const existing = await d.instances.reserveClientToken(token.projectId, token.token, reservationId);
      if (existing) {
        // The same request again: its servers; or, when the create holding the token died before
        // making any (its lease expired), this retry takes the token over and creates them.
        const servers = await waitForReservation(d, existing, ctx, () => d.instances.takeOverClientToken(token.projectId, token.token, existing, reservationId));
        if (servers) return { servers, reservationId: existing };
      }
    }
    let quotaReservation = '';
    let claimed: NewServerPlacements | undefined;
    try {
      quotaReservation = await d.quotas.reserve(caller.projectId, { instances: count, cores: count * flavor.vcpus, ramMb: count * flavor.ramMb });
      const placements = (claimed = await scheduleNewServers(d, {
        instanceIds: Array.from({ length: count }, () => randomUUID()),
        flavor,
        rootDiskGb,
        imageProperties: bdm.imageProperties,
        availabilityZone: req.availabilityZone || undefined,
        differentHost: splitHint(req.schedulerHints.different_host),
        sameHost: splitHint(req.schedulerHints.same_host),
        groupId,
      }));
      const now = d.nowMs();
      const records = newInstanceRecords({ req, caller, flavor, bdm, requestedNetworks, securityGroupIds, keyData, reservationId, quotaAccounted: d.quotas.enabledFor(), requestId: ctx.requestId, nowMs: now }, placements);
      await d.instances.createMany(records, token);
      claimed = undefined; // the records own the claims now
      await d.quotas.commit(quotaReservation);
      quotaReservation = '';
      // Per record: the action log and the event are independent writes (one round trip, not two).
      await Promise.all(
        records.map(async (r) => {
          await Promise.all([
            d.instances.startAction(r.id, { requestId: ctx.requestId, action: 'create', userId: caller.userId, projectId: caller.projectId, startMs: now, result: '', message: '' }),
            d.publishState(r, 'building'),
          ]);
          d.queue.enqueue(r.id);
        }),
      );
      return { servers: records.map((r) => serverToProto(r, { admin: isCloudAdmin(caller) })), reservationId };
    } catch (e) {
      await d.quotas.rollback(quotaReservation);
      if (claimed) await d.placement.rollback(new Map([...claimed].map(([instanceId, p]) => [instanceId, p.hostId]))).catch(() => undefined);
      if (token) await d.instances.releaseClientToken(token.projectId, token.token, reservationId);
      throw e;
    }
  };
}
