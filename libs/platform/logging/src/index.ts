import pino, { type DestinationStream, type Logger } from 'pino';
import { currentRequestId } from './request-context';

export type { Logger } from 'pino';
export * from './request-context';

/**
 * Creates the process logger: pino JSON lines on stdout (or `destination`) with `service` (and any
 * `base` fields) on every line, and `request_id` on every line written while a request is handled
 * (see runWithRequestId; a `request_id` given in the log call wins). Log keys are snake_case
 * (request_id, instance_id, host_id). Use `logger.child({...})` for per-component context.
 */
export function createLogger(opts: { service: string; level?: string; base?: Record<string, unknown>; destination?: DestinationStream }): Logger {
  const options = {
    level: opts.level ?? 'info',
    base: { service: opts.service, pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: () => {
      const requestId = currentRequestId();
      return requestId ? { request_id: requestId } : {};
    },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
