import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkBoundaries } from './check-boundaries';

function project(root: string, dir: string, name: string, tags: string[], files: Record<string, string>) {
  const d = path.join(root, dir);
  fs.mkdirSync(path.join(d, 'src'), { recursive: true });
  fs.writeFileSync(path.join(d, 'package.json'), JSON.stringify({ name, nx: { tags } }));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(d, 'src', f), text);
}

describe('module boundaries', () => {
  it('the repository respects them', () => {
    expect(checkBoundaries(path.resolve(__dirname, '../..'))).toEqual([]);
  });

  it('catch I/O, clock and forbidden project imports in a domain lib', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-boundaries-'));
    project(root, 'libs/platform/x', '@minicloud/platform-x', ['type:platform', 'scope:shared'], { 'index.ts': 'export const x = 1;' });
    project(root, 'libs/domain/bad', '@minicloud/domain-bad', ['type:domain', 'scope:x'], {
      'index.ts': [
        "import fs from 'node:fs';",
        "import { x } from '@minicloud/platform-x';",
        "import { status } from '@grpc/grpc-js';",
        'export const t = Date.now();',
      ].join('\n'),
      'ok.spec.ts': "import fs from 'fs'; export const t = Date.now();",
    });
    project(root, 'apps/a', '@minicloud/a', ['type:app'], { 'main.ts': "import '@minicloud/b';" });
    project(root, 'apps/b', '@minicloud/b', ['type:app', 'scope:b'], {});
    project(root, 'apps/c', '@minicloud/c', ['type:app', 'scope:c'], {
      'main.ts': "import { FakeB } from '@minicloud/b/testing';",
      'main.spec.ts': "import { FakeB } from '@minicloud/b/testing';",
    });
    const messages = checkBoundaries(root).map((v) => v.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        'domain library @minicloud/domain-bad imports I/O module fs',
        '@minicloud/domain-bad (type:domain) may not import @minicloud/platform-x (type:platform)',
        'domain library @minicloud/domain-bad imports I/O module @grpc/grpc-js',
        'domain library @minicloud/domain-bad reads the wall clock or Math.random (inject a Clock/Rng)',
        '@minicloud/a has no scope:* tag',
        '@minicloud/a (type:app) may not import @minicloud/b (type:app)',
        'production code of @minicloud/c may not import @minicloud/b/testing (test doubles)',
      ]),
    );
    expect(messages).toHaveLength(7);
  });
});
