import { InvalidArgumentError } from '@minicloud/domain-errors';
import { readFlavorResourceControls } from './flavor-extra-specs';

describe('readFlavorResourceControls (Nova quota:* extra specs)', () => {
  it.each([
    [{}, 2, {}, { cpu: undefined, diskIo: undefined }],
    [{ 'quota:cpu_shares_level': 'high' }, 2, {}, { cpu: { shares: 4000 }, diskIo: undefined }],
    [{ 'quota:cpu_shares_level': 'low' }, 4, {}, { cpu: { shares: 2000 }, diskIo: undefined }],
    [{ 'quota:cpu_shares_level': 'custom', 'quota:cpu_shares_share': '1234' }, 1, {}, { cpu: { shares: 1234 }, diskIo: undefined }],
    // libvirt's weight, read when no VMware share level is set
    [{ 'quota:cpu_shares': '2048' }, 2, {}, { cpu: { shares: 2048 }, diskIo: undefined }],
    [{ 'quota:cpu_shares': '2048', 'quota:cpu_shares_level': 'low' }, 2, {}, { cpu: { shares: 1000 }, diskIo: undefined }],
    [{ 'quota:cpu_reservation': '500', 'quota:cpu_limit': '1500' }, 1, {}, { cpu: { reservationMhz: 500, limitMhz: 1500 }, diskIo: undefined }],
    [{ 'quota:cpu_reservation': '500' }, 1, { reservationMhz: 800 }, { cpu: { reservationMhz: 800 }, diskIo: undefined }],
    [{ 'quota:cpu_limit': '0' }, 1, {}, { cpu: undefined, diskIo: undefined }],
    [{ 'quota:disk_read_iops_sec': '300', 'quota:disk_write_iops_sec': '200' }, 1, {}, { cpu: undefined, diskIo: { iopsLimit: 300 } }],
    [{ 'quota:disk_total_iops_sec': '100', 'quota:disk_total_bytes_sec': '1048576' }, 1, {}, { cpu: undefined, diskIo: { iopsLimit: 100, bytesPerSecondLimit: 1048576 } }],
    [{ 'quota:disk_write_bytes_sec': '4096' }, 1, {}, { cpu: undefined, diskIo: { bytesPerSecondLimit: 4096 } }],
    // keys nothing defines are not read (the controller used to read quota:cpu_reservation_mhz)
    [{ 'quota:cpu_reservation_mhz': '700', 'hw:cpu_policy': 'dedicated' }, 1, {}, { cpu: undefined, diskIo: undefined }],
  ])('%j on %d vCPUs (explicit %j) -> %j', (specs, vcpus, explicit, want) => {
    expect(readFlavorResourceControls(specs, vcpus, explicit)).toEqual(want);
  });

  it.each([
    ['quota:cpu_limit', 'fast'],
    ['quota:cpu_reservation', '-1'],
    ['quota:cpu_shares', '1.5'],
    ['quota:cpu_shares_level', 'urgent'],
    ['quota:cpu_shares_level', 'constructor'],
    ['quota:disk_read_bytes_sec', '1e400'],
  ])('names the extra spec that is wrong: %s=%s', (key, value) => {
    const read = () => readFlavorResourceControls({ [key]: value }, 1);
    expect(read).toThrow(InvalidArgumentError);
    expect(read).toThrow(`extra_specs.${key}`);
  });

  it('still refuses a malformed extra spec an explicit value overrides', () => {
    expect(() => readFlavorResourceControls({ 'quota:cpu_limit': 'x' }, 1, { limitMhz: 100 })).toThrow(/quota:cpu_limit/);
  });
});
