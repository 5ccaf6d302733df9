import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@minicloud/domain-errors';
import { agent, compute, image, network } from '@minicloud/proto';
import { isCloudAdmin } from '@minicloud/platform-auth';
import type { CallContext, ServiceClient } from '@minicloud/platform-grpc';
import type { Redis } from '@minicloud/platform-state';
import { waitFor } from '@minicloud/testing';
import { FakeHypervisor } from '@minicloud/compute-agent/testing';
import { ControllerHarness, partial } from './testing/controller-harness';
import type { Controller } from './wire';

jest.setTimeout(60_000);

/**
 * In-memory network service with Neutron's project scoping (another project's network or port is
 * NOT_FOUND to a non-admin): networks net-1 and net-2 of p-alice, net-bob of p-bob, net-shared of p-ops
 * (shared: seen by everyone), net-ext of p-ops (router:external: seen by everyone, not shared); ports with
 * device, binding and status as the real service keeps them (bind: ACTIVE, unbind: DOWN; a claiming
 * bind of a port with another device: FAILED_PRECONDITION port_in_use).
 */
class FakeNetworks {
  readonly networks = [
    network.Network.fromPartial({ id: 'net-1', name: 'private', projectId: 'p-alice', segmentationId: 1001, mtu: 1450 }),
    network.Network.fromPartial({ id: 'net-2', name: 'second', projectId: 'p-alice', segmentationId: 1002, mtu: 1450 }),
    network.Network.fromPartial({ id: 'net-bob', name: 'bobs', projectId: 'p-bob', segmentationId: 1003, mtu: 1450 }),
    network.Network.fromPartial({ id: 'net-shared', name: 'shared', projectId: 'p-ops', segmentationId: 1004, mtu: 1450, shared: true }),
    network.Network.fromPartial({ id: 'net-ext', name: 'public', projectId: 'p-ops', segmentationId: 1005, mtu: 1500, routerExternal: true }),
  ];
  readonly ports = new Map<string, network.Port>();
  /** Every bindPort, in order. */
  readonly bindings: { portId: string; hostId: string }[] = [];
  /** While set, bindPort waits for it (a test holds attaches between their reservation and their bind). */
  bindGate?: Promise<void>;
  private seq = 0;

  /** A port of `projectId` on `networkId`, as a user makes one (no device, unbound). */
  add(projectId: string, networkId: string, over: Partial<network.Port> = {}): network.Port {
    const n = ++this.seq;
    const p = network.Port.fromPartial({
      id: `port-${n}`, networkId, projectId, status: 'DOWN', macAddress: `fa:16:3e:00:01:${(n % 256).toString(16).padStart(2, '0')}`,
      fixedIps: [{ subnetId: `sub-${networkId}`, ipAddress: `10.0.${n >> 8}.${n % 256}` }], ...over,
    });
    this.ports.set(p.id, p);
    return p;
  }

  /** Ports whose device is `deviceId`. */
  ofDevice(deviceId: string): network.Port[] {
    return [...this.ports.values()].filter((p) => p.deviceId === deviceId);
  }

  private visible(projectId: string, ctx: CallContext): boolean {
    return isCloudAdmin(ctx.auth) || projectId === ctx.auth?.projectId;
  }

  private visibleNetwork(n: network.Network, ctx: CallContext): boolean {
    return n.shared || n.routerExternal || this.visible(n.projectId, ctx);
  }

  private port(id: string, ctx: CallContext): network.Port {
    const p = this.ports.get(id);
    if (!p || !this.visible(p.projectId, ctx)) throw new NotFoundError('port', id);
    return p;
  }

