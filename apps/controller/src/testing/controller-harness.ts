/**
 * Test-only harness for the controller's integration tests: the controller in-process over its own
 * Redis and NATS (libs/testing), fake image/network gRPC services, minted tokens and, when a test
 * needs real hypervisors, in-process compute agents (wireComputeAgent); the agent double is
 * @minicloud/compute-agent/testing's FakeHypervisor.
 *
 * Lives under `testing/` so the boundary check (tools/boundaries/check-boundaries.ts) treats it as
 * test code: it may import @minicloud/testing, and production code must never import it.
 *
 * Typical use:
 *   const h = await ControllerHarness.start('lm-test');
 *   const image = await h.startFakeImage();
 *   const net = await h.startFakeNetwork();
 *   const { controller, grpc } = await h.startControllerUnderTest({ config: { TIME_SCALE: '1000' }, endpoints: { image: image.address, network: net.server.address } });
 *   ...
 *   afterAll(() => h.close());
 */
import { setMaxListeners } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '@minicloud/domain-errors';
import { agent, image, network } from '@minicloud/proto';
import { createTokenVerifier, expandRoles, generateSigningKey, RevocationList, signToken, type TokenVerifier } from '@minicloud/platform-auth';
import { connectBus, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type ClientOptions, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { createProcessMetrics, Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, type ServerHandle } from '@minicloud/testing';
import { partial } from '@minicloud/compute-agent/testing';
import { agentConfigSchema } from '../../../compute-agent/src/config';
import { wireComputeAgent, type AgentHandles } from '../../../compute-agent/src/wire';
import { controllerConfigSchema } from '../config';
import { createController, type Controller } from '../wire';

/** The logger every harness part uses (silent). */
export const testLogger = silentLogger();

/** The controller settings every integration test starts from; a test's `config` overrides them key by key. */
export const BASE_CONTROLLER_ENV: Record<string, string> = {
  GRPC_PORT: '0',
  QUOTAS_ENABLED: 'false',
  HA_HOST_FAILURES_TO_TOLERATE: '0',
  HOST_DOWN_AFTER_MS: '3000',
  LIVENESS_INTERVAL_MS: '200',
  RESYNC_INTERVAL_MS: '1000',
};

/** A fresh signing key, the verifier that trusts it, and tokens signed by it (1 h TTL, domain `default`). */
export interface TestTokens {
  /** Token of user `minicloud` in project `service` with role admin. */
  adminToken: string;
  verifier: TokenVerifier;
  /** Signs a token for `userId` in `projectId` (user and project names equal their ids) with `roles` expanded; one with role admin is on the admin project (`is_admin_project`), so a cloud admin. */
  mint(userId: string, projectId: string, roles: string[]): Promise<string>;
}

/** Generates a signing key and mints the admin token; see {@link TestTokens}. */
export async function mintTokens(): Promise<TestTokens> {
  const key = await generateSigningKey(Date.now());
  const mint = async (userId: string, projectId: string, roles: string[]) =>
    (await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles: expandRoles(roles), isAdminProject: roles.includes('admin') }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
  const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
  return { adminToken: await mint('minicloud', 'service', ['admin']), verifier, mint };
}

/** Serves one gRPC service from `handlers` (wrap them in {@link partial}) on a free port; with `verifier`, calls must carry a valid token. */
export async function startFakeService(definition: unknown, handlers: unknown, opts: { verifier?: TokenVerifier } = {}): Promise<RunningGrpcServer> {
  return startGrpcServer({ port: 0, logger: testLogger, verifier: opts.verifier, services: [{ definition, handlers } as never] });
}

/**
 * A fake ImageService. By default getImage answers any id with an ACTIVE raw image of 1 byte;
 * `handlers` replace or add methods. Methods not given answer FAILED_PRECONDITION.
 */
export async function startFakeImage(handlers: Record<string, unknown> = {}, opts: { verifier?: TokenVerifier } = {}): Promise<RunningGrpcServer> {
  return startFakeService(
    image.ImageServiceService,
    partial<Record<string, unknown>>({
      getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'raw', sizeBytes: 1, osHashValue: '' } }),
      ...handlers,
    }),
    opts,
  );
}

