import { agent } from '@minicloud/proto';
import { createLogger, currentRequestId } from '@minicloud/platform-logging';
import { startGrpcServer, service, type RunningGrpcServer } from './server';
import { createServiceClient } from './client';
import type { ServiceClient, ServiceHandlers } from './types';

describe('request id through gRPC (x-request-id metadata)', () => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({ service: 'test', destination: { write: (s: string) => void lines.push(JSON.parse(s)) } });
  const seenBack: (string | undefined)[] = [];
  let front: RunningGrpcServer;
  let back: RunningGrpcServer;
  let toBack: ServiceClient<typeof agent.HostRegistryServiceService>;
  let toFront: ServiceClient<typeof agent.HostRegistryServiceService>;

  const serve = (registerHost: ServiceHandlers<typeof agent.HostRegistryServiceService>['registerHost']) =>
    startGrpcServer({ port: 0, logger, services: [service({ definition: agent.HostRegistryServiceService, handlers: { registerHost } })] });

  beforeAll(async () => {
    back = await serve(async (_req, ctx) => {
      seenBack.push(ctx.requestId, currentRequestId());
      ctx.logger.info('back handled');
      return { epoch: 1 };
    });
    toBack = createServiceClient(agent.HostRegistryServiceService, back.address);
    front = await serve(async (req) => {
      // A log line of the plain process logger, and a downstream call without an explicit requestId.
      await new Promise((r) => setTimeout(r, 1));
      logger.info({ agent_endpoint: req.agentEndpoint }, 'front handling');
      return toBack.registerHost(req);
    });
    toFront = createServiceClient(agent.HostRegistryServiceService, front.address);
  });
  afterAll(async () => {
    toFront.close();
    toBack.close();
    await front.shutdown();
    await back.shutdown();
  });

  it('reaches the log lines of the handler and the downstream call it makes', async () => {
    await toFront.registerHost({ agentEndpoint: 'h-1' }, { requestId: 'req-grpc-1' });
    expect(seenBack).toEqual(['req-grpc-1', 'req-grpc-1']);
    expect(lines.find((l) => l.msg === 'front handling')).toMatchObject({ request_id: 'req-grpc-1', agent_endpoint: 'h-1' });
    expect(lines.find((l) => l.msg === 'back handled')).toMatchObject({ request_id: 'req-grpc-1', grpc_method: 'registerHost' });
    // the access log: one info line per handled change, with its duration, on both servers
    expect(lines.filter((l) => l.msg === 'call handled' && l.request_id === 'req-grpc-1')).toHaveLength(2);
    expect(lines.find((l) => l.msg === 'call handled')).toMatchObject({ level: 'info', grpc_code: 'OK', duration_ms: expect.any(Number) });
    // one request_id key per line, not a binding plus the mixin's
    expect(lines.every((l) => !JSON.stringify(l).includes('"request_id":"req-grpc-1","request_id"'))).toBe(true);
  });

  it('gives a call without x-request-id a new id, and no other call shares it', async () => {
    seenBack.length = 0;
    await toBack.registerHost({ agentEndpoint: 'h-2' });
    await toBack.registerHost({ agentEndpoint: 'h-3' });
    expect(seenBack[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seenBack[2]).not.toBe(seenBack[0]);
    expect(currentRequestId()).toBeUndefined();
  });
});
