/**
 * Test-only: builds real disk images with qemu-img (and xorriso for ISO 9660) in a temp directory.
 * Production code never imports this file (it uses fs and child_process).
 */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

export const QEMU_IMG = '/usr/bin/qemu-img';

/**
 * One image of every format and subformat the inspector reads, as `qemuCreate` arguments (name,
 * format, size, -o options). flat.vmdk also writes its raw extent, flat-flat.vmdk.
 */
export const FORMAT_SAMPLES: [name: string, format: string, size: string, options?: string][] = [
  ['v2.qcow2', 'qcow2', '1G', 'compat=0.10'],
  ['v3.qcow2', 'qcow2', '1G', 'compat=1.1'],
  ['sparse.vmdk', 'vmdk', '1G'],
  ['stream.vmdk', 'vmdk', '64M', 'subformat=streamOptimized'],
  ['flat.vmdk', 'vmdk', '10M', 'subformat=monolithicFlat'],
  ['dynamic.vhd', 'vpc', '1G', 'subformat=dynamic'],
  ['fixed.vhd', 'vpc', '10M', 'subformat=fixed'],
  ['disk.vhdx', 'vhdx', '1G'],
  ['disk.raw', 'raw', '10M'],
];

/** A temp directory of fixtures; `path(name)` and `read(name)` address files in it. */
export interface FixtureDir {
  dir: string;
  path(name: string): string;
  read(name: string): Uint8Array;
  /** `qemu-img create -q -f <format> [-o <options>] <name> <size>`. */
  qemuCreate(name: string, format: string, size: string, options?: string, extra?: string[]): void;
  /** Creates each of `samples` (default: {@link FORMAT_SAMPLES}) with {@link qemuCreate}. */
  qemuCreateAll(samples?: typeof FORMAT_SAMPLES): void;
  /** `qemu-img convert -O <format> [-o <options>] <from> <to>`. */
  qemuConvert(from: string, to: string, format: string, options?: string): void;
  /** ISO 9660 image of a directory holding `files` (name -> content). */
  makeIso(name: string, files: Record<string, string>): void;
  remove(): void;
}

/** Creates a fresh fixture directory under os.tmpdir(). */
export function createFixtureDir(prefix: string): FixtureDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = (name: string) => join(dir, name);
  const run = (file: string, args: string[]) => execFileSync(file, args, { cwd: dir, stdio: 'pipe' });
  const qemuCreate: FixtureDir['qemuCreate'] = (name, format, size, options, extra = []) => {
    run(QEMU_IMG, ['create', '-q', '-f', format, ...(options ? ['-o', options] : []), ...extra, name, size]);
  };
  return {
    dir,
    path,
    read: (name) => new Uint8Array(readFileSync(path(name))),
    qemuCreate,
    qemuCreateAll(samples = FORMAT_SAMPLES) {
      for (const [name, format, size, options] of samples) qemuCreate(name, format, size, options);
    },
    qemuConvert(from, to, format, options) {
      run(QEMU_IMG, ['convert', '-O', format, ...(options ? ['-o', options] : []), from, to]);
    },
    makeIso(name, files) {
      const src = path(`${name}.d`);
      mkdirSync(src);
      for (const [f, content] of Object.entries(files)) writeFileSync(join(src, f), content);
      run('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'MINICLOUD', '-o', name, src]);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