/** A fake NetworkService that keeps ports in memory and records every bindPort. */
export interface FakeNetwork {
  server: RunningGrpcServer;
  /** Ports by id (created by createPort, removed by deletePort); port n gets MAC fa:16:3e:00:00:<n as 2 hex digits> and IP 10.0.0.<n>. */
  ports: Map<string, network.Port>;
  /** Every bindPort call in order. */
  bindings: { portId: string; hostId: string }[];
}

/**
 * The security groups the fake network service lists to every caller: p-alice's default, web and
 * two named dup, and p-bob's web.
 */
export const FAKE_SECURITY_GROUPS: network.SecurityGroup[] = [
  { id: 'sg-default', name: 'default', projectId: 'p-alice' },
  { id: 'sg-web', name: 'web', projectId: 'p-alice' },
  { id: 'sg-dup-1', name: 'dup', projectId: 'p-alice' },
  { id: 'sg-dup-2', name: 'dup', projectId: 'p-alice' },
  { id: 'sg-bob-web', name: 'web', projectId: 'p-bob' },
].map((g) => network.SecurityGroup.fromPartial(g));

/**
 * Starts a {@link FakeNetwork}: network `net-1` (VNI 1001, MTU 1450; other ids NOT_FOUND), and
 * createPort (no security group: sg-default)/bindPort/listPorts(by device)/deletePort over the
 * in-memory ports (unknown port NOT_FOUND), listSecurityGroups answering {@link FAKE_SECURITY_GROUPS}.
 */
export async function startFakeNetwork(opts: { verifier?: TokenVerifier } = {}): Promise<FakeNetwork> {
  const ports = new Map<string, network.Port>();
  const bindings: { portId: string; hostId: string }[] = [];
  let seq = 0;
  const server = await startFakeService(
    network.NetworkServiceService,
    partial<Record<string, unknown>>({
      getNetwork: async (req: network.GetNetworkRequest) => {
        if (req.networkId !== 'net-1') throw new NotFoundError('network', req.networkId);
        return { network: { id: 'net-1', name: 'private', segmentationId: 1001, mtu: 1450 } };
      },
      createPort: async (req: network.CreatePortRequest) => {
        const n = ++seq;
        const port = network.Port.fromPartial({
          id: `port-${n}`, networkId: req.networkId, projectId: req.projectId, deviceId: req.deviceId, deviceOwner: req.deviceOwner,
          macAddress: `fa:16:3e:00:00:${(n % 256).toString(16).padStart(2, '0')}`, fixedIps: [{ subnetId: 's', ipAddress: `10.0.0.${n}` }],
          // as the network service: no group named is the project's default group
          securityGroupIds: req.securityGroupIds.length > 0 ? req.securityGroupIds : ['sg-default'],
        });
        ports.set(port.id, port);
        return { port };
      },
      bindPort: async (req: network.BindPortRequest) => {
        const p = ports.get(req.portId);
        if (!p) throw new NotFoundError('port', req.portId);
        p.bindingHostId = req.hostId;
        bindings.push({ portId: req.portId, hostId: req.hostId });
        return { port: p };
      },
      listSecurityGroups: async () => ({ securityGroups: FAKE_SECURITY_GROUPS }),
      listPorts: async (req: network.ListPortsRequest) => ({ ports: [...ports.values()].filter((p) => !req.deviceId || p.deviceId === req.deviceId) }),
      deletePort: async (req: network.DeletePortRequest) => {
        if (!ports.delete(req.portId)) throw new NotFoundError('port', req.portId);
        return {};
      },
    }),
    opts,
  );
  return { server, ports, bindings };
}

