/**
 * What the HA benches share: their command-line numbers, the wait for a host's VMs to be ACTIVE
 * elsewhere (timing each one), the p50/p99 summary, and the exit on failure.
 */
import { compute } from '@minicloud/proto';
import { quantile, until, type ChaosCloud } from '../src/chaos/chaos-kit';

/** `--<name> N` from the command line, else `dflt`. */
export function numberArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** "p50 X s, p99 Y s, max Z s (n=N)" of durations in seconds. */
export function summary(xs: readonly number[]): string {
  return `p50 ${quantile(xs, 0.5).toFixed(2)} s, p99 ${quantile(xs, 0.99).toFixed(2)} s, max ${Math.max(...xs).toFixed(2)} s (n=${xs.length})`;
}

/**
 * Polls every 100 ms (up to `timeoutMs`) until every server of `ids` is ACTIVE on a host other than
 * `hostId`.
 * @returns when (Date.now()) the API first showed the host in one of `hostStates` (0: never seen)
 *   and when each server was first seen ACTIVE elsewhere
 */
export async function watchRestarts(
  cc: ChaosCloud,
  hostId: string,
  ids: readonly string[],
  hostStates: readonly compute.HostState[],
  opts: { what: string; timeoutMs: number },
): Promise<{ hostStateAtMs: number; activeAtMs: Map<string, number> }> {
  const activeAtMs = new Map<string, number>();
  let hostStateAtMs = 0;
  await until(
    opts.what,
    async () => {
      const now = Date.now();
      if (!hostStateAtMs && hostStates.includes((await cc.compute.getHost({ hostId })).host!.state)) hostStateAtMs = now;
      for (const s of (await cc.compute.listServers({ allProjects: true, page: { pageSize: 1000 } })).servers) {
        if (ids.includes(s.id) && !activeAtMs.has(s.id) && s.vmState === compute.VmState.VM_STATE_ACTIVE && s.hostId !== hostId) activeAtMs.set(s.id, now);
      }
      return activeAtMs.size === ids.length;
    },
    opts.timeoutMs,
    100,
  );
  return { hostStateAtMs, activeAtMs };
}

/** Runs a bench's `main`; a failure is printed and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
