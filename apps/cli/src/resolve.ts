import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute, identity, image, network, volume } from '@minicloud/proto';
import type { CloudClients } from './io';
import { listAll } from './paging';

/** Anything with an id and a name. */
export interface Named {
  id: string;
  name: string;
}

/**
 * Finds a resource by id first, else by exact unique name, as the openstack CLI does
 * (osc_lib.utils.find_resource). `get` may throw NOT_FOUND or INVALID_ARGUMENT (a name is not a
 * well-formed id); both fall through to the name lookup. `listByName` may return more than matches;
 * only exact name matches count.
 * @throws NotFoundError(type, ref) when nothing matches; InvalidArgumentError(type) naming the
 *   count when several resources share the name.
 */
export async function resolveByIdOrName<T extends Named>(
  type: string,
  ref: string,
  get: (id: string) => Promise<T | undefined>,
  listByName: (name: string) => Promise<T[]>,
): Promise<T> {
  if (!ref) throw new InvalidArgumentError(type, 'an id or name is required');
  try {
    const found = await get(ref);
    if (found && found.id) return found;
  } catch (e) {
    if (!(e instanceof NotFoundError) && !(e instanceof InvalidArgumentError)) throw e;
  }
  const matches = (await listByName(ref)).filter((r) => r.name === ref || r.id === ref);
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new NotFoundError(type, ref);
  throw new InvalidArgumentError(type, `${matches.length} ${type}s are named "${ref}"; use an id (${matches.map((m) => m.id).join(', ')})`);
}

/** Image by id or name (ImageService GetImage, then ListImages name filter). */
export function resolveImage(c: Pick<CloudClients['image'], 'getImage' | 'listImages'>, ref: string): Promise<image.Image> {
  return resolveByIdOrName(
    'image',
    ref,
    async (id) => (await c.getImage({ imageId: id })).image,
    (name) => listAll(async (pageToken) => toPage(...pageOf(await c.listImages({ name, page: { pageToken } }), 'images'))),
  );
}

/** Flavor by id or name (ComputeService GetFlavor, then ListFlavors). */
export function resolveFlavor(c: Pick<CloudClients['compute'], 'getFlavor' | 'listFlavors'>, ref: string): Promise<compute.Flavor> {
  return resolveByIdOrName(
    'flavor',
    ref,
    async (id) => {
      const f = (await c.getFlavor({ flavorRef: id })).flavor;
      // GetFlavor accepts names too; only an id match counts here so that ambiguity is detected below.
      return f && f.id === id ? f : undefined;
    },
    async () => (await c.listFlavors({})).flavors,
  );
}

/** Network by id or name (NetworkService GetNetwork, then ListNetworks name filter). */
export function resolveNetwork(c: Pick<CloudClients['network'], 'getNetwork' | 'listNetworks'>, ref: string): Promise<network.Network> {
  return resolveByIdOrName(
    'network',
    ref,
    async (id) => (await c.getNetwork({ networkId: id })).network,
    (name) => listAll(async (pageToken) => toPage(...pageOf(await c.listNetworks({ name, page: { pageToken } }), 'networks'))),
  );
}

/** Server by id or name (ComputeService GetServer, then ListServers name filter). */
export function resolveServer(
  c: Pick<CloudClients['compute'], 'getServer' | 'listServers'>,
  ref: string,
  opts: { allProjects?: boolean } = {},
): Promise<compute.Server> {
  return resolveByIdOrName(
    'server',
    ref,
    async (id) => (await c.getServer({ serverId: id })).server,
    (name) => listAll(async (pageToken) => toPage(...pageOf(await c.listServers({ name, allProjects: opts.allProjects, page: { pageToken } }), 'servers'))),
  );
}

/** Volume by id or name (VolumeService GetVolume, then ListVolumes). */
export function resolveVolume(c: Pick<CloudClients['volume'], 'getVolume' | 'listVolumes'>, ref: string): Promise<volume.Volume> {
  return resolveByIdOrName(
    'volume',
    ref,
    async (id) => (await c.getVolume({ volumeId: id })).volume,
    () => listAll(async (pageToken) => toPage(...pageOf(await c.listVolumes({ page: { pageToken } }), 'volumes'))),
  );
}

/** Subnet by id or name within an optional network (NetworkService GetSubnet, then ListSubnets). */
export function resolveSubnet(c: Pick<CloudClients['network'], 'getSubnet' | 'listSubnets'>, ref: string): Promise<network.Subnet> {
  return resolveByIdOrName(
    'subnet',
    ref,
    async (id) => (await c.getSubnet({ subnetId: id })).subnet,
    async () => (await c.listSubnets({})).subnets,
  );
}

/** Project by id or name (IdentityService GetProject, then ListProjects). */
export function resolveProject(c: Pick<CloudClients['identity'], 'getProject' | 'listProjects'>, ref: string): Promise<identity.Project> {
  return resolveByIdOrName(
    'project',
    ref,
    async (id) => (await c.getProject({ projectId: id })).project,
    () => listAll(async (pageToken) => toPage(...pageOf(await c.listProjects({ page: { pageToken } }), 'projects'))),
  );
}

function pageOf<R extends { page?: { nextPageToken: string } }, K extends keyof R>(res: R, key: K): [R[K], string | undefined] {
  return [res[key], res.page?.nextPageToken];
}

function toPage<T>(items: T[] | undefined, next: string | undefined): { items: T[]; next?: string } {
  return { items: items ?? [], next };
}
