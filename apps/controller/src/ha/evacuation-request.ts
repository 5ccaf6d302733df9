import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { isHostDown, isolationFenceDecision, type InstanceRecord } from '@minicloud/domain-compute';
import type { HostStore } from '../store/host-store';
import type { InstanceStore } from '../store/instance-store';
import { parseIsolationRecord } from '../agent/host-monitor';
import { Keys } from '../store/keys';
import type { EvacuationRecord } from '../store/evacuation-store';

/** What {@link requestEvacuation} reads and writes: the HA keys in Redis, hosts and the instance actions log. */
export interface EvacuationRequestDeps {
  redis: Redis;
  hosts: Pick<HostStore, 'find'>;
  instances: Pick<InstanceStore, 'startAction'>;
  nowMs: () => number;
}

/**
 * ServerAction `evacuate` (Nova's evacuate; Masakari's recovery by hand): opens the same durable
 * evacuation record the HA loop uses (`ha:evacuation:<id>`, manual), so the leader fences the host
 * first when it is not fenced yet (by the HA rules: a failed host after lease_ttl + self_fence_after,
 * an isolated one once its agent recorded its VMs off), then claims a destination through Placement
 * (the target host, if given, must pass the scheduler's filters), moves the instance and releases the
 * old claim when ACTIVE; a leader that dies mid-way is finished by the next. `adminPass` (the
 * rebuilt guest's root password) rides on the evacuation record until the instance moves.
 * @throws FailedPreconditionError reason `host_in_use` when the instance's host is not down (Nova:
 *   "Compute service of <host> is still in use."), `host_isolated_vms_running` for an isolated host whose
 *   agent did not record its VMs off (leave_running), `instance_invalid_state` unless vm_state is
 *   active or error with no task, `evacuation_in_progress` when one is open already;
 *   InvalidArgumentError (`evacuate.host_id`) for the current host or a target not up and enabled;
 *   NotFoundError (`host`) for an unknown target
 */
export async function requestEvacuation(
  d: EvacuationRequestDeps,
  r: InstanceRecord,
  opts: { targetHostId?: string; requestId: string; userId: string; adminPass?: string },
): Promise<EvacuationRecord> {
  const host = r.hostId ? await d.hosts.find(r.hostId) : undefined;
  if (!host) throw new FailedPreconditionError(`server ${r.id} has no host to evacuate from`, 'instance_invalid_state');
  if (!isHostDown(host.state)) throw new FailedPreconditionError(`Compute service of ${host.hostId} is still in use (host state ${host.state}).`, 'host_in_use');
  if (host.state === 'isolated') {
    const rec = parseIsolationRecord(await d.redis.get(HaProtocolKeys.isolation(host.hostId)));
    // The same rule the HA loop fences an isolated host by.
    if (!isolationFenceDecision({ state: host.state, hostEpoch: host.epoch, record: rec }).fence) {
      throw new FailedPreconditionError(
        `host ${host.hostId} is isolated and its agent has not recorded its VMs powered off (isolation response ${rec?.response ?? 'not applied'}): they may still run there`,
        'host_isolated_vms_running',
      );
    }
  }
  if ((r.vmState !== 'active' && r.vmState !== 'error') || r.taskState !== null) {
    throw new FailedPreconditionError(`Cannot 'evacuate' instance ${r.id} while it is in vm_state ${r.vmState}${r.taskState ? `, task_state ${r.taskState}` : ''}`, 'instance_invalid_state');
  }
  if (opts.targetHostId) {
    if (opts.targetHostId === host.hostId) throw new InvalidArgumentError('evacuate.host_id', `is the server's current host ${host.hostId}`);
    const target = await d.hosts.find(opts.targetHostId);
    if (!target) throw new NotFoundError('host', opts.targetHostId);
    if (!target.enabled || target.state !== 'up') throw new InvalidArgumentError('evacuate.host_id', `host ${target.hostId} is not up and enabled (state ${target.state})`);
  }
  const now = d.nowMs();
  const rec: EvacuationRecord = {
    instanceId: r.id,
    fromHostId: host.hostId,
    fencedEpoch: host.state === 'fenced' ? host.epoch : 0,
    manual: true,
    targetHostId: opts.targetHostId || undefined,
    requestId: opts.requestId,
    startedAtMs: now,
    attempts: 0,
    adminPass: opts.adminPass,
  };
  // Record and index together (an open evacuation is indexed already, so the SADD is harmless then).
  const [created] = (await d.redis.multi().set(Keys.evacuation(r.id), JSON.stringify(rec), 'NX').sadd(Keys.evacuations(), r.id).exec()) ?? [];
  if (created?.[1] !== 'OK') throw new FailedPreconditionError(`server ${r.id} is already being evacuated`, 'evacuation_in_progress');
  await d.instances.startAction(r.id, { requestId: opts.requestId, action: 'evacuate', userId: opts.userId, projectId: r.projectId, startMs: now, result: '', message: '' });
  return rec;
}
