import { instanceIdSignature } from '@minicloud/domain-guest';
import { silentLogger } from '@minicloud/platform-logging';
import { makeInstance } from '../testing/unit-fakes';
import { metadataServer } from './metadata-server';
import { serveMetadata, type MetadataServiceDeps } from './metadata-service';

const SECRET = 'a-shared-secret-of-32-characters';
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey alice@laptop';
const record = makeInstance({
  id: '6f1c0a52-2f5e-4a3e-9d55-0d8b8f1e9a11', name: 'Web 1', projectId: 'p1', keyName: 'alice', keyData: KEY, userData: '#!/bin/sh\necho hi\n',
  availabilityZone: 'nova', metadata: { role: 'web' }, vmState: 'active', taskState: null,
  ports: [{ portId: 'a1b2c3d4-e5f6-0000-1111-222233334444', networkId: 'net-1', networkName: 'private', macAddress: 'fa:16:3e:00:00:01', ipAddresses: ['10.0.0.5'], segmentationId: 1001, mtu: 1450 }],
});

function deps(issued: string[] = []): MetadataServiceDeps {
  return {
    instances: { find: async (id) => (id === record.id ? structuredClone(record) : undefined) },
    sharedSecret: SECRET,
    issueCredential: async (instanceId, projectId) => (issued.push(`${instanceId}/${projectId}`), { token: 'instance-token', identity_document: { instance_id: instanceId } }),
    logger: silentLogger(),
  };
}
const signed = (id = record.id, tenant = 'p1', sig = instanceIdSignature(SECRET, id)) => ({ 'x-instance-id': id, 'x-tenant-id': tenant, 'x-instance-id-signature': sig });
const get = (path: string, headers: Record<string, string | string[]> = signed(), d = deps()) => serveMetadata(d, 'GET', path, headers);
const body = async (path: string) => {
  const r = await get(path);
  expect(r.status).toBe(200);
  return typeof r.body === 'string' ? r.body : new TextDecoder().decode(r.body);
};

