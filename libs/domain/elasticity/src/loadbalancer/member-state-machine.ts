import { FailedPreconditionError, InvalidArgumentError } from '@minicloud/domain-errors';
import type { OperatingStatus, ProvisioningStatus } from './vocabulary';

/**
 * One pool member's status record. Immutable: `applyMemberCommand` returns a new record.
 * `operatingStatus` follows the health checks as Octavia's health manager reports them;
 * `consecutiveSuccesses`/`consecutiveFailures` count the probes since the last change of result.
 */
export interface MemberRecord {
  readonly memberId: string;
  readonly provisioningStatus: ProvisioningStatus;
  readonly operatingStatus: OperatingStatus;
  readonly adminStateUp: boolean;
  /** True when the pool has a health monitor (otherwise the member stays NO_MONITOR). */
  readonly monitored: boolean;
  readonly consecutiveSuccesses: number;
  readonly consecutiveFailures: number;
  /** When DRAINING began (ms on the injected clock), else null. */
  readonly drainStartedMs: number | null;
}

/**
 * Every event that moves a member, one variant each:
 * - `provisioned`: the amphora took the member (PENDING_CREATE -> ACTIVE);
 * - `health_check`: one probe result with the monitor's retry thresholds;
 * - `admin_down` / `admin_up`: admin_state_up changed;
 * - `monitor_attached` / `monitor_detached`: the pool gained or lost its health monitor;
 * - `drain`: stop sending new requests (weight 0), let in-flight ones finish;
 * - `delete` / `deleted`: PENDING_DELETE, then DELETED once the amphora dropped it.
 */
export type MemberCommand =
  | { type: 'provisioned' }
  | { type: 'health_check'; passed: boolean; maxRetries: number; maxRetriesDown: number }
  | { type: 'admin_down' }
  | { type: 'admin_up' }
  | { type: 'monitor_attached' }
  | { type: 'monitor_detached' }
  | { type: 'drain'; nowMs: number }
  | { type: 'delete' }
  | { type: 'deleted' };

export type MemberCommandType = MemberCommand['type'];

/** Provisioning states each command is accepted in; DELETED accepts nothing (the record is gone). */
export const MEMBER_ACCEPTED_PROVISIONING: Readonly<Record<MemberCommandType, readonly ProvisioningStatus[]>> = {
  provisioned: ['PENDING_CREATE', 'PENDING_UPDATE'],
  health_check: ['ACTIVE', 'PENDING_UPDATE', 'PENDING_DELETE'],
  admin_down: ['ACTIVE'],
  admin_up: ['ACTIVE'],
  monitor_attached: ['PENDING_CREATE', 'ACTIVE'],
  monitor_detached: ['PENDING_CREATE', 'ACTIVE'],
  drain: ['ACTIVE'],
  delete: ['PENDING_CREATE', 'ACTIVE', 'PENDING_UPDATE', 'ERROR'],
  deleted: ['PENDING_DELETE'],
};

/** A command the member's provisioning status does not allow: FAILED_PRECONDITION "invalid_member_transition". */
export class InvalidMemberTransitionError extends FailedPreconditionError {
  constructor(member: MemberRecord, command: MemberCommandType) {
    super(`cannot ${command} member ${member.memberId}: provisioning_status is ${member.provisioningStatus}`, 'invalid_member_transition');
    Object.defineProperty(this, 'name', { value: 'InvalidMemberTransitionError' });
  }
}

/**
 * A new member as the API creates it: PENDING_CREATE; OFFLINE when a health monitor must first
 * see `max_retries` successes, NO_MONITOR otherwise (Octavia's operating_status semantics).
 * @throws InvalidArgumentError naming `member_id` when empty.
 */
export function newMember(memberId: string, monitored: boolean, adminStateUp = true): MemberRecord {
  if (!memberId) throw new InvalidArgumentError('member_id', 'must not be empty');
  return {
    memberId,
    provisioningStatus: 'PENDING_CREATE',
    operatingStatus: !adminStateUp ? 'OFFLINE' : monitored ? 'OFFLINE' : 'NO_MONITOR',
    adminStateUp,
    monitored,
    consecutiveSuccesses: 0,
    consecutiveFailures: 0,
    drainStartedMs: null,
  };
}

