import fc from 'fast-check';
import { IMAGE_STATUSES, nextImageStatus, transition, type ImageEvent, type ImageStatus } from './image-status';

const EVENTS: ImageEvent[] = [
  'upload_started',
  'import_started',
  'upload_succeeded',
  'upload_failed',
  'upload_killed',
  'deactivate',
  'reactivate',
  'delete',
];

describe('image status machine', () => {
  it.each<[ImageStatus, ImageEvent, ImageStatus]>([
    ['queued', 'upload_started', 'saving'],
    ['queued', 'import_started', 'importing'],
    ['saving', 'upload_succeeded', 'active'],
    ['importing', 'upload_succeeded', 'active'],
    ['saving', 'upload_failed', 'queued'],
    ['saving', 'upload_killed', 'killed'],
    ['active', 'deactivate', 'deactivated'],
    ['deactivated', 'reactivate', 'active'],
    ['queued', 'delete', 'deleted'],
    ['saving', 'delete', 'deleted'],
    ['active', 'delete', 'deleted'],
    ['killed', 'delete', 'deleted'],
    ['deactivated', 'delete', 'deleted'],
  ])('%s --%s--> %s', (from, event, to) => {
    expect(transition(from, event)).toBe(to);
  });

  it.each<[ImageStatus, ImageEvent]>([
    ['active', 'upload_started'],
    ['saving', 'upload_started'],
    ['queued', 'upload_succeeded'],
    ['killed', 'upload_started'],
    ['queued', 'deactivate'],
    ['active', 'reactivate'],
    ['deleted', 'delete'],
    ['deleted', 'reactivate'],
  ])('refuses %s --%s--> naming the status', (from, event) => {
    expect(() => transition(from, event)).toThrow(
      expect.objectContaining({
        name: 'FailedPreconditionError',
        reason: 'invalid_image_status',
        message: expect.stringContaining(`image status is ${from}`),
      }),
    );
  });

  it('never leaves deleted, and reaches active only from saving, importing or deactivated', () => {
    fc.assert(
      fc.property(fc.constantFrom(...IMAGE_STATUSES), fc.constantFrom(...EVENTS), (from, event) => {
        const to = nextImageStatus(from, event);
        if (from === 'deleted') expect(to).toBeUndefined();
        if (to === 'active') expect(['saving', 'importing', 'deactivated']).toContain(from);
        if (from !== 'deleted' && event === 'delete') expect(to).toBe('deleted');
      }),
    );
  });
});
