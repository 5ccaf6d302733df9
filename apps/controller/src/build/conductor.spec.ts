import { FailedPreconditionError, UnavailableError } from '@minicloud/domain-errors';
import type { InstanceRecord } from '@minicloud/domain-compute';
import { compute } from '@minicloud/proto';
import { silentLogger } from '@minicloud/platform-logging';
import { AgentClient } from '../agent/agent-client';
import { makeInstance, memoryInstances, memoryNetwork, recordingAgents } from '../testing/unit-fakes';
import { Conductor } from './conductor';
import { serverToProto } from '../api/proto-mapping';
import { metadataSourceOf } from '../metadata/metadata-service';

const HOSTS = { h1: { hostId: 'h1', agentEndpoint: 'agent-1', epoch: 4, state: 'up', profile: { cpuModel: 'Intel Xeon Gold 6230', cpuFlags: ['sse4_2', 'avx2'] } } };
const P = compute.PowerState;

/** A conductor over in-memory fakes: instances, network, agents (recorded), claims (released ids recorded). */
function world(records: InstanceRecord[], answer?: Parameters<typeof recordingAgents>[0]) {
  const instances = memoryInstances(records);
  const net = memoryNetwork();
  const agents = recordingAgents(answer);
  const released: string[] = [];
  const events: string[] = [];
  const conductor = new Conductor({
    instances: instances as never,
    hosts: { find: async (id: string) => HOSTS[id as 'h1'], epoch: async () => 4 } as never,
    allocations: { release: async (hostId: string, id: string) => void released.push(`${hostId}/${id}`) } as never,
    serverGroups: {} as never,
    quotas: {} as never,
    peers: { network: async () => net, volume: async () => ({}) } as never,
    agents: new AgentClient({ hosts: { find: async (id) => HOSTS[id as 'h1'] as never }, transport: agents.transport, shutdownTimeoutSeconds: 60 }),
    bus: { publishEvent: async (_s: unknown, _t: unknown, ev: { instanceId: string; vmState: number }) => void events.push(`${ev.instanceId}:${compute.VmState[ev.vmState]}`) } as never,
    metrics: { bootSeconds: { observe: () => undefined }, buildReschedules: { inc: () => undefined } } as never,
    logger: silentLogger(),
    nowMs: () => 1000,
    taskTimeoutMs: 60_000,
  });
  return { conductor, instances, net, agents, released, events };
}

