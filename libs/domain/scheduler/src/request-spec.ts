import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { GuestCpu } from '@minicloud/domain-hypervisor';

/** Flavor as the scheduler needs it. `extraSpecs` keys are e.g. `aggregate_instance_extra_specs:ssd`. */
export interface FlavorSpec {
  readonly vcpus: number;
  readonly ramMb: number;
  readonly diskGb: number;
  readonly extraSpecs: Readonly<Record<string, string>>;
}

/** Image metadata the filters read: `hw_architecture`/`architecture`, `img_hv_type`/`hypervisor_type`. */
export interface ImageSpec {
  readonly properties: Readonly<Record<string, string>>;
}

/** Server group policies, as Nova's (API microversion 2.64+). */
export type ServerGroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

/** The server group of the request, with the hosts its members already run on. */
export interface ServerGroupSpec {
  readonly id: string;
  readonly policy: ServerGroupPolicy;
  /** Hosts holding at least one member now. */
  readonly hostIds: readonly string[];
  /** anti-affinity rule `max_server_per_host` (Nova 2.64); default 1. */
  readonly maxServerPerHost?: number;
}

/** Nova scheduler hints the filters understand: lists of instance uuids. */
export interface SchedulerHints {
  readonly differentHost?: readonly string[];
  readonly sameHost?: readonly string[];
}

/** What to place (Nova's `RequestSpec`): `numInstances` copies of one flavor/image. */
export interface RequestSpec {
  /** One uuid per instance, when known; recorded into the host's `instanceIds` on consumption. */
  readonly instanceUuids?: readonly string[];
  readonly numInstances: number;
  readonly flavor: FlavorSpec;
  readonly image: ImageSpec;
  readonly availabilityZone?: string;
  readonly schedulerHints: SchedulerHints;
  readonly serverGroup?: ServerGroupSpec;
  /**
   * The CPU of a running guest being live-migrated (fixed at its boot): only hosts it can move to
   * pass the CpuModelFilter. Absent for a new boot (the flavor's/image's CPU mode applies then).
   */
  readonly guestCpu?: GuestCpu;
}

function requireNonNegative(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(field, `must be a finite number >= 0, got ${value}`);
  }
}

/**
 * Checks the parts of a RequestSpec that the arithmetic relies on.
 * @throws InvalidArgumentError naming the field (numInstances, instanceUuids, flavor.vcpus,
 *   flavor.ramMb, flavor.diskGb, serverGroup.maxServerPerHost)
 */
export function validateRequestSpec(spec: RequestSpec): void {
  if (!Number.isInteger(spec.numInstances) || spec.numInstances < 1) {
    throw new InvalidArgumentError('numInstances', `must be an integer >= 1, got ${spec.numInstances}`);
  }
  if (spec.instanceUuids && spec.instanceUuids.length !== spec.numInstances) {
    throw new InvalidArgumentError(
      'instanceUuids',
      `has ${spec.instanceUuids.length} entries for ${spec.numInstances} instances`,
    );
  }
  requireNonNegative('flavor.vcpus', spec.flavor.vcpus);
  requireNonNegative('flavor.ramMb', spec.flavor.ramMb);
  requireNonNegative('flavor.diskGb', spec.flavor.diskGb);
  const max = spec.serverGroup?.maxServerPerHost;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new InvalidArgumentError('serverGroup.maxServerPerHost', `must be an integer >= 1, got ${max}`);
  }
}
