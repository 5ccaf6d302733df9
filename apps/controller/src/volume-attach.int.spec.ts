import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { agent, compute, events, image, network, volume } from '@minicloud/proto';
import { createTokenVerifier, expandRoles, generateSigningKey, isAdmin, RevocationList, signToken } from '@minicloud/platform-auth';
import { connectBus, heartbeatSubject, Subjects, type Bus } from '@minicloud/platform-bus';
import { loadConfig } from '@minicloud/platform-config';
import { createServiceClient, startGrpcServer, type CallContext, type RunningGrpcServer, type ServiceClient } from '@minicloud/platform-grpc';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startNatsServer, startRedisServer, waitFor, type ServerHandle } from '@minicloud/testing';
import { controllerConfigSchema } from './config';
import { createController, type Controller } from './wire';

jest.setTimeout(60_000);

const logger = silentLogger();
const partial = <T extends object>(impl: Partial<T>): T =>
  new Proxy(impl, {
    get: (t, k) => (t as Record<string | symbol, unknown>)[k] ?? (async () => Promise.reject(new FailedPreconditionError(`fake: ${String(k)} not faked`))),
  }) as T;
const VS = volume.VolumeStatus;

/** In-memory volume service with Cinder's attachment flow and project scoping (another project's volume -> NOT_FOUND). */
class FakeVolumes {
  vols = new Map<string, volume.Volume>();
  seq = 0;
  add(projectId: string, over: Partial<volume.Volume> = {}): volume.Volume {
    const v = volume.Volume.fromPartial({ id: `vol-${++this.seq}`, projectId, status: VS.VOLUME_STATUS_AVAILABLE, sizeGb: 1, ...over });
    this.vols.set(v.id, v);
    return v;
  }
  private scoped(id: string, ctx: CallContext): volume.Volume {
    const v = this.vols.get(id);
    if (!v || (!isAdmin(ctx.auth) && v.projectId !== ctx.auth?.projectId)) throw new NotFoundError('volume', id);
    return v;
  }
  handlers() {
    return partial<Record<string, unknown>>({
      getVolume: async (req: volume.GetVolumeRequest, ctx: CallContext) => ({ volume: this.scoped(req.volumeId, ctx) }),
      createAttachment: async (req: volume.CreateAttachmentRequest, ctx: CallContext) => {
        const v = this.scoped(req.volumeId, ctx);
        const same = v.attachments.find((a) => a.instanceId === req.instanceId);
        if (same) return { attachment: same };
        if (v.status !== VS.VOLUME_STATUS_AVAILABLE) throw new FailedPreconditionError(`volume ${v.id} is ${VS[v.status]}`, 'volume_in_use');
        const att = { id: `att-${++this.seq}`, volumeId: v.id, instanceId: req.instanceId, hostId: req.hostId, mountpoint: req.mountpoint, attachStatus: 'reserved' };
        v.attachments.push(att as volume.Attachment);
        v.status = VS.VOLUME_STATUS_ATTACHING;
        return { attachment: att };
      },
      completeAttachment: async (req: volume.CompleteAttachmentRequest) => {
        const v = [...this.vols.values()].find((x) => x.attachments.some((a) => a.id === req.attachmentId));
        if (!v) throw new NotFoundError('attachment', req.attachmentId);
        v.attachments.find((a) => a.id === req.attachmentId)!.attachStatus = 'attached';
        v.status = VS.VOLUME_STATUS_IN_USE;
        return { volume: v };
      },
      deleteAttachment: async (req: volume.DeleteAttachmentRequest) => {
        for (const v of this.vols.values()) {
          const before = v.attachments.length;
          v.attachments = v.attachments.filter((a) => !(a.id === req.attachmentId || (a.volumeId === req.volumeId && a.instanceId === req.instanceId)));
          if (before !== v.attachments.length && v.attachments.length === 0) v.status = VS.VOLUME_STATUS_AVAILABLE;
        }
        return {};
      },
      deleteVolume: async (req: volume.DeleteVolumeRequest) => {
        this.vols.delete(req.volumeId);
        return {};
      },
    });
  }
}