  handlers() {
    return partial<Record<string, unknown>>({
      getNetwork: async (req: network.GetNetworkRequest, ctx: CallContext) => {
        const n = this.networks.find((x) => x.id === req.networkId);
        if (!n || !this.visibleNetwork(n, ctx)) throw new NotFoundError('network', req.networkId);
        return { network: n };
      },
      listNetworks: async (_req: network.ListNetworksRequest, ctx: CallContext) => ({ networks: this.networks.filter((n) => this.visibleNetwork(n, ctx)) }),
      createPort: async (req: network.CreatePortRequest, ctx: CallContext) => {
        const projectId = req.projectId && isCloudAdmin(ctx.auth) ? req.projectId : ctx.auth!.projectId;
        const ip = req.fixedIps[0]?.ipAddress;
        if (ip && [...this.ports.values()].some((p) => p.fixedIps.some((f) => f.ipAddress === ip))) throw new AlreadyExistsError('ip_address', ip);
        const p = this.add(projectId, req.networkId, { deviceId: req.deviceId, deviceOwner: req.deviceOwner });
        if (ip) p.fixedIps = [{ subnetId: `sub-${req.networkId}`, ipAddress: ip }];
        return { port: p };
      },
      getPort: async (req: network.GetPortRequest, ctx: CallContext) => ({ port: this.port(req.portId, ctx) }),
      listPorts: async (req: network.ListPortsRequest, ctx: CallContext) => ({
        ports: [...this.ports.values()].filter((p) => this.visible(p.projectId, ctx) && (!req.deviceId || p.deviceId === req.deviceId)),
      }),
      bindPort: async (req: network.BindPortRequest, ctx: CallContext) => {
        await this.bindGate;
        const p = this.port(req.portId, ctx);
        if (req.claim && p.deviceId && p.deviceId !== req.deviceId) throw new FailedPreconditionError(`Port ${p.id} is still in use.`, 'port_in_use');
        Object.assign(p, { bindingHostId: req.hostId, deviceId: req.deviceId || p.deviceId, deviceOwner: req.deviceOwner || p.deviceOwner, status: 'ACTIVE' });
        this.bindings.push({ portId: req.portId, hostId: req.hostId });
        return { port: p };
      },
      unbindPort: async (req: network.UnbindPortRequest, ctx: CallContext) => {
        const p = this.port(req.portId, ctx);
        Object.assign(p, { bindingHostId: '', status: 'DOWN' });
        return { port: p };
      },
      updatePort: async (req: network.UpdatePortRequest, ctx: CallContext) => {
        const p = this.port(req.portId, ctx);
        if (req.deviceId !== undefined) p.deviceId = req.deviceId;
        if (req.deviceOwner !== undefined) p.deviceOwner = req.deviceOwner;
        return { port: p };
      },
      deletePort: async (req: network.DeletePortRequest, ctx: CallContext) => {
        this.port(req.portId, ctx);
        this.ports.delete(req.portId);
        return {};
      },
    });
  }
}

