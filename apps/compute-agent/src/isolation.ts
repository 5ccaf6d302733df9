/**
 * Host isolation as the agent sees it (vSphere HA's host isolation, decided on the host itself), pure:
 * no I/O, the clock is passed in. Wired by host-agent.ts.
 *
 * Signal: the last successful NATS round trip (a PING answered by a PONG, `nc.flush()`), probed every
 * heartbeat interval. Heartbeats are fire-and-forget publishes that the nats client buffers while
 * disconnected, so "publish did not throw" proves nothing; the client's `disconnect` status alone
 * misses a black-holed connection (it stays "connected" until its ping timer, 2 min by default). A
 * round trip answered proves the heartbeats' path to the NATS server works both ways, in either case.
 *
 * Like vSphere HA (which applies the isolation response only when a master is responsible for the VM)
 * the response is applied only when a controller leader is alive and would restart the VMs: it writes a
 * cluster view to Redis every tick (`mc:controller:ha:cluster_view`, short TTL) listing the hosts it sees
 * up; the agent applies the response only if that view is fresh, lists at least one OTHER host up (there
 * is somewhere to restart) and does not list this host up (the controller does not hear it either).
 * When every host is cut from NATS at once (a NATS outage), the controller sees no host up, so no
 * agent powers anything off.
 */
export type IsolationResponse = 'power_off' | 'shutdown' | 'leave_running';

export const ISOLATION_RESPONSES: readonly IsolationResponse[] = ['power_off', 'shutdown', 'leave_running'];

/** The controller's cluster view as the agent reads it. */
export interface ClusterView {
  /** Hosts the HA leader saw `up` at its last tick. */
  readonly hostsUp: readonly string[];
}

/** What {@link evaluateIsolation} decides from: times in ms of the agent's wall clock. */
export interface IsolationInput {
  readonly hostId: string;
  readonly nowMs: number;
  /** Last time (ms) a NATS round trip succeeded (or the host registered). */
  readonly lastRoundTripOkMs: number;
  /** The controller's cluster view, undefined when absent or unreadable (no leader, Redis down). */
  readonly clusterView?: ClusterView;
}

/** The agent's isolation state: connected, isolated but held (why), or isolated (apply the response). */
export type IsolationVerdict =
  /** The last NATS round trip succeeded less than isolation_after ago. */
  | { readonly state: 'connected' }
  /** Isolated, but no controller would restart the VMs (none alive, or it sees no other host up, or it still hears us): hold. */
  | { readonly state: 'isolated_unprotected'; readonly silentForMs: number; readonly why: 'no_cluster_view' | 'no_other_host_up' | 'controller_hears_us' }
  /** Isolated: apply the isolation response. */
  | { readonly state: 'isolated'; readonly silentForMs: number };

/**
 * Decides the agent's isolation state (pure).
 * @param isolationAfterMs ISOLATION_AFTER_MS: round trips failing for longer means isolated
 */
export function evaluateIsolation(input: IsolationInput, isolationAfterMs: number): IsolationVerdict {
  const silentForMs = Math.max(0, input.nowMs - input.lastRoundTripOkMs);
  if (silentForMs < isolationAfterMs) return { state: 'connected' };
  const view = input.clusterView;
  if (!view) return { state: 'isolated_unprotected', silentForMs, why: 'no_cluster_view' };
  if (view.hostsUp.includes(input.hostId)) return { state: 'isolated_unprotected', silentForMs, why: 'controller_hears_us' };
  if (!view.hostsUp.some((h) => h !== input.hostId)) return { state: 'isolated_unprotected', silentForMs, why: 'no_other_host_up' };
  return { state: 'isolated', silentForMs };
}

/**
 * Per-VM plan of the `shutdown` response (pure): a guest that shuts down cleanly within the timeout
 * is off at its shutdown time (reason isolation_shutdown); past the timeout it is powered off hard
 * (isolation_power_off), as vSphere's "shut down and power off VMs" (das.isolationShutdownTimeout).
 * @returns ms after the start at which the VM goes off, and the reason to report
 */
export function shutdownPlan(guestShutdownMs: number, timeoutMs: number): { offAfterMs: number; reason: 'isolation_shutdown' | 'isolation_power_off' } {
  return guestShutdownMs <= timeoutMs ? { offAfterMs: guestShutdownMs, reason: 'isolation_shutdown' } : { offAfterMs: timeoutMs, reason: 'isolation_power_off' };
}