/** Agent double: spawn/destroy with reports, attach/detach of volumes; attaches of `failAttach` ids fail. */
class FakeAgent {
  epoch = 0;
  seq = 0;
  vms = new Map<string, { volumes: Map<string, agent.VolumeRef>; spec?: agent.InstanceSpec }>();
  failAttach = new Set<string>();
  server!: RunningGrpcServer;
  private timer?: NodeJS.Timeout;
  constructor(
    readonly hostId: string,
    private readonly bus: Bus,
  ) {}
  private report(instanceId: string, powerState: compute.PowerState, reason: string) {
    setTimeout(() => void this.bus.publishEvent(Subjects.powerStateReported, events.InstancePowerStateReported, { instanceId, hostId: this.hostId, epoch: this.epoch, powerState, reason, error: '', sequence: ++this.seq }), 20);
  }
  async start(registry: ServiceClient<typeof agent.HostRegistryServiceService>) {
    const P = compute.PowerState;
    this.server = await startGrpcServer({
      port: 0,
      logger,
      services: [
        {
          definition: agent.HypervisorServiceService as never,
          handlers: partial<Record<string, unknown>>({
            executeCommand: async (req: agent.ExecuteCommandRequest) => {
              if (req.epoch !== this.epoch) throw new FailedPreconditionError('stale epoch', 'stale_epoch');
              const id = req.instanceId;
              if (req.spawn) {
                if (!this.vms.has(id)) {
                  this.vms.set(id, { volumes: new Map(), spec: req.spawn.spec });
                  this.report(id, P.POWER_STATE_RUNNING, 'spawned');
                }
                return { instance: { instanceId: id, hostId: this.hostId, powerState: P.POWER_STATE_NOSTATE } };
              }
              if (req.destroy) {
                this.vms.delete(id);
                return {};
              }
              const vm = this.vms.get(id);
              if (!vm) throw new NotFoundError('instance', id);
              if (req.attachVolume) {
                const ref = req.attachVolume.volume!;
                if (this.failAttach.has(ref.volumeId)) throw new FailedPreconditionError('fake agent: attach failed');
                if (vm.volumes.has(ref.volumeId)) throw new AlreadyExistsError('volume_attachment', `${id}/${ref.volumeId}`);
                vm.volumes.set(ref.volumeId, ref);
              } else if (req.detachVolume) vm.volumes.delete(req.detachVolume.volumeId);
              else throw new FailedPreconditionError('fake agent: command not supported');
              return { instance: { instanceId: id, hostId: this.hostId, powerState: P.POWER_STATE_RUNNING, volumeIds: [...vm.volumes.keys()] } };
            },
          }),
        } as never,
      ],
    });
    const res = await registry.registerHost({
      profile: { hostId: this.hostId, hostname: this.hostId, sockets: 1, coresPerSocket: 8, threadsPerCore: 1, ramMb: 16384, diskGb: 400, hypervisorType: 'qemu', architecture: 'x86_64' },
      agentEndpoint: this.server.address,
      tunnelIp: '192.0.2.1',
    });
    this.epoch = res.epoch;
    const beat = () => this.bus.publishCore(heartbeatSubject(this.hostId), events.Heartbeat, { hostId: this.hostId, epoch: this.epoch, sequence: ++this.seq });
    beat();
    this.timer = setInterval(beat, 300);
  }
  async stop() {
    clearInterval(this.timer);
    await this.server?.shutdown(100);
  }
  volumesOf(instanceId: string): agent.VolumeRef[] {
    return [...(this.vms.get(instanceId)?.volumes.values() ?? [])];
  }
}

