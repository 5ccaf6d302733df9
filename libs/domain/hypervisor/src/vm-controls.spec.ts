import { InvalidArgumentError } from '@minicloud/domain-errors';
import { vmControlsFromExtraSpecs } from './vm-controls';

describe('vmControlsFromExtraSpecs', () => {
  it.each([
    [{}, 2, {}, { cpu: undefined, diskIo: undefined }],
    [{ 'quota:cpu_shares_level': 'high' }, 2, {}, { cpu: { shares: 4000 }, diskIo: undefined }],
    [{ 'quota:cpu_shares_level': 'low' }, 4, {}, { cpu: { shares: 2000 }, diskIo: undefined }],
    [{ 'quota:cpu_shares_level': 'custom', 'quota:cpu_shares_share': '1234' }, 1, {}, { cpu: { shares: 1234 }, diskIo: undefined }],
    [{ 'quota:cpu_reservation': '500', 'quota:cpu_limit': '1500' }, 1, {}, { cpu: { reservationMhz: 500, limitMhz: 1500 }, diskIo: undefined }],
    [{ 'quota:cpu_reservation': '500' }, 1, { reservationMhz: 800 }, { cpu: { reservationMhz: 800 }, diskIo: undefined }],
    [{ 'quota:disk_read_iops_sec': '300', 'quota:disk_write_iops_sec': '200' }, 1, {}, { cpu: undefined, diskIo: { iopsLimit: 300 } }],
    [{ 'quota:disk_total_iops_sec': '100', 'quota:disk_total_bytes_sec': '1048576' }, 1, {}, { cpu: undefined, diskIo: { iopsLimit: 100, bytesPerSecondLimit: 1048576 } }],
  ])('%j on %d vCPUs (explicit %j) -> %j', (specs, vcpus, explicit, want) => {
    expect(vmControlsFromExtraSpecs(specs, vcpus, explicit)).toEqual(want);
  });

  it('names the extra spec that is wrong', () => {
    expect(() => vmControlsFromExtraSpecs({ 'quota:cpu_limit': 'fast' }, 1)).toThrow(InvalidArgumentError);
    expect(() => vmControlsFromExtraSpecs({ 'quota:cpu_limit': 'fast' }, 1)).toThrow(/quota:cpu_limit/);
    expect(() => vmControlsFromExtraSpecs({ 'quota:cpu_shares_level': 'urgent' }, 1)).toThrow(/quota:cpu_shares_level/);
  });
});
