import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { instanceIdSignature } from '@minicloud/domain-guest';
import { metadataReader, MetadataUnavailableError } from './metadata-client';

const SECRET = 'a-shared-secret-of-32-characters';

describe('metadataReader (the agent as the metadata proxy)', () => {
  let server: Server;
  let base = '';
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];
  let userData: string | undefined = '#!/bin/sh\necho hi\n';

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ path: req.url ?? '', headers: req.headers });
      if (req.headers['x-instance-id-signature'] !== instanceIdSignature(SECRET, String(req.headers['x-instance-id']))) return res.writeHead(403).end('Invalid proxy request signature.');
      if (req.url === '/openstack/latest/meta_data.json') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hostname: 'web-1.novalocal', public_keys: { k: 'ssh-rsa AAA k' } }));
      if (req.url === '/openstack/latest/user_data') return userData === undefined ? res.writeHead(404).end() : res.writeHead(200).end(userData);
      if (req.url === '/openstack/latest/vendor_data2.json') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ minicloud_identity: { token: 't' } }));
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('signs the instance id with the shared secret and reads meta_data.json, user_data and vendor_data2.json', async () => {
    const r = await metadataReader(base, SECRET)('i-1', 'p-1');
    expect(r.metaData).toEqual({ hostname: 'web-1.novalocal', public_keys: { k: 'ssh-rsa AAA k' } });
    expect(new TextDecoder().decode(r.userData)).toBe('#!/bin/sh\necho hi\n');
    expect(r.vendorData2).toEqual({ minicloud_identity: { token: 't' } });
    expect(seen.at(-1)!.headers).toMatchObject({ 'x-instance-id': 'i-1', 'x-tenant-id': 'p-1', 'x-instance-id-signature': instanceIdSignature(SECRET, 'i-1') });
  });

  it('takes a 404 on user_data as no user data', async () => {
    userData = undefined;
    expect((await metadataReader(base, SECRET)('i-1', 'p-1')).userData).toBeUndefined();
    userData = '#!/bin/sh\n';
  });

  it('fails naming the guest-side URL when refused or unreachable', async () => {
    await expect(metadataReader(base, 'another-secret-of-32-characters!')('i-1', 'p-1')).rejects.toEqual(
      expect.objectContaining({ name: 'MetadataUnavailableError', url: 'http://169.254.169.254/openstack/latest/meta_data.json', reason: 'HTTP 403' }),
    );
    const e = await metadataReader('http://127.0.0.1:1', SECRET, 2000)('i-1', 'p-1').catch((x) => x);
    expect(e).toBeInstanceOf(MetadataUnavailableError);
    expect(e.reason).toMatch(/fetch failed/);
  });

  it('with several metadata APIs (controller replicas), one that is down or answers 5xx is skipped for the next', async () => {
    const broken = createServer((_req, res) => res.writeHead(503).end());
    await new Promise<void>((r) => broken.listen(0, '127.0.0.1', () => r()));
    try {
      const down = 'http://127.0.0.1:1';
      const failing = `http://127.0.0.1:${(broken.address() as { port: number }).port}`;
      const r = await metadataReader([down, failing, base], SECRET, 2000)('i-1', 'p-1');
      expect(r.metaData).toMatchObject({ hostname: 'web-1.novalocal' });
      // a refusal (4xx) is an answer, not a reason to ask another replica
      await expect(metadataReader([base, failing], 'another-secret-of-32-characters!')('i-1', 'p-1')).rejects.toMatchObject({ reason: 'HTTP 403' });
      await expect(metadataReader([down, failing], SECRET, 2000)('i-1', 'p-1')).rejects.toMatchObject({ reason: 'HTTP 503' });
    } finally {
      await new Promise<void>((r) => broken.close(() => r()));
    }
  });
});
