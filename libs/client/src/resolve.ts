import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute, identity, image, network, volume } from '@minicloud/proto';
import { pages } from './paging';
import type { CloudClients } from './services';

/**
 * Several resources carry the name a caller gave: an INVALID_ARGUMENT on the field `kind` with
 * `reason` "ambiguous_name" (the REST API answers 409 as Nova's NoUniqueMatch does) and the ids.
 * Message: `invalid image: multiple images match "cirros", use an id (i-1, i-2)`.
 */
export class AmbiguousNameError extends InvalidArgumentError {
  constructor(
    kind: string,
    name: string,
    readonly ids: string[],
  ) {
    super(kind, `multiple ${kind}s match "${name}", use an id (${ids.join(', ')})`);
    this.reason = 'ambiguous_name';
    this.resourceType = kind;
  }
}

/**
 * Finds a resource by id or name with Nova's and Neutron's rules (osc_lib.utils.find_resource):
 * an exact id wins; else exactly one resource whose name equals `ref`. `get` may return undefined or
 * throw NOT_FOUND / INVALID_ARGUMENT (a name is not a well-formed id): both fall through to the name
 * lookup. `list(ref)` may return more than the matches (a name filter is a hint); only exact names
 * count, and an id found by listing counts too. `nameOf` defaults to `name`.
 * @throws InvalidArgumentError(kind) for an empty ref; NotFoundError(kind, ref) when nothing matches;
 *   {@link AmbiguousNameError} when several do; any other error of `get`/`list` as is
 */
export async function resolveByIdOrName<T extends { id: string }>(
  kind: string,
  ref: string,
  get: ((id: string) => Promise<T | undefined>) | undefined,
  list: (name: string) => Promise<T[]>,
  nameOf: (t: T) => string = (t) => (t as unknown as { name: string }).name,
): Promise<T> {
  if (!ref) throw new InvalidArgumentError(kind, 'an id or name is required');
  if (get) {
    try {
      const found = await get(ref);
      if (found && found.id) return found;
    } catch (e) {
      if (!(e instanceof NotFoundError) && !(e instanceof InvalidArgumentError)) throw e;
    }
  }
  const all = await list(ref);
  const byId = all.find((r) => r.id === ref);
  if (byId) return byId;
  const matches = all.filter((r) => nameOf(r) === ref);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new NotFoundError(kind, ref);
  throw new AmbiguousNameError(kind, ref, matches.map((m) => m.id));
}

/** A resolver of one kind over the service client `C`: `(client, ref) => resource`. */
export type Resolver<C, T> = (client: C, ref: string) => Promise<T>;

function resolver<C, T extends { id: string }>(
  kind: string,
  get: ((c: C, id: string) => Promise<T | undefined>) | undefined,
  list: (c: C, name: string) => Promise<T[]>,
  nameOf?: (t: T) => string,
): Resolver<C, T> {
  return (c, ref) => resolveByIdOrName(kind, ref, get && ((id) => get(c, id)), (name) => list(c, name), nameOf);
}

type Compute = CloudClients['compute'];
type Network = CloudClients['network'];
type Volume = CloudClients['volume'];
type Identity = CloudClients['identity'];

/** Image by id or name (ImageService GetImage, then ListImages with the name filter). */
export const resolveImage: Resolver<Pick<CloudClients['image'], 'getImage' | 'listImages'>, image.Image> = resolver(
  'image',
  async (c, id) => (await c.getImage({ imageId: id })).image,
  (c, name) => pages((page) => c.listImages({ name, page }), 'images'),
);

/**
 * Flavor by id or name (ComputeService GetFlavor, then ListFlavors). GetFlavor accepts names too;
 * only an id match counts there, so that two flavors of one name are reported as ambiguous.
 */
export const resolveFlavor: Resolver<Pick<Compute, 'getFlavor' | 'listFlavors'>, compute.Flavor> = resolver(
  'flavor',
  async (c, id) => {
    const f = (await c.getFlavor({ flavorRef: id })).flavor;
    return f && f.id === id ? f : undefined;
  },
  async (c) => (await c.listFlavors({})).flavors,
);

/** Server by id or name (ComputeService GetServer, then ListServers with the name filter); `allProjects` searches every project (admin). */
export function resolveServer(c: Pick<Compute, 'getServer' | 'listServers'>, ref: string, opts: { allProjects?: boolean } = {}): Promise<compute.Server> {
  return resolveByIdOrName(
    'server',
    ref,
    async (id) => (await c.getServer({ serverId: id })).server,
    (name) => pages((page) => c.listServers({ name, allProjects: opts.allProjects, page }), 'servers'),
  );
}

