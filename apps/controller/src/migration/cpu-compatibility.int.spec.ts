import { InvalidArgumentError } from '@minicloud/domain-errors';
import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../../compute-agent/src/wire';
import { ControllerHarness } from '../testing/controller-harness';
import type { Controller } from '../wire';

jest.setTimeout(60_000);

/**
 * The guest CPU check of live migration, with four real agents of three CPU generations (two
 * Skylake-SP hosts, one Icelake-SP, one Zen 3) over real gRPC/Redis/NATS: a host-passthrough guest
 * moves only to the same CPU model, a host-model guest only to a host with every flag it uses; a
 * refused destination is INVALID_ARGUMENT naming migrate.host_id and leaves nothing claimed, and the
 * scheduler picks only compatible hosts.
 */
describe('live migration: guest CPU compatibility (real agents)', () => {
  let h: ControllerHarness;
  let controller: Controller;
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  const handles: Record<string, AgentHandles> = {};
  const profiles: Record<string, string> = { 'sky-a': 'std-2s32c-256g', 'sky-b': 'std-2s32c-256g', ice: 'compact-1s24c-128g', zen: 'large-2s64c-512g' };
  const hosts = Object.keys(profiles);

  beforeAll(async () => {
    h = await ControllerHarness.start('cpu-compat');
    const started = await h.startControllerWithFakePeers({ config: { MIGRATION_MAX_BANDWIDTH_MBPS: '400', MIGRATION_TIMEOUT_SECONDS: '60' } });
    controller = started.controller;
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    for (const id of hosts) handles[id] = await h.startInProcessAgent(id, registry, { HOST_PROFILE: profiles[id] });
    await waitFor(async () => (await admin.listHosts({})).hosts.length === hosts.length, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-model', name: 'hm', vcpus: 1, ramMb: 256, diskGb: 1 });
    await admin.createFlavor({ id: 'f-pass', name: 'hp', vcpus: 1, ramMb: 256, diskGb: 1, extraSpecs: { 'hw:cpu_mode': 'host-passthrough' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  /** Boots on `on` (every other host disabled meanwhile). */
  async function bootOn(on: string, name: string, flavorRef: string): Promise<compute.Server> {
    const others = hosts.filter((x) => x !== on);
    for (const x of others) await admin.updateHost({ hostId: x, enabled: false, disabledReason: 'pin' });
    try {
      const id = (await admin.createServer({ name, flavorRef, imageRef: 'img', networks: [{ networkId: 'net-1' }], metadata: { 'minicloud:workload': 'idle' } })).servers[0].id;
      await waitFor(async () => (await admin.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
      return (await admin.getServer({ serverId: id })).server!;
    } finally {
      for (const x of others) await admin.updateHost({ hostId: x, enabled: true });
    }
  }
  const claimsFor = async (id: string) => {
    const out: string[] = [];
    for (const x of hosts) if ((await controller.stores.allocations.get(x)).byInstance.has(`${id}#migration`)) out.push(x);
    return out;
  };
  const settled = (id: string, hostId: string) => async () => {
    const s = (await admin.getServer({ serverId: id })).server!;
    return s.hostId === hostId && s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED;
  };

  it('records the guest CPU at boot: the host\'s model and flags, with the flavor\'s mode', async () => {
    const s = await bootOn('sky-a', 'rec', 'f-pass');
    const r = await controller.stores.instances.find(s.id);
    expect(r?.guestCpu).toMatchObject({ mode: 'host-passthrough', model: 'Intel Xeon Gold 6142' });
    expect(r?.guestCpu?.flags).toContain('avx512f');
    await admin.createFlavor({ id: 'f-bad', name: 'bad', vcpus: 1, ramMb: 256, diskGb: 1, extraSpecs: { 'hw:cpu_mode': 'host-copy' } });
    await expect(admin.createServer({ name: 'bad', flavorRef: 'f-bad', imageRef: 'img', networks: [{ networkId: 'net-1' }] })).rejects.toThrow(/hw:cpu_mode/);
  });

  it('a host-passthrough guest refuses another CPU model, even one with more flags; the scheduler picks the same model', async () => {
    const s = await bootOn('sky-a', 'pass', 'f-pass');
    for (const dest of ['ice', 'zen']) {
      const err = await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: dest } }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect((err as Error).message).toMatch(/migrate.host_id.*host-passthrough CPU is a Intel Xeon Gold 6142/);
    }
    expect(await claimsFor(s.id)).toEqual([]);
    expect((await admin.getServer({ serverId: s.id })).server).toMatchObject({ hostId: 'sky-a', status: 'ACTIVE', taskState: compute.TaskState.TASK_STATE_UNSPECIFIED });
    expect((await admin.listMigrations({ serverId: s.id })).migrations).toHaveLength(0);

    await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: '' } });
    await waitFor(settled(s.id, 'sky-b'), { timeoutMs: 20_000 });
    expect(handles['sky-b'].hosts[0].runtime(s.id)?.powerState).toBe('running');
  });

  it('a host-model guest moves to a host with a superset of its flags, not to one lacking some; the guest CPU stays its boot CPU', async () => {
    const s = await bootOn('sky-a', 'model', 'f-model');
    const err = await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: 'zen' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(/AMD EPYC 7543 lacks CPU flags the guest uses: vmx, avx512f, ept/);
    expect(await claimsFor(s.id)).toEqual([]);

    await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: 'ice' } });
    await waitFor(settled(s.id, 'ice'), { timeoutMs: 20_000 });
    expect((await controller.stores.instances.find(s.id))?.guestCpu?.model).toBe('Intel Xeon Gold 6142');
    // Back from Icelake to Skylake: the guest still uses only Skylake-SP flags.
    await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: 'sky-b' } });
    await waitFor(settled(s.id, 'sky-b'), { timeoutMs: 20_000 });
  });

  it('a host-model guest booted on Icelake-SP cannot go back to Skylake-SP: the scheduler finds no valid host', async () => {
    const s = await bootOn('ice', 'ice-model', 'f-model');
    const err = await admin.serverAction({ serverId: s.id, migrate: { live: true, hostId: '' } }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/No valid host/);
    expect((err as Error).message).toMatch(/incompatible CPU/);
    expect(await claimsFor(s.id)).toEqual([]);
    expect((await admin.getServer({ serverId: s.id })).server).toMatchObject({ hostId: 'ice', taskState: compute.TaskState.TASK_STATE_UNSPECIFIED });
  });
});
