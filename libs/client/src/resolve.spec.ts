import { InvalidArgumentError, NotFoundError, UnavailableError } from '@minicloud/domain-errors';
import { compute, image } from '@minicloud/proto';
import { AmbiguousNameError, resolveAggregate, resolveByIdOrName, resolveFlavor, resolveHost, resolveImage, resolveServerGroup } from './resolve';

const img = (id: string, name: string) => image.Image.fromPartial({ id, name });

function fakeImages(images: image.Image[], opts: { getError?: Error } = {}) {
  const calls: string[] = [];
  return {
    calls,
    client: {
      getImage: async (req: { imageId?: string }) => {
        calls.push(`get:${req.imageId}`);
        if (opts.getError) throw opts.getError;
        const found = images.find((i) => i.id === req.imageId);
        if (!found) throw new NotFoundError('image', req.imageId ?? '');
        return { image: found };
      },
      listImages: async (req: { name?: string; page?: { pageToken?: string } }) => {
        calls.push(`list:${req.name}`);
        // Two pages, to check paging is followed.
        const token = req.page?.pageToken ?? '';
        const half = Math.ceil(images.length / 2);
        return token === ''
          ? { images: images.slice(0, half), page: { nextPageToken: images.length > half ? 'p2' : '' } }
          : { images: images.slice(half), page: { nextPageToken: '' } };
      },
    } as never,
  };
}

describe('name resolution', () => {
  it('takes an id without listing', async () => {
    const f = fakeImages([img('i-1', 'cirros')]);
    await expect(resolveImage(f.client, 'i-1')).resolves.toMatchObject({ id: 'i-1' });
    expect(f.calls).toEqual(['get:i-1']);
  });

  it('falls back to a unique exact name across pages', async () => {
    const f = fakeImages([img('i-1', 'cirros'), img('i-2', 'ubuntu'), img('i-3', 'cirros-old')]);
    await expect(resolveImage(f.client, 'cirros-old')).resolves.toMatchObject({ id: 'i-3' });
    expect(f.calls).toEqual(['get:cirros-old', 'list:cirros-old', 'list:cirros-old']);
  });

  it('reports an ambiguous name naming the ids, and an unknown one as NOT_FOUND', async () => {
    const f = fakeImages([img('i-1', 'cirros'), img('i-2', 'cirros')]);
    await expect(resolveImage(f.client, 'cirros')).rejects.toThrow(InvalidArgumentError);
    await expect(resolveImage(f.client, 'cirros')).rejects.toThrow('invalid image: multiple images match "cirros", use an id (i-1, i-2)');
    await expect(resolveImage(f.client, 'cirros')).rejects.toMatchObject({ reason: 'ambiguous_name', ids: ['i-1', 'i-2'] });
    await expect(resolveImage(f.client, 'nope')).rejects.toThrow(new NotFoundError('image', 'nope').message);
  });

  it('treats a malformed-id INVALID_ARGUMENT as "try the name", but propagates other errors', async () => {
    const bad = fakeImages([img('i-1', 'cirros')], { getError: new InvalidArgumentError('image_id', 'not a uuid') });
    await expect(resolveImage(bad.client, 'cirros')).resolves.toMatchObject({ id: 'i-1' });
    const down = fakeImages([img('i-1', 'cirros')], { getError: new UnavailableError('down') });
    await expect(resolveImage(down.client, 'cirros')).rejects.toThrow(UnavailableError);
  });

  it('does not let GetFlavor name matching hide an ambiguous flavor name', async () => {
    const flavors = [compute.Flavor.fromPartial({ id: 'f1', name: 'small' }), compute.Flavor.fromPartial({ id: 'f2', name: 'small' })];
    const client = {
      getFlavor: async () => ({ flavor: flavors[0] }),
      listFlavors: async () => ({ flavors }),
    } as never;
    await expect(resolveFlavor(client, 'small')).rejects.toThrow('multiple flavors match "small", use an id (f1, f2)');
    await expect(resolveFlavor(client, 'f1')).resolves.toMatchObject({ id: 'f1' });
  });

  it('lets an id win over another resource of that name', async () => {
    // Server group g2 is named "g1": the id g1 still names group g1, as in Nova.
    const groups = [compute.ServerGroup.fromPartial({ id: 'g1', name: 'web' }), compute.ServerGroup.fromPartial({ id: 'g2', name: 'g1' })];
    const client = { getServerGroup: async (r: { serverGroupId: string }) => ({ serverGroup: groups.find((g) => g.id === r.serverGroupId) }), listServerGroups: async () => ({ serverGroups: groups }) } as never;
    await expect(resolveServerGroup(client, 'g1')).resolves.toMatchObject({ id: 'g1' });
    await expect(resolveServerGroup(client, 'web')).resolves.toMatchObject({ id: 'g1' });
    await expect(resolveServerGroup(client, 'db')).rejects.toThrow('server group db not found');
  });

  it('resolves kinds without a get call by listing, ids first', async () => {
    const aggregates = [compute.Aggregate.fromPartial({ id: 'a1', name: 'a2' }), compute.Aggregate.fromPartial({ id: 'a2', name: 'fast' }), compute.Aggregate.fromPartial({ id: 'a3', name: 'fast' })];
    const client = { listAggregates: async () => ({ aggregates }) } as never;
    await expect(resolveAggregate(client, 'a2')).resolves.toMatchObject({ id: 'a2' });
    await expect(resolveAggregate(client, 'fast')).rejects.toBeInstanceOf(AmbiguousNameError);
    await expect(resolveAggregate(client, 'slow')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('matches hosts by hostname', async () => {
    const hosts = [compute.Host.fromPartial({ id: 'host-1', hostname: 'rack-a' }), compute.Host.fromPartial({ id: 'host-2', hostname: 'rack-b' })];
    const client = { getHost: async () => ({ host: undefined }), listHosts: async () => ({ hosts }) } as never;
    await expect(resolveHost(client, 'rack-b')).resolves.toMatchObject({ id: 'host-2' });
  });

  it('requires a reference', async () => {
    await expect(resolveByIdOrName('network', '', async () => undefined, async () => [])).rejects.toThrow('invalid network: an id or name is required');
  });
});
