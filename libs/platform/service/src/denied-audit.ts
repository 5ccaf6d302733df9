import { randomUUID } from 'node:crypto';
import { events } from '@minicloud/proto';
import { Subjects, type Bus } from '@minicloud/platform-bus';
import type { DeniedCall } from '@minicloud/platform-grpc';
import type { Logger } from '@minicloud/platform-logging';
import { Counter, type Registry } from '@minicloud/platform-metrics';

/**
 * The audit of refused calls every service shares (every denied call is an event and a metric, so
 * probing another project's resources shows in the audit trail): the counter `minicloud_auth_denied_total{grpc_method, reason}` on `registry`, and an
 * `events.AuditRecorded` (kind "deny", outcome "failure", reason = the {@link DeniedCall} reason)
 * on Subjects.auditRecorded, published without waiting (a failed publish is logged at warn).
 * Pass both to startGrpcServer as `deniedCounter` / `onDenied`.
 */
export function deniedCallAudit(opts: { registry: Registry; bus: Bus; source: string; logger: Logger; nowMs?: () => number }): {
  deniedCounter: Counter<'grpc_method' | 'reason'>;
  onDenied: (call: DeniedCall) => void;
} {
  const nowMs = opts.nowMs ?? (() => Date.now());
  const deniedCounter = new Counter({
    name: 'minicloud_auth_denied_total',
    help: 'Calls refused by the gRPC auth interceptor (UNAUTHENTICATED or PERMISSION_DENIED), by method and reason.',
    labelNames: ['grpc_method', 'reason'] as const,
    registers: [opts.registry],
  });
  const onDenied = (call: DeniedCall) => {
    opts.bus
      .publishEvent(
        Subjects.auditRecorded,
        events.AuditRecorded,
        {
          meta: { eventId: randomUUID(), occurredAt: new Date(nowMs()), requestId: call.requestId, source: opts.source },
          kind: 'deny',
          userId: call.auth?.userId ?? '',
          projectId: call.auth?.projectId ?? '',
          method: call.path,
          outcome: 'failure',
          reason: call.reason,
        },
        { requestId: call.requestId },
      )
      .catch((err) => opts.logger.warn({ err }, 'audit event for a denied call not published'));
  };
  return { deniedCounter, onDenied };
}
