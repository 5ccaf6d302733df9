import { ResourceExhaustedError } from '@minicloud/domain-errors';
import type { InstanceRecord } from '@minicloud/domain-compute';
import type { Bus } from '@minicloud/platform-bus';
import { isLeaderFenceLost, type LeaderFence } from '@minicloud/platform-lifecycle';
import { silentLogger } from '@minicloud/platform-logging';
import { Registry } from '@minicloud/platform-metrics';
import { connectRedis, HaProtocolKeys, type Redis } from '@minicloud/platform-state';
import { startRedisServer, type ServerHandle } from '@minicloud/testing';
import { HostMonitor } from './agent/host-monitor';
import { PowerSync } from './agent/power-sync';
import { HaManager } from './ha/ha-manager';
import { MigrationWorker, migrationConsumer } from './migration/migration-worker';
import { AllocationStore } from './store/allocation-store';
import { EvacuationStore, type EvacuationRecord } from './store/evacuation-store';
import { HostStore } from './store/host-store';
import { InstanceStore } from './store/instance-store';
import { Keys } from './store/keys';
import { MigrationStore, type MigrationRecord } from './store/migration-store';

/*
 * Every leader write lands only under the leader's fencing token, checked in the same Lua script as
 * the write: here the lease holds token 7 (the current leader); a replica that stalled past its lease
 * still holds 6, and one that noticed it lost the lease holds none. Each kind of leader write is tried
 * with the stale token and must be refused (LeaderFenceLostError) leaving every key as it was.
 */

const logger = silentLogger();
const LEASE = Keys.leader();
const current: LeaderFence = { key: LEASE, token: () => 7 };
const stale: LeaderFence = { key: LEASE, token: () => 6 };
const noLonger: LeaderFence = { key: LEASE, token: () => undefined };
const req = { vcpus: 1, ramMb: 512, diskGb: 1 };
const bus = { publishEvent: async () => undefined, subscribe: () => ({ unsubscribe: () => undefined }) } as unknown as Bus;

function instance(id: string, hostId: string, more: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id, name: id, projectId: 'p1', userId: 'u1',
    flavor: { id: 'f', name: 'f', vcpus: 1, ramMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
    image: { id: 'img', diskFormat: 'qcow2', sizeBytes: 1, virtualSizeBytes: 1, sha256: '', properties: {} },
    requestedNetworks: [], ports: [], vmState: 'active', taskState: null, powerState: 'running', hostId, availabilityZone: 'nova',
    metadata: {}, tags: [], haEnabled: true, restartPriority: '', reservationId: 'r1', keyName: '', userData: '',
    createdAtMs: 1, updatedAtMs: 1, taskStartedAtMs: 1, ...more,
  };
}

