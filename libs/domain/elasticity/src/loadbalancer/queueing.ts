import { InvalidArgumentError } from '@minicloud/domain-errors';

/**
 * A member seen as a queue: `vcpus` identical servers (c), each serving one request in
 * `serviceTimeSeconds` (S = cpu_ms_per_request / 1000 divided by the share of a vCPU the hypervisor
 * grants; contention and ready time make S longer).
 */
export interface QueueServer {
  readonly vcpus: number;
  readonly serviceTimeSeconds: number;
}

/**
 * The highest utilisation the model evaluates. At rho >= 1 an M/M/c queue has no steady state (the
 * queue grows without bound); the balancer's clients then time out. Demand above this utilisation is
 * counted as dropped by `servedRps`, and response times are evaluated at this utilisation.
 */
export const MAX_UTILISATION = 0.98;

function checkServer(s: QueueServer): void {
  if (!Number.isInteger(s.vcpus) || s.vcpus < 1) throw new InvalidArgumentError('vcpus', `must be a positive integer, got ${s.vcpus}`);
  if (!(s.serviceTimeSeconds > 0)) throw new InvalidArgumentError('service_time_seconds', `must be > 0, got ${s.serviceTimeSeconds}`);
}

/** Requests/s the member can complete at MAX_UTILISATION: c / S x MAX_UTILISATION. */
export function capacityRps(s: QueueServer): number {
  checkServer(s);
  return (s.vcpus / s.serviceTimeSeconds) * MAX_UTILISATION;
}

/** Requests/s actually served when `offeredRps` arrive: min(offered, capacity). */
export function servedRps(s: QueueServer, offeredRps: number): number {
  return Math.min(Math.max(0, offeredRps), capacityRps(s));
}

/**
 * Erlang C: probability that an arriving request waits in an M/M/c queue with `c` servers and
 * offered load `a` = lambda x S Erlangs (a < c). Computed through the Erlang B recursion
 * B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), then C = c B / (c - a (1 - B)), which stays stable for
 * large c (Kleinrock, Queueing Systems Vol. 1, 1975, §3.5; the recursion as in Cooper, Introduction
 * to Queueing Theory, 1981).
 * @throws InvalidArgumentError when c < 1 or a is outside [0, c).
 */
export function erlangC(c: number, a: number): number {
  if (!Number.isInteger(c) || c < 1) throw new InvalidArgumentError('vcpus', `must be a positive integer, got ${c}`);
  if (!(a >= 0 && a < c)) throw new InvalidArgumentError('offered_load', `must be in [0, ${c}) Erlangs, got ${a}`);
  if (a === 0) return 0;
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return (c * b) / (c - a * (1 - b));
}

/** Steady-state figures of one member at an arrival rate. */
export interface QueueMetrics {
  /** lambda x S / c, in [0, MAX_UTILISATION]. */
  readonly utilisation: number;
  /** Erlang C probability of waiting. */
  readonly probabilityOfWait: number;
  /** Mean response time R = S + C / (c mu - lambda), seconds (M/M/c; for c = 1 this is S / (1 - rho)). */
  readonly meanResponseSeconds: number;
  /** Mean requests in the member (Little's law N = lambda R): what least-connections balances. */
  readonly meanConcurrency: number;
  /** True when the offered rate exceeded the capacity and was cut to it. */
  readonly saturated: boolean;
}

/**
 * M/M/c figures of a member receiving `rps` requests/s (Poisson arrivals, exponential service of
 * mean S on each of c vCPUs). Above MAX_UTILISATION the arrival rate is cut to capacity.
 */
export function queueMetrics(s: QueueServer, rps: number): QueueMetrics {
  checkServer(s);
  const cap = capacityRps(s);
  const lambda = Math.min(Math.max(0, rps), cap);
  const a = lambda * s.serviceTimeSeconds;
  const c = erlangC(s.vcpus, a);
  const mu = 1 / s.serviceTimeSeconds;
  const r = s.serviceTimeSeconds + (lambda > 0 ? c / (s.vcpus * mu - lambda) : 0);
  return { utilisation: a / s.vcpus, probabilityOfWait: c, meanResponseSeconds: r, meanConcurrency: lambda * r, saturated: rps > cap };
}

/**
 * P(T > t) for the M/M/c response time T = W + S: W is 0 with probability 1 - C and otherwise
 * exponential with rate theta = c mu - lambda; S is exponential with rate mu. Convolving,
 * P(T > t) = e^{-mu t} + C mu / (mu - theta) (e^{-theta t} - e^{-mu t}) (theta != mu), or
 * e^{-mu t} (1 + C mu t) when theta = mu. For c = 1 it reduces to e^{-(mu - lambda) t}, the
 * exponential response time of M/M/1 (Kleinrock 1975, §3.3).
 */
export function responseTimeSurvival(s: QueueServer, rps: number, tSeconds: number): number {
  const m = queueMetrics(s, rps);
  const mu = 1 / s.serviceTimeSeconds;
  const lambda = Math.min(Math.max(0, rps), capacityRps(s));
  const theta = s.vcpus * mu - lambda;
  const C = m.probabilityOfWait;
  const eMu = Math.exp(-mu * tSeconds);
  if (Math.abs(mu - theta) < 1e-12 * mu) return eMu * (1 + C * mu * tSeconds);
  return eMu + ((C * mu) / (mu - theta)) * (Math.exp(-theta * tSeconds) - eMu);
}

/** One member's share of a pool's traffic, for pool percentiles. */
export interface MemberTraffic {
  readonly server: QueueServer;
  readonly rps: number;
}

/**
 * The q-quantile (0 < q < 1) of the response time a request sees across a pool: the request goes to
 * member i with probability rps_i / sum(rps), so P(T > t) = sum_i (rps_i / sum) P(T_i > t); solved for
 * P(T > t) = 1 - q by bisection to 1e-6 relative. Seconds; 0 when no member has traffic.
 * For one M/M/1 member this is -R ln(1 - q) with R = S / (1 - rho).
 * @throws InvalidArgumentError naming `quantile` outside (0, 1).
 */
export function poolResponsePercentile(members: readonly MemberTraffic[], q: number): number {
  if (!(q > 0 && q < 1)) throw new InvalidArgumentError('quantile', `must be in (0, 1), got ${q}`);
  const busy = members.filter((m) => m.rps > 0);
  const total = busy.reduce((s, m) => s + servedRps(m.server, m.rps), 0);
  if (total === 0) return 0;
  const survival = (t: number) => busy.reduce((s, m) => s + (servedRps(m.server, m.rps) / total) * responseTimeSurvival(m.server, m.rps, t), 0);
  let hi = Math.max(...busy.map((m) => queueMetrics(m.server, m.rps).meanResponseSeconds));
  while (survival(hi) > 1 - q) hi *= 2;
  let lo = 0;
  while (hi - lo > 1e-6 * hi) {
    const mid = (lo + hi) / 2;
    if (survival(mid) > 1 - q) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
