import { createFixtureDir, type FixtureDir } from '../testing/qemu-fixtures';
import { inspectImageBytes } from './format-inspector';
import { validateImageUpload } from './validate-image-upload';

const MAX = 1024 ** 3;
let fx: FixtureDir;

/** Inspects the file and validates it as if uploaded with `declaredFormat`; `cutBytes` drops the end. */
function upload(file: string, declaredFormat: string, opts: { cutBytes?: number; maxBytes?: number; requireFormatMatch?: boolean } = {}): void {
  const all = fx.read(file);
  const bytes = all.subarray(0, all.length - (opts.cutBytes ?? 0));
  const detected = inspectImageBytes(bytes);
  validateImageUpload({ declaredFormat, detected, totalBytes: bytes.length, maxBytes: opts.maxBytes ?? MAX, requireFormatMatch: opts.requireFormatMatch });
}

const refusedDiskFormat = (text: string | RegExp) =>
  expect.objectContaining({
    name: 'InvalidArgumentError',
    field: 'disk_format',
    message: typeof text === 'string' ? expect.stringContaining(text) : expect.stringMatching(text),
  });

beforeAll(() => {
  fx = createFixtureDir('minicloud-image-validate-');
  fx.qemuCreateAll();
  fx.qemuCreate('child.qcow2', 'qcow2', '1G', undefined, ['-b', '/etc/passwd', '-F', 'raw']);
  fx.qemuCreate('child.vmdk', 'vmdk', '1G', undefined, ['-b', 'sparse.vmdk', '-F', 'vmdk']);
  fx.makeIso('cd.iso', { 'a.txt': 'a' });
});

afterAll(() => fx.remove());

