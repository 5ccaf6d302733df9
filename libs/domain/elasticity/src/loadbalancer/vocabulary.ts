import { InvalidArgumentError } from '@minicloud/domain-errors';

/** Octavia pool algorithms (octavia/common/constants.py SUPPORTED_LB_ALGORITHMS, minus SOURCE_IP_PORT). */
export type LbAlgorithm = 'ROUND_ROBIN' | 'LEAST_CONNECTIONS' | 'SOURCE_IP';
export const LB_ALGORITHMS: readonly LbAlgorithm[] = ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP'];

/** Listener protocols Octavia accepts for a listener (the simulation treats them alike). */
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TCP' | 'UDP';
export const LISTENER_PROTOCOLS: readonly ListenerProtocol[] = ['HTTP', 'HTTPS', 'TCP', 'UDP'];

/** Octavia operating_status of a member (what the health checks say). */
export type OperatingStatus = 'ONLINE' | 'OFFLINE' | 'ERROR' | 'DRAINING' | 'NO_MONITOR';

/** Octavia provisioning_status (where the API's last change is). */
export type ProvisioningStatus = 'PENDING_CREATE' | 'ACTIVE' | 'PENDING_UPDATE' | 'PENDING_DELETE' | 'DELETED' | 'ERROR';

/** Health monitor types; the simulation probes the member's VM power state whatever the type. */
export type HealthMonitorType = 'HTTP' | 'HTTPS' | 'TCP' | 'PING';
export const HEALTH_MONITOR_TYPES: readonly HealthMonitorType[] = ['HTTP', 'HTTPS', 'TCP', 'PING'];

/**
 * A pool's health monitor, Octavia's fields: probe every `delaySeconds`, each probe times out after
 * `timeoutSeconds`; `maxRetries` consecutive successes bring a member ONLINE, `maxRetriesDown`
 * consecutive failures put it in ERROR.
 */
export interface HealthMonitorSpec {
  readonly type: HealthMonitorType;
  readonly delaySeconds: number;
  readonly timeoutSeconds: number;
  readonly maxRetries: number;
  readonly maxRetriesDown: number;
}

/** A pool member: a backend address and port with a weight (0 = no new traffic, as Octavia). */
export interface MemberSpec {
  readonly address: string;
  readonly protocolPort: number;
  readonly weight: number;
}

/** The limits Octavia's API enforces (octavia/common/constants.py), reused by our API. */
export const LIMITS = {
  minPort: 1,
  maxPort: 65535,
  minWeight: 0,
  maxWeight: 256,
  minRetries: 1,
  maxRetries: 10,
  maxDelaySeconds: 86400,
} as const;

function intInRange(field: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new InvalidArgumentError(field, `must be an integer in ${lo}..${hi}, got ${v}`);
}

/**
 * Checks a health monitor as Octavia does: delay 1..86400 s, timeout 1..delay s, retries 1..10.
 * @throws InvalidArgumentError naming the field (`delay`, `timeout`, `max_retries`, `max_retries_down`, `type`).
 */
export function validateHealthMonitor(hm: HealthMonitorSpec): void {
  if (!HEALTH_MONITOR_TYPES.includes(hm.type)) throw new InvalidArgumentError('type', `must be one of ${HEALTH_MONITOR_TYPES.join(', ')}`);
  intInRange('delay', hm.delaySeconds, 1, LIMITS.maxDelaySeconds);
  intInRange('timeout', hm.timeoutSeconds, 1, LIMITS.maxDelaySeconds);
  if (hm.timeoutSeconds > hm.delaySeconds) throw new InvalidArgumentError('timeout', `must be <= delay (${hm.delaySeconds} s), got ${hm.timeoutSeconds}`);
  intInRange('max_retries', hm.maxRetries, LIMITS.minRetries, LIMITS.maxRetries);
  intInRange('max_retries_down', hm.maxRetriesDown, LIMITS.minRetries, LIMITS.maxRetries);
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** True for a dotted-quad IPv4 address. */
export function isIpv4(address: string): boolean {
  return IPV4.test(address);
}

/**
 * Checks a member: IPv4 address, port 1..65535, weight 0..256.
 * @throws InvalidArgumentError naming `address`, `protocol_port` or `weight`.
 */
export function validateMember(m: MemberSpec): void {
  if (!isIpv4(m.address)) throw new InvalidArgumentError('address', `must be an IPv4 address, got "${m.address}"`);
  intInRange('protocol_port', m.protocolPort, LIMITS.minPort, LIMITS.maxPort);
  intInRange('weight', m.weight, LIMITS.minWeight, LIMITS.maxWeight);
}

/** @throws InvalidArgumentError naming `protocol_port` when outside 1..65535. */
export function validateListenerPort(port: number): void {
  intInRange('protocol_port', port, LIMITS.minPort, LIMITS.maxPort);
}

/** @throws InvalidArgumentError naming `lb_algorithm` for an unknown algorithm. */
export function parseLbAlgorithm(value: string): LbAlgorithm {
  if (!(LB_ALGORITHMS as readonly string[]).includes(value)) throw new InvalidArgumentError('lb_algorithm', `must be one of ${LB_ALGORITHMS.join(', ')}`);
  return value as LbAlgorithm;
}

/** @throws InvalidArgumentError naming `protocol` for an unknown listener protocol. */
export function parseListenerProtocol(value: string): ListenerProtocol {
  if (!(LISTENER_PROTOCOLS as readonly string[]).includes(value)) throw new InvalidArgumentError('protocol', `must be one of ${LISTENER_PROTOCOLS.join(', ')}`);
  return value as ListenerProtocol;
}
