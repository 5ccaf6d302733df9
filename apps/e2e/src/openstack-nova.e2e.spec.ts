/**
 * Nova's second slice through the REST front on a real cloud, driven by Debian's unchanged
 * `openstack` CLI: a tenant's server through pause/unpause (and a 409 for the wrong state), lock,
 * properties, resize and confirm, its event list; limits; server groups; an operator's
 * hypervisors, compute services, zones, aggregates, quotas, a private flavor granted to a project,
 * and a live migration that moves the server to the other host.
 */
import { waitFor } from '@minicloud/testing';
import { startCloud, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(240_000);

describe('Nova actions and operator APIs with the openstack CLI', () => {
  let cloud: RunningCloud;
  let yaml = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);
  const adminJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud', args);
  const admin = (args: string[]) => openstack(yaml, 'minicloud', args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2, demo: true, extraArgs: ['--demo-servers', '0'] });
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it("a tenant's server: pause/unpause, a wrong state refused, lock, properties, resize and confirm, events, limits, server groups", async () => {
    const created = await demoJson<{ id: string; status: string }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--wait', 'nova-1']);
    expect(created.status).toBe('ACTIVE');
    const status = async () => (await demoJson<{ status: string }>(['server', 'show', created.id])).status;
    const until = (want: string) => waitFor(async () => (await status()) === want, { timeoutMs: 30_000, intervalMs: 250, message: `server not ${want}` });

    expect((await demo(['server', 'pause', created.id])).code).toBe(0);
    await until('PAUSED');
    const twice = await demo(['server', 'pause', created.id]);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/409.*Cannot 'pause' instance .* while it is in vm_state paused/);
    expect((await demo(['server', 'unpause', created.id])).code).toBe(0);
    await until('ACTIVE');

    expect((await demo(['server', 'lock', created.id])).code).toBe(0);
    expect((await demo(['server', 'unlock', created.id])).code).toBe(0);

    expect((await demo(['server', 'set', '--property', 'role=web', '--property', 'tier=1', created.id])).code).toBe(0);
    expect((await demoJson<{ properties: unknown }>(['server', 'show', created.id])).properties).toEqual({ role: 'web', tier: '1' });
    expect((await demo(['server', 'unset', '--property', 'tier', created.id])).code).toBe(0);
    expect((await demoJson<{ properties: unknown }>(['server', 'show', created.id])).properties).toEqual({ role: 'web' });
    expect((await demo(['server', 'set', '--name', 'nova-renamed', created.id])).code).toBe(0);

    expect((await demo(['server', 'resize', '--flavor', 'm1.small', '--wait', created.id])).code).toBe(0);
    await until('VERIFY_RESIZE');
    expect((await demo(['server', 'resize', 'confirm', created.id])).code).toBe(0);
    await until('ACTIVE');
    const resized = await demoJson<{ name: string; flavor: string }>(['server', 'show', created.id]);
    expect(resized).toMatchObject({ name: 'nova-renamed', flavor: expect.stringContaining('m1.small') });

    const events = await demoJson<{ Action: string; 'Request ID': string }[]>(['server', 'event', 'list', created.id]);
    expect(events.map((e) => e.Action)).toEqual(expect.arrayContaining(['create', 'pause', 'unpause', 'resize']));
    const createEvent = events.find((e) => e.Action === 'create')!;
    expect(await demoJson<{ action: string }>(['server', 'event', 'show', created.id, createEvent['Request ID']])).toMatchObject({ action: 'create' });

    const limits = await demoJson<{ Name: string; Value: number }[]>(['limits', 'show', '--absolute']);
    const limit = (n: string) => limits.find((l) => l.Name === n)?.Value;
    expect(limit('maxTotalInstances')).toBeGreaterThan(0);
    expect(limit('totalInstancesUsed')).toBe(1);
    expect(limit('totalCoresUsed')).toBeGreaterThanOrEqual(1);

    const group = await demoJson<{ id: string; policies?: string; policy?: string }>(['server', 'group', 'create', '--policy', 'anti-affinity', 'spread']);
    expect(JSON.stringify(group)).toMatch(/anti-affinity/);
    expect((await demoJson<{ Name: string }[]>(['server', 'group', 'list'])).map((g) => g.Name)).toContain('spread');
    expect((await demo(['server', 'group', 'delete', group.id])).code).toBe(0);
    expect(await demoJson<unknown[]>(['server', 'group', 'list'])).toEqual([]);

    // an operator's day on the same server: live migration to the other host
    const hostOf = async () => (await adminJson<Record<string, string>>(['server', 'show', created.id]))['OS-EXT-SRV-ATTR:host'];
    const before = await hostOf();
    expect(before).toBeTruthy();
    const migrated = await admin(['server', 'migrate', '--live-migration', '--wait', created.id]);
    expect(migrated.code).toBe(0);
    await waitFor(async () => (await hostOf()) !== before && (await status()) === 'ACTIVE', { timeoutMs: 60_000, intervalMs: 500, message: 'server did not move' });
    const migrations = await adminJson<Record<string, string>[]>(['server', 'migration', 'list', '--server', created.id]);
    expect(JSON.stringify(migrations)).toContain(created.id);

    expect((await demo(['server', 'delete', '--wait', created.id])).code).toBe(0);
  });

  it("an operator's day: hypervisors, compute services, zones, aggregates, quotas; a member is refused", async () => {
    const hypervisors = await adminJson<{ ID: string; 'Hypervisor Hostname': string; State: string }[]>(['hypervisor', 'list']);
    expect(hypervisors).toHaveLength(2);
    expect(hypervisors.every((h) => h.State === 'up')).toBe(true);
    const hostname = hypervisors[0]['Hypervisor Hostname'];
    expect(await adminJson<Record<string, unknown>>(['hypervisor', 'show', hypervisors[0].ID])).toMatchObject({ hypervisor_hostname: hostname });

    const services = await adminJson<{ Binary: string; Host: string; State: string; Status: string }[]>(['compute', 'service', 'list']);
    expect(services.map((s) => [s.Binary, s.State, s.Status])).toEqual([
      ['nova-compute', 'up', 'enabled'],
      ['nova-compute', 'up', 'enabled'],
    ]);
    expect(services.map((s) => s.Host)).toContain(hostname);

    const zones = await demoJson<{ 'Zone Name': string; 'Zone Status': string }[]>(['availability', 'zone', 'list', '--compute']);
    expect(zones.length).toBeGreaterThan(0);
    expect(zones[0]['Zone Status']).toBe('available');

    const agg = await adminJson<{ id: string; name: string }>(['aggregate', 'create', '--zone', 'fast-az', 'fast']);
    expect(agg.name).toBe('fast');
    const withHost = await adminJson<{ hosts: unknown }>(['aggregate', 'add', 'host', 'fast', hostname]);
    expect(JSON.stringify(withHost.hosts)).toContain(hostname);
    expect((await adminJson<{ Name: string }[]>(['aggregate', 'list'])).map((a) => a.Name)).toContain('fast');
    expect((await admin(['aggregate', 'remove', 'host', 'fast', hostname])).code).toBe(0);
    expect((await admin(['aggregate', 'delete', 'fast'])).code).toBe(0);
    expect((await adminJson<{ Name: string }[]>(['aggregate', 'list'])).map((a) => a.Name)).not.toContain('fast');

    // quota list shows only projects whose quotas differ from the defaults
    expect((await admin(['quota', 'set', '--cores', '30', '--instances', '12', 'demo'])).code).toBe(0);
    const quotas = await adminJson<{ Cores: number; Instances: number; Ram: number }[]>(['quota', 'list', '--compute', '--project', 'demo']);
    expect(quotas).toEqual([expect.objectContaining({ Cores: 30, Instances: 12, Ram: 51200 })]);
    const demoLimits = await demoJson<{ Name: string; Value: number }[]>(['limits', 'show', '--absolute']);
    expect(demoLimits).toContainEqual({ Name: 'maxTotalCores', Value: 30 });

    // a private flavor with extra specs, granted to the demo project: the demo member sees it; delete is the admin's
    const flavor = await adminJson<Record<string, unknown>>(['flavor', 'create', '--ram', '256', '--vcpus', '1', '--disk', '1', '--private', '--project', 'demo', '--property', 'hw:cpu_policy=shared', 'e2e.private']);
    expect(flavor).toMatchObject({ name: 'e2e.private', 'os-flavor-access:is_public': false, ram: 256 });
    expect((await demoJson<{ Name: string }[]>(['flavor', 'list', '--all'])).map((f) => f.Name)).toContain('e2e.private');
    expect(await demoJson<Record<string, unknown>>(['flavor', 'show', 'e2e.private'])).toMatchObject({ properties: expect.objectContaining({ 'hw:cpu_policy': 'shared' }) });
    expect((await demo(['flavor', 'delete', 'e2e.private'])).stderr).toMatch(/403/);
    expect((await admin(['flavor', 'unset', '--project', 'demo', 'e2e.private'])).code).toBe(0);
    expect((await demoJson<{ Name: string }[]>(['flavor', 'list', '--all'])).map((f) => f.Name)).not.toContain('e2e.private');
    expect((await admin(['flavor', 'delete', 'e2e.private'])).code).toBe(0);

    // a member of the demo project is refused the operator's APIs (403 from the gRPC policy)
    const refused = await demo(['hypervisor', 'list']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/HTTP 403/);
    // the aggregate commands go through openstacksdk, which words it "HttpException: 403: ..."
    expect((await demo(['aggregate', 'create', 'mine'])).stderr).toMatch(/403.*createAggregate requires a cloud admin/);
  });
});
