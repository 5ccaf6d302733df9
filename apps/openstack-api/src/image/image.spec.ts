import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { FailedPreconditionError, NotFoundError, PermissionDeniedError } from '@minicloud/domain-errors';
import { image } from '@minicloud/proto';
import { fakeBackends, fakeCaller, listenFront, requestAs, type httpRequest as request, type RecordedCall as Call } from '../http/test-kit';

/** Tokens of the fake: project p1's member, project p2's member. */
const TOKENS: Record<string, string> = { t1: 'p1', t2: 'p2' };

/** An in-memory image service with the gRPC service's answers: project scoping, statuses, protected, members. */
function fakeImages() {
  const images = new Map<string, image.Image>();
  const data = new Map<string, Buffer>();
  const members = new Map<string, image.ImageMember[]>();
  const chunkSizes: number[] = [];
  let n = 0;
  const caller = fakeCaller(TOKENS);
  const visible = (id: string, opts: Call['opts']) => {
    const p = caller(opts);
    const i = images.get(id);
    if (!i || (i.ownerProjectId !== p && i.visibility !== image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC && !members.get(id)?.some((m) => m.memberProjectId === p))) throw new NotFoundError('image', id);
    return i;
  };
  const owned = (id: string, opts: Call['opts']) => {
    const i = visible(id, opts);
    if (i.ownerProjectId !== caller(opts)) throw new PermissionDeniedError(`image ${id} belongs to another project`);
    return i;
  };
  const impl = {
    createImage: (req: image.CreateImageRequest, opts: Call['opts']) => {
      const i = image.Image.fromPartial({ ...req, id: `00000000-0000-0000-0000-00000000000${++n}`, status: image.ImageStatus.IMAGE_STATUS_QUEUED, ownerProjectId: caller(opts), visibility: req.visibility || image.ImageVisibility.IMAGE_VISIBILITY_SHARED, createdAt: new Date(Date.UTC(2026, 0, n)) });
      images.set(i.id, i);
      return { image: i };
    },
    uploadImage: async (msgs: AsyncIterable<Partial<image.UploadImageRequest>>, opts: Call['opts']) => {
      const parts: Buffer[] = [];
      let id = '';
      for await (const m of msgs) {
        if (m.imageId) id = m.imageId;
        if (!m.chunk) continue;
        parts.push(Buffer.from(m.chunk));
        chunkSizes.push(m.chunk.length);
      }
      const i = owned(id, opts);
      if (i.status !== image.ImageStatus.IMAGE_STATUS_QUEUED) throw new FailedPreconditionError(`image ${id} is not queued`);
      const bytes = Buffer.concat(parts);
      data.set(id, bytes);
      Object.assign(i, { status: image.ImageStatus.IMAGE_STATUS_ACTIVE, sizeBytes: bytes.length, diskFormat: 'qcow2', checksumMd5: createHash('md5').update(bytes).digest('hex') });
      return { image: i };
    },
    downloadImage: (req: { imageId: string }, opts: Call['opts']) =>
      (async function* () {
        const i = visible(req.imageId, opts);
        if (i.status === image.ImageStatus.IMAGE_STATUS_DEACTIVATED) throw new FailedPreconditionError(`image ${i.id} is deactivated: its data cannot be downloaded`, 'image_deactivated');
        const b = data.get(i.id)!;
        for (let at = 0; at < b.length; at += 4) yield { chunk: b.subarray(at, at + 4) };
      })(),
    getImage: (req: { imageId: string }, opts: Call['opts']) => ({ image: visible(req.imageId, opts) }),
    listImages: (_req: unknown, opts: Call['opts']) => {
      const p = caller(opts);
      return { images: [...images.values()].filter((i) => i.ownerProjectId === p || i.visibility === image.ImageVisibility.IMAGE_VISIBILITY_PUBLIC), page: { nextPageToken: '' } };
    },
    updateImage: (req: image.UpdateImageRequest, opts: Call['opts']) => {
      const i = owned(req.imageId, opts);
      if (req.name !== undefined) i.name = req.name;
      if (req.visibility !== undefined) i.visibility = req.visibility;
      if (req.protected !== undefined) i.protected = req.protected;
      if (req.minDiskGb !== undefined) i.minDiskGb = req.minDiskGb;
      if (req.minRamMb !== undefined) i.minRamMb = req.minRamMb;
      for (const k of req.removeProperties) delete i.properties[k];
      Object.assign(i.properties, req.setProperties);
      i.tags = [...new Set([...i.tags.filter((t) => !req.removeTags.includes(t)), ...req.addTags])];
      return { image: i };
    },
    deleteImage: (req: { imageId: string }, opts: Call['opts']) => {
      const i = owned(req.imageId, opts);
      if (i.protected) throw new FailedPreconditionError(`image ${i.id} is protected and cannot be deleted`, 'image_protected');
      images.delete(i.id);
      return {};
    },
    deactivateImage: (req: { imageId: string }, opts: Call['opts']) => ({ image: Object.assign(owned(req.imageId, opts), { status: image.ImageStatus.IMAGE_STATUS_DEACTIVATED }) }),
    reactivateImage: (req: { imageId: string }, opts: Call['opts']) => ({ image: Object.assign(owned(req.imageId, opts), { status: image.ImageStatus.IMAGE_STATUS_ACTIVE }) }),
    addImageMember: (req: { imageId: string; memberProjectId: string }, opts: Call['opts']) => {
      owned(req.imageId, opts);
      const m = { imageId: req.imageId, memberProjectId: req.memberProjectId, status: image.ImageMemberStatus.IMAGE_MEMBER_STATUS_PENDING };
      members.set(req.imageId, [...(members.get(req.imageId) ?? []), m]);
      return { member: m };
    },
    updateImageMember: (req: { imageId: string; memberProjectId: string; status: image.ImageMemberStatus }, opts: Call['opts']) => {
      const m = members.get(req.imageId)?.find((x) => x.memberProjectId === req.memberProjectId && x.memberProjectId === caller(opts));
      if (!m) throw new NotFoundError('image member', `${req.imageId}/${req.memberProjectId}`);
      m.status = req.status;
      return { member: m };
    },
    listImageMembers: (req: { imageId: string }, opts: Call['opts']) => (visible(req.imageId, opts), { members: members.get(req.imageId) ?? [] }),
    removeImageMember: (req: { imageId: string; memberProjectId: string }, opts: Call['opts']) => {
      owned(req.imageId, opts);
      members.set(req.imageId, (members.get(req.imageId) ?? []).filter((m) => m.memberProjectId !== req.memberProjectId));
      return {};
    },
  };
  return { impl: impl as unknown as Record<string, (req: never, opts: Call['opts']) => unknown>, images, chunkSizes };
}

