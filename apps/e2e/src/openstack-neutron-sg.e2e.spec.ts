/**
 * Neutron security groups and updates through the OpenStack REST front on a real cloud, driven by
 * Debian's unchanged `openstack` CLI: a group created, renamed, given rules (a duplicate refused with
 * the client's conflict error), listed and deleted; the default group refused deletion; a network,
 * a subnet and a port changed with `set`; a group in use refused deletion until the port lets go; a
 * server created in a group, shown with it, given and relieved of groups with `server add/remove
 * security group`.
 */
import { startCloud, type RunningCloud } from './cloud-harness';
import { openstack, openstackJson } from './openstack-cli';

jest.setTimeout(180_000);

describe('Neutron security groups and set commands with the openstack CLI', () => {
  let cloud: RunningCloud;
  let yaml = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2, demo: true, extraArgs: ['--demo-servers', '0'] });
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('security group create/set/rule create/rule list/rule delete/delete; default group and duplicates refused', async () => {
    const sg = await demoJson<{ id: string; name: string; rules: { direction: string; ethertype: string }[] }>(['security', 'group', 'create', '--description', 'front end', 'web']);
    expect(sg.name).toBe('web');
    expect(sg.rules.map((r) => `${r.direction}/${r.ethertype}`).sort()).toEqual(['egress/IPv4', 'egress/IPv6']);
    expect((await demo(['security', 'group', 'set', '--name', 'web2', '--description', 'renamed', 'web'])).code).toBe(0);
    expect(await demoJson(['security', 'group', 'show', sg.id])).toMatchObject({ name: 'web2', description: 'renamed' });

    const ssh = await demoJson<{ id: string; port_range_min: number; protocol: string; remote_ip_prefix: string }>(['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '10.1.0.0/16', 'web2']);
    expect(ssh).toMatchObject({ protocol: 'tcp', port_range_min: 22, remote_ip_prefix: '10.1.0.0/16' });
    const dup = await demo(['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '10.1.0.0/16', 'web2']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/409|Conflict/);
    const ping = await demoJson<{ id: string; port_range_min: number }>(['security', 'group', 'rule', 'create', '--protocol', 'icmp', '--icmp-type', '8', 'web2']);
    expect(ping.port_range_min).toBe(8);
    const bad = await demo(['security', 'group', 'rule', 'create', '--protocol', 'icmp', '--icmp-type', '300', 'web2']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Invalid value for ICMP type/);

    const rules = await demoJson<{ ID: string }[]>(['security', 'group', 'rule', 'list', 'web2']);
    expect(rules.map((r) => r.ID)).toEqual(expect.arrayContaining([ssh.id, ping.id]));
    expect(rules).toHaveLength(4);
    expect((await demo(['security', 'group', 'rule', 'delete', ssh.id])).code).toBe(0);
    expect((await demoJson<{ ID: string }[]>(['security', 'group', 'rule', 'list', 'web2'])).map((r) => r.ID)).not.toContain(ssh.id);

    const groups = await demoJson<{ Name: string }[]>(['security', 'group', 'list']);
    expect(groups.map((g) => g.Name).sort()).toEqual(['default', 'web2']);
    const def = await demo(['security', 'group', 'delete', 'default']);
    expect(def.code).not.toBe(0);
    expect(def.stderr).toMatch(/409|Conflict/);
    expect((await demo(['security', 'group', 'delete', 'web2'])).code).toBe(0);
    expect((await demoJson<{ Name: string }[]>(['security', 'group', 'list'])).map((g) => g.Name)).toEqual(['default']);
  });

  it('network set, subnet set and port set change what they name; a group in use cannot be deleted', async () => {
    await demoJson(['network', 'create', 'blue']);
    expect((await demo(['network', 'set', '--name', 'green', '--disable', 'blue'])).code).toBe(0);
    expect(await demoJson(['network', 'show', 'green'])).toMatchObject({ name: 'green', admin_state_up: false });

    await demoJson(['subnet', 'create', '--network', 'green', '--subnet-range', '10.60.0.0/24', 'green-sub']);
    const set = await demo(['subnet', 'set', '--name', 'green-sub2', '--dns-nameserver', '10.60.0.53', '--no-dhcp', '--gateway', '10.60.0.254', '--no-allocation-pool', '--allocation-pool', 'start=10.60.0.10,end=10.60.0.20', 'green-sub']);
    expect(set.stderr).toBe('');
    expect(await demoJson(['subnet', 'show', 'green-sub2'])).toMatchObject({
      gateway_ip: '10.60.0.254',
      enable_dhcp: false,
      dns_nameservers: ['10.60.0.53'],
      allocation_pools: [{ start: '10.60.0.10', end: '10.60.0.20' }],
    });
    const badGateway = await demo(['subnet', 'set', '--gateway', '10.61.0.1', 'green-sub2']);
    expect(badGateway.code).not.toBe(0);

    const sg = await demoJson<{ id: string }>(['security', 'group', 'create', 'db']);
    const port = await demoJson<{ id: string }>(['port', 'create', '--network', 'green', 'p1']);
    expect((await demo(['port', 'set', '--name', 'p2', '--disable', '--no-security-group', '--security-group', 'db', 'p1'])).code).toBe(0);
    expect(await demoJson(['port', 'show', port.id])).toMatchObject({ name: 'p2', admin_state_up: false, security_group_ids: [sg.id] });
    const inUse = await demo(['security', 'group', 'delete', 'db']);
    expect(inUse.code).not.toBe(0);
    expect(inUse.stderr).toMatch(/409|Conflict/);
    expect((await demo(['port', 'set', '--no-security-group', 'p2'])).code).toBe(0);
    expect((await demoJson<{ security_group_ids: string[] }>(['port', 'show', port.id])).security_group_ids).toEqual([]);
    expect((await demo(['security', 'group', 'delete', 'db'])).code).toBe(0);

    for (const args of [['port', 'delete', 'p2'], ['subnet', 'delete', 'green-sub2'], ['network', 'delete', 'green']]) expect((await demo(args)).code).toBe(0);
  });

  it("a server's security groups: created with one, shown, added and removed with the server commands, carried by its port", async () => {
    const app = await demoJson<{ id: string }>(['security', 'group', 'create', 'app']);
    const def = (await demoJson<{ ID: string; Name: string }[]>(['security', 'group', 'list'])).find((g) => g.Name === 'default')!;
    const created = await demoJson<{ id: string; status: string }>(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--security-group', 'app', '--wait', 'sg-vm']);
    expect(created.status).toBe('ACTIVE');
    const groupsOf = async () => JSON.stringify((await demoJson<{ security_groups: unknown }>(['server', 'show', created.id])).security_groups);
    const portGroups = async () => {
      const [port] = await demoJson<{ ID: string }[]>(['port', 'list', '--server', created.id]);
      return (await demoJson<{ security_group_ids: string[] }>(['port', 'show', port.ID])).security_group_ids;
    };
    expect(await groupsOf()).toMatch(/app/);
    expect(await groupsOf()).not.toMatch(/default/);
    expect(await portGroups()).toEqual([app.id]);

    // code and stderr together, so that a failure shows why
    const run = async (args: string[]) => {
      const r = await demo(args);
      return { code: r.code, stderr: r.code === 0 ? '' : r.stderr };
    };
    expect(await run(['server', 'add', 'security', 'group', created.id, 'default'])).toEqual({ code: 0, stderr: '' });
    expect(await groupsOf()).toMatch(/app.*default|default.*app/);
    expect((await portGroups()).sort()).toEqual([app.id, def.ID].sort());
    expect(await run(['server', 'remove', 'security', 'group', created.id, 'app'])).toEqual({ code: 0, stderr: '' });
    expect(await groupsOf()).not.toMatch(/app/);
    expect(await portGroups()).toEqual([def.ID]);
    const again = await demo(['server', 'remove', 'security', 'group', created.id, 'app']);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/not associated|400/);
    const unknown = await demo(['server', 'create', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'demo-net', '--security-group', 'no-such-group', 'sg-bad']);
    expect(unknown.code).not.toBe(0);

    expect((await demo(['server', 'delete', '--wait', created.id])).code).toBe(0);
    expect((await demo(['security', 'group', 'delete', 'app'])).code).toBe(0);
  });
});
