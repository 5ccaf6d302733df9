import fc from 'fast-check';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { DEFAULT_MEMORY_CONFIG, memoryStateOf, reclaimMemory, type MemoryVm } from './memory-model';

// Host of 1000 MB: thresholds high 60, soft 40, hard 20, low 10 MB free.
const vm = (id: string, touchedMb: number, o: Partial<MemoryVm> = {}): MemoryVm => ({ id, ramMb: 600, touchedMb, activeMb: 90, balloonMb: 0, ...o });

describe('reclaimMemory (ESXi: TPS, balloon, compression, swap)', () => {
  it('classifies free memory into high / soft / hard / low at 4 / 2 / 1 %', () => {
    expect([40, 39.9, 20, 19.9, 10, 9.9].map((f) => memoryStateOf(f, 1000))).toEqual(['high', 'soft', 'soft', 'hard', 'hard', 'low']);
  });

  it('reclaims nothing while free memory is above the soft threshold', () => {
    const r = reclaimMemory(1000, [vm('a', 450), vm('b', 450)], 10);
    expect(r).toMatchObject({ state: 'high', freeMb: 100, balloonedMb: 0, compressedMb: 0, swappedMb: 0, sharedMb: 0 });
    expect(r.vms[0]).toMatchObject({ grantedMb: 450, activeMb: 90 });
  });

  it('shares 10 % of the pages of VMs from the same image (one copy kept), which keeps the host high', () => {
    const same = reclaimMemory(1000, [vm('a', 500, { imageId: 'img' }), vm('b', 500, { imageId: 'img' })], 10);
    expect(same).toMatchObject({ state: 'high', sharedMb: 100, sharedSavedMb: 50, consumedMb: 950, balloonedMb: 0 });
    const lone = reclaimMemory(1000, [vm('a', 500, { imageId: 'img' }), vm('b', 500, { imageId: 'other' })], 10);
    expect(lone).toMatchObject({ sharedMb: 0, sharedSavedMb: 0 });
  });

  it('in soft state balloons idle memory back to the high threshold, and nothing more', () => {
    // 980 touched -> 20 free (soft); need 980 - 940 = 40, split over equal idle memory.
    const r = reclaimMemory(1000, [vm('a', 490), vm('b', 490)], 10);
    expect(r).toMatchObject({ state: 'soft', stateAfter: 'high', balloonedMb: 40, compressedMb: 0, swappedMb: 0, freeMb: 60 });
    expect(r.vms.map((v) => v.balloonedMb)).toEqual([20, 20]);
    expect(r.vms[0].grantedMb).toBe(470);
  });

  it('inflates balloons at the configured rate (64 MB/s x 0.1 s per VM)', () => {
    const r = reclaimMemory(1000, [vm('a', 490), vm('b', 490)], 0.1);
    expect(r.balloonedMb).toBeCloseTo(12.8, 9);
    expect(r.compressedMb).toBe(0); // 32.8 free is still above the hard threshold
    const next = reclaimMemory(1000, [vm('a', 490, { balloonMb: 6.4 }), vm('b', 490, { balloonMb: 6.4 })], 0.1);
    expect(next.balloonedMb).toBeCloseTo(25.6, 9);
    const deflate = reclaimMemory(1000, [vm('a', 100, { activeMb: 10, balloonMb: 20 }), vm('b', 100, { activeMb: 10, balloonMb: 20 })], 0.1);
    expect(deflate.vms[0].balloonedMb).toBeCloseTo(13.6, 9);
  });

  it('below the hard threshold compresses cold pages before swapping, up to the soft threshold', () => {
    // 990 touched, balloon not inflated yet (dt 0): free 10 -> hard; need 990 - 960 = 30 MB freed = 60 MB compressed at 2:1.
    const r = reclaimMemory(1000, [vm('a', 495), vm('b', 495)], 0);
    expect(r).toMatchObject({ state: 'hard', balloonedMb: 0, swappedMb: 0, stateAfter: 'high' });
    expect(r.compressedMb).toBeCloseTo(60, 9);
    expect(r.consumedMb).toBeCloseTo(960, 9);
  });

  it('swaps what compression cannot free (compression cache capped at 1 % of RAM here)', () => {
    const r = reclaimMemory(1000, [vm('a', 495), vm('b', 495)], 0, { ...DEFAULT_MEMORY_CONFIG, compressionMaxRatio: 0.01 });
    expect(r.compressedMb).toBeCloseTo(12, 9); // frees 6
    expect(r.swappedMb).toBeCloseTo(24, 9);
    expect(r.vms[0].swappedMb).toBeCloseTo(12, 9);
    expect(r.consumedMb).toBeCloseTo(960, 9);
  });

  it('rejects inconsistent input naming the field', () => {
    expect(() => reclaimMemory(1000, [vm('a', 700)], 1)).toThrow(/vms\[0\]\.touched_mb/);
    expect(() => reclaimMemory(1000, [vm('a', 50, { activeMb: 60 })], 1)).toThrow(/vms\[0\]\.active_mb/);
    expect(() => reclaimMemory(1000, [], -1)).toThrow(InvalidArgumentError);
    expect(() => reclaimMemory(1000, [], 1, { ...DEFAULT_MEMORY_CONFIG, softFreeRatio: 0.07 })).toThrow(/config\.high_free_ratio/);
  });

  const vmsArb = fc.array(
    fc.record({ ram: fc.integer({ min: 64, max: 4096 }), touched: fc.double({ min: 0, max: 1, noNaN: true }), active: fc.double({ min: 0, max: 1, noNaN: true }), img: fc.constantFrom('a', 'b', undefined), balloon: fc.integer({ min: 0, max: 500 }) }),
    { maxLength: 20 },
  ).map((xs) => xs.map((x, i): MemoryVm => ({ id: `v${i}`, ramMb: x.ram, touchedMb: x.ram * x.touched, activeMb: x.ram * x.touched * x.active, imageId: x.img, balloonMb: x.balloon })));

  it('property: in high state balloons only deflate and nothing is compressed/swapped; compression only below hard; bounds hold', () => {
    fc.assert(
      fc.property(vmsArb, fc.integer({ min: 1024, max: 32768 }), fc.double({ min: 0, max: 100, noNaN: true }), (vms, ram, dt) => {
        const r = reclaimMemory(ram, vms, dt);
        if (r.state === 'high') {
          // balloons only deflate, nothing is compressed or swapped
          expect(r.compressedMb + r.swappedMb).toBe(0);
          r.vms.forEach((v, i) => expect(v.balloonedMb).toBeLessThanOrEqual(vms[i].balloonMb + 1e-9));
        }
        if (r.freeMb - r.compressedMb * 0.5 - r.swappedMb >= 0.02 * ram + 1e-6) expect(r.compressedMb + r.swappedMb).toBeLessThan(1e-6);
        r.vms.forEach((v, i) => {
          expect(v.balloonedMb).toBeLessThanOrEqual(DEFAULT_MEMORY_CONFIG.balloonMaxRatio * vms[i].ramMb + 1e-9);
          expect(v.grantedMb).toBeGreaterThanOrEqual(0);
          expect(v.grantedMb + v.balloonedMb + v.compressedMb + v.swappedMb).toBeCloseTo(vms[i].touchedMb, 6);
        });
      }),
      { numRuns: 300 },
    );
  });
});
