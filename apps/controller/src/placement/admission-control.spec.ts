import fc from 'fast-check';
import { makeHost } from '@minicloud/domain-scheduler/testing';
import { admissionHostOf, checkAdmission, type AdmissionHost } from './admission-control';

const host = (hostId: string, vcpus: number, ramMb: number, usedVcpus = 0, usedRam = 0): AdmissionHost => ({
  hostId, vcpusCapacity: vcpus, ramMbCapacity: ramMb, diskGbCapacity: 1000, vcpusUsed: usedVcpus, ramMbUsed: usedRam, diskGbUsed: 0,
});

describe('checkAdmission', () => {
  it('keeps the largest host free for one failure', () => {
    const hosts = [host('a', 16, 32_768, 8, 16_384), host('b', 16, 32_768, 4, 8192), host('c', 8, 16_384)];
    // usable ram = 32768 + 16384 = 49152; used 24576
    expect(checkAdmission(hosts, { vcpus: 1, ramMb: 24_576, diskGb: 0 }, 1, 1)).toEqual({ ok: true });
    const r = checkAdmission(hosts, { vcpus: 0, ramMb: 1024, diskGb: 0 }, 25, 1);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(/^ram_mb: 24576 used \+ 25600 requested > 49152 usable while keeping 32768 for 1 host failure/);
  });

  it('refuses everything when there are not more usable hosts than tolerated failures; 0 disables', () => {
    expect(checkAdmission([host('a', 16, 1024)], { vcpus: 1, ramMb: 1, diskGb: 0 }, 1, 1).ok).toBe(false);
    expect(checkAdmission([host('a', 16, 1024)], { vcpus: 1, ramMb: 1, diskGb: 0 }, 1, 0).ok).toBe(true);
  });

  it('leaves a request no single host could hold to the scheduler (NoValidHost)', () => {
    const hosts = [host('a', 16, 32_768), host('b', 16, 32_768)];
    expect(checkAdmission(hosts, { vcpus: 1, ramMb: 65_536, diskGb: 0 }, 1, 1)).toEqual({ ok: true });
    expect(checkAdmission(hosts, { vcpus: 1, ramMb: 32_768, diskGb: 0 }, 2, 1).ok).toBe(false);
  });

  it('admitted load always fits on the hosts left after any N failures', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 2, maxLength: 6 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 40 }), (caps, vcpus, count) => {
        const hosts = caps.map((cap, i) => host(`h${i}`, cap, 1e9));
        const r = checkAdmission(hosts, { vcpus, ramMb: 0, diskGb: 0 }, count, 1);
        if (!r.ok || vcpus > Math.max(...caps)) return true; // refused, or the scheduler's to refuse
        const total = caps.reduce((s, v) => s + v, 0);
        return caps.every((failed) => vcpus * count <= total - failed);
      }),
    );
  });
});

describe('admissionHostOf', () => {
  it('counts capacity by the scheduler rule, aggregate allocation-ratio overrides included', () => {
    const st = makeHost({ hostId: 'h', vcpusTotal: 8, cpuAllocationRatio: 4, ramMbTotal: 16_384, ramMbReserved: 1024, ramAllocationRatio: 1.5, vcpusUsed: 3, ramMbUsed: 2048, aggregates: [{ id: 'a', metadata: { cpu_allocation_ratio: '1', ram_allocation_ratio: '1.0' } }] });
    expect(admissionHostOf(st)).toEqual({ hostId: 'h', vcpusCapacity: 8, ramMbCapacity: 15_360, diskGbCapacity: 1000, vcpusUsed: 3, ramMbUsed: 2048, diskGbUsed: 0 });
  });

  it('an aggregate ratio below the host own refuses a boot the host ratio alone would admit', () => {
    const hosts = ['a', 'b'].map((id) => makeHost({ hostId: id, vcpusTotal: 8, cpuAllocationRatio: 4, aggregates: [{ id: 'agg', metadata: { cpu_allocation_ratio: '1' } }] }));
    // Host ratio 4: 32 usable after one failure; the aggregate's ratio 1 leaves 8.
    expect(checkAdmission(hosts.map(admissionHostOf), { vcpus: 4, ramMb: 0, diskGb: 0 }, 3, 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/^vcpus: 0 used \+ 12 requested > 8 usable/) });
  });
});
