/**
 * Test-only: builds real disk images with qemu-img (and xorriso for ISO 9660) in a temp directory.
 * Production code never imports this file (it uses fs and child_process).
 */
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';

export const QEMU_IMG = '/usr/bin/qemu-img';

/** A temp directory of fixtures; `path(name)` and `read(name)` address files in it. */
export interface FixtureDir {
  dir: string;
  path(name: string): string;
  read(name: string): Uint8Array;
  /** `qemu-img create -q -f <format> [-o <options>] <name> <size>`. */
  qemuCreate(name: string, format: string, size: string, options?: string, extra?: string[]): void;
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
  return {
    dir,
    path,
    read: (name) => new Uint8Array(readFileSync(path(name))),
    qemuCreate(name, format, size, options, extra = []) {
      run(QEMU_IMG, ['create', '-q', '-f', format, ...(options ? ['-o', options] : []), ...extra, name, size]);
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
