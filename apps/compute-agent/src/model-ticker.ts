import type { Clock } from '@minicloud/domain-clock';
import type { Runnable } from '@minicloud/platform-lifecycle';
import type { SimulatedHost } from './simulated-host';

/**
 * Simulated ms between two model ticks: MODEL_TICK_MS, but never more often than every
 * `minWallMs` of real time (at TIME_SCALE 3600 a 1 s tick would fire every 0.28 ms; instead each tick
 * covers TIME_SCALE x minWallMs of simulated time, the models integrating over the whole span).
 */
export function modelTickIntervalMs(tickMs: number, timeScale: number, minWallMs: number): number {
  return Math.max(tickMs, timeScale * minWallMs);
}

/**
 * The agent's model tick (a Runnable): every `intervalMs` of clock time, advances the models of every
 * host of the rack to the clock's now. `onTick` gets the wall-clock seconds the tick took (for metrics).
 */
export function modelTicker(hosts: readonly SimulatedHost[], clock: Clock, intervalMs: number, onTick?: (wallSeconds: number, vms: number) => void): Runnable {
  return {
    name: 'model-ticker',
    async start(signal: AbortSignal): Promise<void> {
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const h = clock.setTimeout(resolve, intervalMs);
          signal.addEventListener('abort', () => (clock.clearTimeout(h), resolve()), { once: true });
        });
        if (signal.aborted) return;
        const t0 = process.hrtime.bigint();
        let vms = 0;
        for (const h of hosts) vms += h.tick().vms.size;
        onTick?.(Number(process.hrtime.bigint() - t0) / 1e9, vms);
      }
    },
  };
}
