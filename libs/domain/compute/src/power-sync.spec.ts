import fc from 'fast-check';
import type { HostLiveness } from './host-liveness';
import type { PowerState, TaskState, VmState } from './instance';
import { planPowerSync, type InventoryVm, type PowerSyncInput, type SyncedInstance } from './power-sync';

const H = 'host-2';

function rec(id: string, more: Partial<SyncedInstance> = {}): SyncedInstance {
  return { id, hostId: H, vmState: 'active', taskState: null, powerState: 'running', ...more };
}

function vm(instanceId: string, powerState: PowerState = 'running', migrating = false): InventoryVm {
  return { instanceId, powerState, migrating };
}

/** Records read before and after are the same unless `after` says otherwise. */
function plan(records: SyncedInstance[], inventory: InventoryVm[], more: Partial<PowerSyncInput> & { after?: SyncedInstance[] } = {}) {
  const after = more.after ?? records;
  return planPowerSync({
    hostId: H,
    hostState: 'up',
    placedBefore: records.filter((r) => r.hostId === H),
    inventory,
    ownersAfter: new Map(after.map((r) => [r.id, r])),
    evacuating: new Set(),
    migrating: new Set(),
    resumeGuestsStateOnHostBoot: false,
    ...more,
  });
}

describe('planPowerSync: a guest the hypervisor lost', () => {
  // [vm_state, power_state recorded, resume option, expected action (or none)]
  const table: [VmState, PowerState, boolean, string | undefined][] = [
    ['active', 'running', false, 'stop'],
    ['active', 'running', true, 'respawn'],
    ['active', 'shutdown', true, 'stop'], // Nova resumes only a guest recorded RUNNING
    ['active', 'nostate', true, 'stop'], // a respawn that failed is not retried for ever
    ['paused', 'paused', false, 'stop'],
    ['paused', 'paused', true, 'stop'],
    ['suspended', 'suspended', false, 'stop'],
    ['rescued', 'running', false, 'stop'],
    ['stopped', 'shutdown', false, 'set_power_state:nostate'],
    ['stopped', 'shutdown', true, 'set_power_state:nostate'],
    ['stopped', 'nostate', false, undefined],
    ['error', 'running', false, 'set_power_state:nostate'],
    ['error', 'nostate', false, undefined],
    ['shelved', 'shutdown', false, 'set_power_state:nostate'],
    ['deleted', 'running', false, undefined],
  ];
  it.each(table)('%s with power_state %s (resume %s) -> %s', (vmState, powerState, resume, expected) => {
    const p = plan([rec('i1', { vmState, powerState })], [], { resumeGuestsStateOnHostBoot: resume });
    const got = p.actions.map((a) => (a.kind === 'set_power_state' ? `${a.kind}:${a.powerState}` : a.kind));
    expect(got).toEqual(expected ? [expected] : []);
    if (expected) expect(p.actions[0]).toMatchObject({ instanceId: 'i1', from: { vmState, powerState } });
  });

  it('the whole-cloud restart: 8 servers recorded running, the agent holds none: all stopped, nothing destroyed', () => {
    const records = Array.from({ length: 8 }, (_, i) => rec(`s${i}`));
    const p = plan(records, []);
    expect(p.actions.map((a) => a.kind)).toEqual(Array(8).fill('stop'));
    expect(p.skipped).toEqual([]);
  });

  it('instances of other hosts are not this host\'s to stop', () => {
    expect(plan([rec('i1', { hostId: 'host-1' })], []).actions).toEqual([]);
  });
});