/** A controller replica started by {@link ControllerHarness.startControllerUnderTest}. */
export interface ControllerUnderTest {
  controller: Controller;
  /** Its gRPC server (services: the controller's, verifier: the harness tokens'). */
  grpc: RunningGrpcServer;
}

/**
 * Owns everything an integration test starts and stops it all in one {@link close} call:
 * abort the runnables and wait for them, settle agents' migrations, close controllers, stop
 * registered doubles, close clients, shut gRPC servers down, close buses and Redis, stop the servers.
 */
export class ControllerHarness {
  private readonly ac = new AbortController();
  private readonly running: Promise<unknown>[] = [];
  private readonly agentHandles: AgentHandles[] = [];
  private readonly controllers: Controller[] = [];
  private readonly doubles: { stop(): Promise<void> }[] = [];
  private readonly clients: { close(): void }[] = [];
  private readonly servers: RunningGrpcServer[] = [];
  private readonly buses: Bus[] = [];

  private constructor(
    readonly name: string,
    readonly redisServer: ServerHandle,
    readonly natsServer: ServerHandle,
    readonly redis: Redis,
    /** The harness's own bus connection (controllers use it unless given another). */
    readonly bus: Bus,
    readonly tokens: TestTokens,
  ) {
    this.buses.push(bus);
    // The runnables of every controller and agent a test starts listen on this one signal, by design.
    setMaxListeners(0, this.ac.signal);
  }

