import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { FlavorRecord } from '@minicloud/domain-compute';
import { NoValidHostError } from '@minicloud/domain-scheduler';
import type { ControllerMetrics } from '../metrics';
import type { InstanceStore } from '../store/instance-store';
import type { ServerGroupStore } from '../store/server-group-store';
import type { Placement } from './placement';
import { groupPlacementOf } from './relocation';

/** What a create asks the scheduler for: `instanceIds.length` servers of one flavor and image. */
export interface NewServersRequest {
  instanceIds: string[];
  flavor: FlavorRecord;
  /** Local root disk claimed per server (0 when booted from volume, Nova's rule). */
  rootDiskGb: number;
  /** Image metadata the filters read (the root volume's image when booting from volume). */
  imageProperties: Record<string, string>;
  /** Requested zone (none: any). */
  availabilityZone?: string;
  differentHost?: string[];
  sameHost?: string[];
  /** Server group the servers join (checked visible to the caller already). */
  groupId?: string;
}

/** Where each server landed: its host and that host's availability zone. */
export type NewServerPlacements = Map<string, { hostId: string; availabilityZone: string }>;

/** Stores and settings of {@link scheduleNewServers}. */
export interface ScheduleServersDeps {
  placement: Pick<Placement, 'placeAll' | 'zonesOf'>;
  instances: Pick<InstanceStore, 'getMany'>;
  serverGroups: Pick<ServerGroupStore, 'find' | 'withLock' | 'changeMembers'>;
  metrics: Pick<ControllerMetrics, 'noValidHost' | 'placementSeconds'>;
}

/**
 * Schedules and claims every server of a create (all or nothing; Placement.placeAll), under the
 * server group's lock when it has one (the members join under the lock, so the next placement sees
 * them), and gives each its host's zone. Any replica runs this for the requests it receives; the
 * claims are atomic Lua, so replicas never overbook a host.
 * @throws NoValidHostError / ResourceExhaustedError (no_valid_host), counted in
 *   minicloud_scheduler_no_valid_host_total; FailedPreconditionError server_group_busy
 */
export async function scheduleNewServers(d: ScheduleServersDeps, req: NewServersRequest): Promise<NewServerPlacements> {
  const f = req.flavor;
  const place = async () => {
    const group = await groupPlacementOf(d, req.groupId);
    const placed = await d.placement.placeAll(
      {
        numInstances: req.instanceIds.length,
        instanceUuids: req.instanceIds,
        flavor: { vcpus: f.vcpus, ramMb: f.ramMb, diskGb: f.diskGb, extraSpecs: f.extraSpecs },
        image: { properties: req.imageProperties },
        availabilityZone: req.availabilityZone,
        schedulerHints: { differentHost: req.differentHost, sameHost: req.sameHost },
        serverGroup: group?.spec,
      },
      { vcpus: f.vcpus, ramMb: f.ramMb, diskGb: req.rootDiskGb },
      { groupMembers: group?.members },
    );
    if (req.groupId) await d.serverGroups.changeMembers(req.groupId, req.instanceIds, []);
    return placed;
  };
  const started = process.hrtime.bigint();
  let placements: Map<string, string>;
  try {
    placements = req.groupId ? await d.serverGroups.withLock(req.groupId, place) : await place();
  } catch (e) {
    if (e instanceof NoValidHostError || e instanceof ResourceExhaustedError) d.metrics.noValidHost.inc();
    throw e;
  } finally {
    d.metrics.placementSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }
  const zones = await d.placement.zonesOf([...new Set(placements.values())]);
  return new Map([...placements].map(([id, hostId]) => [id, { hostId, availabilityZone: zones.get(hostId)! }]));
}
