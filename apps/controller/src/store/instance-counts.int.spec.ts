import { silentLogger } from '@minicloud/platform-logging';
import { connectRedis, type Redis } from '@minicloud/platform-state';
import { startRedisServer, type ServerHandle } from '@minicloud/testing';
import { makeInstance } from '../testing/unit-fakes';
import { InstanceStore } from './instance-store';
import { Keys } from './keys';

let server: ServerHandle;
let redis: Redis;

beforeAll(async () => {
  server = await startRedisServer();
  redis = await connectRedis({ url: server.url, name: 'instance-counts-test', logger: silentLogger() });
}, 30_000);
afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});
beforeEach(() => redis.flushall());

/** What the counts must be: every record read one by one (what the gauge used to do on each scrape). */
async function countedFromRecords(store: InstanceStore): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await store.list()) out[r.vmState] = (out[r.vmState] ?? 0) + 1;
  return out;
}

describe('instance counts by vm_state (the minicloud_compute_instances gauge)', () => {
  it('counts records written before the counts were kept, once, then follows create, transitions and delete', async () => {
    // Two records from before: no counts in Redis yet.
    for (const r of [makeInstance({ id: 'old-1', vmState: 'active' }), makeInstance({ id: 'old-2', vmState: 'stopped' })]) {
      await redis.set(Keys.instance(r.id), JSON.stringify(r));
      await redis.sadd(Keys.instances(), r.id);
    }
    const store = new InstanceStore(redis);
    await store.createMany([makeInstance({ id: 'new-1', vmState: 'building' })]);
    expect(await store.countByVmState()).toEqual({ active: 1, stopped: 1, building: 1 });

    await store.update('new-1', (r) => ({ ...r, vmState: 'active' }));
    await store.update('new-1', (r) => ({ ...r, name: 'renamed' }));
    expect(await store.countByVmState()).toEqual(await countedFromRecords(store));

    // A delete takes off the state the record holds now, not the one its caller read.
    const stale = await store.get('old-2');
    await store.update('old-2', (r) => ({ ...r, vmState: 'active' }));
    await store.remove(stale);
    expect(await store.countByVmState()).toEqual(await countedFromRecords(store));
    expect((await store.countByVmState()).stopped).toBeUndefined();
  });

  it('a client-token create counts its records in the same step', async () => {
    const store = new InstanceStore(redis);
    await store.reserveClientToken('p', 'tok', 'r-1');
    await store.createMany([makeInstance({ id: 'a', reservationId: 'r-1', vmState: 'building' }), makeInstance({ id: 'b', reservationId: 'r-1', vmState: 'building' })], { projectId: 'p', token: 'tok' });
    expect(await store.countByVmState()).toEqual({ building: 2 });
  });

  it('stays right under concurrent transitions from two replicas, and a restarted replica does not count again', async () => {
    const a = new InstanceStore(redis);
    const b = new InstanceStore(redis);
    await a.countByVmState();
    const ids = Array.from({ length: 20 }, (_, i) => `i-${i}`);
    await a.createMany(ids.map((id) => makeInstance({ id, vmState: 'building' })));
    const states = ['active', 'stopped', 'error', 'active', 'deleted'] as const;
    await Promise.all(ids.flatMap((id, i) => [a, b].map((s, j) => s.update(id, (r) => ({ ...r, vmState: states[(i + j) % states.length]! })))));
    await Promise.all(ids.slice(0, 5).map(async (id) => b.remove(await b.get(id))));
    const expected = await countedFromRecords(a);
    expect(await a.countByVmState()).toEqual(expected);
    const restarted = new InstanceStore(redis);
    expect(await restarted.countByVmState()).toEqual(expected);
    expect(Object.values(expected).reduce((x, y) => x + y, 0)).toBe(15);
  });
});
