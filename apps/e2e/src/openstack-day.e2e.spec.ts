/**
 * A tenant's day and an operator's day on one real cloud, driven only by Debian's unchanged
 * `openstack` CLI (and one openstacksdk script), through the clouds.yaml `npm run cloud` writes:
 * image upload of a real qcow2; network, subnet, router with the external gateway; security group
 * and rule; key pair; a server with user data and the key, its addresses and console log; a floating
 * IP; a volume attached and detached; power actions, a snapshot, a resize; then as the operator a
 * live migration, hypervisors, compute services and quotas; ten servers in one request; and
 * everything deleted with nothing left behind. Bad input gets the client's own error and a
 * non-zero exit.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { waitFor } from '@minicloud/testing';
import { startCloud, type RunningCloud } from './cloud-harness';
import { cloudsYamlFor, openstack, openstackJson } from './openstack-cli';

jest.setTimeout(600_000);

describe("a tenant's and an operator's day with the openstack CLI", () => {
  let cloud: RunningCloud;
  let yaml = '';
  const demo = (args: string[]) => openstack(yaml, 'minicloud-demo', args);
  const demoJson = <T = Record<string, any>>(args: string[]) => openstackJson<T>(yaml, 'minicloud-demo', args);
  const adminJson = <T = Record<string, any>>(args: string[]) => openstackJson<T>(yaml, 'minicloud', args);
  const ok = async (args: string[], cloudName = 'minicloud-demo') => {
    const r = await openstack(yaml, cloudName, args);
    if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const field = async (kind: string[], ref: string, name: string, cloudName = 'minicloud-demo') =>
    (await openstackJson<Record<string, unknown>>(yaml, cloudName, [...kind, 'show', ref]))[name];
  const until = (what: string, check: () => Promise<boolean>, timeoutMs = 60_000) => waitFor(check, { timeoutMs, intervalMs: 500, message: what });

  beforeAll(async () => {
    cloud = await startCloud({ agents: 3, demo: true, extraArgs: ['--demo-servers', '0'] });
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
  });

  it('tenant: image, network, router, security group, key pair, a server with user data, floating IP, volume, actions', async () => {
    const work = path.join(cloud.stateDir, 'day');
    fs.mkdirSync(work, { recursive: true });
    const qcow2 = path.join(work, 'day.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', qcow2, '64M']);
    const image = await demoJson(['image', 'create', '--disk-format', 'qcow2', '--container-format', 'bare', '--file', qcow2, 'day-img']);
    expect(await field(['image'], image.id, 'status')).toBe('active');
    expect(await field(['image'], image.id, 'disk_format')).toBe('qcow2');

    const net = await demoJson(['network', 'create', 'day-net']);
    const subnet = await demoJson(['subnet', 'create', '--network', 'day-net', '--subnet-range', '10.20.0.0/24', 'day-subnet']);
    expect(subnet).toMatchObject({ cidr: '10.20.0.0/24', gateway_ip: '10.20.0.1', network_id: net.id });
    const router = await demoJson(['router', 'create', 'day-router']);
    await ok(['router', 'set', '--external-gateway', 'public', 'day-router']);
    await ok(['router', 'add', 'subnet', 'day-router', 'day-subnet']);
    const gw = (await demoJson(['router', 'show', router.id])).external_gateway_info;
    expect(gw).toMatchObject({ network_id: (await demoJson(['network', 'show', 'public'])).id });

    const sg = await demoJson(['security', 'group', 'create', 'day-sg']);
    const rule = await demoJson(['security', 'group', 'rule', 'create', '--protocol', 'tcp', '--dst-port', '22', '--remote-ip', '0.0.0.0/0', 'day-sg']);
    expect(rule).toMatchObject({ security_group_id: sg.id, protocol: 'tcp', port_range_min: 22, port_range_max: 22, direction: 'ingress' });

    const key = await demo(['keypair', 'create', 'day-key']);
    expect(key.code).toBe(0);
    expect(key.stdout).toMatch(/-----BEGIN (OPENSSH|RSA) PRIVATE KEY-----/);
    const keyShown = await demoJson(['keypair', 'show', 'day-key']);
    expect(keyShown.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);

    const userData = path.join(work, 'user-data.sh');
    fs.writeFileSync(userData, '#!/bin/sh\necho "hello from day-vm user data"\n');
    const server = await demoJson([
      'server', 'create', '--image', 'day-img', '--flavor', 'm1.tiny', '--network', 'day-net', '--security-group', 'day-sg',
      '--key-name', 'day-key', '--user-data', userData, '--wait', 'day-vm',
    ]);
    expect(server).toMatchObject({ status: 'ACTIVE', key_name: 'day-key' });
    const addresses = (await demoJson<{ ID: string; Networks: Record<string, string[]> }[]>(['server', 'list'])).find((s) => s.ID === server.id)!.Networks;
    expect(addresses['day-net'][0]).toMatch(/^10\.20\.0\.\d+$/);
    await until('console log shows the user data and cloud-init finishing', async () => {
      const log = await ok(['console', 'log', 'show', 'day-vm']);
      return log.includes('hello from day-vm user data') && /Cloud-init v\. .* finished/.test(log);
    });

    const fip = await demoJson(['floating', 'ip', 'create', 'public']);
    expect(fip.floating_ip_address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await ok(['server', 'add', 'floating', 'ip', 'day-vm', fip.floating_ip_address]);
    await until('floating IP bound to the server port', async () => (await demoJson(['floating', 'ip', 'show', fip.id])).fixed_ip_address === addresses['day-net'][0]);

    const vol = await demoJson(['volume', 'create', '--size', '1', 'day-vol']);
    await until('volume available', async () => (await field(['volume'], vol.id, 'status')) === 'available');
    await ok(['server', 'add', 'volume', 'day-vm', 'day-vol']);
    await until('volume in-use', async () => (await field(['volume'], vol.id, 'status')) === 'in-use');
    await ok(['server', 'remove', 'volume', 'day-vm', 'day-vol']);
    await until('volume available after detach', async () => (await field(['volume'], vol.id, 'status')) === 'available');

    const status = () => field(['server'], 'day-vm', 'status');
    for (const [action, want] of [['stop', 'SHUTOFF'], ['start', 'ACTIVE'], ['pause', 'PAUSED'], ['unpause', 'ACTIVE'], ['reboot', 'ACTIVE']] as const) {
      await ok(['server', action, 'day-vm']);
      await until(`server ${want} after ${action}`, async () => (await status()) === want);
    }
    const snap = await demoJson(['server', 'image', 'create', '--name', 'day-snap', '--wait', 'day-vm']);
    expect(await field(['image'], snap.id, 'status')).toBe('active');
    await ok(['server', 'resize', '--flavor', 'm1.small', '--wait', 'day-vm']);
    expect(await status()).toBe('VERIFY_RESIZE');
    await ok(['server', 'resize', 'confirm', 'day-vm']);
    await until('server ACTIVE on m1.small after confirm', async () => (await status()) === 'ACTIVE' && String(await field(['server'], 'day-vm', 'flavor')).includes('m1.small'));

    // bad input: the client's normal error and a non-zero exit
    const badCidr = await demo(['subnet', 'create', '--network', 'day-net', '--subnet-range', '10.30.0.0/33', 'bad-subnet']);
    expect(badCidr.code).not.toBe(0);
    const badFlavor = await demo(['server', 'create', '--image', 'day-img', '--flavor', 'no-such-flavor', '--network', 'day-net', 'bad-vm']);
    expect(badFlavor.code).not.toBe(0);
    expect(badFlavor.stderr).toMatch(/No flavor with a name or ID of 'no-such-flavor' exists/);
  });

  it("operator: live migration, hypervisors, compute services, quotas; another tenant cannot see the server", async () => {
    // the operator names another project's server by id (by name, the CLI looks in the admin's own project)
    const serverId = (await demoJson(['server', 'show', 'day-vm'])).id as string;
    const before = await field(['server'], serverId, 'OS-EXT-SRV-ATTR:host', 'minicloud');
    expect(before).toMatch(/^host-/);
    await ok(['server', 'migrate', '--live-migration', '--wait', serverId], 'minicloud');
    await until('server ACTIVE on another host', async () => {
      const s = await adminJson(['server', 'show', serverId]);
      return s.status === 'ACTIVE' && s['OS-EXT-SRV-ATTR:host'] !== before;
    });
    const hypervisors = await adminJson<{ 'Hypervisor Hostname': string; State: string }[]>(['hypervisor', 'list']);
    expect(hypervisors.filter((h) => h.State === 'up')).toHaveLength(3);
    const services = await adminJson<{ Binary: string; State: string }[]>(['compute', 'service', 'list']);
    expect(services.filter((s) => s.Binary === 'nova-compute' && s.State === 'up')).toHaveLength(3);
    const demoProject = (await adminJson(['project', 'show', 'demo'])).id;
    await ok(['quota', 'set', '--instances', '20', demoProject], 'minicloud');
    const quota = await adminJson(['quota', 'show', demoProject]);
    expect(quota.instances).toBe(20);

    await ok(['project', 'create', 'day-other'], 'minicloud');
    await ok(['user', 'create', '--project', 'day-other', '--password', 'pw-day-other', 'day-mallory'], 'minicloud');
    await ok(['role', 'add', '--project', 'day-other', '--user', 'day-mallory', 'member'], 'minicloud');
    const otherYaml = cloudsYamlFor(cloud.stateDir, cloud.manifest.openstack_api_url!, 'day-mallory', 'pw-day-other', 'day-other', cloud.manifest.tls?.ca_file);
    expect((await openstackJson<unknown[]>(otherYaml, 'user', ['server', 'list']))).toEqual([]);
    const asOther = await openstack(otherYaml, 'user', ['server', 'show', serverId]);
    expect(asOther.code).not.toBe(0);
    expect(asOther.stderr).toMatch(/No server with a name or ID of/);
  });

  it('ten servers in one request, an openstacksdk script, then everything deleted and nothing left behind', async () => {
    await ok(['server', 'create', '--image', 'day-img', '--flavor', 'm1.tiny', '--network', 'day-net', '--min', '10', '--max', '10', 'multi']);
    await until('ten ACTIVE servers', async () => (await demoJson<{ Name: string; Status: string }[]>(['server', 'list'])).filter((s) => s.Name.startsWith('multi') && s.Status === 'ACTIVE').length === 10, 120_000);

    const script = [
      'import openstack',
      "conn = openstack.connect(cloud='minicloud-demo')",
      "names = sorted(s.name for s in conn.compute.servers() if s.name.startswith('multi'))",
      "net = conn.network.find_network('day-net')",
      "kp = conn.compute.find_keypair('day-key')",
      "print(len(names), net.name, kp.name, conn.compute.get_server(conn.compute.find_server('day-vm').id).status)",
    ].join('\n');
    const sdk = spawnSync('/usr/bin/python3', ['-c', script], { env: { ...process.env, OS_CLIENT_CONFIG_FILE: yaml }, encoding: 'utf8' });
    expect(sdk.stderr).toBe('');
    expect(sdk.stdout.trim()).toBe('10 day-net day-key ACTIVE');

    const servers = (await demoJson<{ ID: string }[]>(['server', 'list'])).map((s) => s.ID);
    await ok(['server', 'delete', '--wait', ...servers]);
    for (const fip of await demoJson<{ ID: string }[]>(['floating', 'ip', 'list'])) await ok(['floating', 'ip', 'delete', fip.ID]);
    await ok(['volume', 'delete', 'day-vol']);
    await ok(['router', 'remove', 'subnet', 'day-router', 'day-subnet']);
    await ok(['router', 'unset', '--external-gateway', 'day-router']);
    await ok(['router', 'delete', 'day-router']);
    await ok(['subnet', 'delete', 'day-subnet']);
    await ok(['network', 'delete', 'day-net']);
    await ok(['security', 'group', 'delete', 'day-sg']);
    await ok(['keypair', 'delete', 'day-key']);
    for (const name of ['day-snap', 'day-img']) await ok(['image', 'delete', name]);

    expect(await demoJson(['server', 'list'])).toEqual([]);
    expect(await demoJson(['floating', 'ip', 'list'])).toEqual([]);
    expect(await demoJson(['keypair', 'list'])).toEqual([]);
    // what the demo seed made stays: router1 on demo-net
    expect((await demoJson<{ Name: string }[]>(['router', 'list'])).map((r) => r.Name)).toEqual(['router1']);
    await until('no volume left', async () => (await demoJson<unknown[]>(['volume', 'list'])).length === 0);
    // no port left but router1's own (its gateway on public, its interface on demo-net)
    const router1 = (await demoJson(['router', 'show', 'router1'])).id;
    const ports = await demoJson<{ ID: string }[]>(['port', 'list']);
    const owners = await Promise.all(ports.map(async (p) => (await demoJson(['port', 'show', p.ID])) as { device_id: string; device_owner: string }));
    expect(owners.map((p) => [p.device_id, p.device_owner]).sort()).toEqual([
      [router1, 'network:router_gateway'],
      [router1, 'network:router_interface'],
    ]);
  });
});
