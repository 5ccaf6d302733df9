import { FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { isCloudAdmin } from '@minicloud/platform-auth';
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

/**
 * Each requested network, read with the caller's token. With none requested, Nova 2.1's choice
 * (nova/network/neutron.py `_get_available_networks`): the networks the caller's project owns that
 * are not shared, plus the shared ones; exactly one is used, none means a server with no network
 * interface, more than one is ambiguous.
 * @throws NotFoundError('network', id); PermissionDeniedError for a non-admin on an external network that is not
 *   shared ('external_network_attach_forbidden', Nova's 403) or choosing a fixed IP on another project's
 *   network, shared or not ('fixed_ip_forbidden'); FailedPreconditionError('network_ambiguous') when no network
 *   was named and more than one is available (Nova's 409 NetworkAmbiguous)
 */
export async function resolveNetworks(d: Pick<ApiDeps, 'peers'>, reqs: compute.NetworkRequest[], ctx: CallContext): Promise<RequestedNetwork[]> {
  const client = await d.peers.network();
  if (reqs.length === 0) {
    const projectId = ctx.auth?.projectId ?? '';
    const visible = (await client.listNetworks({ page: { pageSize: 1000 } }, { token: ctx.token, requestId: ctx.requestId })).networks;
    const available = visible.filter((n) => n.shared || (n.projectId === projectId && !n.shared));
    if (available.length > 1) throw new FailedPreconditionError('Multiple possible networks found, use a Network ID to be more specific.', 'network_ambiguous');
    reqs = available.map((n) => ({ networkId: n.id, fixedIp: '', portId: '' }) as compute.NetworkRequest);
  }
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
      // The controller makes a VM's ports with its service rights, so Neutron's port policy that a
      // member's own create_port would meet is applied here: Nova's network:attach_external_network
      // (admin only) and Neutron's create_port:fixed_ips:ip_address (the network's owner or an admin,
      // even on a shared network).
      const admin = isCloudAdmin(ctx.auth);
      if (!admin && net.routerExternal && !net.shared) {
        throw new PermissionDeniedError(`It is not allowed to create an interface on external network ${net.id}`, 'external_network_attach_forbidden');
      }
      if (!admin && n.fixedIp && net.projectId !== (ctx.auth?.projectId ?? '')) {
        throw new PermissionDeniedError(`only the owner of network ${net.id} or an admin may choose a fixed IP on it`, 'fixed_ip_forbidden');
      }
      return { networkId: net.id, networkName: net.name, segmentationId: net.segmentationId, mtu: net.mtu, fixedIp: n.fixedIp || undefined };
    }),
  );
}

/**
 * A create's `security_groups` (names or ids) as security group ids, looked up with the caller's
 * token among the groups the network service shows the caller: an id matches that group, a name
 * every group of that name (of the caller's project first, as Neutron's name lookup for a project).
 * None requested: [] (each port then gets the project's default group, which the network service
 * makes on first use). Duplicates collapse.
 * @throws InvalidArgumentError('security_groups') "Security group X not found for project Y" (Nova's
 *   400); FailedPreconditionError 'security_group_not_unique' when a name matches several groups (409)
 */
export async function resolveSecurityGroups(d: Pick<ApiDeps, 'peers'>, names: readonly string[], ctx: CallContext): Promise<string[]> {
  if (names.length === 0) return [];
  const projectId = ctx.auth?.projectId ?? '';
  const client = await d.peers.network();
  const groups = (await client.listSecurityGroups({}, { token: ctx.token, requestId: ctx.requestId })).securityGroups;
  const ids = names.map((name) => {
    const byId = groups.find((g) => g.id === name);
    if (byId) return byId.id;
    const named = groups.filter((g) => g.name === name);
    const own = named.filter((g) => g.projectId === projectId);
    const matches = own.length > 0 ? own : named;
    if (matches.length === 0) throw new InvalidArgumentError('security_groups', `Security group ${name} not found for project ${projectId}.`);
    if (matches.length > 1) throw new FailedPreconditionError(`Multiple security_group matches found for name '${name}', use an ID to be more specific.`, 'security_group_not_unique');
    return matches[0].id;
  });
  return [...new Set(ids)];
}

/**
 * The servers of a create that holds the same client token: polled for about 5 s until they exist.
 * Each poll that finds none first asks `takeOver` (the holder's lease expired: the token passes to
 * this request), in which case undefined is returned and the caller creates them itself.
 * @throws FailedPreconditionError('in_progress') when the holder is still within its lease and has made none
 */
export async function waitForReservation(d: Pick<ApiDeps, 'instances'>, reservationId: string, ctx: CallContext, takeOver?: () => Promise<boolean>) {
  for (let i = 0; i < 100; i++) {
    const members = await d.instances.reservationMembers(reservationId);
    if (members.length > 0) return members.map((r) => serverToProto(r, { admin: isCloudAdmin(ctx.auth) }));
    if (takeOver && (await takeOver())) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new FailedPreconditionError(`the request with this client_token is still in progress (reservation ${reservationId})`, 'in_progress');
}
