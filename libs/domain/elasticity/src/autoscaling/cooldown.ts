/**
 * True while a scaling cooldown runs: `cooldownSeconds` after the last scaling activity (AWS
 * DefaultCooldown, default 300 s), during which step policies and target-tracking scale-in wait so
 * the previous change can show in the metrics.
 */
export function inCooldown(lastScalingMs: number | null, cooldownSeconds: number, nowMs: number): boolean {
  return lastScalingMs !== null && nowMs - lastScalingMs < cooldownSeconds * 1000;
}

/**
 * True while an instance warms up (AWS DefaultInstanceWarmup): for `warmupSeconds` after launch its
 * metrics are left out of the group's aggregate, though it counts towards the desired capacity.
 */
export function isWarmingUp(launchedAtMs: number, warmupSeconds: number, nowMs: number): boolean {
  return nowMs - launchedAtMs < warmupSeconds * 1000;
}
