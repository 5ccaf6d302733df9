import { HostAggregate } from '../host-state';
import { makeHost, makeSpec } from '../testing';
import { aggregateInstanceExtraSpecsFilter } from './aggregate-instance-extra-specs-filter';

const ssd = { id: 'fast', metadata: { ssd: 'true', tier: 'gold' } };
const hdd = { id: 'slow', metadata: { ssd: 'false' } };

type Row = { name: string; aggs: HostAggregate[]; specs: Record<string, string>; passed: boolean };

describe('AggregateInstanceExtraSpecsFilter', () => {
  it.each<Row>([
    { name: 'no extra specs', aggs: [], specs: {}, passed: true },
    { name: 'scoped match', aggs: [ssd], specs: { 'aggregate_instance_extra_specs:ssd': 'true' }, passed: true },
    { name: 'scoped mismatch', aggs: [hdd], specs: { 'aggregate_instance_extra_specs:ssd': 'true' }, passed: false },
    { name: 'key missing on host', aggs: [], specs: { 'aggregate_instance_extra_specs:ssd': 'true' }, passed: false },
    { name: 'any aggregate may match', aggs: [hdd, ssd], specs: { 'aggregate_instance_extra_specs:ssd': 'true' }, passed: true },
    { name: 'all specs must match', aggs: [ssd], specs: { 'aggregate_instance_extra_specs:ssd': 'true', 'aggregate_instance_extra_specs:tier': 'silver' }, passed: false },
    { name: 'other scopes ignored', aggs: [], specs: { 'hw:cpu_policy': 'dedicated' }, passed: true },
    { name: 'unscoped key matched (Nova legacy)', aggs: [ssd], specs: { tier: 'gold' }, passed: true },
    { name: '<or> alternatives', aggs: [ssd], specs: { 'aggregate_instance_extra_specs:tier': '<or> silver <or> gold' }, passed: true },
  ])('$name -> $passed', ({ aggs, specs, passed }) => {
    const result = aggregateInstanceExtraSpecsFilter.hostPasses(
      makeHost({ hostId: 'h1', aggregates: aggs }),
      makeSpec({ flavor: { vcpus: 1, ramMb: 1, diskGb: 1, extraSpecs: specs } }),
    );
    expect(result.passed).toBe(passed);
  });
});
