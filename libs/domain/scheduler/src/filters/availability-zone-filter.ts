import { HostFilter, PASS, reject } from '../host-filter';

/** Nova's AvailabilityZoneFilter: when the request names a zone, the host must be in it. */
export const availabilityZoneFilter: HostFilter = {
  name: 'AvailabilityZoneFilter',
  summary: { one: 'is in another availability zone', many: 'are in another availability zone' },
  hostPasses(host, spec) {
    const wanted = spec.availabilityZone;
    if (!wanted || host.availabilityZone === wanted) return PASS;
    return reject(`host is in availability zone "${host.availabilityZone}", request wants "${wanted}"`);
  },
};
