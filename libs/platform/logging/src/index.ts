import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * Creates the process logger: pino JSON lines on stdout with `service` (and any `base` fields) on
 * every line. Log keys are snake_case (request_id, instance_id, host_id). Use `logger.child({...})`
 * for per-request context.
 */
export function createLogger(opts: { service: string; level?: string; base?: Record<string, unknown> }): Logger {
  return pino({
    level: opts.level ?? 'info',
    base: { service: opts.service, pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}

/** A logger that drops everything (tests). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
