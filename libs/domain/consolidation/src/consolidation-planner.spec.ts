import { InvalidArgumentError } from '@minicloud/domain-errors';
import { createOverloadDetector } from './overload-detection';
import { planConsolidation, type PlannerHost, type PlannerVm } from './consolidation-planner';
import { minimumMigrationTime } from './vm-selection';

const G4 = { name: 'g4', source: 'CloudSim PowerModelSpecPowerHpProLiantMl110G4Xeon3040', wattsAtLoadDecile: [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117] };
const host = (hostId: string, over: Partial<PlannerHost> = {}): PlannerHost => ({
  hostId, power: 'active', cpuMhzTotal: 4000, vcpusCapacity: 16, vcpusUsed: 0, ramMbCapacity: 16_384, ramMbUsed: 0,
  nicMbps: 1000, powerModel: G4, pendingClaims: false, ...over,
});
const vm = (instanceId: string, hostId: string, util: number, over: Partial<PlannerVm> = {}): PlannerVm => ({
  instanceId, hostId, vcpus: 1, ramMb: 1024, cpuMhz: 2000, utilizationRatio: util, history: [util], movable: true, ...over,
});
/** Hosts with their claims filled from the VMs placed on them. */
function cloud(hs: PlannerHost[], vms: PlannerVm[]): PlannerHost[] {
  return hs.map((h) => {
    const mine = vms.filter((v) => v.hostId === h.hostId);
    return { ...h, vcpusUsed: mine.reduce((s, v) => s + v.vcpus, 0), ramMbUsed: mine.reduce((s, v) => s + v.ramMb, 0) };
  });
}
const thr = { detector: createOverloadDetector({ kind: 'thr', thresholdRatio: 0.8 }), selection: minimumMigrationTime, maxMigrations: 10 };

describe('planConsolidation (live DRS/DPM round)', () => {
  it('moves the smallest-RAM VM off an overloaded host to the host whose power rises least', () => {
    // h1 at 0.9 (over 0.8): VMs of 1.0 x 2000 MHz and 0.8 x 2000 MHz; MMT picks the 512 MB one.
    const vms = [vm('a', 'h1', 1.0, { ramMb: 2048 }), vm('b', 'h1', 0.8, { ramMb: 512 }), vm('c', 'h2', 0.5), vm('d', 'h3', 0.6)];
    const plan = planConsolidation(cloud([host('h1'), host('h2'), host('h3')], vms), vms, { ...thr, minActiveHosts: 3 });
    expect(plan.overloadedHostIds).toEqual(['h1']);
    // h2 0.25 -> 0.65 costs 12.7 W, h3 0.30 -> 0.70 costs 12.0 W on the G4 table.
    expect(plan.migrations).toEqual([{ instanceId: 'b', sourceHostId: 'h1', destHostId: 'h3', reason: 'overload' }]);
  });

  it('empties the least utilised host when all its VMs fit elsewhere, and never moves a VM with a task', () => {
    const vms = [vm('a', 'h1', 0.5), vm('b', 'h2', 0.2), vm('c', 'h3', 0.3, { movable: false })];
    const plan = planConsolidation(cloud([host('h1'), host('h2'), host('h3')], vms), vms, thr);
    // h2 (0.10) is the least utilised and emptied first; h3 holds an unmovable VM and is never emptied.
    expect(plan.evacuatedHostIds[0]).toBe('h2');
    expect(plan.evacuatedHostIds).not.toContain('h3');
    expect(plan.migrations[0]).toMatchObject({ instanceId: 'b', sourceHostId: 'h2', reason: 'underload' });
    expect(plan.migrations.some((m) => m.instanceId === 'c')).toBe(false);
  });

  it('respects anti-affinity, allowed hosts, RAM and the 100 % CPU bound', () => {
    const vms = [
      vm('a', 'h1', 0.1, { antiAffinityGroupId: 'g' }),
      vm('b', 'h2', 0.1, { antiAffinityGroupId: 'g' }),
      vm('c', 'h3', 0.1, { allowedHostIds: new Set(['h3', 'h4']) }),
      vm('d', 'h4', 0.1, { ramMb: 16_000 }),
    ];
    const plan = planConsolidation(cloud([host('h1'), host('h2'), host('h3'), host('h4')], vms), vms, thr);
    for (const m of plan.migrations) {
      if (m.instanceId === 'a') expect(m.destHostId).not.toBe('h2');
      if (m.instanceId === 'b') expect(m.destHostId).not.toBe('h1');
      if (m.instanceId === 'c') expect(m.destHostId).toBe('h4');
    }
    // h4 holds 16,000 MB: nothing else fits there, and d fits nowhere else.
    expect(plan.migrations.filter((m) => m.destHostId === 'h4' && m.instanceId !== 'c')).toEqual([]);
    expect(plan.migrations.some((m) => m.instanceId === 'd')).toBe(false);
  });

  it('DPM: empty active hosts go to standby, keeping minActiveHosts; hosts with pending claims stay', () => {
    const vms = [vm('a', 'h1', 0.5)];
    const hs = cloud([host('h1'), host('h2'), host('h3', { pendingClaims: true }), host('h4'), host('h5', { power: 'unavailable' })], vms);
    expect(planConsolidation(hs, vms, thr).standby).toEqual(['h2', 'h4']);
    const bare = [host('h1'), host('h2'), host('h3', { pendingClaims: true }), host('h4')];
    expect(planConsolidation(bare, [], { ...thr, minActiveHosts: 2 }).standby).toEqual(['h1', 'h2']);
    expect(planConsolidation(hs, vms, { ...thr, dpm: false }).standby).toEqual([]);
  });

  it('DPM: wakes a standby host when an overloaded host has nowhere to shed load', () => {
    const vms = [vm('a', 'h1', 1.0), vm('b', 'h1', 0.9), vm('c', 'h2', 1.0), vm('d', 'h2', 0.95)];
    const hs = cloud([host('h1'), host('h2'), host('h3', { power: 'standby' })], vms);
    const plan = planConsolidation(hs, vms, thr);
    expect(plan.migrations).toEqual([]);
    expect(plan.wake).toEqual(['h3']);
    expect(plan.standby).toEqual([]);
  });

  it('caps migrations: overload first, and never half-empties an underloaded host', () => {
    const vms = [vm('a', 'h1', 0.1), vm('b', 'h1', 0.1), vm('c', 'h2', 0.5)];
    const hs = cloud([host('h1'), host('h2')], vms);
    expect(planConsolidation(hs, vms, { ...thr, maxMigrations: 1 }).migrations).toEqual([]);
    expect(planConsolidation(hs, vms, { ...thr, maxMigrations: 2 }).migrations.map((m) => m.instanceId)).toEqual(['a', 'b']);
    expect(() => planConsolidation(hs, vms, { ...thr, maxMigrations: -1 })).toThrow(InvalidArgumentError);
  });

  it('a standby or unavailable host neither gives nor takes VMs', () => {
    const vms = [vm('a', 'h1', 0.05), vm('m', 'h3', 0.05)];
    const hs = cloud([host('h1'), host('h2', { power: 'standby' }), host('h3', { power: 'unavailable' })], vms);
    const plan = planConsolidation(hs, vms, thr);
    expect(plan.migrations).toEqual([]);
    expect(plan.standby).toEqual([]);
  });
});