describe('controller volume attach/detach (in-process, real Redis + NATS, fake volume/image/network/agent)', () => {
  let redisServer: ServerHandle;
  let natsServer: ServerHandle;
  let redis: Redis;
  let bus: Bus;
  let controller: Controller;
  let grpc: RunningGrpcServer;
  const fakes: RunningGrpcServer[] = [];
  const ac = new AbortController();
  let running: Promise<unknown>;
  const volumes = new FakeVolumes();
  let hostAgent: FakeAgent;
  let alice: ServiceClient<typeof compute.ComputeServiceService>;
  let bob: ServiceClient<typeof compute.ComputeServiceService>;
  const clients: { close(): void }[] = [];
  let portSeq = 0;

  beforeAll(async () => {
    [redisServer, natsServer] = await Promise.all([startRedisServer(), startNatsServer()]);
    redis = await connectRedis({ url: redisServer.url, name: 'volume-attach-test', logger });
    bus = await connectBus({ url: natsServer.url, name: 'volume-attach-test', logger });
    const key = await generateSigningKey(Date.now());
    const tok = async (userId: string, projectId: string, roles: string[]) =>
      (await signToken(key, { userId, userName: userId, projectId, projectName: projectId, domainId: 'default', roles: expandRoles(roles) }, { nowMs: Date.now(), ttlSeconds: 3600 })).token;
    const adminToken = await tok('minicloud', 'service', ['admin']);
    const verifier = createTokenVerifier({ keys: async () => [{ kid: key.kid, jwk: key.publicJwk }], revocations: new RevocationList(), nowMs: () => Date.now() });
    const fake = async (definition: unknown, handlers: unknown) => {
      const s = await startGrpcServer({ port: 0, logger, verifier, services: [{ definition, handlers } as never] });
      fakes.push(s);
      return s.address;
    };
    const endpoints: Record<string, string> = {
      image: await fake(
        image.ImageServiceService,
        partial<Record<string, unknown>>({
          getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'qcow2', sizeBytes: 1024, osHashValue: 'abc' } }),
        }),
      ),
      network: await fake(
        network.NetworkServiceService,
        partial<Record<string, unknown>>({
          getNetwork: async () => ({ network: { id: 'net-1', name: 'private', segmentationId: 1001, mtu: 1450 } }),
          listPorts: async () => ({ ports: [] }),
          createPort: async (req: network.CreatePortRequest) => ({ port: { id: `port-${++portSeq}`, networkId: req.networkId, macAddress: 'fa:16:3e:00:00:01', fixedIps: [{ ipAddress: '10.0.0.5' }] } }),
          bindPort: async (req: network.BindPortRequest) => ({ port: { id: req.portId, networkId: 'net-1', macAddress: 'fa:16:3e:00:00:01', fixedIps: [{ ipAddress: '10.0.0.5' }] } }),
          deletePort: async () => ({}),
        }),
      ),
      volume: await fake(volume.VolumeServiceService, volumes.handlers()),
    };
    const config = loadConfig(controllerConfigSchema, { GRPC_PORT: '0', QUOTAS_ENABLED: 'false', HA_HOST_FAILURES_TO_TOLERATE: '0', HOST_DOWN_AFTER_MS: '3000', LIVENESS_INTERVAL_MS: '200', RESYNC_INTERVAL_MS: '1000' });
    controller = createController({ config, redis, bus, logger, registry: new Registry(), credentials: { getToken: async () => adminToken, endpoint: async (t) => endpoints[t] } });
    grpc = await startGrpcServer({ port: 0, logger, services: controller.services, verifier });
    running = Promise.all(controller.runnables.map((r) => r.start(ac.signal)));
    const client = (token: string) => {
      const c = createServiceClient(compute.ComputeServiceService, grpc.address, { token: () => token });
      clients.push(c);
      return c;
    };
    const admin = client(adminToken);
    alice = client(await tok('alice', 'p-alice', ['member']));
    bob = client(await tok('bob', 'p-bob', ['member']));
    const registry = createServiceClient(agent.HostRegistryServiceService, grpc.address, { token: () => adminToken });
    clients.push(registry);
    hostAgent = new FakeAgent('h1', bus);
    await hostAgent.start(registry);
    await admin.createFlavor({ name: 'm1.small', vcpus: 1, ramMb: 1024, diskGb: 10 });
  });

  afterAll(async () => {
    ac.abort();
    await running;
    await controller?.close();
    await hostAgent?.stop();
    clients.forEach((c) => c.close());
    await Promise.all([grpc, ...fakes].map((s) => s?.shutdown(100)));
    await bus?.close();
    await redis?.quit();
    await Promise.all([redisServer?.stop(), natsServer?.stop()]);
  });

  const bootActive = async (c: typeof alice) => {
    const id = (await c.createServer({ name: 'vm', flavorRef: 'm1.small', imageRef: 'img', networks: [{ networkId: 'net-1' }] })).servers[0].id;
    await waitFor(async () => (await c.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    return id;
  };

  it('attaches with the QoS of the volume, shows it on the server, detaches; both sides agree', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice', { qos: { totalIopsSec: 500, writeIopsSec: 100, totalBytesSec: 10_000_000 } as volume.VolumeQos, sizeGb: 2 });
    const res = await alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } });
    expect(res.server!.volumesAttached).toEqual([expect.objectContaining({ volumeId: vol.id, deviceName: '/dev/vdb' })]);
    expect(vol.status).toBe(VS.VOLUME_STATUS_IN_USE);
    expect(vol.attachments).toEqual([expect.objectContaining({ instanceId: id, hostId: 'h1', mountpoint: '/dev/vdb', attachStatus: 'attached' })]);
    expect(hostAgent.volumesOf(id)).toEqual([
      expect.objectContaining({ volumeId: vol.id, attachmentId: vol.attachments[0].id, sizeGb: 2, readIopsLimit: 500, writeIopsLimit: 100, totalBytesSecLimit: 10_000_000 }),
    ]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached.map((v) => v.volumeId)).toEqual([vol.id]);

    // Attaching it again is refused, and so is a used device name.
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } })).rejects.toBeInstanceOf(FailedPreconditionError);
    const vol2 = volumes.add('p-alice');
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol2.id, deviceName: '/dev/vdb' } })).rejects.toThrow(/device_name/);
    expect(vol2.status).toBe(VS.VOLUME_STATUS_AVAILABLE);

    await alice.serverAction({ serverId: id, detachVolume: { volumeId: vol.id } });
    expect(vol.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(vol.attachments).toEqual([]);
    expect(hostAgent.volumesOf(id)).toEqual([]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached).toEqual([]);
    await expect(alice.serverAction({ serverId: id, detachVolume: { volumeId: vol.id } })).rejects.toBeInstanceOf(NotFoundError);
    const actions = (await alice.listInstanceActions({ serverId: id })).actions.map((a) => `${a.action}:${a.result}`);
    expect(actions).toEqual(expect.arrayContaining(['attach_volume:Success', 'detach_volume:Success', 'attach_volume:Error']));
  });

  it("refuses another project's volume with NOT_FOUND and a missing volume_id with INVALID_ARGUMENT", async () => {
    const id = await bootActive(bob);
    const alices = volumes.add('p-alice');
    await expect(bob.serverAction({ serverId: id, attachVolume: { volumeId: alices.id } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.serverAction({ serverId: id, attachVolume: { volumeId: 'vol-nope' } })).rejects.toThrow(/volume/);
    await expect(bob.serverAction({ serverId: id, attachVolume: { volumeId: '' } })).rejects.toThrow(InvalidArgumentError);
    expect(alices.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect((await bob.getServer({ serverId: id })).server!.volumesAttached).toEqual([]);
  });

  it('an agent failure midway leaves nothing attached on either side', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice');
    hostAgent.failAttach.add(vol.id);
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } })).rejects.toThrow(/attach failed/);
    expect(vol.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(vol.attachments).toEqual([]);
    expect(hostAgent.volumesOf(id)).toEqual([]);
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached).toEqual([]);
    expect(JSON.parse((await redis.get(`mc:controller:instance:${id}`))!).volumesAttached).toEqual([]);
  });

  it('refuses attach while the server is stopping (task in progress), allows it when SHUTOFF', async () => {
    const id = await bootActive(alice);
    const vol = volumes.add('p-alice');
    await controller.stores.instances.update(id, (r) => ({ ...r, taskState: 'powering_off' }));
    await expect(alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } })).rejects.toThrow(/task_state powering_off/);
    await controller.stores.instances.update(id, (r) => ({ ...r, taskState: null, vmState: 'stopped', powerState: 'shutdown' }));
    const res = await alice.serverAction({ serverId: id, attachVolume: { volumeId: vol.id } });
    expect(res.server!.volumesAttached.map((v) => v.volumeId)).toEqual([vol.id]);
  });

  it('deleting a server frees its volumes (kept, available) and deletes those with delete_on_termination', async () => {
    const id = await bootActive(alice);
    const keep = volumes.add('p-alice');
    const drop = volumes.add('p-alice');
    await alice.serverAction({ serverId: id, attachVolume: { volumeId: keep.id } });
    await alice.serverAction({ serverId: id, attachVolume: { volumeId: drop.id, deviceName: '/dev/vdd' } });
    expect((await alice.getServer({ serverId: id })).server!.volumesAttached.map((v) => v.deviceName)).toEqual(['/dev/vdb', '/dev/vdd']);
    await controller.stores.instances.update(id, (r) => ({ ...r, volumesAttached: r.volumesAttached!.map((v) => (v.volumeId === drop.id ? { ...v, deleteOnTermination: true } : v)) }));
    await alice.deleteServer({ serverId: id });
    await waitFor(async () => !(await redis.exists(`mc:controller:instance:${id}`)), { timeoutMs: 10_000 });
    expect(keep.status).toBe(VS.VOLUME_STATUS_AVAILABLE);
    expect(keep.attachments).toEqual([]);
    expect(volumes.vols.has(keep.id)).toBe(true);
    expect(volumes.vols.has(drop.id)).toBe(false);
  });
});
