import { CommanderError } from 'commander';
import { serviceOf } from '@minicloud/client';
import { MinicloudError, UnavailableError } from '@minicloud/domain-errors';

/**
 * An error found by the CLI itself (not logged in, no endpoint in the catalog, bad file). `code`,
 * when given, is a gRPC status name printed after the message like a server error's.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The one line printed on stderr for a failed command, e.g.
 * `Error: flavor m1.huge not found (NOT_FOUND)`, `Error: not logged in: run 'minicloud login'`.
 * An UNAVAILABLE error that carries the service it came from reads
 * `Error: cannot reach compute service at 127.0.0.1:5004 (UNAVAILABLE)`.
 */
export function formatError(e: unknown): string {
  if (e instanceof CommanderError) return `Error: ${oneLine(e.message.replace(/^error:\s*/i, ''))}`;
  if (e instanceof CliError) return `Error: ${oneLine(e.message)}${e.code ? ` (${e.code})` : ''}`;
  if (e instanceof MinicloudError) {
    const svc = serviceOf(e);
    if (e instanceof UnavailableError && svc) return `Error: cannot reach ${svc.type} service at ${svc.address}${unreachableReason(e.message)} (UNAVAILABLE)`;
    return `Error: ${oneLine(e.message)} (${e.code})`;
  }
  if (e instanceof Error) return `Error: ${oneLine(e.message)}`;
  return `Error: ${oneLine(String(e))}`;
}

const SOCKET_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'connection reset',
};

/** ": connection refused" from grpc-js's long "No connection established. Last error: ..." text. */
function unreachableReason(message: string): string {
  const code = Object.keys(SOCKET_ERRORS).find((c) => message.includes(c));
  return code ? `: ${SOCKET_ERRORS[code]}` : '';
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, '; ').trim();
}
