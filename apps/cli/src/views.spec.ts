import { compute, volume } from '@minicloud/proto';
import { enumName, serverView, snakeCase, volumeView } from './views';

describe('views', () => {
  it('snake-cases keys but not the keys of map fields, and names enums', () => {
    const s = compute.Server.fromPartial({
      id: 's1',
      name: 'web',
      vmState: compute.VmState.VM_STATE_ACTIVE,
      taskState: compute.TaskState.TASK_STATE_REBOOTING,
      metadata: { myKey: 'v' },
      flavor: { name: 'm1.small', ramMb: 2048, extraSpecs: { 'hw:cpuPolicy': 'x' } },
      createdAt: new Date('2024-01-02T03:04:05Z'),
    });
    const v = serverView(s);
    expect(Object.keys(v).slice(0, 3)).toEqual(['id', 'name', 'status']);
    expect(v.status).toBe('REBOOT');
    expect(v.vm_state).toBe('active');
    expect(v.task_state).toBe('rebooting');
    expect(v.power_state).toBeNull();
    expect(v.metadata).toEqual({ myKey: 'v' });
    expect(v.flavor).toMatchObject({ name: 'm1.small', ram_mb: 2048, extra_specs: { 'hw:cpuPolicy': 'x' } });
    expect(v.created_at).toBe('2024-01-02T03:04:05.000Z');
  });

  it('spells volume in-use as Cinder does', () => {
    expect(volumeView(volume.Volume.fromPartial({ status: volume.VolumeStatus.VOLUME_STATUS_IN_USE })).status).toBe('in-use');
  });

  it('helpers', () => {
    expect(snakeCase('ramMb')).toBe('ram_mb');
    expect(enumName(compute.hostStateToJSON, compute.HostState.HOST_STATE_ISOLATED)).toBe('isolated');
  });
});