  /** Starts Redis and NATS on free ports, connects to both as `name`, and mints tokens. */
  static async start(name: string): Promise<ControllerHarness> {
    const [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
    const redis = await connectRedis({ url: redisServer.url, name, logger: testLogger });
    const bus = await connectBus({ url: natsServer.url, name, logger: testLogger });
    return new ControllerHarness(name, redisServer, natsServer, redis, bus, await mintTokens());
  }

  /** Aborted by {@link close}; runnables started by the harness run until then. */
  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** Another bus connection (e.g. one per controller replica), closed by {@link close}. */
  async connectBus(name: string): Promise<Bus> {
    const bus = await connectBus({ url: this.natsServer.url, name, logger: testLogger });
    this.buses.push(bus);
    return bus;
  }

  /** A client of `definition` at `address` sending `token` (none when undefined), closed by {@link close}. */
  client<D extends Parameters<typeof createServiceClient>[0]>(definition: D, address: string, token: string | undefined, opts: Omit<ClientOptions, 'token'> = {}): ServiceClient<D> {
    const c = createServiceClient(definition, address, { ...opts, token: () => token }) as ServiceClient<D>;
    this.clients.push(c);
    return c;
  }

  /** Registers a test double (e.g. a fake agent) whose `stop()` {@link close} awaits after the controllers close. */
  addDouble<T extends { stop(): Promise<void> }>(d: T): T {
    this.doubles.push(d);
    return d;
  }

  /** Registers a gRPC server that {@link close} shuts down. */
  addServer(s: RunningGrpcServer): RunningGrpcServer {
    this.servers.push(s);
    return s;
  }

  /** {@link startFakeService}, shut down by {@link close}. */
  async startFakeService(definition: unknown, handlers: unknown, opts: { verifier?: TokenVerifier } = {}): Promise<RunningGrpcServer> {
    return this.addServer(await startFakeService(definition, handlers, opts));
  }

  /** {@link startFakeImage}, shut down by {@link close}. */
  async startFakeImage(handlers: Record<string, unknown> = {}, opts: { verifier?: TokenVerifier } = {}): Promise<RunningGrpcServer> {
    return this.addServer(await startFakeImage(handlers, opts));
  }

  /** {@link startFakeNetwork}, shut down by {@link close}. */
  async startFakeNetwork(): Promise<FakeNetwork> {
    const net = await startFakeNetwork();
    this.addServer(net.server);
    return net;
  }

  /**
   * Creates a controller from {@link BASE_CONTROLLER_ENV} overridden by `config`, with the admin
   * token as its service credentials and `endpoints` (service type -> address) for its peers,
   * serves it on a free port behind the harness verifier and starts its runnables.
   */
  async startControllerUnderTest(opts: { endpoints: Record<string, string>; config?: Record<string, string>; registry?: Registry; bus?: Bus }): Promise<ControllerUnderTest> {
    const config = loadConfig(controllerConfigSchema, { ...BASE_CONTROLLER_ENV, ...opts.config });
    const { adminToken } = this.tokens;
    const controller = createController({
      config,
      redis: this.redis,
      bus: opts.bus ?? this.bus,
      logger: testLogger,
      registry: opts.registry ?? new Registry(),
      credentials: { getToken: async () => adminToken, endpoint: async (t) => opts.endpoints[t] },
    });
    this.controllers.push(controller);
    const grpc = this.addServer(await startGrpcServer({ port: 0, logger: testLogger, services: controller.services, verifier: this.tokens.verifier }));
    this.running.push(...controller.runnables.map((r) => r.start(this.ac.signal)));
    return { controller, grpc };
  }

  /**
   * {@link startControllerUnderTest} with a default fake image service and a fake network service
   * (both shut down by {@link close}) as its `image` and `network` peers.
   */
  async startControllerWithFakePeers(opts: { config?: Record<string, string>; registry?: Registry; bus?: Bus } = {}): Promise<ControllerUnderTest & { network: FakeNetwork }> {
    const image = await this.startFakeImage();
    const network = await this.startFakeNetwork();
    return { ...(await this.startControllerUnderTest({ ...opts, endpoints: { image: image.address, network: network.server.address } })), network };
  }

  /**
   * A real compute agent (wireComputeAgent) in-process as host `hostId`: its own temp state dir,
   * BOOT_TIME_MS 50, TIME_SCALE 1000, host profile 0 (each overridable in `env`), no VTEP, a 1-byte
   * image source, registering through `registry` and migrating with the admin token.
   */
  async startInProcessAgent(hostId: string, registry: ServiceClient<typeof agent.HostRegistryServiceService>, env: Record<string, string> = {}): Promise<AgentHandles> {
    const cfg = loadConfig(agentConfigSchema, { HOST_ID: hostId, AGENT_STATE_DIR: mkdtempSync(join(tmpdir(), 'lm-agent-')), BOOT_TIME_MS: '50', TIME_SCALE: '1000', HOST_PROFILE_INDEX: '0', ...env });
    const { adminToken, verifier } = this.tokens;
    const wiring = await wireComputeAgent({ config: cfg, logger: testLogger, metrics: createProcessMetrics({ service: 'compute-agent' }), redis: this.redis, bus: this.bus, revocations: new RevocationList() }, cfg, {
      vtep: null,
      imageSource: async function* () {
        yield Buffer.from('x');
      },
      registry: registry as never,
      migrationToken: async () => adminToken,
    });
    const server = this.addServer(await startGrpcServer({ port: 0, logger: testLogger, services: wiring.services, verifier }));
    await wiring.onListening?.(server);
    this.agentHandles.push(wiring.handles);
    this.running.push(...(wiring.runnables ?? []).map((r) => r.start(this.ac.signal)));
    return wiring.handles;
  }

  /** Stops everything the harness started or was given, in dependency order (see the class doc). Safe to call once. */
  async close(): Promise<void> {
    this.ac.abort();
    await Promise.all(this.running);
    await Promise.all(this.agentHandles.map((h) => h.migrations.settle()));
    await Promise.all(this.controllers.map((c) => c.close()));
    await Promise.all(this.doubles.map((d) => d.stop()));
    this.clients.forEach((c) => c.close());
    await Promise.all(this.servers.map((s) => s.shutdown(200)));
    await Promise.all(this.buses.map((b) => b.close()));
    await this.redis.quit();
    await Promise.all([this.redisServer.stop(), this.natsServer.stop()]);
  }
}

export { partial };