describe('controller interface attach/detach (os-interface; in-process, real Redis + NATS, fake network/image/agent)', () => {
  let harness: ControllerHarness;
  let controller: Controller;
  let redis: Redis;
  const nets = new FakeNetworks();
  let hostAgent: FakeHypervisor;
  let admin: ServiceClient<typeof compute.ComputeServiceService>;
  let alice: ServiceClient<typeof compute.ComputeServiceService>;
  let bob: ServiceClient<typeof compute.ComputeServiceService>;
  let carol: ServiceClient<typeof compute.ComputeServiceService>;
  let anonymous: ServiceClient<typeof compute.ComputeServiceService>;

  beforeAll(async () => {
    harness = await ControllerHarness.start('interface-attach-test');
    ({ redis } = harness);
    const { adminToken, mint, verifier } = harness.tokens;
    const fake = async (definition: unknown, handlers: unknown) => (await harness.startFakeService(definition, handlers, { verifier })).address;
    const endpoints: Record<string, string> = {
      image: await fake(
        image.ImageServiceService,
        partial<Record<string, unknown>>({
          getImage: async (req: image.GetImageRequest) => ({ image: { id: req.imageId, name: req.imageId, status: image.ImageStatus.IMAGE_STATUS_ACTIVE, diskFormat: 'qcow2', sizeBytes: 1024, osHashValue: 'abc' } }),
        }),
      ),
      network: await fake(network.NetworkServiceService, nets.handlers()),
    };
    const started = await harness.startControllerUnderTest({ endpoints });
    controller = started.controller;
    const { grpc } = started;
    admin = harness.client(compute.ComputeServiceService, grpc.address, adminToken);
    alice = harness.client(compute.ComputeServiceService, grpc.address, await mint('alice', 'p-alice', ['member']));
    bob = harness.client(compute.ComputeServiceService, grpc.address, await mint('bob', 'p-bob', ['member']));
    carol = harness.client(compute.ComputeServiceService, grpc.address, await mint('carol', 'p-carol', ['member']));
    anonymous = harness.client(compute.ComputeServiceService, grpc.address, undefined);
    const registry = harness.client(agent.HostRegistryServiceService, grpc.address, adminToken);
    hostAgent = new FakeHypervisor('h1', harness.bus, { cores: 8, ramMb: 16384, diskGb: 400 });
    harness.addDouble({ stop: () => hostAgent.stop() });
    await hostAgent.start(registry);
    await admin.createFlavor({ name: 'm1.small', vcpus: 1, ramMb: 1024, diskGb: 10 });
  });

  afterAll(async () => {
    await harness?.close();
  });

  const bootActive = async (c: typeof alice, networkId = 'net-1') => {
    const id = (await c.createServer({ name: 'vm', flavorRef: 'm1.small', imageRef: 'img', networks: [{ networkId }] })).servers[0].id;
    await waitFor(async () => (await c.getServer({ serverId: id })).server!.status === 'ACTIVE', { timeoutMs: 10_000 });
    return id;
  };
  const record = async (id: string) => JSON.parse((await redis.get(`mc:controller:instance:${id}`))!);
  const actionsOf = async (id: string) => (await alice.listInstanceActions({ serverId: id })).actions.map((a) => `${a.action}:${a.result}`);

  it('attaches by network (a port made for the server, bound to its host, plugged), lists it, and detach deletes that port', async () => {
    const id = await bootActive(alice);
    const res = await alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2' } });
    const att = res.interfaceAttachment!;
    expect(att).toMatchObject({ networkId: 'net-2', portState: 'ACTIVE', fixedIps: [expect.objectContaining({ subnetId: 'sub-net-2' })] });
    const port = nets.ports.get(att.portId)!;
    expect(port).toMatchObject({ projectId: 'p-alice', deviceId: id, deviceOwner: 'compute:nova', bindingHostId: 'h1', status: 'ACTIVE' });
    expect(att.macAddress).toBe(port.macAddress);
    expect(nets.bindings).toContainEqual({ portId: att.portId, hostId: 'h1' });
    expect(hostAgent.interfacesOf(id)).toHaveLength(2);
    const plug = hostAgent.commands.find((c) => c.instanceId === id && c.attachInterface)!.attachInterface!.port!;
    expect(plug).toMatchObject({ portId: att.portId, networkId: 'net-2', segmentationId: 1002, mtu: 1450, macAddress: port.macAddress, ipAddresses: [att.fixedIps[0]!.ipAddress] });
    expect(res.server!.addresses).toContainEqual(expect.objectContaining({ networkName: 'second', portId: att.portId, ipAddress: att.fixedIps[0]!.ipAddress }));
    const listed = (await alice.listInterfaces({ serverId: id })).interfaceAttachments;
    expect(listed.map((i) => i.networkId).sort()).toEqual(['net-1', 'net-2']);
    expect(listed.find((i) => i.portId === att.portId)).toEqual(att);

    await alice.serverAction({ serverId: id, detachInterface: { portId: att.portId } });
    expect(nets.ports.has(att.portId)).toBe(false);
    expect(hostAgent.interfacesOf(id)).toHaveLength(1);
    expect((await alice.getServer({ serverId: id })).server!.addresses.map((a) => a.networkId)).toEqual(['net-1']);
    expect((await alice.listInterfaces({ serverId: id })).interfaceAttachments.map((i) => i.networkId)).toEqual(['net-1']);
    await expect(alice.serverAction({ serverId: id, detachInterface: { portId: att.portId } })).rejects.toBeInstanceOf(NotFoundError);
    expect(await actionsOf(id)).toEqual(expect.arrayContaining(['attach_interface:Success', 'detach_interface:Success', 'detach_interface:Error']));
  });

  it('attaches by network with a fixed IP; an address in use is ALREADY_EXISTS and leaves nothing behind', async () => {
    const id = await bootActive(alice);
    const att = (await alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2', fixedIpAddress: '10.9.9.9' } })).interfaceAttachment!;
    expect(att.fixedIps.map((f) => f.ipAddress)).toEqual(['10.9.9.9']);
    const before = nets.ports.size;
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2', fixedIpAddress: '10.9.9.9' } })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(nets.ports.size).toBe(before);
    expect((await record(id)).ports).toHaveLength(2);
  });

  it("attaches the user's port and detach gives it back unbound with no device (Nova keeps it); the last interface may go", async () => {
    const id = await bootActive(alice);
    const own = nets.add('p-alice', 'net-2');
    const att = (await alice.serverAction({ serverId: id, attachInterface: { portId: own.id } })).interfaceAttachment!;
    expect(att).toMatchObject({ portId: own.id, networkId: 'net-2', portState: 'ACTIVE', macAddress: own.macAddress });
    expect(own).toMatchObject({ deviceId: id, bindingHostId: 'h1' });
    expect(hostAgent.interfacesOf(id)).toContain(own.id);
    // a port in use is refused
    const other = await bootActive(alice);
    await expect(alice.serverAction({ serverId: other, attachInterface: { portId: own.id } })).rejects.toThrow(FailedPreconditionError);
    await expect(alice.serverAction({ serverId: other, attachInterface: { portId: own.id } })).rejects.toThrow(/in use/);

    await alice.serverAction({ serverId: id, detachInterface: { portId: own.id } });
    expect(nets.ports.get(own.id)).toMatchObject({ deviceId: '', deviceOwner: '', bindingHostId: '', status: 'DOWN' });
    expect(hostAgent.interfacesOf(id)).not.toContain(own.id);

    // the boot interface goes too: a server with no interface
    const boot = (await alice.listInterfaces({ serverId: id })).interfaceAttachments[0]!;
    await alice.serverAction({ serverId: id, detachInterface: { portId: boot.portId } });
    expect((await alice.listInterfaces({ serverId: id })).interfaceAttachments).toEqual([]);
    expect(hostAgent.interfacesOf(id)).toEqual([]);
    expect(nets.ports.has(boot.portId)).toBe(false);

    // the freed port moves on to another server
    expect((await alice.serverAction({ serverId: other, attachInterface: { portId: own.id } })).interfaceAttachment!.portId).toBe(own.id);
    expect(own.deviceId).toBe(other);
  });

  it('of two servers attaching one user port at once, one gets it; the other is refused and the port stays with the winner', async () => {
    const [s1, s2] = await Promise.all([bootActive(alice), bootActive(alice)]);
    for (let round = 0; round < 5; round++) {
      const own = nets.add('p-alice', 'net-2');
      const results = await Promise.all([s1, s2].map((serverId) => alice.serverAction({ serverId, attachInterface: { portId: own.id } }).then(() => serverId, (e: unknown) => (e instanceof FailedPreconditionError ? 'refused' : String(e)))));
      const winners = results.filter((x) => x !== 'refused');
      expect(winners).toHaveLength(1);
      expect(own).toMatchObject({ deviceId: winners[0], bindingHostId: 'h1', status: 'ACTIVE' });
      const holders = [];
      for (const id of [s1, s2]) if ((await record(id)).ports.some((p: { portId: string }) => p.portId === own.id)) holders.push(id);
      expect(holders).toEqual(winners);
      expect([s1, s2].filter((id) => hostAgent.interfacesOf(id).includes(own.id))).toEqual(winners);
      await alice.serverAction({ serverId: winners[0]!, detachInterface: { portId: own.id } });
    }
  });

  it('rolls back when the agent refuses the hot-plug: our port deleted, the user port given back, the record and the agent unchanged', async () => {
    const id = await bootActive(alice);
    hostAgent.failInterfaceAttach.add('net-2');
    try {
      const before = new Set(nets.ports.keys());
      await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2' } })).rejects.toThrow(/interface attach failed/);
      expect([...nets.ports.keys()].filter((p) => !before.has(p))).toEqual([]);
      const own = nets.add('p-alice', 'net-2');
      await expect(alice.serverAction({ serverId: id, attachInterface: { portId: own.id } })).rejects.toThrow(/interface attach failed/);
      expect(nets.ports.get(own.id)).toMatchObject({ deviceId: '', deviceOwner: '', bindingHostId: '', status: 'DOWN' });
      expect((await record(id)).ports.map((p: { networkId: string }) => p.networkId)).toEqual(['net-1']);
      expect(hostAgent.interfacesOf(id)).toHaveLength(1);
      expect(nets.ofDevice(id)).toHaveLength(1);
      expect(await actionsOf(id)).toEqual(['create:Success', 'attach_interface:Error', 'attach_interface:Error']);
    } finally {
      hostAgent.failInterfaceAttach.delete('net-2');
    }
  });

  it("refuses another project's member, a caller without a token, and another project's network or port", async () => {
    const id = await bootActive(alice);
    const bobsServer = await bootActive(bob, 'net-bob');
    const bobsPort = nets.add('p-bob', 'net-bob');
    await expect(bob.serverAction({ serverId: id, attachInterface: { networkId: 'net-1' } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(bob.listInterfaces({ serverId: id })).rejects.toBeInstanceOf(NotFoundError);
    const alicesPort = (await alice.listInterfaces({ serverId: id })).interfaceAttachments[0]!.portId;
    await expect(bob.serverAction({ serverId: id, detachInterface: { portId: alicesPort } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(anonymous.serverAction({ serverId: id, attachInterface: { networkId: 'net-1' } })).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(anonymous.listInterfaces({ serverId: id })).rejects.toBeInstanceOf(UnauthenticatedError);
    // alice's network and port are not bob's to use: NOT_FOUND, as Neutron hides them
    await expect(bob.serverAction({ serverId: bobsServer, attachInterface: { networkId: 'net-2' } })).rejects.toThrow(NotFoundError);
    await expect(alice.serverAction({ serverId: id, attachInterface: { portId: bobsPort.id } })).rejects.toThrow(NotFoundError);
    // an admin sees bob's port, but it is not the server's project's
    await expect(admin.serverAction({ serverId: id, attachInterface: { portId: bobsPort.id } })).rejects.toBeInstanceOf(PermissionDeniedError);
    expect(bobsPort.deviceId).toBe('');
    expect(nets.ofDevice(id)).toHaveLength(1);
  });

  it('refuses malformed requests naming the field, and a server with a task or in the wrong state naming its vm_state', async () => {
    const id = await bootActive(alice);
    const own = nets.add('p-alice', 'net-2');
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2', portId: own.id } })).rejects.toThrow(/attach_interface.port_id/);
    await expect(alice.serverAction({ serverId: id, attachInterface: { fixedIpAddress: '10.0.0.9' } })).rejects.toThrow(/attach_interface.fixed_ip_address/);
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2', fixedIpAddress: 'ten' } })).rejects.toThrow(InvalidArgumentError);
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'n'.repeat(256) } })).rejects.toThrow(/attach_interface.network_id/);
    await expect(alice.serverAction({ serverId: id, detachInterface: { portId: '' } })).rejects.toThrow(/detach_interface.port_id/);
    // neither given: alice has two networks (Nova's NetworkAmbiguous, a 400)
    await expect(alice.serverAction({ serverId: id, attachInterface: {} })).rejects.toThrow(/Multiple possible networks/);
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-nope' } })).rejects.toBeInstanceOf(NotFoundError);
    await expect(alice.serverAction({ serverId: id, attachInterface: { portId: 'port-nope' } })).rejects.toBeInstanceOf(NotFoundError);

    await controller.stores.instances.update(id, (r) => ({ ...r, taskState: 'powering_off' }));
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2' } })).rejects.toThrow(/vm_state active, task_state powering_off/);
    await controller.stores.instances.update(id, (r) => ({ ...r, taskState: null, vmState: 'paused', powerState: 'paused' }));
    await expect(alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2' } })).rejects.toThrow(/vm_state paused/);
    await expect(alice.serverAction({ serverId: id, detachInterface: { portId: own.id } })).rejects.toThrow(FailedPreconditionError);
    expect(nets.ofDevice(id)).toHaveLength(1);
    expect(own.deviceId).toBe('');
  });

  it("attaches to a SHUTOFF server; a shared network is usable, but a fixed IP on it is not the caller's to choose", async () => {
    const id = await bootActive(bob, 'net-bob');
    await bob.serverAction({ serverId: id, stop: {} });
    await waitFor(async () => (await bob.getServer({ serverId: id })).server!.status === 'SHUTOFF', { timeoutMs: 10_000 });
    // bob sees his network and the shared one: naming none is ambiguous
    await expect(bob.serverAction({ serverId: id, attachInterface: {} })).rejects.toThrow(/Multiple possible networks/);
    const att = (await bob.serverAction({ serverId: id, attachInterface: { networkId: 'net-shared' } })).interfaceAttachment!;
    expect(nets.ports.get(att.portId)).toMatchObject({ projectId: 'p-bob', deviceId: id, networkId: 'net-shared' });
    expect(hostAgent.interfacesOf(id)).toContain(att.portId);
    await expect(bob.serverAction({ serverId: id, attachInterface: { networkId: 'net-shared', fixedIpAddress: '10.4.0.9' } })).rejects.toBeInstanceOf(PermissionDeniedError);
    // the external network is seen by everyone, but only an admin plugs a server into it (network:attach_external_network)
    await expect(bob.serverAction({ serverId: id, attachInterface: { networkId: 'net-ext' } })).rejects.toThrow(/not allowed to create an interface on external network/);
    expect(nets.ofDevice(id)).toHaveLength(2);
    // carol has no network of her own: naming none picks the one she can use
    const hers = await bootActive(carol, 'net-shared');
    expect((await carol.serverAction({ serverId: hers, attachInterface: {} })).interfaceAttachment!.networkId).toBe('net-shared');
    expect(nets.ofDevice(hers)).toHaveLength(2);
  });

  it("deleting a server deletes the ports made for it and gives the user's back; a delete racing attaches leaves no port of the server", async () => {
    const id = await bootActive(alice);
    const own = nets.add('p-alice', 'net-2');
    await alice.serverAction({ serverId: id, attachInterface: { portId: own.id } });
    const ours = (await alice.serverAction({ serverId: id, attachInterface: { networkId: 'net-2' } })).interfaceAttachment!.portId;
    await alice.deleteServer({ serverId: id });
    await waitFor(async () => !(await redis.exists(`mc:controller:instance:${id}`)), { timeoutMs: 10_000 });
    expect(nets.ports.has(ours)).toBe(false);
    expect(nets.ports.get(own.id)).toMatchObject({ deviceId: '', bindingHostId: '', status: 'DOWN' });

    // Both attaches are held after their reservation on the record; the delete runs to its end meanwhile.
    const sid = await bootActive(alice);
    const mine = nets.add('p-alice', 'net-2');
    let open!: () => void;
    nets.bindGate = new Promise<void>((r) => (open = r));
    const attaches = [
      alice.serverAction({ serverId: sid, attachInterface: { networkId: 'net-2' } }),
      alice.serverAction({ serverId: sid, attachInterface: { portId: mine.id } }),
    ].map((p) => p.then(() => 'attached', (e: unknown) => (e instanceof Error ? e.name : 'error')));
    await waitFor(async () => (await record(sid)).ports.filter((p: { attachingSinceMs?: number }) => p.attachingSinceMs).length === 2, { timeoutMs: 5000 });
    await alice.deleteServer({ serverId: sid });
    await waitFor(async () => !(await redis.exists(`mc:controller:instance:${sid}`)), { timeoutMs: 10_000 });
    open();
    nets.bindGate = undefined;
    expect(await Promise.all(attaches)).toEqual(['NotFoundError', 'NotFoundError']);
    expect(nets.ofDevice(sid)).toEqual([]);
    expect(nets.ports.get(mine.id)).toMatchObject({ deviceId: '', bindingHostId: '', status: 'DOWN' });

    // and at whatever point of the attaches the delete lands
    for (let round = 0; round < 6; round++) {
      const id2 = await bootActive(alice);
      const port = nets.add('p-alice', 'net-2');
      const racing = [
        alice.serverAction({ serverId: id2, attachInterface: { networkId: 'net-2' } }),
        alice.serverAction({ serverId: id2, attachInterface: { portId: port.id } }),
      ].map((p) => p.catch(() => undefined));
      await new Promise((r) => setTimeout(r, round * 4));
      await alice.deleteServer({ serverId: id2 });
      await Promise.all(racing);
      await waitFor(async () => !(await redis.exists(`mc:controller:instance:${id2}`)), { timeoutMs: 10_000 });
      expect(nets.ofDevice(id2)).toEqual([]);
      expect(nets.ports.get(port.id)).toMatchObject({ deviceId: '', bindingHostId: '' });
    }
  });
});
