import fc from 'fast-check';
import { createFixtureDir, type FixtureDir } from '../testing/qemu-fixtures';
import { createFormatInspector, inspectImageBytes } from './format-inspector';
import type { ImageInspection } from './image-inspection';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

function inspectInChunks(bytes: Uint8Array, chunkBytes: number): ImageInspection {
  const inspector = createFormatInspector();
  for (let o = 0; o < bytes.length; o += chunkBytes) inspector.push(bytes.subarray(o, o + chunkBytes));
  return inspector.result(bytes.length);
}

let fx: FixtureDir;

beforeAll(() => {
  fx = createFixtureDir('minicloud-image-inspector-');
  fx.qemuCreateAll();
  fx.qemuCreate('small-clusters.qcow2', 'qcow2', '100M', 'cluster_size=4096');
  fx.qemuCreate('child.qcow2', 'qcow2', '1G', undefined, ['-b', 'v3.qcow2', '-F', 'qcow2']);
  fx.makeIso('cd.iso', { 'README.txt': 'minicloud\n' });
  fx.qemuConvert('cd.iso', 'iso-in-fixed.vhd', 'vpc', 'subformat=fixed');
});

afterAll(() => fx.remove());

describe('createFormatInspector on images made by qemu-img', () => {
  it.each([
    ['v2.qcow2', 'qcow2', GIB],
    ['v3.qcow2', 'qcow2', GIB],
    ['small-clusters.qcow2', 'qcow2', 100 * MIB],
    ['child.qcow2', 'qcow2', GIB],
    ['sparse.vmdk', 'vmdk', GIB],
    ['stream.vmdk', 'vmdk', 64 * MIB],
    ['flat.vmdk', 'vmdk', 10 * MIB],
    // qemu stores the CHS-rounded size in the footer; `qemu-img info` reports the same 1073995776.
    ['dynamic.vhd', 'vhd', 1073995776],
    ['fixed.vhd', 'vhd', 10514432],
    ['disk.vhdx', 'vhdx', GIB],
    ['disk.raw', 'raw', 10 * MIB],
    // The extent of a monolithicFlat VMDK is plain raw data.
    ['flat-flat.vmdk', 'raw', 10 * MIB],
  ])('%s is %s with virtual size %d bytes', (file, format, virtualSizeBytes) => {
    const bytes = fx.read(file);
    for (const chunk of [4096, 3 * 65536 + 7, bytes.length]) {
      const r = inspectInChunks(bytes, chunk);
      expect({ format: r.format, virtualSizeBytes: r.virtualSizeBytes }).toEqual({ format, virtualSizeBytes });
    }
  });

  it('reads qcow2 version, cluster size and the backing file name', () => {
    const v2 = inspectImageBytes(fx.read('v2.qcow2'));
    const v3 = inspectImageBytes(fx.read('small-clusters.qcow2'));
    const child = inspectImageBytes(fx.read('child.qcow2'));
    if (v2.format !== 'qcow2' || v3.format !== 'qcow2' || child.format !== 'qcow2') throw new Error('not qcow2');
    expect(v2.details).toMatchObject({ version: 2, clusterBits: 16, clusterSizeBytes: 65536, backingFile: null });
    expect(v3.details).toMatchObject({ version: 3, clusterBits: 12, backingFile: null, externalDataFile: false });
    expect(child.details.backingFile).toBe('v3.qcow2');
    // qemu-img writes an empty 1 GiB qcow2 whose L1 table ends exactly at the end of the file.
    expect(v2.details.minimumBytes).toBe(fx.read('v2.qcow2').length);
  });

  it('reads the VMDK create type and extents', () => {
    const sparse = inspectImageBytes(fx.read('sparse.vmdk'));
    const stream = inspectImageBytes(fx.read('stream.vmdk'));
    const flat = inspectImageBytes(fx.read('flat.vmdk'));
    expect(sparse).toMatchObject({ details: { variant: 'sparse', createType: 'monolithicSparse', hasParent: false } });
    expect(stream).toMatchObject({ details: { variant: 'sparse', createType: 'streamOptimized' } });
    expect(flat).toMatchObject({
      details: {
        variant: 'descriptor',
        createType: 'monolithicFlat',
        extents: [{ access: 'RW', sectors: 20480, type: 'FLAT', fileName: 'flat-flat.vmdk' }],
      },
    });
  });

  it('reads the VHD disk type and where the footer was found', () => {
    expect(inspectImageBytes(fx.read('dynamic.vhd'))).toMatchObject({
      details: { diskType: 'dynamic', footerAtEnd: true, footerCopyAtStart: true, creatorApplication: 'qemu' },
    });
    expect(inspectImageBytes(fx.read('fixed.vhd'))).toMatchObject({
      details: { diskType: 'fixed', footerAtEnd: true, footerCopyAtStart: false, minimumBytes: fx.read('fixed.vhd').length },
    });
  });

  it('reads the VHDX virtual size from its metadata region, in 1000-byte chunks', () => {
    const bytes = fx.read('disk.vhdx');
    const r = inspectInChunks(bytes, 1000);
    expect(r).toEqual({ format: 'vhdx', virtualSizeBytes: GIB, details: { virtualSizeKnown: true, hasParent: false, note: null } });
  });

  it('reports virtual size 0 with a note for a VHDX cut before its metadata', () => {
    const r = inspectImageBytes(fx.read('disk.vhdx').subarray(0, 256 * 1024));
    expect(r.format).toBe('vhdx');
    expect(r.virtualSizeBytes).toBe(0);
    expect(r.details).toMatchObject({ virtualSizeKnown: false, note: expect.stringContaining('metadata') });
  });

  it('reads the ISO 9660 primary volume descriptor', () => {
    const bytes = fx.read('cd.iso');
    const r = inspectImageBytes(bytes);
    expect(r).toEqual({
      format: 'iso',
      virtualSizeBytes: bytes.length,
      details: { volumeSpaceBlocks: bytes.length / 2048, logicalBlockSizeBytes: 2048, volumeId: 'MINICLOUD' },
    });
  });

  it('prefers the VHD footer over the ISO descriptor of the guest data (fixed VHD of an ISO)', () => {
    const iso = fx.read('cd.iso');
    const r = inspectImageBytes(fx.read('iso-in-fixed.vhd'));
    expect(r.format).toBe('vhd');
    expect(r.virtualSizeBytes).toBeGreaterThanOrEqual(iso.length);
    const withoutFooter = fx.read('iso-in-fixed.vhd').subarray(0, r.virtualSizeBytes);
    expect(inspectImageBytes(withoutFooter).format).toBe('iso');
  });

  it('calls a VHD whose footer was cut off a VHD without footer (dynamic) or raw (fixed)', () => {
    const dynamic = fx.read('dynamic.vhd');
    const cut = inspectImageBytes(dynamic.subarray(0, dynamic.length - 512));
    expect(cut).toMatchObject({ format: 'vhd', virtualSizeBytes: 1073995776, details: { footerAtEnd: false } });
    const fixed = fx.read('fixed.vhd');
    expect(inspectImageBytes(fixed.subarray(0, fixed.length - 100)).format).toBe('raw');
  });

  it('does not take a corrupted VHD footer (bad checksum) for a VHD', () => {
    const fixed = fx.read('fixed.vhd').slice();
    fixed[fixed.length - 512 + 48 + 7] ^= 1; // flip a bit of current size; checksum no longer matches
    expect(inspectImageBytes(fixed).format).toBe('raw');
  });

  it('gives the same answer however the upload is split into chunks', () => {
    const files = ['v3.qcow2', 'sparse.vmdk', 'dynamic.vhd', 'cd.iso'].map((f) => [f, fx.read(f)] as const);
    const expected = new Map(files.map(([f, b]) => [f, inspectImageBytes(b)]));
    fc.assert(
      fc.property(fc.constantFrom(...files), fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 8 }), ([f, bytes], sizes) => {
        const inspector = createFormatInspector();
        for (let o = 0, i = 0; o < bytes.length; i++) {
          const n = sizes[i % sizes.length];
          inspector.push(bytes.subarray(o, o + n));
          o += n;
        }
        expect(inspector.result(bytes.length)).toEqual(expected.get(f));
      }),
      { numRuns: 40 },
    );
  });
});

describe('createFormatInspector on arbitrary bytes', () => {
  it('calls random data raw with virtual size = byte size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80_000 }), (bytes) => {
        expect(inspectImageBytes(bytes)).toEqual({ format: 'raw', virtualSizeBytes: bytes.length, details: {} });
      }),
      { numRuns: 60 },
    );
  });

  it('does not fire the VHD check on data that merely ends with the "conectix" cookie', () => {
    const bytes = new Uint8Array(4096).fill(0x5a);
    bytes.set(new TextEncoder().encode('conectix'), 4096 - 512);
    expect(inspectImageBytes(bytes).format).toBe('raw');
  });

  it('refuses a result() whose size disagrees with the bytes pushed', () => {
    const inspector = createFormatInspector();
    inspector.push(new Uint8Array(10));
    expect(inspector.bytesSeen).toBe(10);
    expect(() => inspector.result(11)).toThrow(expect.objectContaining({ name: 'InvalidArgumentError', field: 'totalBytes' }));
  });
});