describe('metadata API (Nova behind the Neutron metadata proxy)', () => {
  it('serves meta_data.json with the key pair, hostname and project', async () => {
    expect(JSON.parse(await body('/openstack/latest/meta_data.json'))).toEqual({
      uuid: record.id, name: 'Web 1', hostname: 'web-1.novalocal', project_id: 'p1', availability_zone: 'nova', launch_index: 0,
      meta: { role: 'web' }, devices: [], public_keys: { alice: KEY }, keys: [{ name: 'alice', type: 'ssh', data: KEY }],
    });
  });

  it('serves network_data.json, user_data, vendor data and the version lists', async () => {
    expect(JSON.parse(await body('/openstack/2018-08-27/network_data.json'))).toEqual({
      links: [{ id: 'tapa1b2c3d4-e5', vif_id: 'a1b2c3d4-e5f6-0000-1111-222233334444', type: 'ovs', mtu: 1450, ethernet_mac_address: 'fa:16:3e:00:00:01' }],
      networks: [{ id: 'network0', type: 'ipv4_dhcp', link: 'tapa1b2c3d4-e5', network_id: 'net-1', ip_address: '10.0.0.5' }],
      services: [],
    });
    expect(await body('/openstack/latest/user_data')).toBe('#!/bin/sh\necho hi\n');
    expect(JSON.parse(await body('/openstack/latest/vendor_data.json'))).toEqual({});
    expect((await body('/openstack')).split('\n')).toContain('latest');
    expect((await body('/openstack/latest')).split('\n')).toEqual(['meta_data.json', 'password', 'vendor_data.json', 'network_data.json', 'vendor_data2.json', 'user_data']);
  });

  it("delivers the instance's identity credential in vendor_data2.json, issued for its own id and project", async () => {
    const issued: string[] = [];
    const r = await get('/openstack/latest/vendor_data2.json', signed(), deps(issued));
    expect(JSON.parse(r.body as string)).toEqual({ minicloud_identity: { token: 'instance-token', identity_document: { instance_id: record.id } } });
    expect(issued).toEqual([`${record.id}/p1`]);
    await get('/openstack/latest/meta_data.json', signed(), deps(issued));
    expect(issued).toHaveLength(1);
  });

  it.each([
    ['/latest/meta-data/instance-id', 'i-6f1c0a52'],
    ['/latest/meta-data/hostname', 'web-1.novalocal'],
    ['/latest/meta-data/local-ipv4', '10.0.0.5'],
    ['/latest/meta-data/placement/availability-zone', 'nova'],
    ['/latest/meta-data/public-keys/', '0=alice'],
    ['/latest/meta-data/public-keys/0/openssh-key', KEY],
    ['/2009-04-04/meta-data/placement/', 'availability-zone'],
    ['/latest/user-data', '#!/bin/sh\necho hi\n'],
  ])('serves EC2 %s', async (path, want) => {
    expect(await body(path)).toBe(want);
  });

  it('lists the EC2 meta-data directory', async () => {
    const list = (await body('/latest/meta-data/')).split('\n');
    expect(list).toEqual(expect.arrayContaining(['instance-id', 'hostname', 'local-ipv4', 'placement/', 'public-keys/', 'block-device-mapping/']));
  });

  it.each([
    ['no X-Instance-ID', { 'x-tenant-id': 'p1', 'x-instance-id-signature': 'x' }, 400, 'X-Instance-ID header is missing from request.'],
    ['no signature', { 'x-instance-id': record.id, 'x-tenant-id': 'p1' }, 400, 'X-Instance-ID-Signature header is missing from request.'],
    ['no X-Tenant-ID', { 'x-instance-id': record.id, 'x-instance-id-signature': 'x' }, 400, 'X-Tenant-ID header is missing from request.'],
    ['a wrong signature', signed(record.id, 'p1', 'deadbeef'), 403, 'Invalid proxy request signature.'],
    ['a signature made with another secret', signed(record.id, 'p1', instanceIdSignature('another-secret-of-32-characters!', record.id)), 403, 'Invalid proxy request signature.'],
    ['an unknown instance', signed('00000000-0000-0000-0000-000000000000'), 404, 'The resource could not be found.'],
    ["a project that is not the instance's", signed(record.id, 'p2'), 404, 'The resource could not be found.'],
  ])('refuses %s', async (_what, headers, status, message) => {
    const issued: string[] = [];
    const r = await get('/openstack/latest/vendor_data2.json', headers as Record<string, string>, deps(issued));
    expect([r.status, r.body]).toEqual([status, message]);
    expect(issued).toEqual([]);
  });

  it('answers 404 for paths with nothing behind them and 405 for writes', async () => {
    for (const p of ['/openstack/1999-01-01/meta_data.json', '/openstack/latest/nope', '/latest/meta-data/nope', '/nope']) expect([p, (await get(p)).status]).toEqual([p, 404]);
    expect((await serveMetadata(deps(), 'DELETE', '/openstack', signed())).status).toBe(405);
  });

  it('answers over HTTP on its listener', async () => {
    const ac = new AbortController();
    let url = '';
    const listening = new Promise<void>((resolve) => {
      void metadataServer(deps(), { host: '127.0.0.1', port: 0, onListening: (u) => ((url = u), resolve()) }).start(ac.signal);
    });
    await listening;
    try {
      const ok = await fetch(`${url}/openstack/latest/meta_data.json`, { headers: signed() });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toBe('application/json');
      expect(((await ok.json()) as { uuid: string }).uuid).toBe(record.id);
      const refused = await fetch(`${url}/openstack/latest/meta_data.json`, { headers: signed(record.id, 'p1', 'bad') });
      expect([refused.status, await refused.text()]).toEqual([403, 'Invalid proxy request signature.']);
      expect((await fetch(`${url}/openstack/latest/meta_data.json`, { headers: signed('unknown') })).status).toBe(404);
    } finally {
      ac.abort();
    }
  });
});
