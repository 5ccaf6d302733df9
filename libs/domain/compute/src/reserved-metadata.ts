import { PermissionDeniedError } from '@minicloud/domain-errors';

/**
 * Prefix of the server metadata keys the cloud itself reads (e.g. `minicloud:workload`, the
 * simulated guest's workload model, which makes the hypervisor agent open a trace file). Like Nova's
 * admin-only fields, only an admin sets them: a member's server gets its workload from the flavor.
 */
export const RESERVED_METADATA_PREFIX = 'minicloud:';

/**
 * Refuses a non-admin caller's metadata that sets or changes a reserved key (any key starting with
 * RESERVED_METADATA_PREFIX, compared case-insensitively and after trimming, so `Minicloud:Workload`
 * or ` minicloud:workload` are caught too). Pure: the API handler that accepts metadata (server create,
 * set/update server metadata) calls it with the caller's admin flag before storing anything.
 * @param metadata the keys the request sets (values are not inspected).
 * @param isAdmin whether the caller is a cloud admin (`isCloudAdmin`).
 * @param removedKeys the keys the request removes (removing the workload changes it too).
 * @throws PermissionDeniedError naming the first reserved key, reason `reserved_metadata`.
 */
export function checkReservedMetadata(
  metadata: Readonly<Record<string, string>> | undefined,
  isAdmin: boolean,
  removedKeys: readonly string[] = [],
): void {
  if (isAdmin) return;
  for (const key of [...Object.keys(metadata ?? {}), ...removedKeys]) {
    if (key.trim().toLowerCase().startsWith(RESERVED_METADATA_PREFIX)) {
      throw new PermissionDeniedError(`metadata key "${key}" is reserved to admins (keys starting "${RESERVED_METADATA_PREFIX}")`, 'reserved_metadata');
    }
  }
}
