import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import type { compute } from '@minicloud/proto';
import type { ServiceHandlers } from '@minicloud/platform-grpc';
import type { AgentClient } from '../agent/agent-client';
import type { ApiDeps } from './api-deps';
import { getScoped } from './scoping';

type Handlers = ServiceHandlers<typeof compute.ComputeServiceService>;

/** What the console handler uses. */
export type ConsoleHandlersDeps = Pick<ApiDeps, 'instances'> & { agents: Pick<AgentClient, 'getConsoleOutput'> };

/** Task states during which Nova refuses a console read (compute API: deleting, migrating). */
const NO_CONSOLE_TASKS = new Set(['deleting', 'migrating']);

/**
 * GetConsoleOutput (Nova's os-getConsoleOutput): the tail of the server's console log, read from
 * the agent of its host through the one agent command client. Project-scoped as every server call.
 * @throws InvalidArgumentError ('length') below -1; NotFoundError ('server');
 *   FailedPreconditionError ('instance_not_ready') when the server has no host (shelved offloaded,
 *   failed before placement) or its host does not hold it, and ('instance_invalid_state') while it
 *   is being deleted or migrated, as Nova answers InstanceNotReady / InstanceInvalidState (409).
 */
export function consoleHandlers(d: ConsoleHandlersDeps): Pick<Handlers, 'getConsoleOutput'> {
  return {
    async getConsoleOutput(req, ctx) {
      if (req.length !== undefined && req.length < -1) throw new InvalidArgumentError('length', `must be -1 (all) or more, got ${req.length}`);
      const r = await getScoped(d, req.serverId, ctx);
      if (r.taskState && NO_CONSOLE_TASKS.has(r.taskState)) {
        throw new FailedPreconditionError(`Cannot 'get_console_output' instance ${r.id} while it is in task_state ${r.taskState}`, 'instance_invalid_state');
      }
      if (!r.hostId) throw new FailedPreconditionError(`Instance ${r.id} is not ready`, 'instance_not_ready');
      try {
        return { output: await d.agents.getConsoleOutput(r.hostId, r.id, req.length) };
      } catch (e) {
        // The host does not hold the VM (yet, or any more): Nova's InstanceNotReady.
        if (e instanceof NotFoundError) throw new FailedPreconditionError(`Instance ${r.id} is not ready`, 'instance_not_ready');
        throw e;
      }
    },
  };
}