describe('planPowerSync: what it leaves alone', () => {
  const tasks: TaskState[] = ['spawning', 'networking', 'migrating', 'evacuating', 'powering_on', 'deleting', 'rebuild_spawning', 'resize_migrating'];
  it.each(tasks)('an instance with task_state %s (lost or not, here or elsewhere)', (taskState) => {
    const here = rec('here', { taskState });
    const elsewhere = rec('moved', { taskState, hostId: 'host-3' });
    const p = plan([here, elsewhere], [vm('moved')]);
    expect(p.actions).toEqual([]);
    expect(p.skipped).toEqual([
      { instanceId: 'here', why: 'task_in_progress' },
      { instanceId: 'moved', why: 'task_in_progress' },
    ]);
  });

  it('an instance with an open HA evacuation, here or on the host it is restarted on', () => {
    const p = plan([rec('lost'), rec('old-copy', { hostId: 'host-3' })], [vm('old-copy', 'shutdown')], { evacuating: new Set(['lost', 'old-copy']) });
    expect(p.actions).toEqual([]);
    expect(p.skipped.map((s) => s.why)).toEqual(['evacuating', 'evacuating']);
  });

  it('both sides of a live migration: by its record, or by the VM the agent flags', () => {
    // Source: the record is here; destination: the incoming VM is flagged, its record says the source.
    const bySet = plan([rec('m1')], [], { migrating: new Set(['m1']) });
    expect(bySet.actions).toEqual([]);
    expect(bySet.skipped).toEqual([{ instanceId: 'm1', why: 'migrating' }]);
    const incoming = plan([rec('m2', { hostId: 'host-1' })], [vm('m2', 'paused', true)]);
    expect(incoming.actions).toEqual([]);
    expect(incoming.skipped).toEqual([{ instanceId: 'm2', why: 'migrating' }]);
    // Post-copy: the record moved here already, the source still serves pages (flagged): not destroyed there.
    const source = planPowerSync({ ...baseInput(), hostId: 'host-1', inventory: [vm('m3', 'paused', true)], ownersAfter: new Map([['m3', rec('m3')]]) });
    expect(source.actions).toEqual([]);
    // A migration the agent has no record of at all is still the migration's.
    expect(plan([], [vm('m4', 'paused', true)]).actions).toEqual([]);
  });

  it('a resize in progress or awaiting confirm (the guest may be on either host)', () => {
    const resize = { sourceHostId: 'host-1', destHostId: H };
    const p = plan([rec('r1', { vmState: 'resized', resize }), rec('r2', { hostId: 'host-1', vmState: 'resized', resize })], [vm('r2', 'shutdown')]);
    expect(p.actions).toEqual([]);
    expect(p.skipped.map((s) => [s.instanceId, s.why])).toEqual([
      ['r1', 'resizing'],
      ['r2', 'resizing'],
    ]);
  });

  const unsynced: HostLiveness[] = ['suspect', 'failed', 'isolated', 'fenced', 'down'];
  it.each(unsynced)('the whole host while it is %s (HA decides there)', (hostState) => {
    const p = plan([rec('lost')], [vm('ghost')], { hostState });
    expect(p).toEqual({ actions: [], skipped: [], hostSkipped: hostState });
  });

  it.each<HostLiveness>(['up', 'maintenance', 'standby'])('acts while the host is %s', (hostState) => {
    expect(plan([rec('lost')], [], { hostState }).actions).toHaveLength(1);
  });
});

describe('planPowerSync: VMs the hypervisor holds', () => {
  it('records the power state the hypervisor has when it differs; vm_state is not changed', () => {
    const p = plan([rec('a', { powerState: 'running' }), rec('b', { powerState: 'running' }), rec('c', { vmState: 'stopped', powerState: 'nostate' })], [vm('a', 'running'), vm('b', 'shutdown'), vm('c', 'shutdown')]);
    expect(p.actions).toEqual([
      { kind: 'set_power_state', instanceId: 'b', powerState: 'shutdown', from: { vmState: 'active', powerState: 'running' } },
      { kind: 'set_power_state', instanceId: 'c', powerState: 'shutdown', from: { vmState: 'stopped', powerState: 'nostate' } },
    ]);
  });

  it('destroys a VM no record owns: no record, a deleted record, a record on another host or on none', () => {
    const records = [rec('gone', { vmState: 'deleted' }), rec('evacuated', { hostId: 'host-3' }), rec('offloaded', { hostId: '', vmState: 'shelved_offloaded', powerState: 'nostate' })];
    const p = plan(records, [vm('ghost'), vm('gone'), vm('evacuated', 'shutdown'), vm('offloaded', 'shutdown')]);
    expect(p.actions).toEqual([
      { kind: 'destroy', instanceId: 'evacuated', why: 'not_placed_here' },
      { kind: 'destroy', instanceId: 'ghost', why: 'no_record' },
      { kind: 'destroy', instanceId: 'gone', why: 'no_record' },
      { kind: 'destroy', instanceId: 'offloaded', why: 'not_placed_here' },
    ]);
  });

  it('decides ownership from the records read after the inventory: a VM whose record moved here meanwhile is kept', () => {
    // Before: on host-1 (a rebuild/evacuation was about to move it); after: here, spawning.
    const p = plan([rec('arriving', { hostId: 'host-1' })], [vm('arriving', 'nostate')], { after: [rec('arriving', { taskState: 'spawning' })] });
    expect(p.actions).toEqual([]);
  });

  it('decides loss from the records read before: an instance recorded here only after the inventory is not "lost"', () => {
    const p = plan([], [], { after: [rec('new', { taskState: null })] });
    expect(p.actions).toEqual([]);
  });
});

