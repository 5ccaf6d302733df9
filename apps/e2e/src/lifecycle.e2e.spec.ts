/**
 * The whole instance lifecycle through the `minicloud` CLI against a cloud started as processes (2
 * agents): power actions, resize + revert/confirm, rebuild, rescue, snapshot, metadata/tags,
 * shelve/unshelve (offloading frees the host), lock (a non-admin member is refused), the actions
 * log, aggregates + AZs, server groups (anti-affinity refuses a third member on 2 hosts), quotas
 * through identity, and refused transitions naming the state. Host allocations are checked through
 * the admin API after every move.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compute, identity } from '@minicloud/proto';
import { createServiceClient } from '@minicloud/platform-grpc';
import { seedTinyCloud, startCloud, type CliResult, type RunningCloud } from './cloud-harness';

jest.setTimeout(600_000);

describe('instance lifecycle through the CLI', () => {
  let cloud: RunningCloud;
  let admin: ReturnType<typeof createServiceClient<typeof compute.ComputeServiceService>>;
  let bobEnv: Record<string, string> = {};

  const run = (args: string[], env?: Record<string, string>) => cloud.cli(args, env);
  const cli = (...args: string[]) => cloud.run(args);
  const json = (...args: string[]) => cloud.json(args);
  const refused = async (args: string[], pattern: RegExp, env?: Record<string, string>): Promise<CliResult> => {
    const r = await run(args, env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(pattern);
    return r;
  };
  const show = (ref: string) => json('server', 'show', ref);
  const allocated = async () => {
    const hosts = (await admin.listHosts({})).hosts;
    return Object.fromEntries(hosts.map((h) => [h.id, { vcpus: Number(h.vcpus!.allocated), ramMb: Number(h.ramMb!.allocated) }]));
  };
  const totalVcpus = async () => Object.values(await allocated()).reduce((s, a) => s + a.vcpus, 0);

  beforeAll(async () => {
    cloud = await startCloud({ agents: 2, env: { HA_HOST_FAILURES_TO_TOLERATE: '0' } });
    await cli('login');
    const token = JSON.parse(fs.readFileSync(path.join(cloud.stateDir, 'cli', 'credentials.json'), 'utf8')).token;
    const controller = cloud.manifest.processes.find((p) => p.name === 'controller')!;
    admin = createServiceClient(compute.ComputeServiceService, controller.grpc_address, { token: () => token });
    await seedTinyCloud(cloud, { network: 'lc-net', cidr: '10.30.0.0/24', shared: true });
    await cli('flavor', 'create', 'm1.small', '--vcpus', '2', '--ram', '1024', '--disk', '2');

    // A member of another project, for lock and quota.
    const idc = createServiceClient(identity.IdentityServiceService, cloud.manifest.identity_url, { token: () => token });
    const project = (await idc.createProject({ name: 'bobs' })).project!;
    const user = (await idc.createUser({ name: 'bob', password: 'bob-secret-1', defaultProjectId: project.id })).user!;
    await idc.assignRole({ assignment: { roleName: 'member', userId: user.id, projectId: project.id } });
    idc.close();
    bobEnv = { MINICLOUD_USER: 'bob', MINICLOUD_PASSWORD: 'bob-secret-1', MINICLOUD_PROJECT: 'bobs', MINICLOUD_CONFIG_DIR: path.join(cloud.stateDir, 'cli-bob') };
  });

  afterAll(async () => {
    admin?.close();
    await cloud?.stop();
  });

  it('power actions walk the states and refused transitions name the state', async () => {
    const vm = await json('server', 'create', 'vm1', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net', '--wait', '--timeout', '60');
    expect(vm.status).toBe('ACTIVE');
    await refused(['server', 'unpause', 'vm1'], /Cannot 'unpause' instance .* vm_state active/);
    await refused(['server', 'resize', 'confirm', 'vm1'], /Cannot 'confirmResize' instance .* vm_state active/);
    await cli('server', 'stop', 'vm1', '--wait');
    expect((await show('vm1')).status).toBe('SHUTOFF');
    await refused(['server', 'pause', 'vm1'], /vm_state stopped/);
    await cli('server', 'start', 'vm1', '--wait');
    await cli('server', 'reboot', 'vm1', '--hard', '--wait');
    await cli('server', 'suspend', 'vm1', '--wait');
    expect((await show('vm1')).status).toBe('SUSPENDED');
    await cli('server', 'resume', 'vm1', '--wait');
    expect((await show('vm1')).status).toBe('ACTIVE');
  });

  it('resize -> revert restores the old flavor and claims; resize -> confirm frees the old claim', async () => {
    expect(await totalVcpus()).toBe(1);
    await cli('server', 'resize', 'vm1', '--flavor', 'm1.small', '--wait');
    let s = await show('vm1');
    expect(s.status).toBe('VERIFY_RESIZE');
    expect(s.flavor.name).toBe('m1.small');
    expect(await totalVcpus()).toBe(3); // old (1) held until confirm + new (2)
    await cli('server', 'resize', 'revert', 'vm1', '--wait');
    s = await show('vm1');
    expect(s.status).toBe('ACTIVE');
    expect(s.flavor.name).toBe('m1.tiny');
    expect(await totalVcpus()).toBe(1);
    await cli('server', 'resize', 'vm1', '--flavor', 'm1.small', '--wait');
    await cli('server', 'resize', 'confirm', 'vm1', '--wait');
    s = await show('vm1');
    expect(s.status).toBe('ACTIVE');
    expect(s.flavor.name).toBe('m1.small');
    expect(await totalVcpus()).toBe(2);
    await refused(['server', 'resize', 'vm1', '--flavor', 'm1.small'], /current flavor/);
  });

  it('rebuild, rescue/unrescue, snapshot, metadata and tags', async () => {
    const host = (await show('vm1')).host_id;
    await cli('server', 'rebuild', 'vm1', '--wait');
    let s = await show('vm1');
    expect(s.status).toBe('ACTIVE');
    expect(s.host_id).toBe(host);
    await cli('server', 'rescue', 'vm1', '--wait');
    expect((await show('vm1')).status).toBe('RESCUE');
    await refused(['server', 'pause', 'vm1'], /vm_state rescued/);
    await cli('server', 'unrescue', 'vm1', '--wait');
    expect((await show('vm1')).status).toBe('ACTIVE');
    const snap = await json('server', 'image', 'create', 'vm1', '--name', 'vm1-snap', '--wait');
    const img = await json('image', 'show', snap.id);
    expect(img).toMatchObject({ name: 'vm1-snap', status: 'active', source_instance_id: s.id });
    await cli('server', 'set', 'vm1', '--property', 'role=web', '--tag', 'blue');
    s = await show('vm1');
    expect(s.metadata).toMatchObject({ role: 'web' });
    expect(s.tags).toEqual(['blue']);
    await cli('server', 'unset', 'vm1', '--property', 'role', '--tag', 'blue');
    s = await show('vm1');
    expect(s.metadata?.role).toBeUndefined();
    expect(s.tags ?? []).toEqual([]);
  });

  it('shelve offloads (frees the host), unshelve schedules again', async () => {
    await cli('server', 'shelve', 'vm1', '--wait');
    const s = await show('vm1');
    expect(s.status).toBe('SHELVED_OFFLOADED');
    expect(s.host_id ?? '').toBe('');
    expect(await totalVcpus()).toBe(0);
    await refused(['server', 'start', 'vm1'], /vm_state shelved_offloaded/);
    await cli('server', 'unshelve', 'vm1', '--wait');
    expect((await show('vm1')).status).toBe('ACTIVE');
    expect(await totalVcpus()).toBe(2);
  });

  it('the actions log lists every action with its result', async () => {
    const events = await json('server', 'event', 'list', 'vm1');
    const names = events.map((e: { Action?: string; action?: string }) => e.action ?? e.Action);
    for (const a of ['create', 'stop', 'start', 'resize', 'revertResize', 'confirmResize', 'rebuild', 'rescue', 'unrescue', 'createImage', 'shelve', 'unshelve']) expect(names).toContain(a);
  });

  it('lock refuses a non-admin member; an admin lock cannot be lifted by them', async () => {
    await run(['login'], bobEnv);
    const bvm = JSON.parse((await run(['server', 'create', 'bob-vm', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net', '--wait', '-f', 'json'], bobEnv)).stdout);
    expect(bvm.status).toBe('ACTIVE');
    await cli('server', 'lock', bvm.id, '--reason', 'audit');
    expect((await show(bvm.id)).locked).toBe(true);
    await refused(['server', 'stop', 'bob-vm'], /is locked/, bobEnv);
    await refused(['server', 'delete', 'bob-vm'], /is locked/, bobEnv);
    await refused(['server', 'unlock', 'bob-vm'], /locked by an admin/, bobEnv);
    await cli('server', 'unlock', bvm.id);
    expect((await run(['server', 'stop', 'bob-vm', '--wait'], bobEnv)).code).toBe(0);
  });

  it('quota: a member over the instances limit is refused and nothing is created', async () => {
    await cli('quota', 'set', 'bobs', '--instances', '1');
    await refused(['server', 'create', 'bob-2', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net'], /instances/, bobEnv);
    const q = await json('quota', 'show', 'bobs');
    expect(q.find((r: { resource: string }) => r.resource === 'instances')).toMatchObject({ limit: 1, in_use: 1 });
    expect((await run(['server', 'delete', 'bob-vm', '--wait'], bobEnv)).code).toBe(0);
    const after = await json('quota', 'show', 'bobs');
    expect(after.find((r: { resource: string }) => r.resource === 'instances')).toMatchObject({ in_use: 0 });
  });

  it('aggregates, availability zones and anti-affinity server groups', async () => {
    const hosts = (await admin.listHosts({})).hosts.map((h) => h.id).sort();
    await cli('aggregate', 'create', 'fast', '--zone', 'az-fast');
    await cli('aggregate', 'add', 'host', 'fast', hosts[0]);
    await cli('aggregate', 'set', 'fast', '--property', 'cpu_allocation_ratio=2.0');
    await refused(['aggregate', 'set', 'fast', '--property', 'ram_allocation_ratio=zero'], /ram_allocation_ratio/);
    const zones = await json('availability', 'zone', 'list');
    expect(zones.map((z: { zone_name: string }) => z.zone_name).sort()).toEqual(['az-fast', 'nova']);
    const inAz = await json('server', 'create', 'az-vm', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net', '--availability-zone', 'az-fast', '--wait');
    expect((await show(inAz.id)).host_id).toBe(hosts[0]);

    const g = await json('server', 'group', 'create', 'spread', '--policy', 'anti-affinity');
    const a = await json('server', 'create', 'g1', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net', '--hint', `group=${g.id}`, '--wait');
    const b = await json('server', 'create', 'g2', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net', '--hint', `group=${g.id}`, '--wait');
    expect((await show(a.id)).host_id).not.toBe((await show(b.id)).host_id);
    await refused(['server', 'create', 'g3', '--image', 'cirros', '--flavor', 'm1.tiny', '--network', 'lc-net', '--hint', `group=${g.id}`], /No valid host.*anti-affinity/);
    expect((await json('server', 'group', 'show', 'spread')).member_ids).toHaveLength(2);

    await cli('server', 'delete', 'vm1', 'az-vm', 'g1', 'g2', '--wait');
    expect(await totalVcpus()).toBe(0);
    await cli('aggregate', 'remove', 'host', 'fast', hosts[0]);
    await cli('aggregate', 'delete', 'fast');
    expect(await json('aggregate', 'list')).toEqual([]);
  });
});
