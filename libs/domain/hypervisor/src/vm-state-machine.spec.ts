import fc from 'fast-check';
import { thrownBy } from '@minicloud/testing';
import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import {
  apply,
  canApply,
  defineVm,
  InvalidVmTransitionError,
  powerStateOf,
  VmCommand,
  VmRecord,
  VmState,
} from './vm-state-machine';

const FLAVOR = { vcpus: 2, ramMb: 2048, diskGb: 20 };
const vmIn = (state: VmState, extra: Partial<VmRecord> = {}): VmRecord => ({ ...defineVm('abc', FLAVOR), state, ...extra });

const STATES: VmState[] = ['nostate', 'building', 'running', 'paused', 'shutdown', 'crashed', 'suspended'];
const x = 'throws' as const;

// Hand-written expected result state per command, in the column order of STATES.
//                         nostate     building  running      paused    shutdown    crashed     suspended
const MATRIX: [VmCommand, (VmState | typeof x)[]][] = [
  [{ type: 'spawn' },            ['building', x,        x,           x,         x,          x,          x]],
  [{ type: 'boot_complete' },    [x,          'running', x,          x,         x,          x,          x]],
  [{ type: 'power_off' },        [x,          x,        'shutdown',  'shutdown', x,         'shutdown', x]],
  [{ type: 'power_on' },         [x,          x,        x,           x,         'running',  'running',  x]],
  [{ type: 'reboot', hard: false }, [x,       x,        'running',   x,         x,          x,          x]],
  [{ type: 'reboot', hard: true },  [x,       x,        'running',   'running', 'running',  'running',  'running']],
  [{ type: 'pause' },            [x,          x,        'paused',    x,         x,          x,          x]],
  [{ type: 'unpause' },          [x,          x,        x,           'running', x,          x,          x]],
  [{ type: 'suspend' },          [x,          x,        'suspended', 'suspended', x,        x,          x]],
  [{ type: 'resume' },           [x,          x,        x,           x,         x,          x,          'running']],
  [{ type: 'snapshot' },         [x,          x,        'running',   'paused',  'shutdown', x,          'suspended']],
  [{ type: 'attach_volume', volumeId: 'v1' }, [x, x,    'running',   x,         'shutdown', x,          x]],
  [{ type: 'attach_interface', portId: 'p1', macAddress: 'fa:16:3e:00:00:01' }, [x, x, 'running', x, 'shutdown', x, x]],
  [{ type: 'resize', flavor: { vcpus: 4, ramMb: 4096, diskGb: 40 } }, [x, x, x, x, 'shutdown', x, x]],
  [{ type: 'migrate_out' },      [x,          x,        'nostate',   'nostate', x,          x,          x]],
  [{ type: 'migrate_in' },       ['running',  x,        x,           x,         x,          x,          x]],
  [{ type: 'crash' },            [x,          'crashed', 'crashed',  x,         x,          x,          x]],
  [{ type: 'destroy' },          ['nostate',  'nostate', 'nostate',  'nostate', 'nostate',  'nostate',  'nostate']],
];

describe('vm state machine transition matrix', () => {
  const cases = MATRIX.flatMap(([cmd, row]) => STATES.map((from, i) => [cmd, from, row[i]] as const));
  it.each(cases)('%j from %s -> %s', (cmd, from, expected) => {
    const vm = vmIn(from);
    if (expected === x) {
      expect(canApply(vm, cmd)).toBe(false);
      expect(() => apply(vm, cmd)).toThrow(InvalidVmTransitionError);
    } else {
      expect(canApply(vm, cmd)).toBe(true);
      expect(apply(vm, cmd).state).toBe(expected);
    }
  });
});

describe('InvalidVmTransitionError', () => {
  it('names the command and the power state, and is a FailedPreconditionError', () => {
    const err = thrownBy(() => apply(vmIn('shutdown'), { type: 'pause' }));
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect(err).toMatchObject({
      message: 'cannot pause instance abc: power_state is shutdown',
      name: 'InvalidVmTransitionError',
      code: 'FAILED_PRECONDITION',
      reason: 'invalid_vm_transition',
      instanceId: 'abc',
      command: 'pause',
      state: 'shutdown',
    });
  });

  it('reports building and gone VMs as nostate with the detail', () => {
    expect(() => apply(vmIn('building'), { type: 'pause' })).toThrow('cannot pause instance abc: power_state is nostate (building)');
    const gone = apply(vmIn('running'), { type: 'destroy' });
    expect(() => apply(gone, { type: 'power_on' })).toThrow('power_state is nostate (destroyed)');
  });
});

