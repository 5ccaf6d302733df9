import { createTokenVerifier, generateSigningKey, RevocationList, signToken, type TokenVerifier } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { silentLogger, type Logger } from '@minicloud/platform-logging';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer } from '@minicloud/testing';

/** What a volume integration suite runs on: its own Redis and NATS, a signing key and the verifier that trusts it. */
export interface VolumeTestBed {
  readonly redis: Redis;
  readonly bus: Bus;
  readonly logger: Logger;
  readonly verifier: TokenVerifier;
  /** A token of a user of `projectId` with `roles`, signed by the bed's key (valid one hour). */
  tokenFor(projectId: string, roles: string[]): Promise<string>;
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
  return {
    redis,
    bus,
    logger,
    verifier: createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() }),
    tokenFor: async (projectId, roles) =>
      (await signToken(key, { userId: `u-${projectId}-${roles[0]}`, userName: 'u', projectId, projectName: projectId, domainId: 'default', roles }, { nowMs: Date.now(), ttlSeconds: 3600 })).token,
    stop: async () => {
      await bus.close();
      await redis.quit();
      await Promise.all([redisServer.stop(), natsServer.stop()]);
    },
  };
}
