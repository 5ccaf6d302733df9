import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agent, events } from '@minicloud/proto';
import { connectBus, HEARTBEAT_WILDCARD, type Bus } from '@minicloud/platform-bus';
import { service, startGrpcServer, type RunningGrpcServer } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { RevocationList } from '@minicloud/platform-auth';
import { loadConfig } from '@minicloud/platform-config';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { agentConfigSchema } from './config';
import { wireComputeAgent } from './wire';

jest.setTimeout(60_000);

describe('--hosts N (AGENT_HOSTS=3): one process, a rack of hosts with their own identities', () => {
  let redisSrv: ServerHandle, natsSrv: ServerHandle, redis: Redis, bus: Bus, controller: RunningGrpcServer;
  const abort = new AbortController();
  let runnables: Promise<void>[] = [];
  const registrations: agent.RegisterHostRequest[] = [];
  const heartbeats: events.Heartbeat[] = [];
  const epochs = new Map<string, number>();

  beforeAll(async () => {
    [redisSrv, natsSrv] = await Promise.all([startRedisServer(), startNatsServer()]);
    const logger = silentLogger();
    redis = await connectRedis({ url: redisSrv.url, name: 'test', logger });
    bus = await connectBus({ url: natsSrv.url, name: 'test', logger });
    let next = 10;
    controller = await startGrpcServer({
      port: 0, logger,
      services: [service({ definition: agent.HostRegistryServiceService, handlers: { registerHost: async (req) => {
        registrations.push(req);
        const epoch = ++next;
        epochs.set(req.profile!.hostId, epoch);
        return { epoch, heartbeatIntervalMs: 100, leaseTtlMs: 900, selfFenceAfterMs: 2000 };
      } } })],
    });
    bus.subscribe(HEARTBEAT_WILDCARD, events.Heartbeat, (hb) => void heartbeats.push(hb));
    const config = loadConfig(agentConfigSchema, { HOST_ID: 'rack', AGENT_HOSTS: '3', CONTROLLER_URL: controller.address, AGENT_STATE_DIR: mkdtempSync(join(tmpdir(), 'agent-')) });
    const wiring = await wireComputeAgent({ config, logger, metrics: createProcessMetrics({ service: 'compute-agent' }), redis, bus, revocations: new RevocationList() }, config, {
      vtep: null, imageSource: async function* () { yield Buffer.from('x'); },
    });
    runnables = (wiring.runnables ?? []).map((r) => r.start(abort.signal));
  });

  afterAll(async () => {
    abort.abort();
    await Promise.all(runnables);
    await controller?.shutdown(1000);
    await bus?.close();
    await redis?.quit();
    await Promise.all([redisSrv?.stop(), natsSrv?.stop()]);
  });

  it('registers each host with its own id, tunnel IP and profile; each heartbeats and holds its lease with its own epoch', async () => {
    await waitFor(() => epochs.size === 3);
    expect([...epochs.keys()].sort()).toEqual(['rack-0', 'rack-1', 'rack-2']);
    expect(new Set(registrations.map((r) => r.tunnelIp)).size).toBe(3);
    expect(registrations.every((r) => r.profile!.rackId === 'rack')).toBe(true);
    expect(new Set(registrations.map((r) => r.profile!.cpuModel)).size).toBe(3); // round-robin profiles
    await waitFor(() => ['rack-0', 'rack-1', 'rack-2'].every((id) => heartbeats.filter((h) => h.hostId === id).length >= 2));
    for (const [hostId, epoch] of epochs) {
      expect(heartbeats.filter((h) => h.hostId === hostId).every((h) => Number(h.epoch) === epoch)).toBe(true);
      expect(await redis.get(`mc:compute-agent:lease:${hostId}`)).toBe(String(epoch));
    }
  });
});
