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
import { agent, compute, events, identity, network } from '@minicloud/proto';
import { createServiceClient, type GrpcTls } from '@minicloud/platform-grpc';
import { heartbeatSubject, migrationProgressedSubject, powerStateReportedSubject, Subjects } from '@minicloud/platform-bus';
import { HaProtocolKeys, Redis } from '@minicloud/platform-state';
import { bootOnHost, startChaosCloud, startProxiedAgent, until, waitAll, type ChaosCloud } from '../chaos/chaos-kit';
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

  it("/metrics of every process refuses a scrape without the bearer token, or with a wrong one (401); Prometheus' token works", async () => {
    const m = cc.cloud.manifest;
    const token = m.metrics_bearer_token!;
    expect(fs.readFileSync(path.join(m.secrets_dir!, 'metrics-bearer-token'), 'utf8')).toBe(token);
    expect(fs.statSync(path.join(m.secrets_dir!, 'metrics-bearer-token')).mode & 0o777).toBe(0o600);
    const targets = m.processes.filter((p) => p.metrics_url);
    expect(targets.map((p) => p.kind).sort()).toEqual(expect.arrayContaining(['compute-agent', 'controller', 'identity', 'image', 'network', 'openstack-api', 'volume']));
    for (const p of targets) {
      for (const headers of [{}, { authorization: 'Bearer not-the-token' }, { authorization: `Basic ${token}` }] as Record<string, string>[]) {
        const res = await fetch(`${p.metrics_url}/metrics`, { headers });
        expect([p.name, res.status]).toEqual([p.name, 401]);
        expect(await res.text()).not.toMatch(/minicloud_/);
      }
      const ok = await fetch(`${p.metrics_url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect([p.name, ok.status]).toEqual([p.name, 200]);
      expect(await ok.text()).toMatch(/^minicloud_|\nminicloud_/);
      // Health probes carry no data and stay open (load balancers, the bring-up).
      expect((await fetch(`${p.metrics_url}/healthz`)).status).toBe(200);
    }
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

  it("a compromised agent's identity is bound to its hosts: it cannot register, re-point the VTEP of, read the FDB of, or migrate from another host", async () => {
    const m = cc.cloud.manifest;
    const anon = createServiceClient(identity.IdentityServiceService, m.identity_url);
    const login = await anon.authenticate({ password: { userName: 'agent-1', password: secrets.accounts['agent-1'], domainName: 'default' }, projectName: 'service' });
    anon.close();
    // The account's hosts come with its token (bound when the bring-up made the account).
    expect(login.info!.hostIds).toEqual(['host-1']);
    const token = () => login.token;
    const controller = m.processes.find((p) => p.name === 'controller')!;
    const registry = createServiceClient(agent.HostRegistryServiceService, controller.grpc_address, { token });
    const admin = createServiceClient(identity.IdentityServiceService, m.identity_url);
    const adminToken = (await admin.authenticate({ password: { userName: m.admin.user, password: m.admin.password, domainName: 'default' }, projectName: m.admin.project })).token;
    admin.close();
    const networkUrl = (login.catalog.find((e) => e.serviceType === 'network') ?? { url: '' }).url;
    expect(networkUrl).not.toBe('');
    const net = createServiceClient(network.NetworkServiceService, networkUrl, { token });
    const netAdmin = createServiceClient(network.NetworkServiceService, networkUrl, { token: () => adminToken });
    const mig = createServiceClient(agent.MigrationServiceService, m.processes.find((p) => p.name === 'agent-2')!.grpc_address, { token });
    const vtepKey = 'mc:network:vtep:host-2';
    try {
      const hostBefore = (await cc.compute.getHost({ hostId: 'host-2' })).host!;
      const vtepBefore = await operator.hgetall(vtepKey);
      const fdbBefore = await netAdmin.getHostFdb({ hostId: 'host-2' });
      expect(vtepBefore.tunnel_ip).toBeTruthy();

      // RegisterHost as host-2, pointing the controller's commands at the attacker.
      const forgedProfile = { hostId: 'host-2', hostname: 'host-2', sockets: 1, coresPerSocket: 64, threadsPerCore: 1, ramMb: 1_048_576, diskGb: 10_000 };
      expect(await codeOf(registry.registerHost({ profile: forgedProfile, agentEndpoint: '127.0.0.1:1', tunnelIp: '192.0.2.66' }))).toBe('PERMISSION_DENIED');
      // Re-point host-2's VTEP (its tenants' frames would come to the attacker), and read its FDB.
      expect(await codeOf(net.registerVtep({ hostId: 'host-2', tunnelIp: '192.0.2.66', udpPort: 4789 }))).toBe('PERMISSION_DENIED');
      expect(await codeOf(net.getHostFdb({ hostId: 'host-2' }))).toBe('PERMISSION_DENIED');
      // Stream a VM into host-2 as if host-2 itself were the source: refused on who it is, before the
      // stream is checked against any prepared migration...
      const forgedMigration = (sourceHostId: string) => async function* () {
        yield { begin: { migrationId: 'forged', spec: { instanceId: 'forged' }, sourceHostId, destHostId: 'host-2', destEpoch: hostBefore.epoch, ramBytes: 1 << 20, pageSizeBytes: 4096 } };
      };
      const streamCode = async (sourceHostId: string) => codeOf((async () => {
        for await (const _ of mig.migrate(forgedMigration(sourceHostId)())) void _;
      })());
      expect(await streamCode('host-2')).toBe('PERMISSION_DENIED');
      // ...while its own host gets as far as the prepared-migration check (nothing prepared: FAILED_PRECONDITION).
      expect(await streamCode('host-1')).toBe('FAILED_PRECONDITION');
      // Its own host's FDB is readable with the same token: the refusals above are the binding.
      expect(await codeOf(net.getHostFdb({ hostId: 'host-1' }))).toBe('OK');

      const hostAfter = (await cc.compute.getHost({ hostId: 'host-2' })).host!;
      expect({ epoch: hostAfter.epoch, agentEndpoint: hostAfter.agentEndpoint, tunnelIp: hostAfter.tunnelIp, ramMb: hostAfter.ramMb }).toEqual({ epoch: hostBefore.epoch, agentEndpoint: hostBefore.agentEndpoint, tunnelIp: hostBefore.tunnelIp, ramMb: hostBefore.ramMb });
      expect(await operator.hgetall(vtepKey)).toEqual(vtepBefore);
      expect((await netAdmin.getHostFdb({ hostId: 'host-2' })).fdbGeneration).toBe(fdbBefore.fdbGeneration);
    } finally {
      [registry, net, netAdmin, mig].forEach((c) => c.close());
    }
  });

  it('a stolen token revoked while a service was cut off from NATS is refused by that service once it reconnects', async () => {
    const m = cc.cloud.manifest;
    // A third agent whose NATS link goes through a proxy; no periodic re-read, so only the
    // reconnection can teach it the revocation.
    const cut = await startProxiedAgent(cc, 'host-3', 3, { env: { REVOCATION_RESYNC_INTERVAL_MS: '0' } });
    const anon = createServiceClient(identity.IdentityServiceService, m.identity_url);
    const stolen = (await anon.authenticate({ password: { userName: m.admin.user, password: m.admin.password, domainName: 'default' }, projectName: m.admin.project })).token;
    const onCut = createServiceClient(agent.HypervisorServiceService, cut.grpcAddress, { token: () => stolen });
    const onConnected = createServiceClient(compute.ComputeServiceService, m.processes.find((p) => p.name === 'controller')!.grpc_address, { token: () => stolen });
    const ready = async () => (await fetch(`${cut.metricsUrl}/readyz`)).status;
    try {
      expect(await codeOf(onCut.listInstances({ hostId: 'host-3' }))).toBe('OK');
      expect(await codeOf(onConnected.getHost({ hostId: 'host-2' }))).toBe('OK');
      cut.proxy.cut();
      await until('host-3 sees NATS gone', async () => (await ready()) === 503, 10_000, 100);
      // The operator revokes the stolen token; the event reaches every connected service at once.
      const operator = createServiceClient(identity.IdentityServiceService, m.identity_url, { token: () => cc.token });
      await operator.revokeToken({ token: stolen });
      operator.close();
      await until('the connected controller refuses the token', async () => (await codeOf(onConnected.getHost({ hostId: 'host-2' }))) === 'UNAUTHENTICATED', 10_000, 100);
      // The cut-off agent could not hear it: the token still works there (the window of the outage)...
      expect(await codeOf(onCut.listInstances({ hostId: 'host-3' }))).toBe('OK');
      cut.proxy.restore();
      await until('host-3 reconnected', async () => (await ready()) === 200, 20_000, 100);
      // ...and is refused once it has reconnected and re-read identity's revocations.
      await until('the reconnected agent refuses the token', async () => (await codeOf(onCut.listInstances({ hostId: 'host-3' }))) === 'UNAUTHENTICATED', 10_000, 100);
      expect(await codeOf(anon.validateToken({}, { token: stolen }))).toBe('UNAUTHENTICATED');
    } finally {
      [anon, onCut, onConnected].forEach((c) => c.close());
      await cut.stop();
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
    // Migration progress of a migration out of host-1 (e.g. "completed", to move a VM on paper), on
    // host-1's subject or on the old unbound one.
    const forgedProgress = events.MigrationProgressed.encode(events.MigrationProgressed.fromPartial({ migration: { id: 'forged', instanceId: vm, sourceHostId: 'host-1', destHostId: 'host-2', status: 'completed' } })).finish();
    nc.publish(migrationProgressedSubject('host-1'), forgedProgress);
    await violation(statuses, 'publish', migrationProgressedSubject('host-1'));
    nc.publish(Subjects.migrationProgressed, forgedProgress);
    await violation(statuses, 'publish', Subjects.migrationProgressed);
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
