import { agent, compute } from '@minicloud/proto';
import type { ServiceClient } from '@minicloud/platform-grpc';
import { waitFor } from '@minicloud/testing';
import type { AgentHandles } from '../../compute-agent/src/wire';
import { ControllerHarness } from './testing/controller-harness';
import type { Controller } from './wire';

jest.setTimeout(60_000);

/**
 * Nova's build reschedule: the controller's claim and the host disagree (here on purpose: the
 * controller's RAM_ALLOCATION_RATIO 3.0 is above the agents' own 1.5 ceiling, so on two 4 GiB HP
 * ML110 G4 hosts the controller thinks three 4 GiB VMs fit per host while each agent holds one).
 * An aggregate packs (RAM, CPU and disk weight multipliers -1), so the second boot is scheduled onto the first VM's
 * host, whose agent refuses it; the build must move to the other host instead of going to ERROR.
 */
describe('build reschedule when the host refuses the spawn (two real agents)', () => {
  let h: ControllerHarness;
  let controller: Controller;
  const handles: Record<string, AgentHandles> = {};
  let admin: ServiceClient<typeof compute.ComputeServiceService>;

  beforeAll(async () => {
    h = await ControllerHarness.start('reschedule-test');
    const started = await h.startControllerWithFakePeers({ config: { RAM_ALLOCATION_RATIO: '3.0', SCHEDULER_MAX_ATTEMPTS: '3' } });
    controller = started.controller;
    admin = h.client(compute.ComputeServiceService, started.grpc.address, h.tokens.adminToken);
    const registry = h.client(agent.HostRegistryServiceService, started.grpc.address, h.tokens.adminToken);
    for (const id of ['host-a', 'host-b']) handles[id] = await h.startInProcessAgent(id, registry, { HOST_PROFILE: 'hp-proliant-ml110-g4' });
    await waitFor(async () => (await admin.listHosts({})).hosts.length === 2, { timeoutMs: 10_000 });
    await admin.createFlavor({ id: 'f-host', name: 'host-sized', vcpus: 1, ramMb: 4096, diskGb: 1 });
    const agg = (await admin.createAggregate({ name: 'pack' })).aggregate!;
    for (const id of ['host-a', 'host-b']) await admin.addAggregateHost({ aggregateId: agg.id, hostId: id });
    await admin.setAggregateMetadata({ aggregateId: agg.id, metadata: { ram_weight_multiplier: '-1', cpu_weight_multiplier: '-1', disk_weight_multiplier: '-1', io_ops_weight_multiplier: '0' } });
  });

  afterAll(async () => {
    await h?.close();
  });

  const boot = async (name: string) => (await admin.createServer({ name, flavorRef: 'f-host', imageRef: 'img', networks: [{ networkId: 'net-1' }] })).servers[0].id;
  const settled = async (id: string) => {
    await waitFor(async () => {
      const s = (await admin.getServer({ serverId: id })).server!;
      return s.taskState === compute.TaskState.TASK_STATE_UNSPECIFIED && (s.vmState === compute.VmState.VM_STATE_ACTIVE || s.vmState === compute.VmState.VM_STATE_ERROR);
    }, { timeoutMs: 20_000 });
    return (await admin.getServer({ serverId: id })).server!;
  };
  const claimsOf = async (hostId: string) => [...(await controller.stores.allocations.get(hostId)).byInstance.keys()];

  it('moves a build its host refuses to another host: ACTIVE there, one claim, running on one agent only', async () => {
    const first = await settled(await boot('vm-1'));
    expect(first.vmState).toBe(compute.VmState.VM_STATE_ACTIVE);
    const full = first.hostId;
    const other = full === 'host-a' ? 'host-b' : 'host-a';

    const second = await settled(await boot('vm-2'));
    expect(second.vmState).toBe(compute.VmState.VM_STATE_ACTIVE);
    expect(second.hostId).toBe(other);
    expect(await claimsOf(full)).toEqual([first.id]);
    expect(await claimsOf(other)).toEqual([second.id]);
    expect(handles[other].hosts[0].runtime(second.id)?.powerState).toBe('running');
    expect(handles[full].hosts[0].runtime(second.id)).toBeUndefined();
  });

  it('goes to ERROR naming the refusal when every host refused, and keeps no claim', async () => {
    const id = await boot('vm-3');
    const s = await settled(id);
    expect(s.vmState).toBe(compute.VmState.VM_STATE_ERROR);
    expect(s.fault?.code).toBe('RESOURCE_EXHAUSTED');
    expect(s.fault?.message).toMatch(/cannot hold 4096 ram_mb/);
    await waitFor(async () => !(await claimsOf('host-a')).includes(id) && !(await claimsOf('host-b')).includes(id), { timeoutMs: 10_000 });
  });
});
