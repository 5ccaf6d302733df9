import { seededRng } from '@minicloud/domain-clock';
import { queueMetrics } from './queueing';
import { fnv1a32, simulatedClientAddresses, SplitMember, splitTraffic } from './traffic-split';

const srv = (vcpus: number, ms: number) => ({ vcpus, serviceTimeSeconds: ms / 1000 });
const mem = (id: string, weight: number, vcpus = 1, ms = 10): SplitMember => ({ memberId: id, weight, server: srv(vcpus, ms) });
const sum = (xs: { rps: number }[]) => xs.reduce((s, x) => s + x.rps, 0);

describe('splitTraffic', () => {
  it('ROUND_ROBIN splits by weight', () => {
    const out = splitTraffic('ROUND_ROBIN', 300, [mem('a', 1), mem('b', 2)]);
    expect(out).toEqual([{ memberId: 'a', rps: 100 }, { memberId: 'b', rps: 200 }]);
  });

  it('LEAST_CONNECTIONS gives equal members equal shares', () => {
    const out = splitTraffic('LEAST_CONNECTIONS', 120, [mem('a', 1), mem('b', 1), mem('c', 1)]);
    for (const s of out) expect(s.rps).toBeCloseTo(40, 4);
  });

  it('LEAST_CONNECTIONS sends more to a faster member and equalises concurrency', () => {
    const members = [mem('slow', 1, 1, 20), mem('fast', 1, 1, 10)];
    const out = splitTraffic('LEAST_CONNECTIONS', 60, members);
    expect(sum(out)).toBeCloseTo(60, 6);
    expect(out[1].rps).toBeGreaterThan(out[0].rps);
    const n = out.map((s, i) => queueMetrics(members[i].server, s.rps).meanConcurrency);
    expect(n[0]).toBeCloseTo(n[1], 3);
  });

  it('LEAST_CONNECTIONS beyond capacity fills members in proportion to capacity', () => {
    const out = splitTraffic('LEAST_CONNECTIONS', 1000, [mem('a', 1, 1, 10), mem('b', 1, 3, 10)]);
    expect(out[0].rps).toBeCloseTo(250, 6);
    expect(out[1].rps).toBeCloseTo(750, 6);
  });

  it('SOURCE_IP: deterministic per client, close to even over many clients', () => {
    const clients = simulatedClientAddresses(4000, seededRng(7));
    const members = [mem('a', 1), mem('b', 1), mem('c', 1), mem('d', 1)];
    const out = splitTraffic('SOURCE_IP', 400, members, clients);
    expect(sum(out)).toBeCloseTo(400, 6);
    for (const s of out) expect(Math.abs(s.rps - 100)).toBeLessThan(10);
    expect(splitTraffic('SOURCE_IP', 400, members, clients)).toEqual(out);
    expect(() => splitTraffic('SOURCE_IP', 1, members, [])).toThrow('client_addresses');
  });

  it('SOURCE_IP: one client lands on one member', () => {
    const out = splitTraffic('SOURCE_IP', 50, [mem('a', 1), mem('b', 1)], ['100.64.0.1']);
    expect(out.filter((s) => s.rps > 0)).toHaveLength(1);
  });

  it('no member: nothing; zero offer: zeros; bad input refused', () => {
    expect(splitTraffic('ROUND_ROBIN', 10, [])).toEqual([]);
    expect(splitTraffic('ROUND_ROBIN', 0, [mem('a', 1)])).toEqual([{ memberId: 'a', rps: 0 }]);
    expect(() => splitTraffic('ROUND_ROBIN', -1, [mem('a', 1)])).toThrow('offered_rps');
    expect(() => splitTraffic('ROUND_ROBIN', 1, [mem('a', 0)])).toThrow('weight');
  });

  it('client addresses stay inside 100.64.0.0/10 and the hash is FNV-1a', () => {
    for (const a of simulatedClientAddresses(200, seededRng(1))) {
      const [o1, o2] = a.split('.').map(Number);
      expect(o1).toBe(100);
      expect(o2).toBeGreaterThanOrEqual(64);
      expect(o2).toBeLessThan(128);
    }
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
  });
});