describe('validateImageUpload', () => {
  it.each([
    ['v2.qcow2', 'qcow2'],
    ['v3.qcow2', 'qcow2'],
    ['sparse.vmdk', 'vmdk'],
    ['stream.vmdk', 'vmdk'],
    ['dynamic.vhd', 'vhd'],
    ['fixed.vhd', 'vhd'],
    ['disk.vhdx', 'vhdx'],
    ['disk.raw', 'raw'],
    ['cd.iso', 'iso'],
  ])('accepts %s declared as %s', (file, format) => {
    expect(() => upload(file, format)).not.toThrow();
  });

  it.each([
    ['v3.qcow2', 'raw', 'declared raw but the image data is qcow2'],
    ['disk.raw', 'qcow2', 'declared qcow2 but the image data is raw'],
    ['sparse.vmdk', 'qcow2', 'declared qcow2 but the image data is vmdk'],
    ['dynamic.vhd', 'vhdx', 'declared vhdx but the image data is vhd'],
    ['cd.iso', 'raw', 'declared raw but the image data is iso'],
    ['disk.vhdx', 'vhd', 'declared vhd but the image data is vhdx'],
  ])('refuses %s renamed and declared as %s', (file, format, message) => {
    expect(() => upload(file, format)).toThrow(refusedDiskFormat(message));
  });

  it.each([
    ['disk.raw', 'ami'],
    ['disk.raw', 'aki'],
    ['v3.qcow2', 'ari'],
    ['disk.raw', 'vdi'],
    ['disk.raw', 'ploop'],
  ])('accepts %s declared as %s, a format Glance does not compare with the bytes', (file, format) => {
    expect(() => upload(file, format)).not.toThrow();
  });

  it('still refuses what the bytes are when the declared format is not compared: a qcow2 with a backing file as ami', () => {
    expect(() => upload('child.qcow2', 'ami')).toThrow(refusedDiskFormat('backing file "/etc/passwd"'));
  });

  it('with require_image_format_match off, accepts bytes that are not the declared format but still refuses unsafe or truncated ones', () => {
    expect(() => upload('disk.raw', 'vhd', { requireFormatMatch: false })).not.toThrow();
    expect(() => upload('v3.qcow2', 'raw', { requireFormatMatch: false })).not.toThrow();
    expect(() => upload('child.qcow2', 'raw', { requireFormatMatch: false })).toThrow(refusedDiskFormat('backing file "/etc/passwd"'));
    expect(() => upload('disk.raw', 'floppy', { requireFormatMatch: false })).toThrow(refusedDiskFormat('unsupported disk format "floppy"'));
  });

  it('refuses an unknown disk format', () => {
    expect(() => upload('disk.raw', 'floppy')).toThrow(refusedDiskFormat('unsupported disk format "floppy"'));
  });

  it('refuses a qcow2 with a backing file, declared as qcow2 or disguised as raw (CVE-2022-47951 class)', () => {
    expect(() => upload('child.qcow2', 'qcow2')).toThrow(refusedDiskFormat('backing file "/etc/passwd"'));
    expect(() => upload('child.qcow2', 'raw')).toThrow(refusedDiskFormat('declared raw but the image data is qcow2'));
  });

  it('refuses a VMDK with a parent and a monolithicFlat VMDK descriptor (they name other files)', () => {
    expect(() => upload('child.vmdk', 'vmdk')).toThrow(refusedDiskFormat('it has a parent disk'));
    expect(() => upload('flat.vmdk', 'vmdk')).toThrow(refusedDiskFormat('createType "monolithicFlat"'));
  });

  it('refuses a VHD differencing disk (qemu-img cannot make one: the footers are patched to disk type 4)', () => {
    const bytes = fx.read('dynamic.vhd').slice();
    for (const footer of [0, bytes.length - 512]) {
      new DataView(bytes.buffer).setUint32(footer + 60, 4);
      let sum = 0;
      for (let i = 0; i < 512; i++) if (i < 64 || i > 67) sum += bytes[footer + i];
      new DataView(bytes.buffer).setUint32(footer + 64, ~sum >>> 0);
    }
    const detected = inspectImageBytes(bytes);
    expect(detected).toMatchObject({ format: 'vhd', details: { diskType: 'differencing' } });
    expect(() =>
      validateImageUpload({ declaredFormat: 'vhd', detected, totalBytes: bytes.length, maxBytes: MAX }),
    ).toThrow(refusedDiskFormat('differencing disk'));
  });

  it.each([
    ['v2.qcow2', 'qcow2', 1, /is truncated: \d+ bytes arrived, the header requires \d+/],
    ['v3.qcow2', 'qcow2', 100_000, /is truncated: \d+ bytes arrived, the header requires \d+/],
    ['sparse.vmdk', 'vmdk', 512, /is truncated: \d+ bytes arrived, the header requires \d+/],
    ['dynamic.vhd', 'vhd', 1, /is truncated: the footer at the end of the file is missing/],
    ['dynamic.vhd', 'vhd', 512, /is truncated: the footer at the end of the file is missing/],
    ['cd.iso', 'iso', 2048, /iso image is truncated: \d+ bytes arrived, the volume descriptor declares \d+/],
  ])('refuses %s (%s) cut short by %d bytes', (file, format, cutBytes, message) => {
    expect(() => upload(file, format, { cutBytes })).toThrow(refusedDiskFormat(message));
  });

  it('refuses a VHDX cut before its metadata region', () => {
    const all = fx.read('disk.vhdx');
    const bytes = all.subarray(0, 1024 * 1024);
    const detected = inspectImageBytes(bytes);
    expect(detected).toMatchObject({ format: 'vhdx', details: { virtualSizeKnown: false } });
    expect(() => validateImageUpload({ declaredFormat: 'vhdx', detected, totalBytes: bytes.length, maxBytes: MAX })).toThrow(
      refusedDiskFormat('vhdx image is truncated: the metadata region is missing'),
    );
  });

  it('refuses a fixed VHD cut short: without its footer it is raw data', () => {
    expect(() => upload('fixed.vhd', 'vhd', { cutBytes: 4096 })).toThrow(refusedDiskFormat('image data is raw'));
  });

  it('refuses an upload larger than the size cap with ResourceExhaustedError, and accepts one at the cap', () => {
    const size = fx.read('disk.raw').length;
    expect(() => upload('disk.raw', 'raw', { maxBytes: size - 1 })).toThrow(
      expect.objectContaining({ name: 'ResourceExhaustedError', reason: 'image_size_cap' }),
    );
    expect(() => upload('disk.raw', 'raw', { maxBytes: size })).not.toThrow();
  });
});
