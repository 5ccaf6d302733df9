/**
 * Revocations reach a service that was cut off from NATS: a real nats-server is stopped while
 * identity revokes a token (its event cannot be published then, and core NATS would not replay it
 * anyway), and restarted; the service re-reads identity's revocations on reconnecting and refuses
 * the token. Identity is stood in for by its durable revocation list (what ListRevocations answers).
 */
import { events, type identity } from '@minicloud/proto';
import { createTokenVerifier, generateSigningKey, RevocationList, signToken, type SigningKeyPair, type TokenVerifier } from '@minicloud/platform-auth';
import { connectBus, Subjects, type Bus } from '@minicloud/platform-bus';
import { silentLogger } from '@minicloud/platform-logging';
import { startNatsServer, waitFor, type NatsServerHandle } from '@minicloud/testing';
import { syncRevocations } from './revocation-sync';

jest.setTimeout(60_000);

/** Identity's durable revocations (RevocationStore in apps/identity), as ListRevocations answers them. */
class FakeIdentity {
  readonly tokens = new Map<string, number>();
  readonly users = new Map<string, number>();
  /** Calls to ListRevocations that fail before the next one answers (identity unreachable). */
  failNext = 0;
  calls = 0;
  async listRevocations(): Promise<identity.ListRevocationsResponse> {
    this.calls++;
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('UNAVAILABLE: identity unreachable');
    }
    return {
      tokens: [...this.tokens].map(([tokenId, expiresAtMs]) => ({ tokenId, expiresAt: new Date(expiresAtMs) })),
      users: [...this.users].map(([userId, beforeMs]) => ({ userId, revokedBefore: new Date(beforeMs) })),
    };
  }
}

/** The verification outcome of a token: 'ok', or the error message. */
const outcome = (v: TokenVerifier, token: string) =>
  v.verify(token).then(
    () => 'ok',
    (e: Error) => e.message,
  );

describe('revocation sync across a NATS outage', () => {
  let nats: NatsServerHandle;
  let key: SigningKeyPair;
  const buses: Bus[] = [];
  const stops: (() => void)[] = [];

  const tokenOf = async (userId: string) => signToken(key, { userId, userName: userId, projectId: 'p', projectName: 'p', domainId: 'default', roles: ['member', 'reader'] }, { nowMs: Date.now(), ttlSeconds: 3600 });
  /** A service: its own bus, revocation list, verifier and sync, as runService wires them. */
  const startService = async (idp: FakeIdentity, opts: { resyncIntervalMs?: number } = {}) => {
    const bus = await connectBus({ url: nats.url, name: 'svc', logger: silentLogger() });
    buses.push(bus);
    const list = new RevocationList();
    const reloads: string[] = [];
    stops.push(await syncRevocations({ bus, list, load: () => idp.listRevocations(), retryDelayMs: 20, onReloaded: (r) => reloads.push(r), ...opts }));
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: list, nowMs: () => Date.now() });
    return { bus, verifier, reloads };
  };

  beforeAll(async () => {
    nats = await startNatsServer();
    key = await generateSigningKey(Date.now());
  });
  afterAll(async () => {
    stops.forEach((s) => s());
    await Promise.all(buses.map((b) => b.close()));
    await nats?.stop();
  });

  it('refuses a token revoked while it was disconnected, once NATS is back (retrying while identity is unreachable)', async () => {
    const idp = new FakeIdentity();
    const idBus = await connectBus({ url: nats.url, name: 'identity', logger: silentLogger() });
    buses.push(idBus);
    const svc = await startService(idp);
    const [live, missed, untouched] = await Promise.all([tokenOf('u-live'), tokenOf('u-missed'), tokenOf('u-untouched')]);
    for (const t of [live, missed, untouched]) expect(await outcome(svc.verifier, t.token)).toBe('ok');

    // Connected: identity's event revokes at once (core NATS).
    idp.tokens.set(live.context.tokenId, live.context.expiresAtMs);
    await idBus.publishEvent(Subjects.tokenRevoked, events.TokenRevoked, { tokenId: live.context.tokenId, userId: 'u-live', expiresAt: new Date(live.context.expiresAtMs) });
    await waitFor(async () => (await outcome(svc.verifier, live.token)) === 'token revoked', { message: 'live revocation applied' });

    // NATS goes down; identity revokes a user's tokens meanwhile. Its event cannot be published (a
    // JetStream publish needs the server's ack), so only its durable store has it.
    await nats.stop();
    await waitFor(() => !svc.bus.isConnected(), { message: 'service saw the disconnect' });
    idp.users.set('u-missed', Date.now());
    // Before NATS is back, the service cannot know: the token still passes (the documented window).
    expect(await outcome(svc.verifier, missed.token)).toBe('ok');
    const callsBefore = idp.calls;

    // NATS is back, but identity fails the first two ListRevocations: the reload retries.
    idp.failNext = 2;
    await nats.restart();
    await waitFor(() => svc.reloads.includes('reconnect'), { timeoutMs: 15_000, message: 'revocations reloaded after the reconnect' });
    expect(idp.calls - callsBefore).toBe(3);
    expect(await outcome(svc.verifier, missed.token)).toBe('token revoked');
    expect(await outcome(svc.verifier, live.token)).toBe('token revoked');
    expect(await outcome(svc.verifier, untouched.token)).toBe('ok');
  });

  it('with a resync interval, also learns a revocation whose event was never published (identity itself cut off)', async () => {
    const idp = new FakeIdentity();
    const svc = await startService(idp, { resyncIntervalMs: 200 });
    const t = await tokenOf('u-lost-event');
    expect(await outcome(svc.verifier, t.token)).toBe('ok');
    idp.tokens.set(t.context.tokenId, t.context.expiresAtMs);
    await waitFor(async () => (await outcome(svc.verifier, t.token)) === 'token revoked', { timeoutMs: 5_000, message: 'revocation learned by the periodic reload' });
    expect(svc.reloads).toContain('interval');
    expect(svc.bus.isConnected()).toBe(true);
  });
});