describe('Glance v2 writes (real HTTP, fake gRPC)', () => {
  let app: FastifyInstance;
  let calls: Call[];
  let fake: ReturnType<typeof fakeImages>;
  const http = (opts: Parameters<typeof request>[1], token = 't1') => requestAs(app, opts, token);
  const patch = (id: string, ops: unknown, token = 't1') => http({ method: 'PATCH', url: `/image/v2/images/${id}`, headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' }, payload: ops }, token);
  const create = async (body: Record<string, unknown> = { name: 'cirros', disk_format: 'qcow2', container_format: 'bare' }) => (await http({ method: 'POST', url: '/image/v2/images', payload: body })).json();

  beforeEach(async () => {
    calls = [];
    fake = fakeImages();
    app = await listenFront(fakeBackends(calls, fake.impl));
  });
  afterEach(() => app.close());

  it('create: 201 queued with Location, custom properties flat; read-only attributes 403; bad types 400 naming the field', async () => {
    const res = await http({ method: 'POST', url: '/image/v2/images', payload: { name: 'cirros', disk_format: 'qcow2', container_format: 'bare', visibility: 'private', min_disk: 1, os_distro: 'cirros' } });
    expect(res.statusCode).toBe(201);
    const img = res.json();
    expect(img).toMatchObject({ name: 'cirros', status: 'queued', visibility: 'private', min_disk: 1, os_distro: 'cirros', size: null, checksum: null, file: `/v2/images/${img.id}/file` });
    expect(res.headers.location).toBe(`http://api.test:5080/image/v2/images/${img.id}`);
    expect(calls[0]).toMatchObject({ method: 'createImage', req: { name: 'cirros', diskFormat: 'qcow2', containerFormat: 'bare', visibility: image.ImageVisibility.IMAGE_VISIBILITY_PRIVATE, minDiskGb: 1, properties: { os_distro: 'cirros' } } });

    const ro = await http({ method: 'POST', url: '/image/v2/images', payload: { name: 'x', status: 'active' } });
    expect(ro.statusCode).toBe(403);
    expect(ro.json()).toEqual({ code: '403 Forbidden', title: 'Forbidden', message: "Attribute 'status' is read-only." });
    const bad = await http({ method: 'POST', url: '/image/v2/images', payload: { name: 'x', min_ram: 'lots' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/min_ram/);
    expect((await http({ method: 'POST', url: '/image/v2/images', payload: { name: 'x', disk_format: 'floppy' } })).json().message).toMatch(/disk_format/);
    expect(calls.filter((c) => c.method === 'createImage')).toHaveLength(1);
  });

  it('upload streams octet-stream bytes to UploadImage (204); download streams them back with Content-MD5; a wrong media type is 415', async () => {
    const { id } = await create();
    const bytes = Buffer.from('QFI\xfb some qcow2 bytes, more than one chunk');
    const wrong = await http({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'content-type': 'text/plain' }, payload: bytes });
    expect(wrong.statusCode).toBe(415);
    expect((await http({ url: `/image/v2/images/${id}/file` })).statusCode).toBe(204); // queued: no data yet

    const up = await http({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'content-type': 'application/octet-stream' }, payload: bytes });
    expect(up.statusCode).toBe(204);
    expect(calls.find((c) => c.method === 'uploadImage')?.opts).toMatchObject({ token: 't1' });
    const shown = (await http({ url: `/image/v2/images/${id}` })).json();
    expect(shown).toMatchObject({ status: 'active', size: bytes.length, checksum: createHash('md5').update(bytes).digest('hex') });

    const down = await http({ url: `/image/v2/images/${id}/file` });
    expect(down.statusCode).toBe(200);
    expect(down.raw.equals(bytes)).toBe(true);
    expect(down.headers).toMatchObject({ 'content-type': 'application/octet-stream', 'content-md5': shown.checksum, 'content-length': String(bytes.length) });

    const again = await http({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'content-type': 'application/octet-stream' }, payload: bytes });
    expect(again.statusCode).toBe(409);
  });

  it('an upload larger than the JSON body limit streams through in chunks of at most 1 MiB', async () => {
    const { id } = await create();
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 7);
    const up = await http({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'content-type': 'application/octet-stream' }, payload: big });
    expect(up.statusCode).toBe(204);
    expect(fake.images.get(id)?.sizeBytes).toBe(big.length);
    expect(Math.max(...fake.chunkSizes)).toBeLessThanOrEqual(1024 * 1024);
  });

  it('JSON patch: replace/add/remove on core attributes and custom properties, with Glance\'s 403/409/415 answers', async () => {
    const { id } = await create({ name: 'a', hw_disk_bus: 'virtio' });
    const res = await patch(id, [
      { op: 'replace', path: '/name', value: 'b' },
      { op: 'add', path: '/os_distro', value: 'cirros' },
      { op: 'replace', path: '/min_ram', value: 256 },
      { op: 'add', path: '/protected', value: true },
      { op: 'remove', path: '/hw_disk_bus' },
    ]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ name: 'b', os_distro: 'cirros', min_ram: 256, protected: true });
    expect(res.json()).not.toHaveProperty('hw_disk_bus');
    expect(calls.find((c) => c.method === 'updateImage')?.req).toEqual({ imageId: id, name: 'b', minRamMb: 256, protected: true, setProperties: { os_distro: 'cirros' }, removeProperties: ['hw_disk_bus'], addTags: [], removeTags: [] });

    expect((await patch(id, [{ op: 'replace', path: '/status', value: 'active' }])).statusCode).toBe(403);
    expect((await patch(id, [{ op: 'remove', path: '/name' }])).statusCode).toBe(403);
    const absent = await patch(id, [{ op: 'replace', path: '/nope', value: 'x' }]);
    expect(absent.statusCode).toBe(409);
    expect(absent.json().message).toBe('Property nope does not exist.');
    expect((await patch(id, [{ op: 'replace', path: '/min_disk', value: -1 }])).json().message).toMatch(/min_disk/);
    expect((await patch(id, [{ op: 'move', path: '/name' }])).statusCode).toBe(400);
    expect((await patch(id, [{ op: 'remove', path: '/tags' }])).statusCode).toBe(403);
    const json = await http({ method: 'PATCH', url: `/image/v2/images/${id}`, payload: [{ op: 'replace', path: '/name', value: 'c' }] });
    expect(json.statusCode).toBe(415);
  });

  it('tags: create with tags, PUT/DELETE /tags/{tag} (204; an absent tag 404), JSON patch on /tags and /tags/<n>, the tag filter', async () => {
    const { id, tags } = await create({ name: 't', tags: ['a'] });
    expect(tags).toEqual(['a']);
    expect((await http({ method: 'PUT', url: `/image/v2/images/${id}/tags/b` })).statusCode).toBe(204);
    expect((await http({ method: 'PUT', url: `/image/v2/images/${id}/tags/b` })).statusCode).toBe(204); // already there: no change
    expect((await http({ url: `/image/v2/images/${id}` })).json().tags).toEqual(['a', 'b']);
    expect((await http({ method: 'DELETE', url: `/image/v2/images/${id}/tags/a` })).statusCode).toBe(204);
    expect((await http({ method: 'DELETE', url: `/image/v2/images/${id}/tags/a` })).statusCode).toBe(404);
    expect((await patch(id, [{ op: 'add', path: '/tags/-', value: 'c' }])).json().tags).toEqual(['b', 'c']);
    expect((await patch(id, [{ op: 'replace', path: '/tags', value: ['c', 'd'] }])).json().tags).toEqual(['c', 'd']);
    expect(calls.filter((c) => c.method === 'updateImage').pop()?.req).toMatchObject({ addTags: ['d'], removeTags: ['b'] });
    expect((await patch(id, [{ op: 'remove', path: '/tags/0' }])).json().tags).toEqual(['d']);
    expect((await patch(id, [{ op: 'add', path: '/tags/7', value: 'x' }])).statusCode).toBe(400);
    expect((await patch(id, [{ op: 'add', path: '/tags/-', value: 5 }])).statusCode).toBe(400);
    await create({ name: 'u' });
    expect((await http({ url: '/image/v2/images?tag=d' })).json().images.map((i: { name: string }) => i.name)).toEqual(['t']);
    expect((await http({ method: 'PUT', url: `/image/v2/images/${id}/tags/z` }, 't2')).statusCode).toBe(404);
  });

  it('delete is 204, 403 when protected; deactivate/reactivate are 204 and a deactivated image is not downloadable (403)', async () => {
    const { id } = await create();
    await http({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('data') });
    expect((await http({ method: 'POST', url: `/image/v2/images/${id}/actions/deactivate` })).statusCode).toBe(204);
    const blocked = await http({ url: `/image/v2/images/${id}/file` });
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().message).toMatch(/deactivated/);
    expect((await http({ method: 'POST', url: `/image/v2/images/${id}/actions/reactivate` })).statusCode).toBe(204);
    expect((await http({ url: `/image/v2/images/${id}/file` })).statusCode).toBe(200);

    await patch(id, [{ op: 'replace', path: '/protected', value: true }]);
    const refused = await http({ method: 'DELETE', url: `/image/v2/images/${id}` });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().message).toMatch(/protected/);
    await patch(id, [{ op: 'replace', path: '/protected', value: false }]);
    expect((await http({ method: 'DELETE', url: `/image/v2/images/${id}` })).statusCode).toBe(204);
    expect((await http({ url: `/image/v2/images/${id}` })).statusCode).toBe(404);
  });

  it('another project cannot see, change, upload to or delete an image (404); no token is 401 in Keystone\'s form', async () => {
    const { id } = await create();
    expect((await http({ url: `/image/v2/images/${id}` }, 't2')).statusCode).toBe(404);
    expect((await patch(id, [{ op: 'replace', path: '/name', value: 'mine' }], 't2')).statusCode).toBe(404);
    expect((await http({ method: 'PUT', url: `/image/v2/images/${id}/file`, headers: { 'content-type': 'application/octet-stream' }, payload: Buffer.from('x') }, 't2')).statusCode).toBe(404);
    expect((await http({ method: 'DELETE', url: `/image/v2/images/${id}` }, 't2')).statusCode).toBe(404);
    expect(fake.images.get(id)?.name).toBe('cirros');
    const anon = await http({ method: 'POST', url: '/image/v2/images', payload: { name: 'x' } }, '');
    expect(anon.statusCode).toBe(401);
    expect(anon.json().error).toMatchObject({ code: 401, title: 'Unauthorized' });
    expect((await http({ url: `/image/v2/images/${id}/file` }, '')).statusCode).toBe(401);
  });

  it('members: the owner shares with a project, the member sees and accepts it, the owner removes it', async () => {
    const { id } = await create();
    const added = await http({ method: 'POST', url: `/image/v2/images/${id}/members`, payload: { member: 'p2' } });
    expect(added.statusCode).toBe(200);
    expect(added.json()).toMatchObject({ image_id: id, member_id: 'p2', status: 'pending', schema: '/v2/schemas/member' });
    expect((await http({ method: 'POST', url: `/image/v2/images/${id}/members`, payload: { member: 7 } })).statusCode).toBe(400);
    const accepted = await http({ method: 'PUT', url: `/image/v2/images/${id}/members/p2`, payload: { status: 'accepted' } }, 't2');
    expect(accepted.json()).toMatchObject({ member_id: 'p2', status: 'accepted' });
    expect((await http({ url: `/image/v2/images/${id}/members/p2` }, 't2')).json().status).toBe('accepted');
    expect((await http({ url: `/image/v2/images/${id}/members` })).json().members).toHaveLength(1);
    expect((await http({ method: 'PUT', url: `/image/v2/images/${id}/members/p2`, payload: { status: 'maybe' } }, 't2')).statusCode).toBe(400);
    expect((await http({ method: 'DELETE', url: `/image/v2/images/${id}/members/p2` })).statusCode).toBe(204);
    expect((await http({ url: `/image/v2/images/${id}/members/p2` })).statusCode).toBe(404);
  });

  it('list: sort_key/sort_dir and sort=, property and format filters, bad keys 400', async () => {
    await create({ name: 'b', disk_format: 'raw', os_distro: 'ubuntu' });
    await create({ name: 'a', disk_format: 'qcow2' });
    await create({ name: 'c', disk_format: 'qcow2', os_distro: 'ubuntu' });
    const names = async (q: string) => (await http({ url: `/image/v2/images${q}` })).json().images.map((i: { name: string }) => i.name);
    expect(await names('')).toEqual(['c', 'a', 'b']); // created_at desc
    expect(await names('?sort_key=name&sort_dir=asc')).toEqual(['a', 'b', 'c']);
    expect(await names('?sort=disk_format:asc,name:desc')).toEqual(['c', 'a', 'b']);
    expect(await names('?os_distro=ubuntu&sort=name:asc')).toEqual(['b', 'c']);
    expect(await names('?disk_format=qcow2&sort_key=name&sort_dir=asc')).toEqual(['a', 'c']);
    expect(await names('?size=0')).toEqual([]); // no data yet: no size to match
    expect((await http({ url: '/image/v2/images?size=big' })).json().message).toMatch(/size/);
    const page = (await http({ url: '/image/v2/images?sort_key=name&sort_dir=asc&limit=2' })).json();
    expect(page.next).toMatch(/^\/v2\/images\?marker=[0-9a-f-]+&limit=2&sort_key=name&sort_dir=asc$/);
    expect((await http({ url: '/image/v2/images?sort_key=colour' })).json().message).toMatch(/sort key/i);
    expect((await http({ url: '/image/v2/images?sort=name&sort_key=name' })).statusCode).toBe(400);
    expect((await http({ url: '/image/v2/schemas/member' })).json().name).toBe('member');
    // an empty id names no image: 404, not the list
    expect((await http({ url: '/image/v2/images/' })).statusCode).toBe(404);
  });

  it('JSON patch in Glance v2.0\'s media type (`{"replace": "/name", "value": ...}`) is applied as v2.1\'s; a malformed v2.0 op is 400', async () => {
    const { id } = await create();
    const res = await http({ method: 'PATCH', url: `/image/v2/images/${id}`, headers: { 'content-type': 'application/openstack-images-v2.0-json-patch' }, payload: JSON.stringify([{ replace: '/name', value: 'renamed' }]) });
    expect(res.statusCode).toBe(200);
    expect(res.json().name).toBe('renamed');
    const bad = await http({ method: 'PATCH', url: `/image/v2/images/${id}`, headers: { 'content-type': 'application/openstack-images-v2.0-json-patch' }, payload: JSON.stringify([{ replace: '/name', add: '/x', value: 'y' }]) });
    expect(bad.statusCode).toBe(400);
    expect(fake.images.get(id)?.name).toBe('renamed');
  });

  it('create passes every Glance disk and container format to the image service (ami, aki, ari, vdi, ploop; ova, docker, compressed)', async () => {
    for (const [disk, container] of [['ami', 'ami'], ['aki', 'aki'], ['ari', 'ari'], ['vdi', 'ova'], ['ploop', 'docker'], ['raw', 'compressed']]) {
      const res = await http({ method: 'POST', url: '/image/v2/images', payload: { name: disk, disk_format: disk, container_format: container } });
      expect(res.statusCode).toBe(201);
      expect(res.json()).toMatchObject({ disk_format: disk, container_format: container });
    }
    expect((await http({ method: 'POST', url: '/image/v2/images', payload: { disk_format: 'floppy' } })).statusCode).toBe(400);
  });
});
