import { InvalidArgumentError, NotFoundError, UnauthenticatedError } from '@minicloud/domain-errors';
import type { InstanceRecord } from '@minicloud/domain-compute';
import { isCloudAdmin, type AuthContext } from '@minicloud/platform-auth';
import type { CallContext } from '@minicloud/platform-grpc';
import type { InstanceStore } from '../store/instance-store';

/** The caller's identity. @throws UnauthenticatedError without a token */
export function auth(ctx: CallContext): AuthContext {
  if (!ctx.auth) throw new UnauthenticatedError('missing bearer token');
  return ctx.auth;
}

/**
 * Project scoping: another project's server reads as NOT_FOUND (as OpenStack); an instance
 * credential sees only its own instance (any other server of its project is NOT_FOUND too).
 * @throws InvalidArgumentError('server_id'), NotFoundError('server')
 */
export async function getScoped(d: { instances: Pick<InstanceStore, 'find'> }, id: string, ctx: CallContext): Promise<InstanceRecord> {
  if (!id) throw new InvalidArgumentError('server_id', 'is required');
  const r = await d.instances.find(id);
  if (!r || (!isCloudAdmin(ctx.auth) && r.projectId !== auth(ctx).projectId)) throw new NotFoundError('server', id);
  if (ctx.auth?.instanceId && ctx.auth.instanceId !== r.id) throw new NotFoundError('server', id);
  return r;
}
