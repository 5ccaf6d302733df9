import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, compute } from '@minicloud/proto';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { createServiceClient, service, startGrpcServer, type RunningGrpcServer } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { RevocationList } from '@minicloud/platform-auth';
import { loadConfig } from '@minicloud/platform-config';
import { startNatsServer, startRedisServer, startTcpProxy, waitFor, type TcpProxy } from '@minicloud/testing';
import { agentConfigSchema } from './config';
import { wireComputeAgent } from './wire';

jest.setTimeout(60_000);

/**
 * The isolation response with a real agent: its NATS link goes through a TCP proxy that the test cuts
 * (NATS itself and Redis stay up, the lease keeps renewing), the HA leader's cluster view in Redis
 * lists another host up.
 */
interface Rig {
  proxy: TcpProxy;
  redis: Redis;
  client: ReturnType<typeof createServiceClient<typeof agent.HypervisorServiceService>>;
  registered: agent.RegisterHostRequest[];
  stop(): Promise<void>;
}

/** A real agent (host `iso-host`, first epoch 11) whose NATS goes through a proxy; `env` adds agent config. */
async function rig(env: Record<string, string>): Promise<Rig> {
  const [redisSrv, natsSrv] = await Promise.all([startRedisServer(), startNatsServer()]);
  const proxy = await startTcpProxy(natsSrv.port);
  const logger = silentLogger();
  const abort = new AbortController();
  const redis = await connectRedis({ url: redisSrv.url, name: 'test', logger });
  const bus: Bus = await connectBus({ url: proxy.url('nats'), name: 'agent', logger });
  let epoch = 10;
  const registered: agent.RegisterHostRequest[] = [];
  const controller: RunningGrpcServer = await startGrpcServer({
    port: 0, logger,
    services: [service({ definition: agent.HostRegistryServiceService, handlers: { registerHost: async (req) => (registered.push(req), { epoch: ++epoch, heartbeatIntervalMs: 100, leaseTtlMs: 900, selfFenceAfterMs: 2000, destroyInstanceIds: [] }) } })],
  });
  const config = loadConfig(agentConfigSchema, {
    HOST_ID: 'iso-host', CONTROLLER_URL: controller.address, AGENT_STATE_DIR: mkdtempSync(join(tmpdir(), 'agent-')), BOOT_TIME_MS: '20', ISOLATION_AFTER_MS: '500', ...env,
  });
  const wiring = await wireComputeAgent(
    { config, logger, metrics: createProcessMetrics({ service: 'compute-agent' }), redis, bus, revocations: new RevocationList() },
    config,
    { vtep: null, imageSource: async function* () { yield bytes; } },
  );
  const agentSrv = await startGrpcServer({ port: 0, logger, services: wiring.services });
  await wiring.onListening?.(agentSrv);
  const runnables = (wiring.runnables ?? []).map((r) => r.start(abort.signal));
  const client = createServiceClient(agent.HypervisorServiceService, agentSrv.address);
  await waitFor(() => wiring.handles.hosts[0].epoch === 11);
  return {
    proxy, redis, client, registered,
    async stop() {
      abort.abort();
      proxy.restore();
      await Promise.all(runnables);
      client.close();
      await agentSrv.shutdown(1000);
      await controller.shutdown(1000);
      await bus.close().catch(() => undefined);
      await redis.quit();
      await proxy.close();
      await Promise.all([redisSrv.stop(), natsSrv.stop()]);
    },
  };
}

const bytes = Buffer.from('qcow2-image-bytes'.repeat(100));
const sha = createHash('sha256').update(bytes).digest('hex');

async function bootTwo(r: Rig): Promise<void> {
  for (const id of ['vm-a', 'vm-b']) {
    await r.client.executeCommand({ hostId: 'iso-host', epoch: 11, instanceId: id, spawn: { spec: { instanceId: id, flavor: { vcpus: 1, ramMb: 256, diskGb: 1 }, image: { imageId: 'img', sha256: sha } } } });
  }
  await waitFor(async () => (await power(r, 'vm-a')) === compute.PowerState.POWER_STATE_RUNNING && (await power(r, 'vm-b')) === compute.PowerState.POWER_STATE_RUNNING);
}

const power = async (r: Rig, id: string) => (await r.client.listInstances({ hostId: 'iso-host' })).instances.find((i) => i.instanceId === id)?.powerState;

/** The HA leader's cluster view: another host up, not this one. */
const leaderSeesOthers = (r: Rig) => r.redis.set(HaProtocolKeys.clusterView(), JSON.stringify({ hosts_up: ['other-host'], at_ms: Date.now() }), 'PX', 60_000);

/**
 * The isolation response with a real agent: its NATS link goes through a TCP proxy that the test cuts
 * (NATS itself and Redis stay up, the lease keeps renewing), the HA leader's cluster view in Redis
 * lists another host up.
 */
