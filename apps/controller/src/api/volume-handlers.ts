import { FailedPreconditionError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import type { AuthContext } from '@minicloud/platform-auth';
import type { CallContext, DeepPartial } from '@minicloud/platform-grpc';
import type { InstanceRecord } from '../domain/instance';
import type { ComputeServiceDeps } from './compute-service';

/** ServerAction `attach_volume` / `detach_volume`. Placeholder until volume attachment lands. */
export async function runVolumeAction(
  _d: ComputeServiceDeps,
  _r: InstanceRecord,
  action: 'attachVolume' | 'detachVolume',
  _req: compute.ServerActionRequest,
  _ctx: CallContext,
  _a: AuthContext,
): Promise<DeepPartial<compute.ServerActionResponse>> {
  throw new FailedPreconditionError(`action ${action} is not implemented yet`, 'not_implemented');
}
