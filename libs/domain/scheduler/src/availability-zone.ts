/** Nova's `default_availability_zone`: the zone of a host that neither an aggregate nor its agent puts in one. */
export const DEFAULT_AVAILABILITY_ZONE = 'nova';

/** A host aggregate as the zone rule reads it: its zone ('' for none) and its hosts. */
export interface ZoneAggregate {
  readonly availabilityZone: string;
  readonly hostIds: readonly string[];
}

/**
 * The availability zone of host `hostId`, the one zone rule of the controller (the scheduler's
 * HostState, the instance's recorded zone, relocation's constraint and ListAvailabilityZones all
 * read it): the zone of an aggregate holding the host (Nova's rule: a host is in at most one zone,
 * so the first such aggregate is the one), else the zone its agent reports, else
 * {@link DEFAULT_AVAILABILITY_ZONE}.
 */
export function hostAvailabilityZone(hostId: string, reportedZone: string | undefined, aggregates: readonly ZoneAggregate[]): string {
  return aggregates.find((a) => a.availabilityZone && a.hostIds.includes(hostId))?.availabilityZone || reportedZone || DEFAULT_AVAILABILITY_ZONE;
}
