/**
 * Attacks on the cloud's infrastructure (Redis and NATS), run against a real cloud as an attacker on
 * the cloud's network would: with no credentials, with wrong ones, and with a compromised compute
 * agent's own credentials (read from the state dir, as a root on that agent's host could). Each
 * asserts the refusal (the server's own error) and that nothing changed; the last one kills the host
 * the attacker tries to keep alive and checks that HA still restarts its VM. gRPC and the REST front
 * are checked to refuse plaintext and clients that do not trust the cloud's CA. The controls are listed
 * in docs/security.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { connect, type NatsConnection, type Status } from 'nats';
import { agent, compute, events, identity } from '@minicloud/proto';
import { createServiceClient, type GrpcTls } from '@minicloud/platform-grpc';
import { heartbeatSubject, powerStateReportedSubject, Subjects } from '@minicloud/platform-bus';
import { HaProtocolKeys, Redis } from '@minicloud/platform-state';
import { bootOnHost, startChaosCloud, until, waitAll, type ChaosCloud } from '../chaos/chaos-kit';
import { ensureLocalCa } from '../../../../tools/cloud/tls-certs';

jest.setTimeout(180_000);

interface Secrets {
  infra: Record<string, string>;
  accounts: Record<string, string>;
}

/** The gRPC status code name a call fails with ('OK' when it succeeds). */
async function codeOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'OK',
    (e: { code?: string }) => e.code ?? String(e),
  );
}

/** `url` with `user`/`password` in place of its credentials (none when `user` is empty). */
function as(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString().replace(/\/$/, '');
}

/** The error a Redis command fails with ('' when it succeeds). */
async function redisError(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => '',
    (e: Error) => e.message,
  );
}

