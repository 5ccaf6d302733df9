import { deriveServerStatus } from './instance-status';

describe('deriveServerStatus (Nova _STATE_MAP)', () => {
  it.each([
    ['building', 'networking', 'BUILD'],
    ['building', 'spawning', 'BUILD'],
    ['active', null, 'ACTIVE'],
    ['active', 'rebooting', 'REBOOT'],
    ['active', 'rebooting_hard', 'HARD_REBOOT'],
    ['active', 'powering_off', 'ACTIVE'],
    ['active', 'deleting', 'ACTIVE'],
    ['active', 'resize_prep', 'RESIZE'],
    ['stopped', null, 'SHUTOFF'],
    ['stopped', 'powering_on', 'SHUTOFF'],
    ['stopped', 'rebuilding', 'REBUILD'],
    ['paused', null, 'PAUSED'],
    ['paused', 'migrating', 'MIGRATING'],
    ['suspended', 'resuming', 'SUSPENDED'],
    ['error', null, 'ERROR'],
    ['deleted', null, 'DELETED'],
    ['resized', 'resize_reverting', 'REVERT_RESIZE'],
    ['shelved_offloaded', null, 'SHELVED_OFFLOADED'],
    // Where an earlier copy of this table (the CLI's) differed from Nova: error + rebuild_spawning.
    ['error', 'rebuild_spawning', 'REBUILD'],
    ['error', 'rebuilding', 'REBUILD'],
    ['error', 'spawning', 'ERROR'],
    ['resized', 'resize_confirming', 'VERIFY_RESIZE'],
    ['rescued', 'unrescuing', 'RESCUE'],
    ['building', 'deleting', 'BUILD'],
  ] as const)('%s + %s -> %s', (vm, task, status) => {
    expect(deriveServerStatus(vm, task)).toBe(status);
  });

  it('gives UNKNOWN for a vm_state outside the table', () => {
    expect(deriveServerStatus('bogus' as never, null)).toBe('UNKNOWN');
    expect(deriveServerStatus('constructor' as never, null)).toBe('UNKNOWN');
  });
});