describe('Conductor (unit, in-memory fakes)', () => {
  it('builds: binds a port on the host, spawns with the host epoch and the action request id, ACTIVE on the spawned report', async () => {
    const w = world([makeInstance()]);
    await w.conductor.reconcile('i-1');
    expect(w.net.bindings).toEqual([{ portId: 'port-1', hostId: 'h1' }]);
    expect(w.agents.commands).toHaveLength(1);
    expect(w.agents.commands[0]).toMatchObject({ hostId: 'h1', epoch: 4, instanceId: 'i-1', requestId: 'req-1:spawning:spawn' });
    expect(w.agents.commands[0].spawn!.spec).toMatchObject({ instanceId: 'i-1', ports: [{ portId: 'port-1', macAddress: 'fa:16:3e:00:00:01' }] });
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'building', taskState: 'spawning' });

    await w.conductor.handlePowerReport({ instanceId: 'i-1', hostId: 'h1', epoch: 4, powerState: P.POWER_STATE_RUNNING, reason: 'spawned', error: '', sequence: 1 });
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'active', taskState: null, powerState: 'running' });
  });

  it('runs a power action through the agent and completes it from the runtime the agent returns', async () => {
    const w = world([makeInstance({ vmState: 'active', taskState: 'powering_off', powerState: 'running', actionRequestId: 'req-stop' })], (req) =>
      req.powerOff ? { instance: { instanceId: 'i-1', powerState: P.POWER_STATE_SHUTDOWN } } : undefined,
    );
    await w.conductor.reconcile('i-1');
    expect(w.agents.commands.map((c) => [c.requestId, c.powerOff])).toEqual([['req-stop:powering_off:powerOff', { timeoutSeconds: 60 }]]);
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'stopped', taskState: null, powerState: 'shutdown' });
  });

  it('rethrows a transient agent error (the queue retries) and leaves the instance as it was', async () => {
    const w = world([makeInstance({ vmState: 'active', taskState: 'powering_off', powerState: 'running' })], () => new UnavailableError('agent unreachable'));
    await expect(w.conductor.reconcile('i-1')).rejects.toBeInstanceOf(UnavailableError);
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'active', taskState: 'powering_off' });
  });

  it("a refused power action ends the task, vm_state unchanged, the action logged as Error", async () => {
    const w = world([makeInstance({ vmState: 'active', taskState: 'powering_off', powerState: 'running', actionRequestId: 'req-stop' })], () => new FailedPreconditionError('VM is migrating', 'invalid_transition'));
    await w.instances.startAction('i-1', { requestId: 'req-stop', action: 'stop', userId: 'u', projectId: 'p', startMs: 0, result: '', message: '' });
    await w.conductor.reconcile('i-1');
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'active', taskState: null });
    expect(w.instances.actions.get('req-stop')).toMatchObject({ result: 'Error', message: 'VM is migrating' });
  });

  it('an unexpected error (a bug) is not retried: the server goes to ERROR with an INTERNAL fault', async () => {
    const w = world([makeInstance({ vmState: 'active', taskState: 'powering_off', powerState: 'running', actionRequestId: 'req-stop' })], () => new TypeError("Cannot read properties of undefined (reading 'epoch')"));
    await w.instances.startAction('i-1', { requestId: 'req-stop', action: 'stop', userId: 'u', projectId: 'p', startMs: 0, result: '', message: '' });
    await expect(w.conductor.reconcile('i-1')).resolves.toBeUndefined();
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'error', taskState: null, fault: { code: 'INTERNAL', message: "Cannot read properties of undefined (reading 'epoch')" } });
    expect(w.instances.actions.get('req-stop')).toMatchObject({ result: 'Error' });
  });

  it('a build whose step throws a bug goes to ERROR at once and gives its port and claim back', async () => {
    const w = world([makeInstance()], (req) => (req.spawn ? new RangeError('bad spec') : undefined));
    await w.conductor.reconcile('i-1');
    expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'error', taskState: null, fault: { code: 'INTERNAL', message: 'bad spec' }, pendingCleanup: false, ports: [] });
    expect(w.net.ports.size).toBe(0);
    expect(w.released).toEqual(['h1/i-1']);
  });

  describe('guest password (admin_pass)', () => {
    const PASS = 'Zq7vX2mPk9Ta';

    it('goes to the agent in the spawn and leaves the record once the spawn is sent; never in the server view or the metadata source', async () => {
      const w = world([makeInstance({ adminPass: PASS })]);
      expect(JSON.stringify(serverToProto(w.instances.byId.get('i-1')!, { admin: true }))).not.toContain(PASS);
      expect(JSON.stringify(metadataSourceOf(w.instances.byId.get('i-1')!))).not.toContain(PASS);
      await w.conductor.reconcile('i-1');
      expect(w.agents.commands[0].spawn!.spec).toMatchObject({ instanceId: 'i-1', adminPass: PASS });
      expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'building', taskState: 'spawning' });
      expect(w.instances.byId.get('i-1')?.adminPass).toBeUndefined();
      expect(JSON.stringify(w.instances.byId.get('i-1'))).not.toContain(PASS);
    });

    it('stays for a retried spawn (transient error) and goes with a build that fails', async () => {
      let fail: Error | undefined = new UnavailableError('agent unreachable');
      const w = world([makeInstance({ adminPass: PASS })], (req) => (req.spawn ? fail : undefined));
      await expect(w.conductor.reconcile('i-1')).rejects.toBeInstanceOf(UnavailableError);
      expect(w.instances.byId.get('i-1')?.adminPass).toBe(PASS);
      fail = new FailedPreconditionError('image unusable', 'spawn_refused');
      await w.conductor.reconcile('i-1');
      expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'error', taskState: null });
      expect(w.instances.byId.get('i-1')?.adminPass).toBeUndefined();
    });

    it('a spawn with no password sends an empty admin_pass (the guest gets none)', async () => {
      const w = world([makeInstance()]);
      await w.conductor.reconcile('i-1');
      expect(w.agents.commands[0].spawn!.spec!.adminPass).toBe('');
    });

    it('rebuild: the new spawn carries it, then the record drops it', async () => {
      const w = world([makeInstance({ vmState: 'active', taskState: 'rebuilding', powerState: 'running', adminPass: PASS, actionRequestId: 'req-rb' })]);
      await w.conductor.reconcile('i-1');
      expect(w.agents.commands.map((c) => Object.keys(c).find((k) => ['destroy', 'spawn'].includes(k)))).toEqual(['destroy', 'spawn']);
      expect(w.agents.commands[1].spawn!.spec!.adminPass).toBe(PASS);
      expect(w.instances.byId.get('i-1')?.adminPass).toBeUndefined();
    });

    it('rescue: after the rescue reboot the agent sets the password, then the record drops it', async () => {
      const running = { instance: { instanceId: 'i-1', powerState: P.POWER_STATE_RUNNING } };
      const w = world([makeInstance({ vmState: 'active', taskState: 'rescuing', powerState: 'running', adminPass: PASS, actionRequestId: 'req-rs' })], () => running);
      await w.conductor.reconcile('i-1');
      expect(w.agents.commands.map((c) => [c.requestId, c.reboot ?? c.setAdminPassword])).toEqual([
        ['req-rs:rescuing:reboot', { hard: true }],
        ['req-rs:rescuing:setAdminPassword', { adminPass: PASS }],
      ]);
      expect(w.instances.byId.get('i-1')).toMatchObject({ vmState: 'rescued', taskState: null });
      expect(w.instances.byId.get('i-1')?.adminPass).toBeUndefined();
    });
  });
});
