import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const GEN = 'libs/proto/src/gen';

function listFiles(dir: string, base = dir): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [path.relative(base, p)];
  });
}

/**
 * Regenerates the TypeScript from proto/ into a temp dir with the repo's buf.gen.yaml and lists the
 * files that differ from the committed libs/proto/src/gen (missing, extra or changed). Also runs
 * `buf lint`. Throws when buf fails.
 * @returns the stale file paths (empty when fresh) and lint output
 */
export function checkGeneratedProto(): { stale: string[]; lint: string } {
  const buf = path.join(ROOT, 'node_modules/.bin/buf');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-proto-'));
  try {
    execFileSync(buf, ['generate', '-o', out], { cwd: ROOT, stdio: 'pipe' });
    let lint = '';
    try {
      execFileSync(buf, ['lint'], { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      lint = String((e as { stdout?: Buffer }).stdout ?? e);
    }
    const fresh = path.join(out, GEN);
    const committed = path.join(ROOT, GEN);
    const names = new Set([...listFiles(fresh), ...listFiles(committed)]);
    const stale = [...names].filter((n) => {
      const a = path.join(fresh, n);
      const b = path.join(committed, n);
      return !fs.existsSync(a) || !fs.existsSync(b) || !fs.readFileSync(a).equals(fs.readFileSync(b));
    });
    return { stale: stale.sort(), lint };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const { stale, lint } = checkGeneratedProto();
  if (lint) console.error(lint);
  if (stale.length) console.error(`generated code is stale (run \`npm run proto\`):\n  ${stale.join('\n  ')}`);
  console.log(stale.length || lint ? 'proto: stale or lint errors' : 'proto: fresh and lint-clean');
  process.exit(stale.length || lint ? 1 : 0);
}
