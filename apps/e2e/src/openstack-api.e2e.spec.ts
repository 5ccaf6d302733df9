/**
 * The OpenStack REST front on a real cloud, driven by Debian's unchanged `openstack` CLI through the
 * clouds.yaml `npm run cloud` writes (a tenant's slice: token, catalog, flavors, images, networks,
 * a server's life and a bad flavor), and by plain HTTP for what the CLI hides: no token (401),
 * another project's server (404 as Nova answers), a malformed body (400 naming the field).
 */
import { identity } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import { startCloud, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(180_000);

describe('OpenStack REST front with the openstack CLI', () => {
  let cloud: RunningCloud;
  let api = '';
  let yaml = '';

  /** A project-scoped token from POST /v3/auth/tokens. */
  const token = async (user: string, password: string, project: string) => {
    const res = await fetch(`${api}/identity/v3/auth/tokens?nocatalog`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auth: { identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } }, scope: { project: { name: project, domain: { id: 'default' } } } } }),
    });
    expect(res.status).toBe(201);
    return res.headers.get('x-subject-token')!;
  };
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2, demo: true, extraArgs: ['--demo-servers', '0'] });
    api = cloud.manifest.openstack_api_url!;
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it("a tenant's slice with the real CLI: token, catalog, flavors, images, networks, a server's life, a bad flavor", async () => {
    const t = await openstackJson(yaml, 'minicloud', ['token', 'issue']);
    expect(t).toMatchObject({ id: expect.any(String), project_id: expect.any(String), user_id: expect.any(String) });

    const catalog = await openstackJson<{ Type: string; Endpoints: unknown }[]>(yaml, 'minicloud', ['catalog', 'list']);
    expect(catalog.map((c) => c.Type).sort()).toEqual(['block-storage', 'compute', 'identity', 'image', 'network', 'volumev3']);

    expect((await demoJson<{ Name: string }[]>(['flavor', 'list'])).map((f) => f.Name)).toEqual(expect.arrayContaining(['m1.tiny', 'm1.small']));
    expect(await demoJson<{ Name: string; Status: string }[]>(['image', 'list'])).toContainEqual(expect.objectContaining({ Name: 'cirros', Status: 'active' }));
    expect((await demoJson<{ Name: string }[]>(['network', 'list'])).map((n) => n.Name)).toContain('demo-net');

    const created = await demoJson<{ id: string; status: string; addresses: unknown }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--wait', 'os-web']);
    expect(created.status).toBe('ACTIVE');
    const listed = await demoJson<{ ID: string; Name: string; Status: string; Networks: Record<string, string[]> }[]>(['server', 'list']);
    expect(listed).toContainEqual(expect.objectContaining({ ID: created.id, Name: 'os-web', Status: 'ACTIVE' }));
    expect(listed.find((s) => s.ID === created.id)!.Networks['demo-net'][0]).toMatch(/^10\.0\.0\./);
    const shown = await demoJson<Record<string, unknown>>(['server', 'show', 'os-web']);
    expect(shown).toMatchObject({ id: created.id, status: 'ACTIVE', 'OS-EXT-STS:vm_state': 'active', flavor: expect.stringContaining('m1.tiny') });

    const demoToken = await token(cloud.manifest.demo!.user, cloud.manifest.demo!.password, cloud.manifest.demo!.project);
    const status = async () => ((await (await fetch(`${api}/compute/v2.1/servers/${created.id}`, { headers: { 'x-auth-token': demoToken } })).json()) as { server: { status: string } }).server.status;
    expect((await demo(['server', 'stop', 'os-web'])).code).toBe(0);
    await waitFor(async () => (await status()) === 'SHUTOFF', { timeoutMs: 30_000, intervalMs: 200, message: 'server not SHUTOFF after os-stop' });
    expect((await demo(['server', 'start', 'os-web'])).code).toBe(0);
    await waitFor(async () => (await status()) === 'ACTIVE', { timeoutMs: 30_000, intervalMs: 200, message: 'server not ACTIVE after os-start' });

    const deleted = await demo(['server', 'delete', '--wait', 'os-web']);
    expect(deleted.code).toBe(0);
    expect((await demoJson<unknown[]>(['server', 'list'])).length).toBe(0);
    // the server's port went with it: nothing left behind in the network service (the seeded router1's ports stay)
    const ports = await demoJson<{ 'Device Owner': string }[]>(['port', 'list', '--long']);
    expect(ports.filter((p) => !p['Device Owner'].startsWith('network:router_'))).toEqual([]);

    const bad = await demo(['server', 'create', '--image', 'cirros', '--flavor', 'no-such-flavor', '--network', 'demo-net', 'bad']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/No flavor with a name or ID of 'no-such-flavor' exists/);
  });

  it('over HTTP: no token is 401, another project cannot see a server (404), a malformed body is 400 naming the field', async () => {
    const noToken = await fetch(`${api}/compute/v2.1/servers`);
    expect(noToken.status).toBe(401);
    expect(noToken.headers.get('x-openstack-request-id')).toMatch(/^req-/);
    expect(((await noToken.json()) as { error: { code: number } }).error.code).toBe(401);

    // a member of another project
    const grpc = createServiceClient(identity.IdentityServiceService, cloud.manifest.identity_url);
    try {
      const admin = await grpc.authenticate({ password: { userName: cloud.manifest.admin.user, password: cloud.manifest.admin.password, domainName: 'default' }, projectName: cloud.manifest.admin.project });
      const as = { token: admin.token };
      const other = (await grpc.createProject({ name: 'other' }, as)).project!;
      const user = (await grpc.createUser({ name: 'mallory', password: 'pw-mallory', defaultProjectId: other.id }, as)).user!;
      await grpc.assignRole({ assignment: { roleName: 'member', userId: user.id, projectId: other.id } }, as);
    } finally {
      grpc.close();
    }
    const demoToken = await token(cloud.manifest.demo!.user, cloud.manifest.demo!.password, cloud.manifest.demo!.project);
    const netId = (((await (await fetch(`${api}/network/v2.0/networks?name=demo-net`, { headers: { 'x-auth-token': demoToken } })).json()) as { networks: { id: string }[] }).networks[0]).id;
    const create = await fetch(`${api}/compute/v2.1/servers`, {
      method: 'POST',
      headers: { 'x-auth-token': demoToken, 'content-type': 'application/json' },
      body: JSON.stringify({ server: { name: 'private', flavorRef: 'm1.tiny', imageRef: (await demoJson<{ ID: string }[]>(['image', 'list', '--name', 'cirros']))[0].ID, networks: [{ uuid: netId }] } }),
    });
    expect(create.status).toBe(202);
    const serverId = ((await create.json()) as { server: { id: string } }).server.id;

    const mallory = await token('mallory', 'pw-mallory', 'other');
    const hdr = { 'x-auth-token': mallory, 'content-type': 'application/json' };
    for (const [method, path, body] of [
      ['GET', `/compute/v2.1/servers/${serverId}`, undefined],
      ['POST', `/compute/v2.1/servers/${serverId}/action`, JSON.stringify({ 'os-stop': null })],
      ['DELETE', `/compute/v2.1/servers/${serverId}`, undefined],
    ] as const) {
      const res = await fetch(`${api}${path}`, { method, headers: hdr, body });
      expect([method, path, res.status]).toEqual([method, path, 404]);
      expect(await res.json()).toHaveProperty('itemNotFound.code', 404);
    }
    const list = (await (await fetch(`${api}/compute/v2.1/servers`, { headers: hdr })).json()) as { servers: { id: string }[] };
    expect(list.servers.map((s) => s.id)).not.toContain(serverId);

    const wrongType = await fetch(`${api}/compute/v2.1/servers`, { method: 'POST', headers: hdr, body: JSON.stringify({ server: { name: 'x', flavorRef: 'm1.tiny', networks: 'everything' } }) });
    expect(wrongType.status).toBe(400);
    expect(((await wrongType.json()) as { badRequest: { message: string } }).badRequest.message).toMatch(/server\.networks/);
    const malformed = await fetch(`${api}/network/v2.0/networks`, { method: 'POST', headers: hdr, body: '{"network": {"name": ' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toHaveProperty('NeutronError.type', 'HTTPBadRequest');
  });
});
