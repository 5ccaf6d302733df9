import type { HostAllocations } from '../store/allocation-store';
import type { HostRecord } from '../store/host-store';
import { HostStateCache } from './host-state-cache';

/** Fake stores over plain maps, counting reads. */
function fixture(hostIds: string[]) {
  const usage = new Map<string, number>(hostIds.map((h) => [h, 0]));
  const reads = { list: 0, get: new Map<string, number>(), aggregates: 0 };
  let now = 0;
  const record = (hostId: string) => ({ hostId }) as HostRecord;
  const cache = new HostStateCache({
    hosts: { list: async () => (reads.list++, [...usage.keys()].sort().map(record)) },
    aggregates: { list: async () => (reads.aggregates++, []) },
    allocations: {
      get: async (hostId: string): Promise<HostAllocations> => {
        reads.get.set(hostId, (reads.get.get(hostId) ?? 0) + 1);
        return { vcpus: usage.get(hostId) ?? 0, ramMb: 0, diskGb: 0, byInstance: new Map() };
      },
    },
    nowMs: () => now,
    resyncMs: 1000,
  });
  return { cache, usage, reads, advance: (ms: number) => (now += ms) };
}

describe('HostStateCache', () => {
  it('loads every host once, then re-reads only the hosts whose allocations changed', async () => {
    const f = fixture(['h1', 'h2', 'h3']);
    expect((await f.cache.snapshot()).allocations.get('h2')?.vcpus).toBe(0);
    expect(f.reads.list).toBe(1);
    f.usage.set('h2', 4);
    f.cache.markAllocationsChanged('h2');
    const snap = await f.cache.snapshot();
    expect(snap.allocations.get('h2')?.vcpus).toBe(4);
    expect(f.reads.list).toBe(1);
    expect([...f.reads.get]).toEqual([
      ['h1', 1],
      ['h2', 2],
      ['h3', 1],
    ]);
    await f.cache.snapshot();
    expect(f.reads.get.get('h2')).toBe(2);
  });

  it('reloads everything when a record changed or the resync period passed (other replicas\' writes)', async () => {
    const f = fixture(['h1']);
    await f.cache.snapshot();
    f.cache.markRecordsChanged();
    f.usage.set('h9', 2);
    expect((await f.cache.snapshot()).records.map((r) => r.hostId)).toEqual(['h1', 'h9']);
    expect(f.reads.list).toBe(2);
    f.usage.set('h1', 3); // written by another replica: no mark here
    f.advance(999);
    expect((await f.cache.snapshot()).allocations.get('h1')?.vcpus).toBe(0);
    f.advance(1);
    expect((await f.cache.snapshot()).allocations.get('h1')?.vcpus).toBe(3);
    expect(f.reads.list).toBe(3);
  });

  it('shares one reload between concurrent callers', async () => {
    const f = fixture(['h1', 'h2']);
    await Promise.all([f.cache.snapshot(), f.cache.snapshot(), f.cache.reload()]);
    expect(f.reads.list).toBe(1);
  });

  it('a snapshot taken while a reload runs waits for it (never answers from the records before a change)', async () => {
    const f = fixture(['h1']);
    await f.cache.snapshot();
    f.usage.set('h2', 0);
    f.cache.markRecordsChanged();
    const [a, b] = await Promise.all([f.cache.snapshot(), f.cache.snapshot()]);
    expect(a.records.map((r) => r.hostId)).toEqual(['h1', 'h2']);
    expect(b.records.map((r) => r.hostId)).toEqual(['h1', 'h2']);
  });

  it('re-reads after a reload a host marked while that reload ran (its read may predate the write)', async () => {
    const f = fixture(['h1']);
    const loading = f.cache.reload();
    f.usage.set('h1', 5);
    f.cache.markAllocationsChanged('h1');
    await loading;
    expect((await f.cache.snapshot()).allocations.get('h1')?.vcpus).toBe(5);
  });
});
