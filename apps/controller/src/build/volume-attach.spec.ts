import { InvalidArgumentError } from '@minicloud/domain-errors';
import { chooseDeviceName, qosLimits } from './volume-attach';

describe('chooseDeviceName', () => {
  it('picks the next free /dev/vdX after the root disk', () => {
    expect(chooseDeviceName([])).toBe('/dev/vdb');
    expect(chooseDeviceName(['/dev/vdb', '/dev/vdd'])).toBe('/dev/vdc');
  });
  it('accepts a free requested name and refuses bad, root or used ones naming device_name', () => {
    expect(chooseDeviceName(['/dev/vdb'], '/dev/vdc')).toBe('/dev/vdc');
    for (const bad of ['/dev/vda', '/dev/vdb', 'vdc', '/dev/vd1']) {
      expect(() => chooseDeviceName(['/dev/vdb'], bad)).toThrow(InvalidArgumentError);
      expect(() => chooseDeviceName(['/dev/vdb'], bad)).toThrow(/device_name/);
    }
  });
  it('refuses when every name is taken', () => {
    const all = Array.from({ length: 25 }, (_, i) => `/dev/vd${String.fromCharCode(98 + i)}`);
    expect(() => chooseDeviceName(all)).toThrow(/no free device name/);
  });
});

describe('qosLimits', () => {
  it('falls back from read/write IOPS to total IOPS (apps/volume/README.md) and keeps 0 as unlimited', () => {
    const q = { readIopsSec: 0, writeIopsSec: 100, totalIopsSec: 500, readBytesSec: 1, writeBytesSec: 2, totalBytesSec: 3000 };
    expect(qosLimits({ sizeGb: 5, qos: q })).toEqual({ sizeGb: 5, readIopsLimit: 500, writeIopsLimit: 100, totalBytesSecLimit: 3000 });
    expect(qosLimits({ sizeGb: 1, qos: undefined })).toEqual({ sizeGb: 1, readIopsLimit: 0, writeIopsLimit: 0, totalBytesSecLimit: 0 });
  });
});
