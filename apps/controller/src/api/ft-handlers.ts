import { FailedPreconditionError, isMinicloudError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { checkNotLocked, type InstanceRecord } from '@minicloud/domain-compute';
import type { FtPair } from '@minicloud/domain-ft';
import { isCloudAdmin } from '@minicloud/platform-auth';
import type { ServiceHandlers } from '@minicloud/platform-grpc';
import type { compute } from '@minicloud/proto';
import { claimElsewhere } from '../placement/relocation';
import { ftConsumer } from '../ft/ft-consumer';
import type { ApiDeps } from './api-deps';
import { serverToProto } from './proto-mapping';
import { auth, getScoped } from './scoping';

/** What SetServerFaultTolerance uses. */
export type FtHandlerDeps = Pick<ApiDeps, 'instances' | 'placement' | 'serverGroups' | 'allocations' | 'agents' | 'admission' | 'transition' | 'nowMs' | 'migrationRecords'>;

/**
 * SetServerFaultTolerance (admin; vSphere's "Turn On / Turn Off Fault Tolerance"), docs/fault-tolerance.md.
 * On: the server must be ACTIVE and running with no task; admission control checks the secondary's
 * reservation, Placement claims it on another host (`<id>#ft`, anti-affinity with the primary and
 * the server group), the pair goes `starting` (generation + 1) and the HA leader's FT loop
 * synchronises it (initial copy, then checkpoints) -> `protected`. Already on: answered as is.
 * Off: generation + 1, `not_protected`; the primary stops checkpointing (its held output released),
 * the standby copy is discarded and its claim released. Already off: answered as is.
 * @throws PermissionDeniedError for non-admins; InvalidArgumentError (server_id); NotFoundError
 *   (server); FailedPreconditionError (instance_invalid_state, locked, migration_in_progress);
 *   ResourceExhaustedError (admission control, or no host fits the secondary)
 */
export function ftHandlers(d: FtHandlerDeps): Pick<ServiceHandlers<typeof compute.ComputeServiceService>, 'setServerFaultTolerance'> {
  return {
    async setServerFaultTolerance(req, ctx) {
      const a = auth(ctx);
      if (!isCloudAdmin(a)) throw new PermissionDeniedError('policy requires admin for SetServerFaultTolerance');
      const r = await getScoped(d, req.serverId, ctx);
      const cur = r.ft ?? { state: 'not_protected', generation: 0 };
      if (req.enabled === (cur.state !== 'not_protected')) return { server: serverToProto(r, { admin: true }) };
      return { server: serverToProto(req.enabled ? await enable(d, r, cur) : await disable(d, r, cur), { admin: true }) };
    },
  };
}

async function enable(d: FtHandlerDeps, r: InstanceRecord, cur: FtPair): Promise<InstanceRecord> {
  checkNotLocked(r, true);
  if (r.vmState !== 'active' || r.powerState !== 'running' || r.taskState !== null) {
    throw new FailedPreconditionError(`Cannot turn on fault tolerance for server ${r.id} while it is in vm_state ${r.vmState}, task_state ${r.taskState ?? 'none'}, power_state ${r.powerState}: it must be ACTIVE and running`, 'instance_invalid_state');
  }
  if (await d.migrationRecords.active(r.id)) throw new FailedPreconditionError(`server ${r.id} is being live-migrated`, 'migration_in_progress');
  await d.admission?.check({ vcpus: r.flavor.vcpus, ramMb: r.flavor.ramMb, diskGb: r.flavor.diskGb }, 1);
  const secondary = await claimElsewhere({ instances: d.instances, placement: d.placement, serverGroups: d.serverGroups }, r, '#ft');
  const next = await d
    .transition(r.id, (x) => {
      if ((x.ft?.generation ?? 0) !== cur.generation || x.hostId === secondary) return undefined;
      return { ...x, ft: { state: 'starting', generation: cur.generation + 1, secondaryHostId: secondary, unprotectedSinceMs: d.nowMs() } };
    })
    .catch(async (e: unknown) => {
      await d.allocations.release(secondary, ftConsumer(r.id));
      throw e;
    });
  if (!next || next.ft?.generation !== cur.generation + 1 || next.ft.secondaryHostId !== secondary) {
    await d.allocations.release(secondary, ftConsumer(r.id));
    if (!next) throw new NotFoundError('server', r.id);
    throw new FailedPreconditionError(`fault tolerance of server ${r.id} changed meanwhile; retry`, 'ft_changed');
  }
  return next;
}

async function disable(d: FtHandlerDeps, r: InstanceRecord, cur: FtPair): Promise<InstanceRecord> {
  const generation = cur.generation + 1;
  const next = await d.transition(r.id, (x) => ((x.ft?.generation ?? 0) !== cur.generation ? undefined : { ...x, ft: { state: 'not_protected', generation } }));
  if (!next) throw new NotFoundError('server', r.id);
  if (next.ft?.generation !== generation) throw new FailedPreconditionError(`fault tolerance of server ${r.id} changed meanwhile; retry`, 'ft_changed');
  await quietly(d.agents.ftStop(r.hostId, r.id, generation));
  if (cur.secondaryHostId) {
    await quietly(d.agents.ftStop(cur.secondaryHostId, r.id, generation));
    await d.allocations.release(cur.secondaryHostId, ftConsumer(r.id));
  }
  return next;
}

async function quietly(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (e) {
    if (!isMinicloudError(e)) throw e;
  }
}
