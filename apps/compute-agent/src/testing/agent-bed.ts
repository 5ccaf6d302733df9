/**
 * Test-only: one compute-agent process wired in-process against real Redis and NATS and a fake
 * controller (HostRegistryService whose RegisterHost the test answers), as the agent's integration
 * specs run it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RevocationList } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, service, startGrpcServer, type RunningGrpcServer } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics, type ProcessMetrics } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { agent } from '@minicloud/proto';
import { startNatsServer, startRedisServer, waitFor } from '@minicloud/testing';
import { agentConfigSchema } from '../config';
import { wireComputeAgent, type AgentHandles, type AgentOverrides } from '../wire';

/** The running agent, its adapters and a HypervisorService client; `stop()` tears all of it down. */
export interface AgentBed {
  redis: Redis;
  bus: Bus;
  metrics: ProcessMetrics;
  handles: AgentHandles;
  client: ReturnType<typeof createServiceClient<typeof agent.HypervisorServiceService>>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server and nats-server, the fake controller (`registerHost` answers RegisterHost),
 * and the agent configured by `env` (CONTROLLER_URL and a temp AGENT_STATE_DIR are added) with
 * `overrides`; runs `beforeStart`, starts the agent's loops, and resolves once the first host
 * registered with `epoch`.
 */
export async function startAgentBed(opts: {
  env: Record<string, string>;
  registerHost: () => Promise<Partial<agent.RegisterHostResponse>>;
  overrides: AgentOverrides;
  epoch: number;
  /** Runs before the agent's loops start (subscriptions that must see the first heartbeat). */
  beforeStart?: (bus: Bus) => Promise<void>;
}): Promise<AgentBed> {
  const abort = new AbortController();
  const [redisSrv, natsSrv] = await Promise.all([startRedisServer(), startNatsServer()]);
  const logger = silentLogger();
  const redis = await connectRedis({ url: redisSrv.url, name: 'test', logger });
  const bus = await connectBus({ url: natsSrv.url, name: 'test', logger });
  const controller: RunningGrpcServer = await startGrpcServer({
    port: 0,
    logger,
    services: [service({ definition: agent.HostRegistryServiceService, handlers: { registerHost: async () => agent.RegisterHostResponse.fromPartial(await opts.registerHost()) } })],
  });
  const config = loadConfig(agentConfigSchema, { ...opts.env, CONTROLLER_URL: controller.address, AGENT_STATE_DIR: mkdtempSync(join(tmpdir(), 'agent-')) });
  const metrics = createProcessMetrics({ service: 'compute-agent' });
  const wiring = await wireComputeAgent({ config, logger, metrics, redis, bus, revocations: new RevocationList() }, config, opts.overrides);
  const agentSrv = await startGrpcServer({ port: 0, logger, services: wiring.services });
  await wiring.onListening?.(agentSrv);
  await opts.beforeStart?.(bus);
  const runnables = (wiring.runnables ?? []).map((r) => r.start(abort.signal));
  const client = createServiceClient(agent.HypervisorServiceService, agentSrv.address);
  await waitFor(() => wiring.handles.hosts[0].epoch === opts.epoch);
  return {
    redis,
    bus,
    metrics,
    handles: wiring.handles,
    client,
    stop: async () => {
      abort.abort();
      await Promise.all(runnables);
      await Promise.all(wiring.handles.guestSsh.map((g) => g.stop()));
      client.close();
      await agentSrv.shutdown(1000);
      await controller.shutdown(1000);
      await bus.close();
      await redis.quit();
      await Promise.all([redisSrv.stop(), natsSrv.stop()]);
    },
  };
}
