import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { QueueServer } from './queueing';

/**
 * The CPU a member's VM demands for its traffic, in percent of its vCPUs (0..100): each request
 * costs `cpuMsPerRequest` ms of one vCPU, so demand = rps x cpu_ms / 1000 / vcpus x 100, plus the
 * idle `baselinePercent` of the guest, capped at 100.
 * @throws InvalidArgumentError naming `cpu_ms_per_request` (must be > 0) or `vcpus`.
 */
export function memberCpuDemandPercent(rps: number, cpuMsPerRequest: number, vcpus: number, baselinePercent = 0): number {
  if (!(cpuMsPerRequest > 0)) throw new InvalidArgumentError('cpu_ms_per_request', `must be > 0, got ${cpuMsPerRequest}`);
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new InvalidArgumentError('vcpus', `must be a positive integer, got ${vcpus}`);
  return Math.min(100, baselinePercent + ((Math.max(0, rps) * cpuMsPerRequest) / 1000 / vcpus) * 100);
}

/**
 * The member as a queue: the service time is the request's CPU cost divided by the fraction of its
 * demanded CPU the hypervisor grants (`grantedRatio` in (0, 1]; below 1 when the host is
 * overcommitted and the vCPUs wait in ready time).
 * @throws InvalidArgumentError naming `granted_ratio` outside (0, 1].
 */
export function memberQueueServer(vcpus: number, cpuMsPerRequest: number, grantedRatio = 1): QueueServer {
  if (!(grantedRatio > 0 && grantedRatio <= 1)) throw new InvalidArgumentError('granted_ratio', `must be in (0, 1], got ${grantedRatio}`);
  if (!(cpuMsPerRequest > 0)) throw new InvalidArgumentError('cpu_ms_per_request', `must be > 0, got ${cpuMsPerRequest}`);
  return { vcpus, serviceTimeSeconds: cpuMsPerRequest / 1000 / grantedRatio };
}
