import { image, volume } from '@minicloud/proto';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { checkInputLimits, INPUT_LIMITS, withInputLimits } from './input-limits';

const x = (n: number) => 'x'.repeat(n);
const map = (n: number, len = 1) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, x(len)]));

function refused(req: unknown, field: string): void {
  let err: unknown;
  try {
    checkInputLimits(req);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidArgumentError);
  expect(err).toMatchObject({ field });
}

describe('checkInputLimits', () => {
  it('accepts values at the limits', () => {
    expect(() =>
      checkInputLimits({
        name: x(255),
        description: x(255),
        password: { userName: x(255), password: x(4096) },
        metadata: map(128, 255),
        removeMetadata: Array.from({ length: 128 }, () => x(255)),
        userData: x(65_535),
        publicKey: x(16_384),
        adminPass: x(255),
        page: { pageSize: 1000 },
        routes: Array.from({ length: 128 }, () => ({ destination: '10.0.0.0/8', nexthop: '10.0.0.1' })),
        securityGroups: Array.from({ length: 128 }, () => x(255)),
        deviceIds: Array.from({ length: 1000 }, () => x(36)),
        chunk: new Uint8Array(1 << 20),
      }),
    ).not.toThrow();
  });

  it.each([
    ['name', { name: x(256) }],
    ['description', { description: x(256) }],
    ['password.user_name', { password: { userName: x(256) } }],
    ['password.password', { password: { password: x(4097) } }],
    ['metadata', { metadata: map(129) }],
    ['properties', { properties: { [x(256)]: 'v' } }],
    ['set_properties.k', { setProperties: { k: x(256) } }],
    ['extra_specs', { extraSpecs: map(129) }],
    ['remove_properties', { removeProperties: Array.from({ length: 129 }, () => 'k') }],
    ['user_data', { userData: x(65_536) }],
    ['public_key', { publicKey: x(16_385) }],
    ['admin_pass', { adminPass: x(256) }],
    ['rebuild.admin_pass', { rebuild: { imageRef: 'img', adminPass: x(256) } }],
    ['change_password.admin_pass', { changePassword: { adminPass: x(256) } }],
    ['page.page_size', { page: { pageSize: 1001 } }],
    ['security_groups', { securityGroups: Array.from({ length: 129 }, () => 'g') }],
    ['security_groups', { securityGroups: ['ok', x(256)] }],
    ['device_ids', { deviceIds: Array.from({ length: 1001 }, () => 'd') }],
    ['device_ids', { deviceIds: [x(256)] }],
    ['assignment.role_name', { assignment: { roleName: x(256) } }],
    ['rules[1].name', { rules: [{ name: 'ok' }, { name: x(256) }] }],
    ['routes', { routes: Array.from({ length: 129 }, () => ({ destination: '10.0.0.0/8', nexthop: '10.0.0.1' })) }],
  ])('refuses an oversized %s, naming it', (field, req) => refused(req, field));

  it('is what the standard limits say', () => {
    expect(INPUT_LIMITS).toMatchObject({ nameChars: 255, mapItems: 128, userDataBytes: 65_535, pageSize: 1000 });
  });
});

describe('withInputLimits', () => {
  const ctx = {} as never;
  it('refuses an oversized unary request before the handler runs (image, volume)', async () => {
    const seen: string[] = [];
    const img = withInputLimits(image.ImageServiceService, {
      createImage: async (req: { name: string }) => (seen.push(req.name), {}),
    } as never) as unknown as Record<string, (req: unknown, ctx: unknown) => Promise<unknown>>;
    await expect(img.createImage({ name: x(256) }, ctx)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'name' });
    await img.createImage({ name: 'ok' }, ctx);
    const vol = withInputLimits(volume.VolumeServiceService, {
      createVolume: async (req: { name: string }) => (seen.push(req.name), {}),
    } as never) as unknown as Record<string, (req: unknown, ctx: unknown) => Promise<unknown>>;
    await expect(vol.createVolume({ name: 'v', metadata: map(129) }, ctx)).rejects.toMatchObject({ field: 'metadata' });
    expect(seen).toEqual(['ok']);
  });

  it('fails a server-streaming method as a stream, and leaves client streams alone', async () => {
    const stream = (async function* () {})();
    const img = withInputLimits(image.ImageServiceService, {
      downloadImage: () => (async function* () {
        yield {};
      })(),
      uploadImage: async (reqs: unknown) => ({ same: reqs === stream }),
    } as never) as unknown as Record<string, (req: unknown, ctx: unknown) => unknown>;
    const it = (img.downloadImage({ imageId: 'i', page: { pageSize: 5000 } }, ctx) as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ field: 'page.page_size' });
    await expect(img.uploadImage(stream, ctx)).resolves.toEqual({ same: true });
  });
});
