import { InvalidArgumentError } from '@minicloud/domain-errors';
import { capacityRps, queueMetrics, QueueServer } from './queueing';
import type { LbAlgorithm } from './vocabulary';

/** A member that receives traffic (the caller filters with `receivesTraffic`). */
export interface SplitMember {
  readonly memberId: string;
  /** Octavia weight 1..256. */
  readonly weight: number;
  readonly server: QueueServer;
}

/** Requests/s sent to one member. */
export interface MemberShare {
  readonly memberId: string;
  readonly rps: number;
}

/**
 * FNV-1a 32-bit hash of a string (Fowler, Noll, Vo; public domain). Stands in for HAProxy's source
 * hash: what matters to the model is that one client always lands on the same member.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * `count` simulated client IPv4 addresses, drawn from 100.64.0.0/10 (RFC 6598 shared address space,
 * so they never collide with tenant subnets) with the injected random source.
 */
export function simulatedClientAddresses(count: number, rng: () => number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = Math.floor(rng() * (1 << 22));
    out.push(`100.${64 + (n >>> 16)}.${(n >>> 8) & 0xff}.${n & 0xff}`);
  }
  return out;
}

function weighted(offeredRps: number, members: readonly SplitMember[]): MemberShare[] {
  const total = members.reduce((s, m) => s + m.weight, 0);
  return members.map((m) => ({ memberId: m.memberId, rps: (offeredRps * m.weight) / total }));
}

/**
 * HAProxy `balance source` with the default map-based hash: the client's hash modulo the total
 * weight picks a slot; each member owns `weight` consecutive slots. Every client offers the same
 * rate (offered / number of clients).
 */
function sourceIp(offeredRps: number, members: readonly SplitMember[], clients: readonly string[]): MemberShare[] {
  if (clients.length === 0) throw new InvalidArgumentError('client_addresses', 'SOURCE_IP needs at least one simulated client');
  const slots: number[] = [];
  members.forEach((m, i) => {
    for (let w = 0; w < m.weight; w++) slots.push(i);
  });
  const rps = members.map(() => 0);
  const perClient = offeredRps / clients.length;
  for (const c of clients) rps[slots[fnv1a32(c) % slots.length]] += perClient;
  return members.map((m, i) => ({ memberId: m.memberId, rps: rps[i] }));
}

/** The arrival rate at which a member holds `n` requests on average (N = lambda R increases with lambda). */
function rateForConcurrency(server: QueueServer, n: number): number {
  let lo = 0;
  let hi = capacityRps(server);
  if (queueMetrics(server, hi).meanConcurrency <= n) return hi;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (queueMetrics(server, mid).meanConcurrency < n) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * HAProxy `leastconn` (weighted): each new request goes to the member with the fewest active
 * connections per unit of weight, so in steady state N_i / w_i is equal across members, where
 * N_i = lambda_i R_i is the member's mean concurrency from its queue model. Solved by bisection on
 * the common N / w. A slower member (fewer vCPUs, or CPU withheld by a contended host) holds its
 * requests longer and so receives fewer. When the offer exceeds the pool's capacity every member is
 * filled to its capacity in proportion to it.
 */
function leastConnections(offeredRps: number, members: readonly SplitMember[]): MemberShare[] {
  const caps = members.map((m) => capacityRps(m.server));
  const totalCap = caps.reduce((s, c) => s + c, 0);
  if (offeredRps >= totalCap * (1 - 1e-9)) return members.map((m, i) => ({ memberId: m.memberId, rps: (offeredRps * caps[i]) / totalCap }));
  const at = (k: number) => members.map((m) => rateForConcurrency(m.server, k * m.weight));
  let lo = 0;
  let hi = 1;
  while (at(hi).reduce((s, r) => s + r, 0) < offeredRps) hi *= 2;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (at(mid).reduce((s, r) => s + r, 0) < offeredRps) lo = mid;
    else hi = mid;
  }
  const rates = at((lo + hi) / 2);
  const sum = rates.reduce((s, r) => s + r, 0);
  return members.map((m, i) => ({ memberId: m.memberId, rps: sum > 0 ? (rates[i] * offeredRps) / sum : 0 }));
}

/**
 * Splits `offeredRps` requests/s among the members that receive traffic, as the pool's algorithm does
 * in steady state: ROUND_ROBIN (weighted) in proportion to weight; LEAST_CONNECTIONS equalising
 * concurrency per weight; SOURCE_IP by a hash of each simulated client address. The shares sum to
 * `offeredRps`. No member: an empty list (the listener answers 503; the caller counts the load as
 * dropped).
 * @throws InvalidArgumentError naming `offered_rps` (negative) or `weight` (not in 1..256).
 */
export function splitTraffic(algorithm: LbAlgorithm, offeredRps: number, members: readonly SplitMember[], clientAddresses: readonly string[] = []): MemberShare[] {
  if (!(offeredRps >= 0)) throw new InvalidArgumentError('offered_rps', `must be >= 0, got ${offeredRps}`);
  for (const m of members) {
    if (!Number.isInteger(m.weight) || m.weight < 1 || m.weight > 256) throw new InvalidArgumentError('weight', `member ${m.memberId} receiving traffic needs a weight in 1..256, got ${m.weight}`);
  }
  if (members.length === 0) return [];
  if (offeredRps === 0) return members.map((m) => ({ memberId: m.memberId, rps: 0 }));
  switch (algorithm) {
    case 'ROUND_ROBIN':
      return weighted(offeredRps, members);
    case 'LEAST_CONNECTIONS':
      return leastConnections(offeredRps, members);
    case 'SOURCE_IP':
      return sourceIp(offeredRps, members, clientAddresses);
  }
}
