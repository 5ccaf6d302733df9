import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { isAdmin } from '@minicloud/platform-auth';
import type { CallContext } from '@minicloud/platform-grpc';
import type { compute } from '@minicloud/proto';
import { image as imageProto } from '@minicloud/proto';
import type { RequestedNetwork } from '@minicloud/domain-compute';
import type { ApiDeps } from './api-deps';
import { serverToProto } from './proto-mapping';

/** A comma-joined scheduler hint as a list. */
export function splitHint(v: string | undefined): string[] | undefined {
  return v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

/** By id, else by exact name among the images the caller sees (caller's token). @throws NotFoundError('image', ref) */
export async function resolveImage(d: Pick<ApiDeps, 'peers'>, ref: string, ctx: CallContext): Promise<imageProto.Image> {
  const client = await d.peers.image();
  try {
    const res = await client.getImage({ imageId: ref }, { token: ctx.token, requestId: ctx.requestId });
    if (res.image) return res.image;
  } catch (e) {
    if (!(e instanceof NotFoundError || e instanceof InvalidArgumentError)) throw e;
  }
  const byName = (await client.listImages({ name: ref }, { token: ctx.token, requestId: ctx.requestId }).catch(() => ({ images: [] as imageProto.Image[] }))).images.filter(
    (i) => i.name === ref,
  );
  if (byName.length !== 1) throw new NotFoundError('image', ref, byName.length > 1 ? 'more than one image has this name; use its id' : undefined);
  return byName[0];
}

/** Each requested network, read with the caller's token. @throws NotFoundError('network', id) */
export async function resolveNetworks(d: Pick<ApiDeps, 'peers'>, reqs: compute.NetworkRequest[], ctx: CallContext): Promise<RequestedNetwork[]> {
  const client = await d.peers.network();
  return Promise.all(
    reqs.map(async (n) => {
      let net;
      try {
        net = (await client.getNetwork({ networkId: n.networkId }, { token: ctx.token, requestId: ctx.requestId })).network;
      } catch (e) {
        if (e instanceof NotFoundError || e instanceof InvalidArgumentError) throw new NotFoundError('network', n.networkId);
        throw e;
      }
      if (!net) throw new NotFoundError('network', n.networkId);
      return { networkId: net.id, networkName: net.name, segmentationId: net.segmentationId, mtu: net.mtu, fixedIp: n.fixedIp || undefined };
    }),
  );
}

/** A repeated create with the same client token: the first request's servers (waits briefly while it is still placing). */
export async function waitForReservation(d: Pick<ApiDeps, 'instances'>, reservationId: string, ctx: CallContext) {
  for (let i = 0; i < 100; i++) {
    const members = await d.instances.reservationMembers(reservationId);
    if (members.length > 0) return members.map((r) => serverToProto(r, { admin: isAdmin(ctx.auth) }));
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new FailedPreconditionError(`the request with this client_token is still in progress (reservation ${reservationId})`, 'in_progress');
}
