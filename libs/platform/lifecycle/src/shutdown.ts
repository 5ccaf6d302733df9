import { setMaxListeners } from 'node:events';
import type { Logger } from '@minicloud/platform-logging';
import type { Runnable } from './runnable';

/** One step of an ordered graceful shutdown. */
export interface ShutdownStep {
  name: string;
  run(): Promise<void> | void;
}

/**
 * Runs the runnables until SIGTERM/SIGINT (or `signal`), then shuts down in order: abort the
 * runnables and wait for them, then each step in the given order (not ready -> stop accepting ->
 * finish in-flight -> release lease -> drain NATS -> quit Redis). A second signal exits at once.
 * Resolves when everything has stopped.
 */
export async function runProcess(opts: {
  logger: Logger;
  runnables: Runnable[];
  /** Steps before aborting runnables (e.g. mark not ready, stop the gRPC server accepting). */
  beforeStop?: ShutdownStep[];
  /** Steps after the runnables returned (e.g. drain NATS, quit Redis). */
  afterStop?: ShutdownStep[];
  signal?: AbortSignal;
}): Promise<void> {
  const controller = new AbortController();
  // Every runnable listens on this one signal (a few listeners each, by design): no leak to warn of.
  setMaxListeners(10 + 4 * opts.runnables.length, controller.signal);
  let signals = 0;
  const onSignal = (sig: string) => {
    signals++;
    if (signals > 1) {
      opts.logger.warn({ signal: sig }, 'second signal: exiting now');
      process.exit(130);
    }
    opts.logger.info({ signal: sig }, 'shutting down');
    controller.abort();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  opts.signal?.addEventListener('abort', () => controller.abort(), { once: true });

  const running = opts.runnables.map((r) =>
    r.start(controller.signal).catch((e) => {
      opts.logger.error({ err: e, runnable: r.name }, 'runnable failed; shutting down');
      controller.abort();
    }),
  );
  await new Promise<void>((r) => (controller.signal.aborted ? r() : controller.signal.addEventListener('abort', () => r(), { once: true })));
  const runSteps = async (steps: ShutdownStep[] = []) => {
    for (const s of steps) {
      try {
        await s.run();
      } catch (e) {
        opts.logger.warn({ err: e, step: s.name }, 'shutdown step failed');
      }
    }
  };
  await runSteps(opts.beforeStop);
  await Promise.all(running);
  await runSteps(opts.afterStop);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  opts.logger.info('stopped');
}
