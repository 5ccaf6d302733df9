import { DEFAULT_TERMINATION_POLICIES } from '../autoscaling/termination-policy';
import { TARGET_TRACKING_DEFAULTS } from '../autoscaling/target-tracking';
import type { TrafficSource } from '../traffic/traffic-source';
import type { ElasticityScenario } from './elasticity-scenario';

/**
 * The reference scenario: a group of 1-vCPU members (min 2, max 10, target 50 % average CPU)
 * behind a round-robin pool, each request costing 4 ms of CPU (so 1,000 requests/s need 4 vCPUs, 8
 * members at the target); an HTTP monitor every 5 s (3 down, 2 up); servers boot in 30 s; AWS
 * defaults elsewhere scaled to a one-minute metric period (cooldown 300 s, warm-up 60 s).
 */
export function referenceScenario(source: TrafficSource, durationSeconds: number, patch: Partial<ElasticityScenario> = {}): ElasticityScenario {
  return {
    source,
    durationSeconds,
    tickSeconds: 5,
    evaluationPeriodSeconds: 60,
    algorithm: 'ROUND_ROBIN',
    cpuMsPerRequest: 4,
    vcpus: 1,
    baselineCpuPercent: 2,
    bootSeconds: 30,
    healthMonitor: { type: 'HTTP', delaySeconds: 5, timeoutSeconds: 3, maxRetries: 2, maxRetriesDown: 3 },
    group: { minSize: 2, maxSize: 10, desiredCapacity: 2, cooldownSeconds: 300, warmupSeconds: 60, healthCheckGracePeriodSeconds: 60, drainTimeoutSeconds: 30, terminationPolicies: DEFAULT_TERMINATION_POLICIES },
    policies: [{ name: 'cpu-50', kind: 'target_tracking', targetTracking: { metric: 'average_cpu_percent', targetValue: 50, ...TARGET_TRACKING_DEFAULTS } }],
    scheduledActions: [],
    availabilityZones: ['az-1', 'az-2'],
    failures: [],
    clientCount: 2000,
    seed: 42,
    ...patch,
  };
}

/** 100 requests/s, a step to 1,000 at 10 min, back to 100 at 70 min; two hours. */
export const STEP_100_1000_100: TrafficSource = { kind: 'step', initialRps: 100, steps: [{ atSeconds: 600, rps: 1000 }, { atSeconds: 4200, rps: 100 }] };
