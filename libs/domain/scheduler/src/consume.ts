import { HostState } from './host-state';
import { FlavorSpec } from './request-spec';

/** What else a claim records besides the flavor's resources. */
export interface ClaimContext {
  /** Uuid of the instance placed/removed; added to/removed from `instanceIds`. */
  readonly instanceUuid?: string;
  /** Server group of the instance; its count in `serverGroupMembers` goes up/down by one. */
  readonly serverGroupId?: string;
}

function withGroupDelta(host: HostState, groupId: string | undefined, delta: number): HostState['serverGroupMembers'] {
  if (groupId === undefined) return host.serverGroupMembers ? { ...host.serverGroupMembers } : undefined;
  const members = { ...(host.serverGroupMembers ?? {}) };
  const next = Math.max(0, (members[groupId] ?? 0) + delta);
  if (next === 0) delete members[groupId];
  else members[groupId] = next;
  return members;
}

/**
 * Nova's `HostState.consume_from_request`: a new HostState with the flavor's vCPUs, RAM (MB) and disk
 * (GB) added to the used amounts, one more instance and one more I/O op (the build), and the
 * instance/group recorded. Does not check capacity (filters do) and never mutates `host`.
 */
export function consumeFromRequest(host: HostState, flavor: FlavorSpec, ctx: ClaimContext = {}): HostState {
  const instanceIds = new Set(host.instanceIds);
  if (ctx.instanceUuid !== undefined) instanceIds.add(ctx.instanceUuid);
  return {
    ...host,
    vcpusUsed: host.vcpusUsed + flavor.vcpus,
    ramMbUsed: host.ramMbUsed + flavor.ramMb,
    diskGbUsed: host.diskGbUsed + flavor.diskGb,
    numInstances: host.numInstances + 1,
    numIoOps: host.numIoOps + 1,
    instanceIds,
    serverGroupMembers: withGroupDelta(host, ctx.serverGroupId, 1),
  };
}

/**
 * The inverse of {@link consumeFromRequest} for a released claim or a deleted instance: a new
 * HostState with the flavor's resources and one instance removed (floored at 0) and the
 * instance/group forgotten. `numIoOps` is left alone: the caller ends I/O ops when the task ends.
 */
export function releaseFromHost(host: HostState, flavor: FlavorSpec, ctx: ClaimContext = {}): HostState {
  const instanceIds = new Set(host.instanceIds);
  if (ctx.instanceUuid !== undefined) instanceIds.delete(ctx.instanceUuid);
  return {
    ...host,
    vcpusUsed: Math.max(0, host.vcpusUsed - flavor.vcpus),
    ramMbUsed: Math.max(0, host.ramMbUsed - flavor.ramMb),
    diskGbUsed: Math.max(0, host.diskGbUsed - flavor.diskGb),
    numInstances: Math.max(0, host.numInstances - 1),
    instanceIds,
    serverGroupMembers: withGroupDelta(host, ctx.serverGroupId, -1),
  };
}