describe('planPowerSync: properties', () => {
  const states: VmState[] = ['active', 'stopped', 'paused', 'suspended', 'rescued', 'error', 'shelved', 'shelved_offloaded', 'resized', 'deleted'];
  const powers: PowerState[] = ['running', 'shutdown', 'paused', 'suspended', 'crashed', 'nostate'];
  const tasks: (TaskState | null)[] = [null, null, null, 'spawning', 'migrating', 'deleting'];
  const arbRecord = fc.record({
    id: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
    hostId: fc.constantFrom(H, H, 'host-1', ''),
    vmState: fc.constantFrom(...states),
    taskState: fc.constantFrom(...tasks),
    powerState: fc.constantFrom(...powers),
  });
  const arbVm = fc.record({ instanceId: fc.constantFrom('a', 'b', 'c', 'd', 'e', 'x'), powerState: fc.constantFrom(...powers), migrating: fc.boolean() });
  const arbInput = fc
    .record({
      records: fc.uniqueArray(arbRecord, { selector: (r) => r.id }),
      inventory: fc.uniqueArray(arbVm, { selector: (v) => v.instanceId }),
      evacuating: fc.subarray(['a', 'b', 'c', 'd', 'e']),
      migrating: fc.subarray(['a', 'b', 'c', 'd', 'e']),
      resume: fc.boolean(),
    })
    .map(({ records, inventory, evacuating, migrating, resume }): PowerSyncInput => ({
      ...baseInput(),
      placedBefore: records.filter((r) => r.hostId === H),
      inventory,
      ownersAfter: new Map<string, SyncedInstance>(records.map((r) => [r.id, r])),
      evacuating: new Set<string>(evacuating),
      migrating: new Set<string>(migrating),
      resumeGuestsStateOnHostBoot: resume,
    }));

  it('never touches an instance with a task, an evacuation or a migration; never destroys a VM its record places here; at most one action per instance', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const p = planPowerSync(input);
        const ids = p.actions.map((a) => a.instanceId);
        expect(new Set(ids).size).toBe(ids.length);
        for (const a of p.actions) {
          const r = input.ownersAfter.get(a.instanceId);
          const held = input.inventory.find((v) => v.instanceId === a.instanceId);
          expect(input.evacuating.has(a.instanceId) && !!r).toBe(false);
          expect(input.migrating.has(a.instanceId) && !!r).toBe(false);
          expect(held?.migrating ?? false).toBe(false);
          if (r) expect(r.taskState).toBeNull();
          if (a.kind === 'destroy') expect(r && r.hostId === H && r.vmState !== 'deleted').toBeFalsy();
          if (a.kind === 'stop' || a.kind === 'respawn') expect(held).toBeUndefined();
          if (a.kind === 'respawn') expect(input.resumeGuestsStateOnHostBoot).toBe(true);
        }
      }),
    );
  });

  it('is idempotent: applying a plan\'s record changes and destroys leaves nothing more to do', () => {
    fc.assert(
      fc.property(arbInput, (input) => {
        const p = planPowerSync({ ...input, resumeGuestsStateOnHostBoot: false });
        const records = new Map([...input.ownersAfter].map(([id, r]) => [id, { ...r }]));
        let inventory = [...input.inventory];
        for (const a of p.actions) {
          const r = records.get(a.instanceId);
          if (a.kind === 'stop' && r) records.set(a.instanceId, { ...r, vmState: 'stopped', powerState: 'nostate' });
          if (a.kind === 'set_power_state' && r) records.set(a.instanceId, { ...r, powerState: a.powerState });
          if (a.kind === 'destroy') inventory = inventory.filter((v) => v.instanceId !== a.instanceId);
        }
        const again = planPowerSync({ ...input, resumeGuestsStateOnHostBoot: false, inventory, placedBefore: [...records.values()].filter((r) => r.hostId === H), ownersAfter: records });
        expect(again.actions).toEqual([]);
      }),
    );
  });
});

function baseInput(): PowerSyncInput {
  return { hostId: H, hostState: 'up', placedBefore: [], inventory: [], ownersAfter: new Map(), evacuating: new Set(), migrating: new Set(), resumeGuestsStateOnHostBoot: false };
}
