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
    project(root, 'apps/c', '@minicloud/c', ['type:app', 'scope:b'], {
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

  it('enforce the scope tags: own scopes and scope:shared only, a project may carry several', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-scopes-'));
    project(root, 'libs/domain/shared', '@minicloud/domain-shared', ['type:domain', 'scope:shared'], { 'index.ts': "import { v } from '@minicloud/domain-vol';\nexport const s = v;" });
    project(root, 'libs/domain/vol', '@minicloud/domain-vol', ['type:domain', 'scope:volume'], { 'index.ts': 'export const v = 1;' });
    project(root, 'libs/domain/net', '@minicloud/domain-net', ['type:domain', 'scope:network'], { 'index.ts': 'export const n = 1;' });
    project(root, 'libs/domain/cmp', '@minicloud/domain-cmp', ['type:domain', 'scope:compute'], { 'index.ts': "import { s } from '@minicloud/domain-shared';\nexport const c = s;" });
    project(root, 'apps/agent', '@minicloud/agent', ['type:app', 'scope:compute', 'scope:network'], {
      'main.ts': ["import { c } from '@minicloud/domain-cmp';", "import { n } from '@minicloud/domain-net';", "import { v } from '@minicloud/domain-vol';"].join('\n'),
    });
    expect(checkBoundaries(root).map((v) => `${v.file}:${v.line}: ${v.message}`).sort()).toEqual([
      'apps/agent/src/main.ts:3: @minicloud/agent (scope:compute, scope:network) may not import @minicloud/domain-vol (scope:volume)',
      'libs/domain/shared/src/index.ts:1: @minicloud/domain-shared (scope:shared) may not import @minicloud/domain-vol (scope:volume)',
    ]);
  });

  it("let tests, and only tests, import another project's testing entry", () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-testing-entry-'));
    project(root, 'apps/agent', '@minicloud/agent', ['type:app', 'scope:compute'], {});
    fs.mkdirSync(path.join(root, 'apps/agent/testing'));
    fs.writeFileSync(path.join(root, 'apps/agent/testing/index.ts'), 'export const fake = 1;');
    project(root, 'apps/ctl', '@minicloud/ctl', ['type:app', 'scope:compute'], {
      'a.spec.ts': "import { fake } from '@minicloud/agent/testing';",
      'main.ts': "import { fake } from '@minicloud/agent/testing';",
    });
    expect(checkBoundaries(root).map((v) => `${v.file}:${v.line}: ${v.message}`)).toEqual([
      'apps/ctl/src/main.ts:1: production code of @minicloud/ctl may not import @minicloud/agent/testing (test doubles)',
    ]);
  });

  it('fail on a runtime import cycle, naming the files in import order at the import that closes it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cycle-'));
    project(root, 'libs/domain/m', '@minicloud/domain-m', ['type:domain', 'scope:compute'], {
      'index.ts': "export * from './a';",
      'a.ts': "import { b } from './b';\nexport const a = () => b;",
      'b.ts': "// b needs c\nimport { c } from './c';\nexport const b = () => c;",
      'c.ts': "import type { X } from './x';\nimport { a } from './a';\nexport const c = () => a;",
      'x.ts': 'export type X = number;',
      'lazy.ts': "export const l = () => import('./index');",
    });
    expect(checkBoundaries(root)).toEqual([
      {
        file: 'libs/domain/m/src/c.ts',
        line: 2,
        message: 'runtime import cycle: libs/domain/m/src/a.ts -> libs/domain/m/src/b.ts -> libs/domain/m/src/c.ts -> libs/domain/m/src/a.ts',
      },
    ]);
  });

  it('fail on a cycle through type-only imports and on one between packages, tools/ included', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mc-cycle-types-'));
    project(root, 'apps/svc', '@minicloud/svc', ['type:app', 'scope:compute'], {
      'service.ts': "import { handle } from './handler';\nexport interface Deps { n: number }\nexport const run = (d: Deps) => handle(d);",
      'handler.ts': "import type { Deps } from './service';\nexport const handle = (d: Deps) => d.n;",
    });
    project(root, 'libs/domain/p', '@minicloud/domain-p', ['type:domain', 'scope:shared'], { 'index.ts': "import { q } from '@minicloud/domain-q';\nexport const p = q;" });
    project(root, 'libs/domain/q', '@minicloud/domain-q', ['type:domain', 'scope:shared'], { 'index.ts': "import { p } from '@minicloud/domain-p';\nexport const q = () => p;" });
    fs.mkdirSync(path.join(root, 'tools/t'), { recursive: true });
    fs.writeFileSync(path.join(root, 'tools/t/one.ts'), "import { two } from './two';\nexport const one = two;");
    fs.writeFileSync(path.join(root, 'tools/t/two.ts'), "export { one as two } from './one';");
    expect(checkBoundaries(root).map((v) => `${v.file}:${v.line}: ${v.message}`).sort()).toEqual([
      'apps/svc/src/service.ts:1: import cycle (through type-only imports): apps/svc/src/handler.ts -> apps/svc/src/service.ts -> apps/svc/src/handler.ts',
      'libs/domain/q/src/index.ts:1: runtime import cycle: libs/domain/p/src/index.ts -> libs/domain/q/src/index.ts -> libs/domain/p/src/index.ts',
      'tools/t/two.ts:1: runtime import cycle: tools/t/one.ts -> tools/t/two.ts -> tools/t/one.ts',
    ]);
  });
});
