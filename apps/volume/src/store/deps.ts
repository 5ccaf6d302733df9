import { InvalidArgumentError, NotFoundError } from '@minicloud/domain-errors';
import { transitionsOf, type VolumeEvent } from '@minicloud/domain-volume';
import { defineLuaScripts, type LuaScript, type Redis } from '@minicloud/platform-state';
import * as lua from '../lua-scripts';

/** Who calls: project scoping as OpenStack does it (admins see every project); `token` is the caller's bearer token. */
export interface Caller {
  projectId: string;
  admin: boolean;
  token?: string;
  /** The calling user ('' for a caller without one, e.g. a service acting for a project). */
  userId?: string;
}

/** Publishes a volume status change (events are hints; failures are logged, not raised). */
export type StatusPublisher = (v: { volumeId: string; projectId: string; status: string; instanceId?: string }) => Promise<void>;

/** The service's Lua scripts (lua-scripts.ts) by name; each module is handed the ones it runs. */
export type VolumeScripts = Record<keyof typeof lua, LuaScript>;

/** Loads every script of lua-scripts.ts on `redis`. */
export function loadVolumeScripts(redis: Redis): VolumeScripts {
  return defineLuaScripts(redis, lua);
}

/** The status-transition table of `event` as the status scripts take it (JSON: from -> to). */
export function transitionArg(event: VolumeEvent): string {
  return JSON.stringify(transitionsOf(event));
}

/**
 * `rec` when the caller may see it: its own project's, or any for an admin.
 * @throws InvalidArgumentError(`${kind}_id`) for an empty id, NotFoundError(kind, id) when absent or another project's
 */
export function visibleTo<T extends { projectId: string }>(caller: Caller, kind: string, id: string, rec: T | undefined): T {
  if (!id) throw new InvalidArgumentError(`${kind}_id`, 'must not be empty');
  if (!rec || (!caller.admin && rec.projectId !== caller.projectId)) throw new NotFoundError(kind, id);
  return rec;
}
