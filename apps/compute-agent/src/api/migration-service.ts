import { agent } from '@minicloud/proto';
import { assertActsForHost } from '@minicloud/platform-auth';
import { service, type ServiceRegistration } from '@minicloud/platform-grpc';
import type { LiveMigrations } from '../migration/live-migrations';

/**
 * minicloud.agent.v1.MigrationService on the agent's gRPC port: the destination side of live
 * migration (LiveMigrations.serve). Policy `agent` (libs/platform/auth policy table): an admin, or a
 * compute agent whose account is bound to the stream's `begin.source_host_id` (another agent cannot
 * stream a VM in as if it came from a host it does not run: PERMISSION_DENIED before anything is read).
 */
export function migrationService(migrations: LiveMigrations): ServiceRegistration {
  return service({
    definition: agent.MigrationServiceService,
    handlers: { migrate: (requests, ctx) => migrations.serve(requests, ctx.signal, (sourceHostId) => assertActsForHost(ctx.auth, sourceHostId, 'begin.source_host_id')) },
  });
}
