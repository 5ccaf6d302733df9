import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { Bus } from '@minicloud/platform-bus';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { connectRedis, HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { startRedisServer, type ServerHandle } from '@minicloud/testing';
import type { InstanceRecord } from '@minicloud/domain-compute';
import { AllocationStore } from '../store/allocation-store';
import { HostStore } from '../store/host-store';
import { InstanceStore } from '../store/instance-store';
import { HostMonitor } from '../agent/host-monitor';
import { HaManager } from './ha-manager';
import { Keys } from '../store/keys';
import { requestEvacuation } from './evacuation-request';

const logger = silentLogger();
const T = { downAfterMs: 5000, leaseTtlMs: 3000, selfFenceAfterMs: 6000 };

function instance(id: string, hostId: string, restartPriority: string, createdAtMs: number, more: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id, name: id, projectId: 'p1', userId: 'u1',
    flavor: { id: 'f', name: 'f', vcpus: 1, ramMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
    image: { id: 'img', diskFormat: 'qcow2', sizeBytes: 1, virtualSizeBytes: 1, sha256: '', properties: {} },
    requestedNetworks: [], ports: [], vmState: 'active', taskState: null, powerState: 'running', hostId, availabilityZone: 'nova',
    metadata: {}, tags: [], haEnabled: true, restartPriority, reservationId: 'r1', keyName: '', userData: '',
    createdAtMs, updatedAtMs: createdAtMs, taskStartedAtMs: createdAtMs, ...more,
  };
}

describe('HaManager (real Redis, fake clock)', () => {
  let server: ServerHandle;
  let redis: Redis;
  let now: number;
  let hosts: HostStore;
  let instances: InstanceStore;
  let allocations: AllocationStore;
  let enqueued: string[];
  let registry: Registry;

  const bus = { publishEvent: async () => undefined, subscribe: () => ({ unsubscribe: () => undefined }) } as unknown as Bus;
  const req = { vcpus: 1, ramMb: 512, diskGb: 1 };

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connectRedis({ url: server.url, name: 'ha-test', logger });
  });
  afterAll(async () => {
    redis?.disconnect();
    await server?.stop();
  });

  beforeEach(async () => {
    await redis.flushall();
    now = 1_000_000;
    hosts = new HostStore(redis);
    instances = new InstanceStore(redis);
    allocations = new AllocationStore(redis);
    enqueued = [];
    requestedHosts = [];
    registry = new Registry();
    for (const h of ['h1', 'h2']) {
      await hosts.register({
        hostId: h, agentEndpoint: `${h}:1`, tunnelIp: '', vcpusTotal: 8, ramMbTotal: 4096, diskGbTotal: 100, ramMbReserved: 0,
        cpuAllocationRatio: 1, ramAllocationRatio: 1, diskAllocationRatio: 1, registeredAtMs: now,
        profile: { hostname: h, sockets: 1, coresPerSocket: 8, threadsPerCore: 1, cpuMhz: 2000, ramMb: 4096, diskGb: 100, cpuModel: '', hypervisorType: 'qemu', architecture: 'x86_64', availabilityZone: 'nova', rackId: '' },
      });
    }
  });

  let requestedHosts: (string | undefined)[] = [];
  function manager(opts: { enabled?: boolean } = {}): { ha: HaManager; monitor: HostMonitor } {
    const monitor = new HostMonitor({ hosts, bus, logger, nowMs: () => now, downAfterMs: T.downAfterMs, redis, leaseTtlMs: T.leaseTtlMs });
    const ha = new HaManager({
      redis, hosts, instances, allocations, monitor, logger, registry, nowMs: () => now,
      // Places on h2 only (the scheduler is tested elsewhere): enough to see claims, order and recovery.
      placement: {
        instanceZone: async () => 'nova',
        placeAll: async (spec, _req, o) => {
          requestedHosts.push(o?.requestedHostId);
          const id = spec.instanceUuids[0];
          if ((await allocations.claim('h2', id, req)).ok) return new Map([[id, 'h2']]);
          throw new ResourceExhaustedError('No valid host was found: h2 lacks ram_mb', 'no_valid_host');
        },
      },
      agents: { probeEpoch: async () => undefined, destroy: async () => true, host: async (id: string) => ({ hostId: id, agentEndpoint: '', epoch: 0 }) } as never,
      enqueue: (id) => enqueued.push(id),
      transition: (id, mutate) => instances.update(id, mutate, now),
      selfFenceAfterMs: T.selfFenceAfterMs,
      restartsPerZonePerSecond: 100,
      restartBurst: 100,
      enabled: opts.enabled ?? true,
    });
    return { ha, monitor };
  }

  /** Advances the clock to `t` (relative), keeping the listed hosts alive on both channels. */
  async function at(t: number, alive: string[]): Promise<void> {
    now = 1_000_000 + t;
    await hosts.recordHeartbeats(alive.map((hostId) => ({ hostId, atMs: now, usage: { runningVms: 0, cpuUtilizationRatio: 0, powerWatts: 0 } })));
    for (const h of alive) await redis.set(HaProtocolKeys.lease(h), String(await hosts.epoch(h)), 'PX', T.leaseTtlMs);
  }

  it('fences only self_fence_after past the lease loss, bumps the epoch, then evacuates in priority order and releases the old claim when ACTIVE', async () => {
    const recs = [instance('a-low', 'h1', 'low', 1), instance('b-high', 'h1', 'high', 3), instance('c-med', 'h1', '', 2), instance('d-off', 'h1', 'disabled', 0)];
    await instances.createMany(recs);
    for (const r of recs) await allocations.claim('h1', r.id, req);
    const { ha } = manager();
    await at(0, ['h1', 'h2']);
    await ha.tick();
    // h1 dies at t=0: its lease expires at t=3000, heartbeats stop.
    await at(3000, ['h2']);
    await redis.del(HaProtocolKeys.lease('h1'));
    await ha.tick(); // suspect (silent 3 s > 2.5 s)
    expect((await hosts.get('h1')).state).toBe('suspect');
    await at(5500, ['h2']);
    await ha.tick(); // failed; lease first seen missing at 3000 (the previous tick)
    expect((await hosts.get('h1')).state).toBe('failed');
    await at(8999, ['h2']);
    await ha.tick();
    expect(await hosts.epoch('h1')).toBe(1); // 3000 + 6000 not reached
    await at(9000, ['h2']);
    await ha.tick();
    expect((await hosts.get('h1')).state).toBe('fenced');
    expect(await hosts.epoch('h1')).toBe(2);
    await at(9250, ['h2']);
    await ha.tick();
    expect(enqueued).toEqual(['b-high', 'c-med', 'a-low']); // priority order; disabled stays
    const moved = await instances.get('b-high');
    expect(moved).toMatchObject({ hostId: 'h2', vmState: 'building', taskState: 'networking', actionRequestId: 'req-evacuate-b-high-2' });
    expect((await instances.get('d-off')).hostId).toBe('h1');
    expect((await instances.listActions('b-high')).map((a) => a.action)).toEqual(['evacuate']);
    // The old claim is held until the restart is done.
    expect((await allocations.get('h1')).byInstance.has('b-high')).toBe(true);
    await instances.update('b-high', (r) => ({ ...r, vmState: 'active', taskState: null }), now);
    await at(9500, ['h2']);
    await ha.tick();
    expect((await allocations.get('h1')).byInstance.has('b-high')).toBe(false);
    expect((await instances.listActions('b-high'))[0].result).toBe('Success');
    expect(await redis.sismember(Keys.evacuations(), 'b-high')).toBe(0);
    expect(await redis.sismember(Keys.evacuations(), 'a-low')).toBe(1);
  });

  it('a new leader adopts a claim its predecessor made before crashing (no second claim), and puts what does not fit in ERROR', async () => {
    await instances.createMany([instance('x', 'h1', 'high', 1), instance('y', 'h1', 'high', 2)]);
    await hosts.setState('h1', 'fenced');
    await redis.incr('mc:controller:host:h1:epoch');
    // The old leader opened both, claimed x on h2, and died before recording it.
    for (const id of ['x', 'y']) {
      await redis.set(Keys.evacuation(id), JSON.stringify({ instanceId: id, fromHostId: 'h1', fencedEpoch: 2, requestId: `req-evacuate-${id}-2`, startedAtMs: now, attempts: 0 }));
      await redis.sadd(Keys.evacuations(), id);
    }
    await allocations.claim('h2', 'x', req);
    // h2 has room for x and y only.
    await allocations.claim('h2', 'filler', { vcpus: 1, ramMb: 4096 - 1024, diskGb: 1 });
    const { ha } = manager();
    await at(0, ['h2']);
    await ha.tick();
    expect(await instances.get('x')).toMatchObject({ hostId: 'h2', taskState: 'networking' });
    expect(await instances.get('y')).toMatchObject({ hostId: 'h2', vmState: 'building' }); // the last 512 MB
    // x was claimed once (adopted), y once: h2 is exactly full.
    expect([...(await allocations.get('h2')).byInstance.keys()].sort()).toEqual(['filler', 'x', 'y']);
    expect((await allocations.get('h2')).ramMb).toBe(4096);
    await instances.createMany([instance('z', 'h1', 'low', 3)]);
    await at(250, ['h2']);
    await ha.tick();
    const z = await instances.get('z');
    expect(z.vmState).toBe('error');
    expect(z.fault).toEqual({ code: 'RESOURCE_EXHAUSTED', message: 'HA restart from failed host h1: No valid host was found: h2 lacks ram_mb; retried when capacity returns' });
    // Capacity returns: retried.
    await allocations.release('h2', 'filler');
    await at(500, ['h2']);
    await ha.tick();
    expect(await instances.get('z')).toMatchObject({ hostId: 'h2', vmState: 'building', taskState: 'networking' });
    expect((await instances.get('z')).fault).toBeUndefined();
  });

  it('restarts nothing when every host looks down at once (partition guard), and says so in a metric', async () => {
    await instances.createMany([instance('p', 'h1', 'high', 1)]);
    const { ha } = manager();
    await at(0, ['h1', 'h2']);
    await ha.tick();
    // Heartbeats stop everywhere, leases keep being renewed (NATS cut): isolated, never fenced.
    for (const t of [6000, 20_000, 60_000]) {
      now = 1_000_000 + t;
      for (const h of ['h1', 'h2']) await redis.set(HaProtocolKeys.lease(h), '1', 'PX', T.leaseTtlMs);
      await ha.tick();
    }
    expect((await hosts.get('h1')).state).toBe('isolated');
    expect(await hosts.epoch('h1')).toBe(1);
    expect(enqueued).toEqual([]);
    expect((await registry.getSingleMetric('minicloud_ha_partition_suspected')!.get()).values[0].value).toBe(1);
  });

  /** Heartbeats silent for h1 but its lease renewed (NATS cut only): isolated from t=6000. */
  async function isolateH1(): Promise<void> {
    await at(0, ['h1', 'h2']);
    for (const t of [3000, 6000]) {
      await at(t, ['h2']);
      await redis.set(HaProtocolKeys.lease('h1'), '1', 'PX', T.leaseTtlMs);
    }
  }

  it('an isolated host whose agent recorded power_off is fenced at once and its VMs restarted elsewhere; the leader publishes its cluster view', async () => {
    await instances.createMany([instance('iso-1', 'h1', 'high', 1), instance('iso-2', 'h1', '', 2)]);
    for (const id of ['iso-1', 'iso-2']) await allocations.claim('h1', id, req);
    const { ha } = manager();
    await at(0, ['h1', 'h2']);
    await ha.tick();
    expect(JSON.parse((await redis.get(HaProtocolKeys.clusterView()))!).hosts_up).toEqual(['h1', 'h2']);
    await isolateH1();
    await ha.tick();
    expect((await hosts.get('h1')).state).toBe('isolated');
    expect(JSON.parse((await redis.get(HaProtocolKeys.clusterView()))!).hosts_up).toEqual(['h2']);
    expect(await hosts.epoch('h1')).toBe(1); // no record yet: nothing happens
    // The agent applied power_off and recorded it for its epoch (1).
    await redis.set(HaProtocolKeys.isolation('h1'), JSON.stringify({ epoch: 1, response: 'power_off', powered_off_ids: ['iso-1', 'iso-2'], applied_at_ms: now }));
    await at(6250, ['h2']);
    await redis.set(HaProtocolKeys.lease('h1'), '1', 'PX', T.leaseTtlMs);
    await ha.tick();
    expect(await hosts.epoch('h1')).toBe(2);
    expect((await hosts.get('h1')).state).toBe('fenced');
    await at(6500, ['h2']);
    await ha.tick();
    expect(enqueued).toEqual(['iso-1', 'iso-2']);
    expect(await instances.get('iso-1')).toMatchObject({ hostId: 'h2', vmState: 'building', actionRequestId: 'req-evacuate-iso-1-2' });
  });

  it('leave_running restarts nothing, and a record of an older epoch does not count', async () => {
    await instances.createMany([instance('lr', 'h1', 'high', 1)]);
    const { ha } = manager();
    await isolateH1();
    await redis.set(HaProtocolKeys.isolation('h1'), JSON.stringify({ epoch: 1, response: 'leave_running', powered_off_ids: [], applied_at_ms: now }));
    for (const t of [6250, 20_000]) {
      await at(t, ['h2']);
      await redis.set(HaProtocolKeys.lease('h1'), '1', 'PX', T.leaseTtlMs);
      await ha.tick();
    }
    expect((await hosts.get('h1')).state).toBe('isolated');
    await redis.set(HaProtocolKeys.isolation('h1'), JSON.stringify({ epoch: 0, response: 'power_off', powered_off_ids: ['lr'], applied_at_ms: now }));
    await at(20_250, ['h2']);
    await redis.set(HaProtocolKeys.lease('h1'), '1', 'PX', T.leaseTtlMs);
    await ha.tick();
    expect(await hosts.epoch('h1')).toBe(1);
    expect(enqueued).toEqual([]);
    expect(await instances.get('lr')).toMatchObject({ hostId: 'h1', vmState: 'active' });
  });

  it('a controller started long after the hosts were last heard (whole cloud restarted with kept state) gives them a new host\'s grace from its start', async () => {
    await at(0, ['h1', 'h2']);
    await redis.del(HaProtocolKeys.lease('h1'), HaProtocolKeys.lease('h2'));
    now = 1_000_000 + 600_000; // ten minutes later the control plane starts again; no agent is back yet (no lease)
    const { ha } = manager();
    await ha.tick();
    expect([(await hosts.get('h1')).state, (await hosts.get('h2')).state]).toEqual(['up', 'up']);
    now += 9_000; // within the grace (2 x HOST_DOWN_AFTER_MS by default)
    await ha.tick();
    expect([(await hosts.get('h1')).state, (await hosts.get('h2')).state]).toEqual(['up', 'up']);
    now += 2_000; // past it, still silent, no lease: failed (both at once: the partition guard holds restarts)
    await ha.tick();
    expect([(await hosts.get('h1')).state, (await hosts.get('h2')).state]).toEqual(['failed', 'failed']);
    expect(enqueued).toEqual([]);
  });

  it('VMs a host powered off by itself come back on it once it rejoins unfenced and heartbeats; never one with an open evacuation', async () => {
    await instances.createMany([
      instance('back', 'h1', 'high', 1, { powerState: 'shutdown' }),
      instance('stopped', 'h1', 'high', 2, { vmState: 'stopped', powerState: 'shutdown' }),
      instance('moving', 'h1', 'high', 3, { powerState: 'shutdown' }),
    ]);
    await redis.set(Keys.evacuation('moving'), JSON.stringify({ instanceId: 'moving', fromHostId: 'h1', fencedEpoch: 1, requestId: 'r', startedAtMs: now, attempts: 0 }));
    await redis.sadd(Keys.evacuations(), 'moving');
    const { ha } = manager();
    // Registered (new epoch) but no heartbeat yet: wait, it may still be cut off.
    await redis.set(HaProtocolKeys.lease('h1'), '1', 'PX', T.leaseTtlMs);
    await ha.tick();
    expect((await instances.get('back')).taskState).toBeNull();
    await at(500, ['h1', 'h2']);
    await ha.tick();
    expect(await instances.get('back')).toMatchObject({ hostId: 'h1', taskState: 'powering_on' });
    expect((await instances.listActions('back')).map((a) => [a.action, a.userId])).toEqual([['start', 'ha']]);
    expect(enqueued).toContain('back');
    expect((await instances.get('stopped')).taskState).toBeNull();
    expect(enqueued).not.toContain('stopped');
  });

  describe('ServerAction evacuate (manual, through the same evacuation record)', () => {
    const evac = (r: InstanceRecord, targetHostId?: string, adminPass?: string) =>
      requestEvacuation({ redis, hosts, instances, nowMs: () => now }, r, { targetHostId, requestId: `req-${r.id}`, userId: 'admin', adminPass });

    it('is refused while the host is up, for an isolated host whose VMs may run, in a wrong state, to the same host, and twice', async () => {
      const r = instance('e1', 'h1', 'high', 1);
      await instances.createMany([r]);
      await expect(evac(r)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'host_in_use', message: expect.stringMatching(/^Compute service of h1 is still in use/) });
      await hosts.setState('h1', 'isolated');
      await redis.set(HaProtocolKeys.isolation('h1'), JSON.stringify({ epoch: 1, response: 'leave_running', powered_off_ids: [], applied_at_ms: now }));
      await expect(evac(r)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'host_isolated_vms_running' });
      await hosts.setState('h1', 'failed');
      await expect(evac({ ...r, vmState: 'stopped' })).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'instance_invalid_state' });
      await expect(evac(r, 'h1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', field: 'evacuate.host_id' });
      await expect(evac(r, 'nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await evac(r, 'h2');
      await expect(evac(r)).rejects.toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'evacuation_in_progress' });
      expect((await instances.listActions('e1')).map((a) => [a.action, a.userId])).toEqual([['evacuate', 'admin']]);
    });

    it('with HA disabled: the leader fences the failed host only at its fence deadline, then restarts it on the target host (the guest password riding along)', async () => {
      const r = instance('e2', 'h1', 'high', 1);
      await instances.createMany([r]);
      await allocations.claim('h1', 'e2', req);
      const { ha } = manager({ enabled: false });
      await at(0, ['h1', 'h2']);
      await ha.tick();
      await at(3000, ['h2']);
      await redis.del(HaProtocolKeys.lease('h1'));
      await ha.tick(); // lease first seen missing at 3000
      await at(5500, ['h2']);
      await ha.tick();
      expect((await hosts.get('h1')).state).toBe('failed');
      await evac((await instances.get('e2'))!, 'h2', 'Ev4c-Pass');
      expect((await instances.get('e2'))?.adminPass).toBeUndefined();
      await at(8999, ['h2']);
      await ha.tick();
      expect(await hosts.epoch('h1')).toBe(1); // not before lease loss + self_fence_after
      expect(enqueued).toEqual([]);
      await at(9000, ['h2']);
      await ha.tick(); // fenced
      expect(await hosts.epoch('h1')).toBe(2);
      await at(9250, ['h2']);
      await ha.tick(); // placed and moved
      expect(requestedHosts).toEqual(['h2']);
      expect(await instances.get('e2')).toMatchObject({ hostId: 'h2', vmState: 'building', taskState: 'networking', actionRequestId: 'req-e2', adminPass: 'Ev4c-Pass' });
      await instances.update('e2', (x) => ({ ...x, vmState: 'active', taskState: null }), now);
      await at(9500, ['h2']);
      await ha.tick();
      expect((await instances.listActions('e2'))[0]).toMatchObject({ action: 'evacuate', result: 'Success' });
      expect((await allocations.get('h1')).byInstance.has('e2')).toBe(false);
      expect(await redis.get(Keys.evacuation('e2'))).toBeNull();
    });

    it('is abandoned (action Error) when the host comes back before it was fenced', async () => {
      const r = instance('e3', 'h1', 'high', 1);
      await instances.createMany([r]);
      await hosts.setState('h1', 'failed');
      await evac(r);
      const { ha } = manager();
      await at(100, ['h1', 'h2']);
      await ha.tick();
      expect(await redis.sismember(Keys.evacuations(), 'e3')).toBe(0);
      expect((await instances.listActions('e3'))[0]).toMatchObject({ action: 'evacuate', result: 'Error', message: 'evacuation abandoned: host h1 is up again' });
      expect((await instances.get('e3')).hostId).toBe('h1');
    });
  });
});