/** True when the command is accepted now (no throw). */
export function canApplyMember(m: MemberRecord, cmd: MemberCommand): boolean {
  return MEMBER_ACCEPTED_PROVISIONING[cmd.type].includes(m.provisioningStatus);
}

function restingStatus(m: MemberRecord): OperatingStatus {
  if (!m.adminStateUp) return 'OFFLINE';
  return m.monitored ? 'OFFLINE' : 'NO_MONITOR';
}

function healthCheck(m: MemberRecord, passed: boolean, maxRetries: number, maxRetriesDown: number): MemberRecord {
  const successes = passed ? m.consecutiveSuccesses + 1 : 0;
  const failures = passed ? 0 : m.consecutiveFailures + 1;
  const next = { ...m, consecutiveSuccesses: successes, consecutiveFailures: failures };
  // A draining or administratively down member keeps its status: probes only update the counters.
  if (m.operatingStatus === 'DRAINING' || !m.adminStateUp || !m.monitored) return next;
  if (passed && m.operatingStatus !== 'ONLINE' && successes >= maxRetries) return { ...next, operatingStatus: 'ONLINE' };
  if (!passed && m.operatingStatus === 'ONLINE' && failures >= maxRetriesDown) return { ...next, operatingStatus: 'ERROR' };
  // OFFLINE (never yet healthy) turns ERROR on the same threshold, so a dead new member is visible.
  if (!passed && m.operatingStatus === 'OFFLINE' && failures >= maxRetriesDown) return { ...next, operatingStatus: 'ERROR' };
  return next;
}

/**
 * Applies one command and returns the new record (the input is unchanged).
 * @throws InvalidMemberTransitionError when the provisioning status does not accept the command.
 */
export function applyMemberCommand(m: MemberRecord, cmd: MemberCommand): MemberRecord {
  if (!canApplyMember(m, cmd)) throw new InvalidMemberTransitionError(m, cmd.type);
  switch (cmd.type) {
    case 'provisioned':
      return { ...m, provisioningStatus: 'ACTIVE' };
    case 'health_check':
      return healthCheck(m, cmd.passed, cmd.maxRetries, cmd.maxRetriesDown);
    case 'admin_down':
      return { ...m, adminStateUp: false, operatingStatus: 'OFFLINE', consecutiveSuccesses: 0 };
    case 'admin_up': {
      const up = { ...m, adminStateUp: true, consecutiveSuccesses: 0, consecutiveFailures: 0 };
      return { ...up, operatingStatus: restingStatus(up) };
    }
    case 'monitor_attached': {
      const mon = { ...m, monitored: true, consecutiveSuccesses: 0, consecutiveFailures: 0 };
      return m.operatingStatus === 'DRAINING' ? mon : { ...mon, operatingStatus: restingStatus(mon) };
    }
    case 'monitor_detached': {
      const un = { ...m, monitored: false };
      return m.operatingStatus === 'DRAINING' ? un : { ...un, operatingStatus: restingStatus(un) };
    }
    case 'drain':
      return m.operatingStatus === 'DRAINING' ? m : { ...m, operatingStatus: 'DRAINING', drainStartedMs: cmd.nowMs };
    case 'delete':
      return { ...m, provisioningStatus: 'PENDING_DELETE' };
    case 'deleted':
      return { ...m, provisioningStatus: 'DELETED', operatingStatus: 'OFFLINE' };
  }
}

/**
 * True when the balancer sends new requests to the member: provisioned, admin up, weight > 0 and
 * ONLINE (or NO_MONITOR: without a monitor Octavia keeps sending, even to a dead backend).
 */
export function receivesTraffic(m: MemberRecord, weight: number): boolean {
  return (
    weight > 0 &&
    m.adminStateUp &&
    (m.provisioningStatus === 'ACTIVE' || m.provisioningStatus === 'PENDING_UPDATE') &&
    (m.operatingStatus === 'ONLINE' || m.operatingStatus === 'NO_MONITOR')
  );
}

/**
 * The longest time a member whose backend died keeps receiving traffic: the monitor needs
 * `max_retries_down` failed probes, `delay` apart, each failing after at most `timeout`.
 * Seconds; 0 without a monitor means "never detected".
 */
export function failureDetectionSeconds(delaySeconds: number, timeoutSeconds: number, maxRetriesDown: number): number {
  return delaySeconds * maxRetriesDown + timeoutSeconds;
}
