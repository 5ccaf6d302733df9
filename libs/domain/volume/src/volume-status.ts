import { FailedPreconditionError } from '@minicloud/domain-errors';

/**
 * Cinder volume statuses (https://docs.openstack.org/api-ref/block-storage/v3/#volumes-volumes):
 * creating, available, attaching (an attachment is reserved), in-use, detaching, extending, error,
 * deleting, error_deleting, retyping, uploading (its data is copied into an image).
 */
export const VOLUME_STATUSES = [
  'creating',
  'available',
  'attaching',
  'in-use',
  'detaching',
  'extending',
  'error',
  'deleting',
  'error_deleting',
  'retyping',
  'uploading',
] as const;

/** One of {@link VOLUME_STATUSES}. */
export type VolumeStatus = (typeof VOLUME_STATUSES)[number];

/** from -> to for each event; the table is the one list of events ({@link VolumeEvent} is its keys). */
const TRANSITION_TABLE = {
  create_succeeded: { creating: 'available' },
  create_failed: { creating: 'error' },
  attachment_reserved: { available: 'attaching' },
  multiattach_reserved: { attaching: 'attaching', 'in-use': 'in-use' },
  attachment_completed: { attaching: 'in-use', 'in-use': 'in-use' },
  detach_started: { 'in-use': 'detaching' },
  attachment_deleted: { attaching: 'attaching', 'in-use': 'in-use', detaching: 'in-use' },
  last_attachment_deleted: { attaching: 'available', 'in-use': 'available', detaching: 'available' },
  extend_started: { available: 'extending' },
  extend_succeeded: { extending: 'available' },
  extend_failed: { extending: 'error' },
  retype_started: { available: 'retyping' },
  retype_finished: { retyping: 'available' },
  upload_started: { available: 'uploading' },
  upload_finished: { uploading: 'available' },
  // Snapshots leave the volume's status unchanged; these rows say from where they are allowed.
  snapshot_allowed: { available: 'available' },
  forced_snapshot_allowed: { available: 'available', 'in-use': 'in-use' },
  delete_started: { available: 'deleting', error: 'deleting', error_deleting: 'deleting' },
  delete_failed: { deleting: 'error_deleting' },
} satisfies Record<string, Partial<Record<VolumeStatus, VolumeStatus>>>;

/**
 * What moves a volume (Cinder's volume manager and attachment API):
 * - create_succeeded / create_failed: the backend finished or failed creating it;
 * - attachment_reserved: first attachment created (attachment_create);
 * - multiattach_reserved: a further attachment of a multiattach volume (status unchanged);
 * - attachment_completed: attachment_complete (the host connected it);
 * - detach_started: the host begins disconnecting (os-begin_detaching);
 * - last_attachment_deleted / attachment_deleted: an attachment went, and none (or some) remain;
 * - extend_started / extend_succeeded / extend_failed; retype_started / retype_finished;
 * - upload_started / upload_finished: os-volume_upload_image copies the data into an image (either way back to available);
 * - delete_started / delete_failed.
 */
export type VolumeEvent = keyof typeof TRANSITION_TABLE;

/** Every {@link VolumeEvent}, in the table's order. */
export const VOLUME_EVENTS = Object.keys(TRANSITION_TABLE) as readonly VolumeEvent[];

const TRANSITIONS: Record<VolumeEvent, Partial<Record<VolumeStatus, VolumeStatus>>> = TRANSITION_TABLE;

/** Statuses from which Cinder lets a volume be deleted without force (available, error, error_deleting). */
export const DELETABLE_STATUSES: readonly VolumeStatus[] = ['available', 'error', 'error_deleting'];

/** True when `s` is one of {@link VOLUME_STATUSES}. */
export function isVolumeStatus(s: string): s is VolumeStatus {
  return (VOLUME_STATUSES as readonly string[]).includes(s);
}

/** The status `event` leads to from `from`, or undefined when Cinder does not allow it. */
export function nextVolumeStatus(from: VolumeStatus, event: VolumeEvent): VolumeStatus | undefined {
  return TRANSITIONS[event][from];
}

/**
 * The allowed `from -> to` pairs of one event, as a plain object (handed to the Redis Lua scripts as
 * JSON so the atomic check in Redis and this table cannot drift apart).
 */
export function transitionsOf(event: VolumeEvent): Readonly<Partial<Record<VolumeStatus, VolumeStatus>>> {
  return { ...TRANSITIONS[event] };
}

/** Raised when a volume's status does not allow an operation; `status` is the status found. */
export class InvalidVolumeStatusError extends FailedPreconditionError {
  readonly status: string;
  constructor(status: string, operation: string) {
    super(`volume status is ${status}: cannot ${operation}`, 'invalid_volume_status');
    this.status = status;
  }
}

/**
 * Applies `event` to a volume in status `from`.
 * @returns the new status
 * @throws InvalidVolumeStatusError (a FailedPreconditionError, reason "invalid_volume_status") naming
 *   the status, e.g. "volume status is in-use: cannot delete started"
 */
export function transitionVolume(from: VolumeStatus, event: VolumeEvent): VolumeStatus {
  const to = nextVolumeStatus(from, event);
  if (to === undefined) throw new InvalidVolumeStatusError(from, event.replace(/_/g, ' '));
  return to;
}

/** Attach status of one attachment (Cinder's attach_status): reserved, attached, detaching. */
export type AttachStatus = 'reserved' | 'attached' | 'detaching';

/**
 * A volume's status given its remaining attachments (Cinder's `volume_detached`): any attached or
 * detaching -> in-use; only reserved ones -> attaching; none -> available.
 */
export function statusForAttachments(remaining: readonly AttachStatus[]): VolumeStatus {
  if (remaining.some((s) => s !== 'reserved')) return 'in-use';
  return remaining.length > 0 ? 'attaching' : 'available';
}
