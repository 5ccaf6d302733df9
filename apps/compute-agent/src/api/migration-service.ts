import { agent } from '@minicloud/proto';
import { service, type ServiceRegistration } from '@minicloud/platform-grpc';
import type { LiveMigrations } from '../migration/live-migrations';

/**
 * minicloud.agent.v1.MigrationService on the agent's gRPC port: the destination side of live
 * migration (LiveMigrations.serve). Policy: admin (libs/platform/auth policy table), so only callers
 * with the service token (other agents) can open a stream.
 */
export function migrationService(migrations: LiveMigrations): ServiceRegistration {
  return service({
    definition: agent.MigrationServiceService,
    handlers: { migrate: (requests, ctx) => migrations.serve(requests, ctx.signal) },
  });
}