describe('lifecycle', () => {
  it('spawns, boots, and counts boots', () => {
    let vm = defineVm('abc', FLAVOR);
    vm = apply(vm, { type: 'spawn' });
    expect(powerStateOf(vm)).toBe('nostate');
    vm = apply(vm, { type: 'boot_complete' });
    vm = apply(vm, { type: 'reboot', hard: false });
    vm = apply(vm, { type: 'pause' });
    vm = apply(vm, { type: 'unpause' });
    expect(vm.state).toBe('running');
    expect(vm.bootCount).toBe(2);
  });

  it('does not mutate its input', () => {
    const vm = vmIn('running');
    const frozen = Object.freeze({ ...vm, volumeIds: Object.freeze([...vm.volumeIds]) });
    const next = apply(frozen, { type: 'attach_volume', volumeId: 'v1' });
    expect(frozen.volumeIds).toEqual([]);
    expect(next.volumeIds).toEqual(['v1']);
  });

  it('destroy is idempotent and keeps why the VM left', () => {
    const out = apply(vmIn('running'), { type: 'migrate_out' });
    expect(out.gone).toBe('migrated_out');
    expect(apply(out, { type: 'destroy' }).gone).toBe('migrated_out');
    const destroyed = apply(vmIn('paused'), { type: 'destroy' });
    expect(apply(destroyed, { type: 'destroy' })).toEqual(destroyed);
    expect(() => apply(destroyed, { type: 'spawn' })).toThrow(InvalidVmTransitionError);
  });

  it('a paused VM migrates in paused', () => {
    expect(apply(vmIn('nostate'), { type: 'migrate_in', powerState: 'paused' }).state).toBe('paused');
  });
});

describe('devices and resize', () => {
  it('attaches and detaches volumes and interfaces', () => {
    let vm = vmIn('running');
    vm = apply(vm, { type: 'attach_volume', volumeId: 'v1' });
    vm = apply(vm, { type: 'attach_volume', volumeId: 'v2' });
    vm = apply(vm, { type: 'attach_interface', portId: 'p1', macAddress: 'fa:16:3e:00:00:01' });
    vm = apply(vm, { type: 'detach_volume', volumeId: 'v1' });
    expect(vm.volumeIds).toEqual(['v2']);
    vm = apply(vm, { type: 'detach_interface', portId: 'p1' });
    expect(vm.interfaces).toEqual([]);
  });

  it('refuses double attach and detaching what is not attached', () => {
    const vm = apply(vmIn('shutdown'), { type: 'attach_volume', volumeId: 'v1' });
    expect(() => apply(vm, { type: 'attach_volume', volumeId: 'v1' })).toThrow(AlreadyExistsError);
    expect(() => apply(vm, { type: 'detach_volume', volumeId: 'v9' })).toThrow(NotFoundError);
    expect(() => apply(vm, { type: 'detach_interface', portId: 'p9' })).toThrow(NotFoundError);
  });

  it('resizes a shut-down VM but never shrinks its disk', () => {
    const vm = vmIn('shutdown');
    expect(apply(vm, { type: 'resize', flavor: { vcpus: 1, ramMb: 512, diskGb: 20 } }).flavor.ramMb).toBe(512);
    expect(() => apply(vm, { type: 'resize', flavor: { vcpus: 1, ramMb: 512, diskGb: 10 } })).toThrow(/flavor.disk_gb/);
    expect(() => apply(vm, { type: 'resize', flavor: { vcpus: 0, ramMb: 512, diskGb: 20 } })).toThrow(InvalidArgumentError);
  });

  it('defineVm validates its input', () => {
    expect(() => defineVm('', FLAVOR)).toThrow(/instance_id/);
    expect(() => defineVm('a', { ...FLAVOR, ramMb: 1.5 })).toThrow(/flavor.ram_mb/);
  });
});

describe('properties', () => {
  const cmdArb: fc.Arbitrary<VmCommand> = fc.oneof(
    ...(['spawn', 'boot_complete', 'destroy', 'power_off', 'power_on', 'pause', 'unpause', 'suspend', 'resume', 'snapshot', 'migrate_out', 'migrate_in', 'crash'] as const).map((type) =>
      fc.constant({ type } as VmCommand),
    ),
    fc.boolean().map((hard): VmCommand => ({ type: 'reboot', hard })),
    fc.constantFrom('v1', 'v2').map((volumeId): VmCommand => ({ type: 'attach_volume', volumeId })),
    fc.constantFrom('v1', 'v2').map((volumeId): VmCommand => ({ type: 'detach_volume', volumeId })),
  );

  it('canApply predicts exactly whether apply throws a transition error; gone VMs stay gone', () => {
    fc.assert(
      fc.property(fc.array(cmdArb, { maxLength: 40 }), (cmds) => {
        let vm = defineVm('abc', FLAVOR);
        for (const cmd of cmds) {
          const allowed = canApply(vm, cmd);
          let next: VmRecord | undefined;
          try {
            next = apply(vm, cmd);
          } catch (e) {
            if (e instanceof InvalidVmTransitionError) {
              expect(allowed).toBe(false);
              continue;
            }
            // the only other refusals: attaching twice, detaching what is not attached
            expect(e instanceof AlreadyExistsError || e instanceof NotFoundError).toBe(true);
            continue;
          }
          expect(allowed).toBe(true);
          if (vm.gone) expect(next.gone).toBe(vm.gone);
          if (next.gone) expect(next.state).toBe('nostate');
          vm = next;
        }
      }),
    );
  });
});
