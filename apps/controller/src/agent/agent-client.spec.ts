import { AlreadyExistsError, FailedPreconditionError, NotFoundError, UnavailableError } from '@minicloud/domain-errors';
import type { agent } from '@minicloud/proto';
import type { CallOptions, DeepPartial } from '@minicloud/platform-grpc';
import { AgentClient, scopeOf, type AgentTransport } from './agent-client';

const HOST = { hostId: 'h1', agentEndpoint: 'agent-1:5005', epoch: 7 };

/** A transport that records every call and answers with `answer` (or throws what it returns as an Error). */
function fakeTransport(answer: (req: DeepPartial<agent.ExecuteCommandRequest>) => unknown = () => ({})) {
  const calls: { endpoint: string; req: DeepPartial<agent.ExecuteCommandRequest>; opts?: CallOptions }[] = [];
  const transport = (endpoint: string): AgentTransport => ({
    executeCommand: async (req, opts) => {
      calls.push({ endpoint, req, opts });
      const a = answer(req);
      if (a instanceof Error) throw a;
      return a as agent.ExecuteCommandResponse;
    },
    listInstances: async () => ({ instances: [], epoch: 0 }),
    setHostPower: async (req) => {
      calls.push({ endpoint, req: req as never });
      return { usage: undefined };
    },
    getConsoleOutput: async (req) => {
      calls.push({ endpoint, req: req as never });
      return { output: `console of ${req.instanceId} on ${req.hostId}, length ${req.length}` };
    },
  });
  return { calls, transport };
}

function client(answer?: (req: DeepPartial<agent.ExecuteCommandRequest>) => unknown) {
  const t = fakeTransport(answer);
  let n = 0;
  const c = new AgentClient({
    hosts: { find: async (id) => (id === 'h1' ? ({ ...HOST } as never) : undefined) },
    transport: t.transport,
    shutdownTimeoutSeconds: 60,
    newRequestId: () => `fresh-${++n}`,
  });
  return { c, calls: t.calls };
}

describe('AgentClient', () => {
  it('reads a console from the host that holds the VM, with the length asked', async () => {
    const { c, calls } = client();
    expect(await c.getConsoleOutput('h1', 'i-1', 10)).toBe('console of i-1 on h1, length 10');
    expect(calls).toEqual([{ endpoint: 'agent-1:5005', req: { hostId: 'h1', instanceId: 'i-1', length: 10 } }]);
    await expect(c.getConsoleOutput('h9', 'i-1')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('stamps host, epoch and a request id derived from the scope on every command', async () => {
    const { c, calls } = client();
    await c.spawn('h1', 'i-1', { instanceId: 'i-1' }, { requestId: 'req-a', step: 'spawning' });
    await c.power(HOST, 'i-1', 'powerOff', scopeOf({ actionRequestId: 'req-b', taskState: 'powering_off' }));
    await c.power(HOST, 'i-1', 'reboot', { requestId: 'req-c' }, { hard: true });
    expect(calls.map((x) => x.endpoint)).toEqual(['agent-1:5005', 'agent-1:5005', 'agent-1:5005']);
    expect(calls.map((x) => [x.req.hostId, x.req.epoch, x.req.instanceId])).toEqual([
      ['h1', 7, 'i-1'],
      ['h1', 7, 'i-1'],
      ['h1', 7, 'i-1'],
    ]);
    expect(calls.map((x) => x.req.requestId)).toEqual(['req-a:spawning:spawn', 'req-b:powering_off:powerOff', 'req-c:reboot']);
    // The operation's own id travels as the call's x-request-id, so the agent's logs name it.
    expect(calls.map((x) => x.opts?.requestId)).toEqual(['req-a', 'req-b', 'req-c']);
    expect(calls[1].req.powerOff).toEqual({ timeoutSeconds: 60 });
    expect(calls[2].req.reboot).toEqual({ hard: true });
  });

  it('gives a command without an operation a fresh request id each time', async () => {
    const { c, calls } = client();
    await c.power(HOST, 'i-1', 'pause', {});
    await c.power(HOST, 'i-1', 'pause', {});
    expect(calls.map((x) => x.req.requestId)).toEqual(['fresh-1', 'fresh-2']);
  });

  it('carries the migration id as the request of the live-migration commands', async () => {
    const { c, calls } = client();
    await c.prepareMigrateIn(HOST, 'i-1', 'm-1', { instanceId: 'i-1' });
    await c.migrateOut(HOST, 'i-1', 'm-1', { destHostId: 'h2', destEpoch: 3 });
    await c.abortMigration(HOST, 'i-1', 'm-1');
    expect(calls.map((x) => x.req.requestId)).toEqual(['m-1:prepareMigrateIn', 'm-1:migrateOut', 'm-1:abortMigration']);
    expect(calls[1].req.migrateOut).toEqual({ destHostId: 'h2', destEpoch: 3, migrationId: 'm-1' });
  });

  it('maps "already so" answers to results: destroy/detach of an absent VM, a repeated attach', async () => {
    const { c } = client((req) =>
      req.destroy || req.detachVolume || req.detachInterface
        ? new NotFoundError('instance', 'i-1')
        : req.attachVolume || req.attachInterface
          ? new AlreadyExistsError('volume_attachment', 'v-1')
          : {},
    );
    await expect(c.destroy(HOST, 'i-1', {})).resolves.toBe(false);
    await expect(c.detachVolume(HOST, 'i-1', 'v-1', {})).resolves.toBe(false);
    await expect(c.attachVolume(HOST, 'i-1', { volumeId: 'v-1' }, {})).resolves.toBeUndefined();
    await expect(c.detachInterface(HOST, 'i-1', 'p-1', {})).resolves.toBe(false);
    await expect(c.attachInterface(HOST, 'i-1', { portId: 'p-1' }, {})).resolves.toBeUndefined();
    await expect(c.powerOffIfPresent(HOST, 'i-2', {})).resolves.toBe(true);
  });

  it('passes every other error through typed (stale epoch, unreachable agent)', async () => {
    const stale = client(() => new FailedPreconditionError('stale epoch', 'stale_epoch'));
    await expect(stale.c.destroy(HOST, 'i-1', {})).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'stale_epoch' });
    const down = client(() => new UnavailableError('agent unreachable'));
    await expect(down.c.spawn(HOST, 'i-1', {}, {})).rejects.toBeInstanceOf(UnavailableError);
    await expect(down.c.probeEpoch(HOST)).resolves.toBeUndefined();
  });

  it('looks a host id up and refuses an unknown one with NOT_FOUND host', async () => {
    const { c, calls } = client();
    await expect(c.spawn('h9', 'i-1', {}, {})).rejects.toMatchObject({ code: 'NOT_FOUND', resourceType: 'host' });
    await expect(c.destroy('h9', 'i-1', {})).resolves.toBe(false);
    await c.setHostPower('h1', true);
    expect(calls).toEqual([{ endpoint: 'agent-1:5005', req: { hostId: 'h1', epoch: 7, standby: true } }]);
  });
});
