import { FailedPreconditionError } from '@minicloud/domain-errors';

/**
 * Glance image statuses (https://docs.openstack.org/glance/latest/user/statuses.html):
 * queued (record exists, no data), saving (upload in progress), importing (interoperable import in
 * progress), active, killed (upload failed), deleted, deactivated (data unreadable to non-admins).
 */
export const IMAGE_STATUSES = ['queued', 'saving', 'importing', 'active', 'killed', 'deleted', 'deactivated'] as const;

/** One of {@link IMAGE_STATUSES}. */
export type ImageStatus = (typeof IMAGE_STATUSES)[number];

/** from -> to for each event; the table is the one list of events ({@link ImageEvent} is its keys). */
const TRANSITION_TABLE = {
  upload_started: { queued: 'saving' },
  import_started: { queued: 'importing' },
  upload_succeeded: { saving: 'active', importing: 'active' },
  upload_failed: { saving: 'queued', importing: 'queued' },
  upload_killed: { saving: 'killed', importing: 'killed' },
  deactivate: { active: 'deactivated' },
  reactivate: { deactivated: 'active' },
  delete: {
    queued: 'deleted',
    saving: 'deleted',
    importing: 'deleted',
    active: 'deleted',
    killed: 'deleted',
    deactivated: 'deleted',
  },
} satisfies Record<string, Partial<Record<ImageStatus, ImageStatus>>>;

/**
 * Events that move an image: upload_started (PUT /file), import_started (POST /import),
 * upload_succeeded, upload_failed (back to queued: the client may retry), upload_killed (failure that
 * leaves the record unusable, e.g. a refused format), deactivate, reactivate, delete.
 */
export type ImageEvent = keyof typeof TRANSITION_TABLE;

const TRANSITIONS: Record<ImageEvent, Partial<Record<ImageStatus, ImageStatus>>> = TRANSITION_TABLE;

/** The status `event` leads to from `from`, or undefined when Glance does not allow it. */
export function nextImageStatus(from: ImageStatus, event: ImageEvent): ImageStatus | undefined {
  return TRANSITIONS[event][from];
}

/**
 * Applies `event` to an image in status `from` and returns the new status.
 * Throws FailedPreconditionError (reason "invalid_image_status") naming the status and the event when
 * the transition is not allowed, e.g. uploading into an active image or deleting a deleted one.
 */
export function transition(from: ImageStatus, event: ImageEvent): ImageStatus {
  const to = nextImageStatus(from, event);
  if (to === undefined) {
    throw new FailedPreconditionError(`image status is ${from}: cannot ${event.replace('_', ' ')}`, 'invalid_image_status');
  }
  return to;
}
