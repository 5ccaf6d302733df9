import { FailedPreconditionError } from '@minicloud/domain-errors';
import { InvalidVolumeStatusError, VOLUME_EVENTS, VOLUME_STATUSES, nextVolumeStatus, statusForAttachments, transitionVolume, transitionsOf, type VolumeEvent, type VolumeStatus } from './volume-status';

describe('volume status machine', () => {
  const allowed: [VolumeStatus, VolumeEvent, VolumeStatus][] = [
    ['creating', 'create_succeeded', 'available'],
    ['creating', 'create_failed', 'error'],
    ['available', 'attachment_reserved', 'attaching'],
    ['in-use', 'multiattach_reserved', 'in-use'],
    ['attaching', 'attachment_completed', 'in-use'],
    ['in-use', 'detach_started', 'detaching'],
    ['in-use', 'last_attachment_deleted', 'available'],
    ['attaching', 'last_attachment_deleted', 'available'],
    ['available', 'extend_started', 'extending'],
    ['extending', 'extend_succeeded', 'available'],
    ['available', 'retype_started', 'retyping'],
    ['available', 'upload_started', 'uploading'],
    ['uploading', 'upload_finished', 'available'],
    ['error', 'delete_started', 'deleting'],
    ['deleting', 'delete_failed', 'error_deleting'],
    ['error_deleting', 'delete_started', 'deleting'],
  ];
  it.each(allowed)('%s --%s--> %s', (from, event, to) => {
    expect(transitionVolume(from, event)).toBe(to);
  });

  const refused: [VolumeStatus, VolumeEvent][] = [
    ['in-use', 'delete_started'],
    ['attaching', 'delete_started'],
    ['creating', 'delete_started'],
    ['in-use', 'attachment_reserved'],
    ['available', 'multiattach_reserved'],
    ['in-use', 'extend_started'],
    ['available', 'attachment_completed'],
    ['in-use', 'snapshot_allowed'],
    ['in-use', 'upload_started'],
    ['uploading', 'delete_started'],
    ['uploading', 'attachment_reserved'],
  ];
  it.each(refused)('refuses %s --%s--> with a FailedPreconditionError naming the status', (from, event) => {
    let err: unknown;
    try {
      transitionVolume(from, event);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FailedPreconditionError);
    expect(err).toBeInstanceOf(InvalidVolumeStatusError);
    expect((err as InvalidVolumeStatusError).status).toBe(from);
    expect((err as Error).message).toContain(`volume status is ${from}`);
    expect((err as FailedPreconditionError).reason).toBe('invalid_volume_status');
  });

  it('every transition lands on a known status', () => {
    for (const from of VOLUME_STATUSES) {
      for (const event of VOLUME_EVENTS) {
        const to = nextVolumeStatus(from, event);
        if (to) expect(VOLUME_STATUSES).toContain(to);
      }
    }
  });

  it('transitionsOf returns a copy of the table row', () => {
    const row = transitionsOf('delete_started') as Record<string, string>;
    expect(row).toEqual({ available: 'deleting', error: 'deleting', error_deleting: 'deleting' });
    row.available = 'x';
    expect(nextVolumeStatus('available', 'delete_started')).toBe('deleting');
  });

  it.each([
    [[], 'available'],
    [['reserved'], 'attaching'],
    [['reserved', 'attached'], 'in-use'],
    [['detaching'], 'in-use'],
  ] as const)('status with remaining attachments %j is %s', (remaining, status) => {
    expect(statusForAttachments(remaining)).toBe(status);
  });
});
