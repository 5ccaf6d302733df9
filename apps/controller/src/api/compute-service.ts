import { compute } from '@minicloud/proto';
import { service, withInputLimits, type ServiceRegistration } from '@minicloud/platform-grpc';
import type { ApiDeps } from './api-deps';
import { createServerHandler } from './create-server';
import { consoleHandlers } from './console-handlers';
import { flavorHandlers } from './flavor-handlers';
import { ftHandlers } from './ft-handlers';
import { hostHandlers } from './host-handlers';
import { interfaceHandlers } from './interface-handlers';
import { keypairHandlers } from './keypair-handlers';
import { serverMigrationHandlers } from './migration-handlers';
import { serverHandlers } from './server-handlers';
import { topologyHandlers } from './topology-handlers';

export type { ApiDeps as ComputeServiceDeps } from './api-deps';

/**
 * minicloud.compute.v1.ComputeService, composed from its handler modules, each given the part of the
 * deps it uses: flavors (flavor-handlers.ts); servers: create (create-server.ts: validate, resolve,
 * schedule and claim, record, enqueue), get/list/delete/update, power and lifecycle actions
 * (resize/confirm/revert, rebuild, shelve/unshelve, rescue/unrescue, createImage, lock/unlock),
 * migrate and evacuate, volume attach/detach, interface attach/detach and list (interface-handlers.ts),
 * the actions log (server-handlers.ts and the action modules), the console log (console-handlers.ts); server groups, host aggregates and availability zones (topology-handlers.ts); hosts
 * (host-handlers.ts); fault tolerance on/off (ft-handlers.ts); abort and force-complete of a running live migration (migration-handlers.ts); SSH key pairs per user (keypair-handlers.ts). Every request passes the shared input limits first (names, metadata, user_data,
 * page size: libs/platform/grpc input-limits.ts). Roles come from libs/platform/auth's policy table; aggregate calls additionally
 * require admin here (Nova os-aggregates).
 */
export function computeService(d: ApiDeps): ServiceRegistration {
  return service({
    definition: compute.ComputeServiceService,
    handlers: withInputLimits(compute.ComputeServiceService, {
      ...topologyHandlers(d),
      ...flavorHandlers(d),
      createServer: createServerHandler(d),
      ...serverHandlers(d),
      ...hostHandlers(d),
      ...keypairHandlers(d),
      ...consoleHandlers(d),
      ...interfaceHandlers(d),
      ...ftHandlers(d),
      ...serverMigrationHandlers(d),
    }),
  });
}
