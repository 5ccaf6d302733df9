import type { LeaderFence } from '@minicloud/platform-lifecycle';
import { InvalidArgumentError, isMinicloudError, NotFoundError, ResourceExhaustedError, type MinicloudError } from '@minicloud/domain-errors';
import type { ServerGroupSpec } from '@minicloud/domain-scheduler';
import type { GuestCpu } from '@minicloud/domain-hypervisor';
import { claimedDiskGb, type InstanceRecord } from '@minicloud/domain-compute';
import type { HostRecord, HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import type { MigrationStore } from '../store/migration-store';
import type { ServerGroupStore } from '../store/server-group-store';
import type { Placement } from './placement';

/** What {@link claimElsewhere} needs; `migrations` lets in-flight live migrations count on their destination. */
export interface RelocationDeps {
  instances: Pick<InstanceStore, 'getMany'>;
  placement: Pick<Placement, 'placeAll' | 'instanceZone'>;
  serverGroups?: Pick<ServerGroupStore, 'find' | 'withLock'>;
  migrations?: Pick<MigrationStore, 'active'>;
}

/** A server group as the scheduler sees it: its spec, and members per host for the claim's bookkeeping. */
export interface GroupPlacement {
  spec: ServerGroupSpec;
  members: { groupId: string; byHost: Map<string, number> };
}

/**
 * Server group `groupId` as the scheduler sees it: the hosts of its members other than `excludeId`
 * (the instance being placed or moved), where a member being live-migrated also counts on its
 * destination (its claim is there already).
 * @returns undefined when there is no such group
 */
export async function groupPlacementOf(
  d: Pick<RelocationDeps, 'instances' | 'serverGroups' | 'migrations'>,
  groupId: string | undefined,
  excludeId?: string,
): Promise<GroupPlacement | undefined> {
  const g = groupId && d.serverGroups ? await d.serverGroups.find(groupId) : undefined;
  if (!g) return undefined;
  const byHost = new Map<string, number>();
  const add = (h: string) => byHost.set(h, (byHost.get(h) ?? 0) + 1);
  for (const m of await d.instances.getMany(g.memberIds.filter((id) => id !== excludeId))) {
    if (m.hostId) add(m.hostId);
    const moving = m.taskState === 'migrating' && d.migrations ? await d.migrations.active(m.id) : undefined;
    if (moving && moving.destHostId !== m.hostId) add(moving.destHostId);
  }
  return { spec: { id: g.id, policy: g.policy, hostIds: [...byHost.keys()], maxServerPerHost: g.maxServerPerHost }, members: { groupId: g.id, byHost } };
}

/**
 * Schedules and claims a host other than the instance's current one for its own flavor, as Nova's
 * RequestSpec with `ignore_hosts` (here `different_host` on the instance itself), honouring its server
 * group under the group's lock so two members moved at once cannot pick the same host, in the
 * instance's zone ({@link Placement.instanceZone}). Used by cold
 * and live migration and by HA evacuation.
 * @param consumerSuffix the claim's consumer is `<instance id><suffix>` ('#resize', '#migration'; '' for evacuation)
 * @param opts.ignoreHostIds hosts never considered (Nova's ignore_hosts; a build's reschedule)
 * @param opts.guestCpu a live migration's running guest CPU: only hosts it can move to (CpuModelFilter)
 * @param opts.fence a leader loop's claim (HA restart): made only under this replica's fencing token
 * @param opts.requestedHostId only this host is considered (Nova's RequestSpec.requested_destination:
 *   the filters still run, so a host that does not pass them gives NoValidHost naming why)
 * @returns the chosen host id (claimed)
 * @throws NoValidHostError when no other host fits; ResourceExhaustedError when claims keep losing races;
 *   LeaderFenceLostError (with `opts.fence`) when this replica no longer leads
 */
export async function claimElsewhere(
  d: RelocationDeps,
  r: InstanceRecord,
  consumerSuffix: string,
  opts: { requestedHostId?: string; ignoreHostIds?: readonly string[]; fence?: LeaderFence; guestCpu?: GuestCpu } = {},
): Promise<string> {
  const zone = await d.placement.instanceZone(r);
  const place = async () => {
    const group = await groupPlacementOf(d, r.serverGroupId, r.id);
    const placed = await d.placement.placeAll(
      {
        numInstances: 1,
        instanceUuids: [r.id],
        flavor: { vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: r.flavor.diskGb, extraSpecs: r.flavor.extraSpecs },
        image: { properties: r.image.properties },
        availabilityZone: zone,
        schedulerHints: { differentHost: [r.id] },
        serverGroup: group?.spec,
        guestCpu: opts.guestCpu,
      },
      { vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: claimedDiskGb(r, r.flavor.diskGb) },
      { consumerSuffix, groupMembers: group?.members, requestedHostId: opts.requestedHostId, ignoreHostIds: opts.ignoreHostIds, fence: opts.fence },
    );
    return placed.get(r.id)!;
  };
  return r.serverGroupId && d.serverGroups ? d.serverGroups.withLock(r.serverGroupId, place) : place();
}

/**
 * Claims a host the operator chose for moving `r` (Nova's `migrate --host`, which bypasses the
 * scheduler's filters but not the claim).
 * @param consumer the claim's consumer id, e.g. `<id>#migration`
 * @param fence a leader loop's claim (DRS): made only under this replica's fencing token
 * @throws InvalidArgumentError ('migrate.host_id') for the current host or one that is not up and enabled;
 *   NotFoundError ('host'); ResourceExhaustedError (no_valid_host) naming the resource it lacks
 */
export async function claimOnChosenHost(
  d: { hosts: Pick<HostStore, 'find'>; placement: Pick<Placement, 'claimOn'> },
  r: InstanceRecord,
  hostId: string,
  consumer: string,
  fence?: LeaderFence,
): Promise<HostRecord> {
  if (hostId === r.hostId) throw new InvalidArgumentError('migrate.host_id', `is the server's current host ${r.hostId}`);
  const host = await d.hosts.find(hostId);
  if (!host) throw new NotFoundError('host', hostId);
  if (!host.enabled || host.state !== 'up') throw new InvalidArgumentError('migrate.host_id', `host ${hostId} is not up and enabled (state ${host.state})`);
  const claimed = await d.placement.claimOn(hostId, consumer, { vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: claimedDiskGb(r, r.flavor.diskGb) }, fence);
  if (!claimed.ok) throw new ResourceExhaustedError(`host ${hostId} lacks ${claimed.reason} for server ${r.id}`, 'no_valid_host');
  return host;
}

/**
 * The agent refused a spawn or an incoming live migration because its host cannot hold the VM (reason `host_<resource>_exhausted`
 * from libs/domain/hypervisor host-resources, or `host_memory_low`: the host is in ESXi's memory state
 * low, which blocks new VMs): the controller's claim or view and the host disagreed for a moment (e.g.
 * a VM migrating off still holds its memory, or the state changed since the last heartbeat), so
 * another host may well take it.
 */
export function isHostRefusal(e: unknown): boolean {
  return isMinicloudError(e) && e.code === 'RESOURCE_EXHAUSTED' && /^host_(\w+_exhausted|memory_low)$/.test((e as MinicloudError).reason ?? '');
}
