import { createTokenVerifier, generateSigningKey, RevocationList, signToken, type TokenVerifier } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { createServiceClient, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger, type Logger } from '@minicloud/platform-logging';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { volume } from '@minicloud/proto';
import { startNatsServer, startRedisServer } from '@minicloud/testing';

/** What a volume integration suite runs on: its own Redis and NATS, a signing key and the verifier that trusts it. */
export interface VolumeTestBed {
  readonly redis: Redis;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly verifier: TokenVerifier;
  /** A token of a user of `projectId` with `roles`, signed by the bed's key (valid one hour). */
  tokenFor(projectId: string, roles: string[]): Promise<string>;
  /**
   * A VolumeService client of the server at `address` calling as such a user; it is also pushed on
   * `track` (the suite closes those before stopping its server). `deadlineMs`: per-call deadline.
   */
  volumeClient(address: string, projectId: string, roles: string[], track: { close(): void }[], deadlineMs?: number): Promise<ServiceClient<typeof volume.VolumeServiceService>>;
  /** Closes the connections and stops both servers. */
  stop(): Promise<void>;
}

/** Starts a {@link VolumeTestBed}; `name` names the Redis and NATS connections. */
export async function startVolumeTestBed(name: string): Promise<VolumeTestBed> {
  const [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
  const logger = silentLogger();
  const redis = await connectRedis({ url: redisServer.url, name, logger });
  const bus = await connectBus({ url: natsServer.url, name, logger });
  const key = await generateSigningKey(Date.now());
  const tokenFor = async (projectId: string, roles: string[]) =>
    (await signToken(key, { userId: `u-${projectId}-${roles[0]}`, userName: 'u', projectId, projectName: projectId, domainId: 'default', roles, isAdminProject: roles.includes('admin') }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
  return {
    redis,
    bus,
    logger,
    verifier: createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() }),
    tokenFor,
    volumeClient: async (address, projectId, roles, track, deadlineMs) => {
      const token = await tokenFor(projectId, roles);
      const client = createServiceClient(volume.VolumeServiceService, address, { token: () => token, ...(deadlineMs === undefined ? {} : { deadlineMs }) });
      track.push(client);
      return client;
    },
    stop: async () => {
      await bus.close();
      await redis.quit();
      await Promise.all([redisServer.stop(), natsServer.stop()]);
    },
  };
}