describe('leader writes are fenced by the leader lease (real Redis)', () => {
  let server: ServerHandle;
  let redis: Redis;
  let hosts: HostStore;
  let instances: InstanceStore;
  let allocations: AllocationStore;
  let now: number;

  beforeAll(async () => {
    server = await startRedisServer();
    redis = await connectRedis({ url: server.url, name: 'fencing-test', logger });
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
    for (const h of ['h1', 'h2']) {
      await hosts.register({
        hostId: h, agentEndpoint: `${h}:1`, tunnelIp: '', vcpusTotal: 8, ramMbTotal: 4096, diskGbTotal: 100, ramMbReserved: 0,
        cpuAllocationRatio: 1, ramAllocationRatio: 1, diskAllocationRatio: 1, registeredAtMs: now,
        profile: { hostname: h, sockets: 1, coresPerSocket: 8, threadsPerCore: 1, cpuMhz: 2000, ramMb: 4096, diskGb: 100, cpuModel: '', hypervisorType: 'qemu', architecture: 'x86_64', availabilityZone: 'nova', rackId: '' },
      });
    }
    await instances.createMany([instance('vm-1', 'h1')]);
    expect((await allocations.claim('h1', 'vm-1', req)).ok).toBe(true);
    await redis.set(LEASE, 'replica-b|7');
  });

  /** Every key with its value (strings, hashes, sets, lists), to compare before and after. */
  async function snapshot(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const k of (await redis.keys('*')).sort()) {
      const type = await redis.type(k);
      if (type === 'string') out[k] = await redis.get(k);
      else if (type === 'hash') out[k] = await redis.hgetall(k);
      else if (type === 'set') out[k] = (await redis.smembers(k)).sort();
      else if (type === 'list') out[k] = await redis.lrange(k, 0, -1);
      else out[k] = type;
    }
    return out;
  }

  /** `write` under the stale token and under none is refused (LeaderFenceLostError) and changes nothing. */
  async function refusedForStaleLeader(write: (fence: LeaderFence) => Promise<unknown>): Promise<void> {
    for (const fence of [stale, noLonger]) {
      const before = await snapshot();
      const e = await write(fence).then(
        () => new Error('the write was not refused'),
        (err: unknown) => err,
      );
      expect(isLeaderFenceLost(e) ? 'LeaderFenceLostError' : e).toBe('LeaderFenceLostError');
      expect(await snapshot()).toEqual(before);
    }
  }

  it('instance record moves, claims and releases, host states: refused for a stale token, applied for the current one', async () => {
    const move = (fence: LeaderFence) => instances.update('vm-1', (r) => ({ ...r, hostId: 'h2', vmState: 'building', taskState: 'networking' }), now, fence);
    await refusedForStaleLeader(move);
    await refusedForStaleLeader((f) => allocations.claim('h2', 'vm-1', req, {}, f));
    await refusedForStaleLeader((f) => allocations.release('h1', 'vm-1', f));
    await refusedForStaleLeader((f) => hosts.setState('h1', 'failed', { expected: 'up', fence: f }));

    expect(await move(current)).toMatchObject({ hostId: 'h2', taskState: 'networking' });
    expect(await allocations.claim('h2', 'vm-1', req, {}, current)).toEqual({ ok: true });
    expect(await allocations.release('h1', 'vm-1', current)).toBe(true);
    expect(await hosts.setState('h1', 'failed', { expected: 'up', fence: current })).toBe(true);
    // Compare-and-set on the state the decision saw, fenced or not.
    expect(await hosts.setState('h1', 'up', { expected: 'suspect', fence: current })).toBe(false);
    expect((await hosts.get('h1')).state).toBe('failed');
  });

  it('evacuation records: opening, compare-and-set and closing (with the old claim) are refused for a stale token', async () => {
    const evacs = new EvacuationStore(redis);
    const rec: EvacuationRecord = { instanceId: 'vm-1', fromHostId: 'h1', fencedEpoch: 2, requestId: 'req-evacuate-vm-1-2', startedAtMs: now, attempts: 0 };
    const action = { requestId: rec.requestId, action: 'evacuate', userId: 'ha', projectId: 'p1', startMs: now, result: '', message: '' };
    await refusedForStaleLeader((f) => evacs.open(rec, action, f));
    expect(await evacs.open(rec, action, current)).toBe(true);
    expect(await evacs.open(rec, action, current)).toBe(false); // one open evacuation per instance
    expect((await instances.listActions('vm-1')).map((a) => a.action)).toEqual(['evacuate']);

    const placed = { ...rec, toHostId: 'h2', attempts: 1 };
    await refusedForStaleLeader((f) => evacs.replace(rec, placed, f));
    expect(await evacs.replace(rec, placed, current)).toBe(true);
    expect(await evacs.replace(rec, { ...rec, toHostId: 'h1' }, current)).toBe(false); // not the record read any more

    await refusedForStaleLeader((f) => evacs.close(placed, { releaseFrom: true }, f));
    expect(await evacs.close(rec, { releaseFrom: true }, current)).toBe(false);
    expect(await evacs.close(placed, { releaseFrom: true }, current)).toBe(true);
    expect(await evacs.ids()).toEqual([]);
    expect((await allocations.get('h1')).byInstance.has('vm-1')).toBe(false);
  });

  it("HA: at every phase of a host failure, a stale leader's tick changes nothing (no state, cluster view, fencing, evacuation, claim or move); the current leader's goes on", async () => {
    const T = { downAfterMs: 5000, leaseTtlMs: 3000, selfFenceAfterMs: 6000 };
    const enqueued: string[] = [];
    const replica = (fence: LeaderFence) =>
      new HaManager({
        redis, hosts, instances, allocations, logger, registry: new Registry(), nowMs: () => now,
        monitor: new HostMonitor({ hosts, bus, logger, nowMs: () => now, downAfterMs: T.downAfterMs, redis, leaseTtlMs: T.leaseTtlMs }),
        placement: {
          instanceZone: async () => 'nova',
          placeAll: async (spec, _req, o) => {
            const id = spec.instanceUuids[0];
            if ((await allocations.claim('h2', id, req, {}, o?.fence)).ok) return new Map([[id, 'h2']]);
            throw new ResourceExhaustedError('No valid host was found', 'no_valid_host');
          },
        },
        agents: { probeEpoch: async () => undefined, destroy: async () => true, host: async (id: string) => ({ hostId: id, agentEndpoint: '', epoch: 0 }) } as never,
        enqueue: (id) => enqueued.push(id),
        transition: (id, mutate, f) => instances.update(id, mutate, now, f),
        selfFenceAfterMs: T.selfFenceAfterMs,
        restartsPerZonePerSecond: 100,
        restartBurst: 100,
        enabled: true,
        leaderFence: fence,
      });
    const leader = replica(current);
    const stalled = replica(stale);
    const at = async (t: number, alive: string[]) => {
      now = 1_000_000 + t;
      await hosts.recordHeartbeats(alive.map((hostId) => ({ hostId, atMs: now, usage: { runningVms: 0, cpuUtilizationRatio: 0, powerWatts: 0 } })));
      for (const h of alive) await redis.set(HaProtocolKeys.lease(h), String(await hosts.epoch(h)), 'PX', T.leaseTtlMs);
    };
    /** The stalled replica's tick first (nothing may change), then the leader's. */
    const tick = async () => {
      const before = await snapshot();
      await stalled.tick();
      expect(await snapshot()).toEqual(before);
      await leader.tick();
    };
    await at(0, ['h1', 'h2']);
    await tick();
    expect(JSON.parse((await redis.get(HaProtocolKeys.clusterView()))!).hosts_up).toEqual(['h1', 'h2']);
    await at(3000, ['h2']);
    await redis.del(HaProtocolKeys.lease('h1'));
    await tick();
    expect((await hosts.get('h1')).state).toBe('suspect');
    await at(5500, ['h2']);
    await tick();
    expect((await hosts.get('h1')).state).toBe('failed');
    await at(9000, ['h2']);
    await tick();
    expect(await hosts.epoch('h1')).toBe(2);
    await at(9250, ['h2']);
    await tick();
    expect(await instances.get('vm-1')).toMatchObject({ hostId: 'h2', vmState: 'building', taskState: 'networking' });
    expect(enqueued).toEqual(['vm-1']);
    await instances.update('vm-1', (r) => ({ ...r, vmState: 'active', taskState: null, powerState: 'running' }), now);
    await at(9500, ['h2']);
    await tick();
    expect(await new EvacuationStore(redis).ids()).toEqual([]);
    // One claim, on the new host: the stale replica left none behind.
    expect([...(await allocations.get('h1')).byInstance.keys()]).toEqual([]);
    expect([...(await allocations.get('h2')).byInstance.keys()]).toEqual(['vm-1']);
    expect(enqueued).toEqual(['vm-1']);
  });

  it("power sync: a correction the leader's periodic check asked for is refused for a stale token", async () => {
    const powerSync = (fence: LeaderFence) =>
      new PowerSync({
        hosts, instances, migrations: { list: async () => [] }, redis, logger, registry: new Registry(), nowMs: () => now,
        // h1's agent holds no VM: vm-1 was lost by its hypervisor (the sync stops it).
        monitor: { latestInventory: () => [] },
        agents: { inventory: async () => ({ epoch: (await hosts.get('h1')).epoch, instances: [] }), destroy: async () => true },
        transition: (id, mutate, f) => instances.update(id, mutate, now, f),
        enqueue: () => undefined,
        resumeGuestsStateOnHostBoot: false,
        leaderFence: fence,
      });
    const before = await snapshot();
    const stalled = powerSync(stale);
    await stalled.checkReports();
    await stalled.syncHost('h1');
    expect(await snapshot()).toEqual(before);
    const leader = powerSync(current);
    await leader.checkReports();
    await leader.syncHost('h1');
    expect(await instances.get('vm-1')).toMatchObject({ vmState: 'stopped', powerState: 'nostate' });
  });

  it('DRS: a live migration a stale leader starts claims nothing and moves nothing (no agent commanded); the migration watch rolls nothing back', async () => {
    const commanded: string[] = [];
    const worker = (fence?: LeaderFence) =>
      new MigrationWorker({
        instances, hosts, allocations, logger, nowMs: () => now, leaderFence: fence,
        migrations: new MigrationStore(redis),
        placement: { claimOn: (h: string, c: string, rq: typeof req, f?: LeaderFence) => allocations.claim(h, c, rq, {}, f) } as never,
        serverGroups: {} as never,
        peers: {} as never,
        agents: {
          host: (id: string) => hosts.get(id),
          prepareMigrateIn: async () => void commanded.push('prepare_migrate_in'),
          migrateOut: async () => void commanded.push('migrate_out'),
          abortMigration: async () => void commanded.push('abort'),
        } as never,
        limits: { maxBandwidthMbps: 0, maxDowntimeMs: 0, autoConverge: false, timeoutSeconds: 0 },
        transition: (id, mutate, f) => instances.update(id, mutate, now, f),
        instanceSpec: () => ({}),
      });
    const who = { requestId: 'req-drs-1', userId: 'minicloud-drs', projectId: 'p1' };
    await refusedForStaleLeader((f) => worker().startLive(instance('vm-1', 'h1'), 'h2', who, f));
    expect(commanded).toEqual([]);

    // A migration left hanging (its source host failed): the leader's watch rolls it back, a stale one does not.
    const m: MigrationRecord = {
      id: 'mig-1', instanceId: 'vm-1', migrationType: 'live-migration', sourceHostId: 'h1', destHostId: 'h2', status: 'running', rounds: 1,
      transferredBytes: 0, remainingBytes: 0, totalTimeMs: 0, downtimeMs: 0, cpuThrottlePercentage: 0, postCopy: false, error: '', requestId: 'req-drs-2', createdAtMs: now, updatedAtMs: now,
    };
    await new MigrationStore(redis).create(m);
    await instances.update('vm-1', (r) => ({ ...r, taskState: 'migrating' }), now);
    await allocations.claim('h2', migrationConsumer('vm-1'), req);
    await hosts.setState('h1', 'failed');
    const before = await snapshot();
    await worker(stale).watch();
    expect(await snapshot()).toEqual(before);
    await worker(current).watch();
    expect(await new MigrationStore(redis).get('mig-1')).toMatchObject({ status: 'failed' });
    expect((await instances.get('vm-1')).taskState).toBeNull();
    expect((await allocations.get('h2')).byInstance.size).toBe(0);
  });
});
