import { profileByName } from './host-profile';
import { HostModel, type ModelVmSpec } from './host-model';
import { createWorkload } from './workload';

// HP ML110 G4: 2 cores x 1860 MHz = 3720 MHz, 4096 MB.
const g4 = profileByName('hp-proliant-ml110-g4', 'h1');
const vm = (id: string, ratio: number, o: Partial<ModelVmSpec> = {}): ModelVmSpec => ({
  instanceId: id, vcpus: 1, ramMb: 1024, diskGb: 10, imageId: 'img', imageSizeBytes: 2 ** 30,
  workload: createWorkload({ kind: 'constant', utilizationRatio: ratio }), portIds: ['p1'], ...o,
});

describe('HostModel', () => {
  it('integrates energy from the SPECpower table: each interval at the power of its start (CloudSim)', () => {
    const m = new HostModel(g4, 0);
    expect(m.snapshot.energyJoulesTotal).toBe(0);
    expect(m.tick(10_000).energyJoulesTotal).toBeCloseTo(860, 9); // idle: 86 W x 10 s
    m.addVm(vm('a', 0.5));
    m.setPower('a', true, true, 10_000);
    const s = m.tick(20_000);
    expect(s.powerWatts).toBeCloseTo(94.3, 9); // 930 / 3720 MHz = 25 %: between 92.6 W (20 %) and 96 W (30 %)
    // the interval 10..20 s was charged at its start's power: the VM started at 10 s
    expect(m.tick(30_000).energyJoulesTotal - s.energyJoulesTotal).toBeCloseTo(943, 9);
  });

  it('DPM standby draws 0 W from the moment it starts, and is refused while VMs are defined', () => {
    const m = new HostModel(g4, 0);
    expect(m.setStandby(true, 10_000).powerWatts).toBe(0);
    expect(m.snapshot.energyJoulesTotal).toBeCloseTo(860, 9); // idle until 10 s
    expect(m.tick(100_000).energyJoulesTotal).toBeCloseTo(860, 9); // nothing while in standby
    expect(m.setStandby(false, 100_000).powerWatts).toBe(86);
    expect(m.tick(110_000).energyJoulesTotal).toBeCloseTo(1720, 9);
    m.addVm(vm('a', 0.5));
    expect(() => m.setStandby(true, 110_000)).toThrow(/holds 1 VMs/);
  });

  it('integrates counters over a tick of any length (10 s of a VM at 50 %)', () => {
    const m = new HostModel(g4, 0);
    m.addVm(vm('a', 0.5));
    m.setPower('a', true, true, 0);
    const s = m.tick(10_000).vms.get('a')!;
    expect(s.cpuUtilizationRatio).toBe(0.5);
    expect(s.cpu.usageMhz).toBe(930);
    expect(s.disk.readOpsTotal + s.disk.writeOpsTotal).toBeCloseTo(1000, 9); // 200 IOPS x 0.5 x 10 s
    expect(s.vnics[0].txBytes).toBeCloseTo(62.5e6, 3); // 100 Mbit/s x 0.5 x 10 s / 8
    expect(s.disk.allocatedBytes).toBeGreaterThan(0);
    expect(s.disk.allocatedBytes).toBeLessThanOrEqual(s.disk.virtualBytes);
    expect(s.memory.activeMb).toBe(512);
    expect(s.dirtyRateMbPerSecond).toBeCloseTo(50.5, 9);
  });

  it('overcommit: three busy 1-vCPU VMs on two cores get 2/3 each and accumulate ready time', () => {
    const m = new HostModel(g4, 0);
    for (const id of ['a', 'b', 'c']) {
      m.addVm(vm(id, 1));
      m.setPower(id, true, true, 0);
    }
    const snap = m.tick(10_000);
    const a = snap.vms.get('a')!;
    expect(a.cpu.usageMhz).toBeCloseTo(1240, 9);
    expect(a.cpu.readyRatio).toBeCloseTo(1 / 3, 9);
    expect(a.cpuReadySecondsTotal).toBeCloseTo(10 / 3, 9);
    expect(snap.cpu.utilizationRatio).toBe(1);
    expect(snap.powerWatts).toBe(117);
  });

  it('a powered-off VM runs nothing and releases its memory; a snapshot adds a disk layer', () => {
    const m = new HostModel(g4, 0);
    m.addVm(vm('a', 0.5));
    m.setPower('a', true, true, 0);
    m.tick(1000);
    m.disk('a').snapshot();
    m.setPower('a', false, false);
    const s = m.tick(2000).vms.get('a')!;
    expect(s).toMatchObject({ cpuUtilizationRatio: 0, memory: { grantedMb: 0 }, disk: { layers: 3 } });
    expect(() => m.setPower('nope', true, true)).toThrow(/instance/);
  });
});