/** Server group by id or name (ComputeService GetServerGroup, then ListServerGroups). */
export const resolveServerGroup: Resolver<Pick<Compute, 'getServerGroup' | 'listServerGroups'>, compute.ServerGroup> = resolver(
  'server group',
  async (c, id) => (await c.getServerGroup({ serverGroupId: id })).serverGroup,
  async (c) => (await c.listServerGroups({})).serverGroups,
);

/** Host aggregate by id or name (ComputeService ListAggregates; there is no GetAggregate). */
export const resolveAggregate: Resolver<Pick<Compute, 'listAggregates'>, compute.Aggregate> = resolver('aggregate', undefined, async (c) => (await c.listAggregates({})).aggregates);

/** Hypervisor host by id or unique hostname (ComputeService GetHost, then ListHosts). */
export const resolveHost: Resolver<Pick<Compute, 'getHost' | 'listHosts'>, compute.Host> = resolver(
  'host',
  async (c, id) => (await c.getHost({ hostId: id })).host,
  async (c) => (await c.listHosts({})).hosts,
  (h) => h.hostname,
);

/** Network by id or name (NetworkService GetNetwork, then ListNetworks with the name filter). */
export const resolveNetwork: Resolver<Pick<Network, 'getNetwork' | 'listNetworks'>, network.Network> = resolver(
  'network',
  async (c, id) => (await c.getNetwork({ networkId: id })).network,
  (c, name) => pages((page) => c.listNetworks({ name, page }), 'networks'),
);

/** Subnet by id or name (NetworkService GetSubnet, then ListSubnets). */
export const resolveSubnet: Resolver<Pick<Network, 'getSubnet' | 'listSubnets'>, network.Subnet> = resolver(
  'subnet',
  async (c, id) => (await c.getSubnet({ subnetId: id })).subnet,
  async (c) => (await c.listSubnets({})).subnets,
);

/** Port by id or name (NetworkService GetPort, then ListPorts). */
export const resolvePort: Resolver<Pick<Network, 'getPort' | 'listPorts'>, network.Port> = resolver(
  'port',
  async (c, id) => (await c.getPort({ portId: id })).port,
  (c) => pages((page) => c.listPorts({ page }), 'ports'),
);

/** Security group by id or name (NetworkService GetSecurityGroup, then ListSecurityGroups). */
export const resolveSecurityGroup: Resolver<Pick<Network, 'getSecurityGroup' | 'listSecurityGroups'>, network.SecurityGroup> = resolver(
  'security group',
  async (c, id) => (await c.getSecurityGroup({ securityGroupId: id })).securityGroup,
  async (c) => (await c.listSecurityGroups({})).securityGroups,
);

/** Volume by id or name (VolumeService GetVolume, then ListVolumes). */
export const resolveVolume: Resolver<Pick<Volume, 'getVolume' | 'listVolumes'>, volume.Volume> = resolver(
  'volume',
  async (c, id) => (await c.getVolume({ volumeId: id })).volume,
  (c) => pages((page) => c.listVolumes({ page }), 'volumes'),
);

/** Volume snapshot by id or name (VolumeService GetSnapshot, then ListSnapshots). */
export const resolveSnapshot: Resolver<Pick<Volume, 'getSnapshot' | 'listSnapshots'>, volume.Snapshot> = resolver(
  'snapshot',
  async (c, id) => (await c.getSnapshot({ snapshotId: id })).snapshot,
  async (c) => (await c.listSnapshots({})).snapshots,
);

/** Project by id or name (IdentityService GetProject, then ListProjects). */
export const resolveProject: Resolver<Pick<Identity, 'getProject' | 'listProjects'>, identity.Project> = resolver(
  'project',
  async (c, id) => (await c.getProject({ projectId: id })).project,
  (c) => pages((page) => c.listProjects({ page }), 'projects'),
);

/** User by id or name (IdentityService GetUser, then ListUsers). */
export const resolveUser: Resolver<Pick<Identity, 'getUser' | 'listUsers'>, identity.User> = resolver(
  'user',
  async (c, id) => (await c.getUser({ userId: id })).user,
  (c) => pages((page) => c.listUsers({ page }), 'users'),
);
