import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import { createFixtureDir, QEMU_IMG, type FixtureDir } from '../testing/qemu-fixtures';
import { inspectImageBytes } from './format-inspector';
import { buildSnapshotQcow2 } from './snapshot-qcow2';
import { validateImageUpload } from './validate-image-upload';

let fx: FixtureDir;
beforeAll(() => (fx = createFixtureDir('minicloud-snapshot-qcow2-')));
afterAll(() => fx.remove());

describe('buildSnapshotQcow2', () => {
  it.each([512, 64 * 1024 ** 2, 1024 ** 3, 20 * 1024 ** 3, 4 * 1024 ** 4])('writes a qcow2 of %d bytes that qemu-img checks clean', (size) => {
    const bytes = buildSnapshotQcow2(size);
    writeFileSync(fx.path('snap.qcow2'), bytes);
    const info = JSON.parse(execFileSync(QEMU_IMG, ['info', '--output=json', fx.path('snap.qcow2')]).toString());
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': size, 'format-specific': { data: { compat: '1.1' } } });
    expect(info['backing-filename']).toBeUndefined();
    execFileSync(QEMU_IMG, ['check', '-q', fx.path('snap.qcow2')]); // throws on any error or leak
    const detected = inspectImageBytes(bytes);
    expect(detected).toMatchObject({ format: 'qcow2', virtualSizeBytes: size, details: { version: 3, backingFile: null } });
    expect(() => validateImageUpload({ declaredFormat: 'qcow2', detected, totalBytes: bytes.length, maxBytes: 1024 ** 3 })).not.toThrow();
  });

  it('has the size of qemu-img create for the same virtual size', () => {
    fx.qemuCreate('ref.qcow2', 'qcow2', '64M', 'compat=1.1');
    expect(buildSnapshotQcow2(64 * 1024 ** 2).length).toBe(fx.read('ref.qcow2').length);
  });

  it.each([0, -512, 1000, 1.5, 4 * 1024 ** 4 + 512])('refuses virtual size %d naming the field', (size) => {
    expect(() => buildSnapshotQcow2(size)).toThrow(expect.objectContaining({ field: 'virtual_size_bytes' }));
  });
});