describe('security: attacks on Redis and NATS', () => {
  let cc: ChaosCloud;
  let secrets: Secrets;
  let redisUrl = '';
  let natsUrl = '';
  let operator: Redis;
  const clients: Redis[] = [];
  const conns: NatsConnection[] = [];

  /** A Redis client as `user` that neither retries nor queues (an attacker's one-shot connection). */
  const redisAs = (user: string, password: string): Redis => {
    const r = new Redis(user ? as(redisUrl, user, password) : redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, enableReadyCheck: false, retryStrategy: () => null });
    r.on('error', () => undefined);
    clients.push(r);
    return r;
  };
  /** A raw NATS connection (no reconnect) as `user`, and every status it reports. */
  const natsAs = async (user: string, password: string): Promise<{ nc: NatsConnection; statuses: Status[] }> => {
    const u = new URL(natsUrl);
    const nc = await connect({ servers: `${u.hostname}:${u.port}`, user, pass: password, reconnect: false, inboxPrefix: `_INBOX_${user}` });
    conns.push(nc);
    const statuses: Status[] = [];
    void (async () => {
      for await (const s of nc.status()) statuses.push(s);
    })();
    return { nc, statuses };
  };
  /** Resolves once the server reported a permissions violation of `operation` on `subject`. */
  const violation = (statuses: Status[], operation: 'publish' | 'subscription', subject: string) =>
    until(
      `permissions violation (${operation} ${subject})`,
      async () => statuses.some((s) => s.type === 'error' && s.data === 'PERMISSIONS_VIOLATION' && (s as Status & { permissionContext?: { operation: string; subject: string } }).permissionContext?.operation === operation && (s as Status & { permissionContext?: { subject: string } }).permissionContext?.subject === subject),
      5_000,
      50,
    );

  beforeAll(async () => {
    cc = await startChaosCloud({ agents: 2, controllers: 1 });
    secrets = JSON.parse(fs.readFileSync(path.join(cc.cloud.manifest.secrets_dir!, 'secrets.json'), 'utf8')) as Secrets;
    const r = new URL(cc.cloud.manifest.redis_url);
    redisUrl = `redis://${r.host}`;
    const n = new URL(cc.cloud.manifest.nats_url);
    natsUrl = `nats://${n.host}`;
    operator = new Redis(cc.cloud.manifest.redis_url);
    clients.push(operator);
  });

  afterAll(async () => {
    await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    clients.forEach((c) => c.disconnect());
    await cc?.stop();
  });

  it('Redis without credentials, or with a wrong password, is refused (NOAUTH / WRONGPASS)', async () => {
    const anon = redisAs('', '');
    await anon.connect();
    expect(await redisError(anon.get(HaProtocolKeys.clusterView()))).toMatch(/^NOAUTH/);
    expect(await redisError(anon.flushall())).toMatch(/^NOAUTH/);
    expect(await redisError(anon.call('AUTH', 'operator', 'not-the-password'))).toMatch(/^WRONGPASS/);
    expect(await redisError(anon.call('AUTH', 'default', ''))).toMatch(/^WRONGPASS/);
    expect(await redisError(anon.get(HaProtocolKeys.clusterView()))).toMatch(/^NOAUTH/);
    expect(await operator.exists('mc:identity:signing-key:active')).toBe(1);
  });

  it("another service's or an agent's Redis user cannot read identity's signing keys, which are sealed at rest anyway", async () => {
    for (const user of ['network', 'controller', 'agent-1']) {
      const c = redisAs(user, secrets.infra[user]);
      await c.connect();
      expect(await c.ping()).toBe('PONG');
      expect(await redisError(c.hgetall('mc:identity:signing-keys'))).toMatch(/^NOPERM/);
      expect(await redisError(c.get('mc:identity:signing-key:active'))).toMatch(/^NOPERM/);
      // No dangerous commands either: no FLUSHALL, CONFIG, ACL or KEYS for a service...
      for (const cmd of [c.flushall(), c.config('GET', 'requirepass'), c.call('ACL', 'LIST'), c.keys('*')]) expect(await redisError(cmd)).toMatch(/^NOPERM/);
      // ...nor DEBUG or SHUTDOWN (asked of the ACL without running them: Redis refuses DEBUG anyway unless enabled).
      for (const cmd of [['DEBUG', 'SLEEP', '0'], ['SHUTDOWN', 'NOSAVE']]) expect(String(await operator.call('ACL', 'DRYRUN', user, ...cmd))).toMatch(/no permissions/);
    }
    const stored = Object.values(await operator.hgetall('mc:identity:signing-keys'));
    expect(stored.length).toBeGreaterThan(0);
    for (const v of stored) {
      expect(v).toMatch(/^sealed:v1:/);
      expect(v).not.toMatch(/privateJwk|"d"/);
    }
  });

  it('gRPC and the REST front speak TLS only: plaintext, and a client that does not trust the cloud CA, are refused', async () => {
    const m = cc.cloud.manifest;
    expect(m.tls?.ca_file).toBeTruthy();
    const controller = m.processes.find((p) => p.name === 'controller')!.grpc_address;
    const strangerCa = await ensureLocalCa(path.join(cc.cloud.stateDir, 'stranger'), { keep: false, name: 'not the cloud CA' });
    const dial = (address: string, tls: GrpcTls | null) =>
      createServiceClient(compute.ComputeServiceService, address, { tls, token: () => cc.token, maxAttempts: 1, deadlineMs: 10_000 });
    const plain = dial(controller, null);
    const stranger = dial(controller, { ca: fs.readFileSync(strangerCa.files.caCert) });
    const trusted = dial(controller, { ca: fs.readFileSync(m.tls!.ca_file) });
    const plainIdentity = createServiceClient(identity.IdentityServiceService, m.identity_url, { tls: null, maxAttempts: 1, deadlineMs: 10_000 });
    try {
      // A plaintext call (a token or password in the clear) never reaches a handler.
      expect(await codeOf(plain.listHosts({}))).toBe('UNAVAILABLE');
      expect(await codeOf(plainIdentity.authenticate({ password: { userName: 'admin', password: m.admin.password, domainName: 'default' }, projectName: 'admin' }))).toBe('UNAVAILABLE');
      // A client that trusts another CA (a man in the middle's view of it) does not complete the handshake.
      expect(await codeOf(stranger.listHosts({}))).toBe('UNAVAILABLE');
      // The same call over TLS verified with the cloud CA is served, so the refusals above are TLS.
      expect(await codeOf(trusted.listHosts({}))).toBe('OK');
    } finally {
      [plain, stranger, trusted, plainIdentity].forEach((c) => c.close());
    }
    // The REST front: plain HTTP to its port gets no HTTP answer at all (the TLS server drops the
    // connection: fetch fails); HTTPS verified with the CA is served.
    const api = new URL(m.openstack_api_url!);
    expect(api.protocol).toBe('https:');
    const overHttp = await fetch(`http://${api.host}/identity/v3`).then(
      (r) => `HTTP ${r.status}`,
      (e: Error) => `${e.name}: ${e.message}`,
    );
    expect(overHttp).toBe('TypeError: fetch failed');
    expect((await fetch(`${m.openstack_api_url}/identity/v3`)).status).toBe(200);
  });

  it('NATS without credentials, or with a wrong password, is refused', async () => {
    const u = new URL(natsUrl);
    const servers = `${u.hostname}:${u.port}`;
    await expect(connect({ servers, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers, user: 'controller', pass: 'not-the-password', reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
  });

  it("a compromised agent's own identity credential calls what agents call, and no admin RPC", async () => {
    const m = cc.cloud.manifest;
    const anon = createServiceClient(identity.IdentityServiceService, m.identity_url);
    const login = await anon.authenticate({ password: { userName: 'agent-1', password: secrets.accounts['agent-1'], domainName: 'default' }, projectName: 'service' });
    anon.close();
    expect(login.info!.roles).toContain('compute_agent');
    expect(login.info!.roles).not.toContain('admin');
    const token = () => login.token;
    const id = createServiceClient(identity.IdentityServiceService, m.identity_url, { token });
    const cmp = createServiceClient(compute.ComputeServiceService, m.processes.find((p) => p.name === 'controller')!.grpc_address, { token });
    const otherAgent = createServiceClient(agent.HypervisorServiceService, m.processes.find((p) => p.name === 'agent-2')!.grpc_address, { token });
    try {
      // What an agent needs works with it...
      expect(await codeOf(id.listRevocations({}))).toBe('OK');
      // ...and nothing only the controller or an operator may do.
      const before = (await cc.compute.getHost({ hostId: 'host-2' })).host!;
      expect(await codeOf(cmp.updateHost({ hostId: 'host-2', enabled: false, disabledReason: 'attacker' }))).toBe('PERMISSION_DENIED');
      expect(await codeOf(otherAgent.listInstances({}))).toBe('PERMISSION_DENIED');
      expect(await codeOf(otherAgent.setHostPower({}))).toBe('PERMISSION_DENIED');
      expect(await codeOf(id.createUser({ name: 'backdoor', password: 'backdoor-pw-1' }))).toBe('PERMISSION_DENIED');
      expect(await codeOf(id.rotateSigningKey({}))).toBe('PERMISSION_DENIED');
      const after = (await cc.compute.getHost({ hostId: 'host-2' })).host!;
      expect(after.enabled).toBe(before.enabled);
      expect((await cc.compute.listHosts({})).hosts.every((h) => h.enabled)).toBe(true);
    } finally {
      [id, cmp, otherAgent].forEach((c) => c.close());
    }
  });

  it("a compromised agent cannot forge another host's heartbeat, lease or power report, nor a revocation, nor read tenants' events; HA still restarts the dead host's VM", async () => {
    const [vm] = await bootOnHost(cc, 'host-1', 1);
    const victim = (await cc.compute.getHost({ hostId: 'host-1' })).host!;
    // The attacker holds agent-2's credentials (host-2).
    const { nc, statuses } = await natsAs('agent-2', secrets.infra['agent-2']);
    const agentRedis = redisAs('agent-2', secrets.infra['agent-2']);
    await agentRedis.connect();
    const forged = (sequence: number) => events.Heartbeat.encode(events.Heartbeat.fromPartial({ hostId: 'host-1', epoch: victim.epoch, sequence, runningInstanceIds: [vm] })).finish();

    // Its own subjects work: the server accepts agent-2's heartbeat subject (the controller ignores a
    // payload naming another host), so the refusals below are the permissions, not a dead connection.
    nc.publish(heartbeatSubject('host-2'), forged(1));
    await nc.flush();
    expect(statuses.filter((s) => s.data === 'PERMISSIONS_VIOLATION')).toEqual([]);

    nc.publish(heartbeatSubject('host-1'), forged(2));
    await violation(statuses, 'publish', heartbeatSubject('host-1'));
    nc.publish(powerStateReportedSubject('host-1'), events.InstancePowerStateReported.encode(events.InstancePowerStateReported.fromPartial({ instanceId: vm, hostId: 'host-1', epoch: victim.epoch + 100, powerState: compute.PowerState.POWER_STATE_SHUTDOWN })).finish());
    await violation(statuses, 'publish', powerStateReportedSubject('host-1'));
    nc.publish(Subjects.tokenRevoked, events.TokenRevoked.encode(events.TokenRevoked.fromPartial({ userId: 'any', revokedBefore: new Date() })).finish());
    await violation(statuses, 'publish', Subjects.tokenRevoked);
    nc.subscribe('minicloud.evt.>');
    await violation(statuses, 'subscription', 'minicloud.evt.>');
    // The datastore heartbeat of another host (it would turn "failed" into "isolated": no restart).
    expect(await redisError(agentRedis.set(HaProtocolKeys.lease('host-1'), String(victim.epoch), 'PX', 60_000))).toMatch(/^NOPERM/);
    expect(await redisError(agentRedis.get(HaProtocolKeys.lease('host-1')))).toMatch(/^NOPERM/);

    // Kill host-1 and keep forging its heartbeat (both ways) while HA decides.
    process.kill(cc.agentPid('host-1'), 'SIGKILL');
    cc.checker.hostKilled('host-1');
    let seq = 10;
    const forging = setInterval(() => {
      nc.publish(heartbeatSubject('host-1'), forged(++seq));
      nc.publish(heartbeatSubject('host-2'), forged(++seq));
    }, 200);
    try {
      const [moved] = await waitAll(cc, [vm], (s) => s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId === 'host-2', 60_000, 'the VM of host-1 ACTIVE on host-2');
      expect(moved.hostId).toBe('host-2');
    } finally {
      clearInterval(forging);
    }
    expect((await cc.compute.getHost({ hostId: 'host-1' })).host!.state).toBe(compute.HostState.HOST_STATE_FENCED);
    expect(cc.checker.violations).toEqual([]);
  });
});
