/**
 * Neutron L3 through the OpenStack REST front on a real cloud, driven by Debian's unchanged
 * `openstack` CLI: the seeded external network `public` and the demo router, a router made, given a
 * gateway on `public` and a subnet, refused a second time and refused deletion while attached, given
 * static routes (set/unset --route, add/remove route) that keep its subnet attached until removed; a
 * floating IP made on `public`, put on a demo server (Nova's path: `server add floating ip`) and on a
 * port (`floating ip set --port`), taken off and deleted; the router emptied and deleted.
 */
import { startCloud, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(180_000);

describe('Neutron routers and floating IPs with the openstack CLI', () => {
  let cloud: RunningCloud;
  let yaml = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2, demo: true, extraArgs: ['--demo-servers', '1'] });
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('the seed: public is external (listed by --external), router1 routes demo-net to it', async () => {
    const external = await demoJson<{ Name: string }[]>(['network', 'list', '--external']);
    expect(external.map((n) => n.Name)).toEqual(['public']);
    const pub = await demoJson<{ id: string; 'router:external': boolean; shared: boolean }>(['network', 'show', 'public']);
    expect(pub).toMatchObject({ 'router:external': true, shared: false });
    const r1 = await demoJson<{ external_gateway_info: { network_id: string; enable_snat: boolean; external_fixed_ips: { ip_address: string }[] }; interfaces_info: { ip_address: string }[] }>(['router', 'show', 'router1']);
    expect(r1.external_gateway_info).toMatchObject({ network_id: pub.id, enable_snat: true });
    expect(r1.external_gateway_info.external_fixed_ips[0]!.ip_address).toMatch(/^127\.(1\d\d|2[0-4]\d)\.\d{1,3}\./);
    expect(r1.interfaces_info.map((i) => i.ip_address)).toEqual(['10.0.0.1']);
  });

  it('router create, set --external-gateway, add subnet (twice: refused), delete while attached (refused), remove subnet, delete', async () => {
    await demoJson(['network', 'create', 'l3-net']);
    await demoJson(['subnet', 'create', 'l3-subnet', '--network', 'l3-net', '--subnet-range', '10.20.0.0/24']);
    const r = await demoJson<{ id: string; external_gateway_info: unknown }>(['router', 'create', 'l3-router']);
    expect(r.external_gateway_info).toBeNull();
    expect((await demo(['router', 'set', '--external-gateway', 'public', 'l3-router'])).code).toBe(0);
    expect((await demoJson<{ external_gateway_info: { enable_snat: boolean } }>(['router', 'show', 'l3-router'])).external_gateway_info).toMatchObject({ enable_snat: true });
    expect((await demo(['router', 'add', 'subnet', 'l3-router', 'l3-subnet'])).code).toBe(0);
    const ports = await demoJson<{ 'Fixed IP Addresses': unknown }[]>(['port', 'list', '--router', 'l3-router', '--device-owner', 'network:router_interface']);
    expect(JSON.stringify(ports)).toContain('10.20.0.1');
    const again = await demo(['router', 'add', 'subnet', 'l3-router', 'l3-subnet']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/400/);
    const inUse = await demo(['router', 'delete', 'l3-router']);
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toMatch(/409|still has ports/);
    // static routes (extraroute): set --route appends, add/remove route are extraroute-atomic's
    const routesOf = async () => JSON.stringify((await demoJson<{ routes: unknown }>(['router', 'show', 'l3-router'])).routes);
    expect((await demo(['router', 'set', '--route', 'destination=192.168.60.0/24,gateway=10.20.0.50', 'l3-router'])).code).toBe(0);
    expect(await routesOf()).toMatch(/192\.168\.60\.0\/24.*10\.20\.0\.50|10\.20\.0\.50.*192\.168\.60\.0\/24/);
    expect((await demo(['router', 'add', 'route', '--route', 'destination=192.168.61.0/24,gateway=10.20.0.51', 'l3-router'])).code).toBe(0);
    expect(await routesOf()).toContain('192.168.61.0/24');
    const offLink = await demo(['router', 'set', '--route', 'destination=192.168.62.0/24,gateway=10.99.0.1', 'l3-router']);
    expect(offLink.code).not.toBe(0);
    expect(offLink.stderr).toMatch(/400|not connected with router/);
    const needed = await demo(['router', 'remove', 'subnet', 'l3-router', 'l3-subnet']);
    expect(needed.code).not.toBe(0);
    expect(needed.stderr).toMatch(/409|required by one or more routes/);
    expect((await demo(['router', 'remove', 'route', '--route', 'destination=192.168.61.0/24,gateway=10.20.0.51', 'l3-router'])).code).toBe(0);
    expect((await demo(['router', 'unset', '--route', 'destination=192.168.60.0/24,gateway=10.20.0.50', 'l3-router'])).code).toBe(0);
    expect(await routesOf()).not.toContain('192.168.6');
    expect((await demo(['router', 'unset', '--external-gateway', 'l3-router'])).code).toBe(0);
    expect((await demoJson<{ external_gateway_info: unknown }>(['router', 'show', 'l3-router'])).external_gateway_info).toBeNull();
    expect((await demo(['router', 'remove', 'subnet', 'l3-router', 'l3-subnet'])).code).toBe(0);
    expect((await demo(['router', 'delete', 'l3-router'])).code).toBe(0);
    expect((await demoJson<{ Name: string }[]>(['router', 'list'])).map((x) => x.Name)).toEqual(['router1']);
    expect((await demo(['network', 'delete', 'l3-net'])).code).toBe(0);
  });

  it('floating ip create public, server add floating ip, set --port / unset --port, a port no router reaches refused, delete', async () => {
    const fip = await demoJson<{ id: string; floating_ip_address: string; status: string; port_id: string | null }>(['floating', 'ip', 'create', 'public']);
    expect(fip).toMatchObject({ status: 'DOWN', port_id: null });
    expect(fip.floating_ip_address).toMatch(/^127\.(1\d\d|2[0-4]\d)\.\d{1,3}\./);
    const server = (await demoJson<{ ID: string }[]>(['server', 'list']))[0]!;
    expect((await demo(['server', 'add', 'floating', 'ip', server.ID, fip.floating_ip_address])).code).toBe(0);
    const port = (await demoJson<{ ID: string }[]>(['port', 'list', '--server', server.ID]))[0]!;
    expect(await demoJson(['floating', 'ip', 'show', fip.id])).toMatchObject({ port_id: port.ID, status: 'ACTIVE', fixed_ip_address: expect.stringMatching(/^10\.0\.0\./) });
    expect((await demo(['server', 'remove', 'floating', 'ip', server.ID, fip.floating_ip_address])).code).toBe(0);
    expect(await demoJson(['floating', 'ip', 'show', fip.id])).toMatchObject({ port_id: null, status: 'DOWN' });
    expect((await demo(['floating', 'ip', 'set', '--port', port.ID, fip.id])).code).toBe(0);
    expect((await demoJson<{ port_id: string }>(['floating', 'ip', 'show', fip.id])).port_id).toBe(port.ID);
    expect((await demo(['floating', 'ip', 'unset', '--port', fip.id])).code).toBe(0);

    await demoJson(['network', 'create', 'lonely']);
    await demoJson(['subnet', 'create', 'lonely-subnet', '--network', 'lonely', '--subnet-range', '10.30.0.0/24']);
    const lonely = await demoJson<{ id: string }>(['port', 'create', '--network', 'lonely', 'lonely-port']);
    const refused = await demo(['floating', 'ip', 'set', '--port', lonely.id, fip.id]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/404|not reachable/);
    expect((await demo(['floating', 'ip', 'delete', fip.id])).code).toBe(0);
    expect(await demoJson(['floating', 'ip', 'list'])).toEqual([]);
    expect((await demo(['port', 'delete', 'lonely-port'])).code).toBe(0);
    expect((await demo(['network', 'delete', 'lonely'])).code).toBe(0);
  });
});