describe('compute-agent isolation response (real Redis + NATS behind a proxy the test cuts)', () => {
  it('power_off: powers its VMs off, refuses to start any, records it; re-registers when NATS is back', async () => {
    const r = await rig({ ISOLATION_RESPONSE: 'power_off' });
    try {
      await bootTwo(r);
      // No cluster view yet (no HA leader): a cut does not power anything off.
      r.proxy.cut();
      // A negative check needs time to pass: 3x ISOLATION_AFTER_MS, the agent re-evaluates every 100 ms.
      await new Promise((res) => setTimeout(res, 1500));
      expect(await power(r, 'vm-a')).toBe(compute.PowerState.POWER_STATE_RUNNING);
      expect(await r.redis.get(HaProtocolKeys.isolation('iso-host'))).toBeNull();
      await leaderSeesOthers(r);
      await waitFor(async () => (await r.redis.get(HaProtocolKeys.isolation('iso-host'))) !== null, { timeoutMs: 10_000 });
      const rec = JSON.parse((await r.redis.get(HaProtocolKeys.isolation('iso-host')))!);
      expect(rec).toMatchObject({ epoch: 11, response: 'power_off' });
      expect([...rec.powered_off_ids].sort()).toEqual(['vm-a', 'vm-b']);
      // The record is written only after the VMs are off; the lease still renews (only NATS is cut).
      expect(await power(r, 'vm-a')).toBe(compute.PowerState.POWER_STATE_SHUTDOWN);
      expect(await r.redis.get('mc:compute-agent:lease:iso-host')).toBe('11');
      await expect(r.client.executeCommand({ hostId: 'iso-host', epoch: 11, instanceId: 'vm-a', powerOn: {} })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'host_isolated' });
      // NATS back: registers afresh (epoch 12, holding both powered-off VMs), record cleared, starts allowed.
      const before = r.registered.length;
      r.proxy.restore();
      await waitFor(async () => r.registered.length > before && (await r.redis.get(HaProtocolKeys.isolation('iso-host'))) === null, { timeoutMs: 15_000 });
      expect(r.registered.at(-1)!.instances.map((i) => [i.instanceId, i.powerState]).sort()).toEqual([
        ['vm-a', compute.PowerState.POWER_STATE_SHUTDOWN],
        ['vm-b', compute.PowerState.POWER_STATE_SHUTDOWN],
      ]);
      const res = await r.client.executeCommand({ hostId: 'iso-host', epoch: 12, instanceId: 'vm-a', powerOn: {} });
      expect(res.instance?.powerState).toBe(compute.PowerState.POWER_STATE_RUNNING);
    } finally {
      await r.stop();
    }
  });

  it('shutdown: guests slower than the timeout are powered off at the timeout, then recorded', async () => {
    const r = await rig({ ISOLATION_RESPONSE: 'shutdown', GUEST_SHUTDOWN_MS: '5000', ISOLATION_SHUTDOWN_TIMEOUT_MS: '300' });
    try {
      await bootTwo(r);
      await leaderSeesOthers(r);
      r.proxy.cut();
      await waitFor(async () => (await r.redis.get(HaProtocolKeys.isolation('iso-host'))) !== null, { timeoutMs: 10_000 });
      expect(JSON.parse((await r.redis.get(HaProtocolKeys.isolation('iso-host')))!)).toMatchObject({ epoch: 11, response: 'shutdown' });
      expect(await power(r, 'vm-b')).toBe(compute.PowerState.POWER_STATE_SHUTDOWN);
    } finally {
      await r.stop();
    }
  });

  it('leave_running: records it, touches nothing, and needs no new registration when NATS is back', async () => {
    const r = await rig({ ISOLATION_RESPONSE: 'leave_running' });
    try {
      await bootTwo(r);
      await leaderSeesOthers(r);
      r.proxy.cut();
      await waitFor(async () => (await r.redis.get(HaProtocolKeys.isolation('iso-host'))) !== null, { timeoutMs: 10_000 });
      expect(JSON.parse((await r.redis.get(HaProtocolKeys.isolation('iso-host')))!)).toMatchObject({ epoch: 11, response: 'leave_running', powered_off_ids: [] });
      expect(await power(r, 'vm-a')).toBe(compute.PowerState.POWER_STATE_RUNNING);
      const res = await r.client.executeCommand({ hostId: 'iso-host', epoch: 11, instanceId: 'vm-a', reboot: {} });
      expect(res.instance?.powerState).toBe(compute.PowerState.POWER_STATE_RUNNING);
      r.proxy.restore();
      await waitFor(async () => (await r.redis.get(HaProtocolKeys.isolation('iso-host'))) === null, { timeoutMs: 10_000 });
      expect(r.registered).toHaveLength(1);
    } finally {
      await r.stop();
    }
  });
});
