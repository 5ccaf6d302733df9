import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * The module-boundary rules (the equivalent of @nx/enforce-module-boundaries with depConstraints),
 * keyed by the `type:*` tag in each project's package.json `nx.tags`.
 */
export const ALLOWED_DEPENDENCIES: Record<string, string[]> = {
  'type:domain': ['type:domain'],
  'type:proto': [],
  'type:platform': ['type:platform', 'type:proto', 'type:domain'],
  'type:testing': ['type:testing', 'type:platform', 'type:proto', 'type:domain'],
  'type:app': ['type:platform', 'type:proto', 'type:domain'],
  'type:e2e': ['type:testing', 'type:platform', 'type:proto', 'type:domain'],
};

/**
 * The scope rule (Nx's enforce-module-boundaries with one depConstraint per `scope:*` tag): a
 * project may import only projects that carry one of its own scope tags, or `scope:shared`. A
 * project carries several scope tags when it really belongs to several domains: the compute agent
 * hosts Nova's compute and Neutron's L2 dataplane (scope:compute, scope:network); a front such as
 * the CLI or the OpenStack API carries its own scope plus the scopes of the domain libraries it
 * reads (the CLI: scope:cli, scope:compute). The entries below override that default for a tag:
 * `scope:shared` code depends on nothing scoped.
 * Scopes in use: shared (platform libraries, proto, errors, clock, testing, the client library),
 * compute (scheduler, hypervisor, migration, consolidation, the compute domain library, controller,
 * agent), network, volume, image, identity, and one per front (cli, openstack-api, e2e).
 */
export const SCOPE_OVERRIDES: Record<string, string[]> = {
  'scope:shared': ['scope:shared'],
};

/** The scopes a project with `tags` may import (see {@link SCOPE_OVERRIDES}). */
export function allowedScopes(tags: string[]): Set<string> {
  const out = new Set<string>();
  for (const t of tags.filter((x) => x.startsWith('scope:'))) for (const a of SCOPE_OVERRIDES[t] ?? [t, 'scope:shared']) out.add(a);
  return out;
}

/** Modules a pure domain library may never import (I/O, transports, generated code). */
export const DOMAIN_FORBIDDEN_MODULES = [
  'fs', 'net', 'http', 'https', 'http2', 'dgram', 'dns', 'tls', 'child_process', 'worker_threads', 'cluster', 'readline',
  'ioredis', 'nats', '@grpc/grpc-js', 'prom-client', 'pino', 'testcontainers', '@minicloud/proto', 'jose',
];

export interface Project {
  name: string;
  dir: string;
  tags: string[];
}

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const IMPORT_RE = /(?:import\s[^'"]*?from\s*|import\s*\(\s*|require\s*\(\s*|export\s[^'"]*?from\s*|import\s+)['"]([^'"]+)['"]/g;

/** Every workspace project (apps/*, libs/*, libs/*\/*) with its package.json tags. */
export function listProjects(root: string): Project[] {
  const dirs: string[] = [];
  for (const top of ['apps', 'libs']) {
    const base = path.join(root, top);
    if (!fs.existsSync(base)) continue;
    for (const d of fs.readdirSync(base)) {
      const p = path.join(base, d);
      if (fs.existsSync(path.join(p, 'package.json'))) dirs.push(p);
      else if (fs.statSync(p).isDirectory())
        for (const d2 of fs.readdirSync(p)) if (fs.existsSync(path.join(p, d2, 'package.json'))) dirs.push(path.join(p, d2));
    }
  }
  return dirs.map((dir) => {
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    return { name: pkg.name, dir, tags: pkg.nx?.tags ?? [] };
  });
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'gen' || e.name === 'dist') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function moduleName(spec: string): string {
  const s = spec.replace(/^node:/, '');
  if (s.startsWith('@')) return s.split('/').slice(0, 2).join('/');
  return s.split('/')[0];
}

/** `@minicloud/x/testing/y` -> `testing/y`; '' for the package's main entry. */
function subpathOf(spec: string): string {
  return spec.split('/').slice(spec.startsWith('@') ? 2 : 1).join('/');
}

/**
 * Checks every project's TypeScript files against the rules: every project has exactly one
 * `type:*` tag and at least one `scope:*` tag; imports of other projects follow
 * {@link ALLOWED_DEPENDENCIES} (type) and {@link allowedScopes} (scope); domain libraries import no
 * I/O module and do not read the wall clock or Math.random outside tests; production code never
 * imports @minicloud/testing nor a project's `testing` entry (`@minicloud/x/testing...`), which test
 * files (`*.spec.ts`, `testing/`, `bench/`) may import from a project of any type; and no file under
 * apps/, libs/ or tools/ is part of an import cycle ({@link findImportCycles}).
 */
export function checkBoundaries(root: string): Violation[] {
  const projects = listProjects(root);
  const byName = new Map(projects.map((p) => [p.name, p]));
  const violations: Violation[] = [];
  for (const project of projects) {
    const type = project.tags.find((t) => t.startsWith('type:'));
    if (!type || !ALLOWED_DEPENDENCIES[type]) {
      violations.push({ file: path.join(project.dir, 'package.json'), line: 1, message: `${project.name} has no known type:* tag` });
      continue;
    }
    if (!project.tags.some((t) => t.startsWith('scope:'))) {
      violations.push({ file: path.join(project.dir, 'package.json'), line: 1, message: `${project.name} has no scope:* tag` });
    }
    const scopes = allowedScopes(project.tags);
    for (const file of walk(project.dir)) {
      const isTest = /\.spec\.ts$/.test(file) || /(^|[\\/])(testing|bench)[\\/]/.test(path.relative(project.dir, file));
      const lines = fs.readFileSync(file, 'utf8').split('\n');
      lines.forEach((text, i) => {
        const where = { file: path.relative(root, file), line: i + 1 };
        for (const m of text.matchAll(IMPORT_RE)) {
          const spec = m[1];
          if (spec.startsWith('.')) continue;
          const mod = moduleName(spec);
          const target = byName.get(mod);
          if (target && target.name !== project.name) {
            const targetType = target.tags.find((t) => t.startsWith('type:')) ?? '';
            // A package's `testing` entry (its test doubles) is for other projects' test code only.
            const testingEntry = /^testing(\/|$)/.test(subpathOf(spec));
            const ok = testingEntry ? isTest : ALLOWED_DEPENDENCIES[type].includes(targetType) || (isTest && targetType === 'type:testing');
            if (!ok && testingEntry) violations.push({ ...where, message: `production code of ${project.name} may not import ${spec} (test doubles)` });
            else if (!ok) violations.push({ ...where, message: `${project.name} (${type}) may not import ${mod} (${targetType})` });
            const targetScopes = target.tags.filter((t) => t.startsWith('scope:'));
            if (scopes.size > 0 && targetScopes.length > 0 && !targetScopes.some((t) => scopes.has(t))) {
              violations.push({ ...where, message: `${project.name} (${project.tags.filter((t) => t.startsWith('scope:')).join(', ')}) may not import ${mod} (${targetScopes.join(', ')})` });
            }
          }
          if (type === 'type:domain' && !isTest && DOMAIN_FORBIDDEN_MODULES.includes(mod)) {
            violations.push({ ...where, message: `domain library ${project.name} imports I/O module ${mod}` });
          }
        }
        if (type === 'type:domain' && !isTest && /\b(Date\.now|Math\.random)\s*\(|new Date\(\s*\)/.test(text) && !/^\s*(\*|\/\/)/.test(text)) {
          violations.push({ ...where, message: `domain library ${project.name} reads the wall clock or Math.random (inject a Clock/Rng)` });
        }
      });
    }
  }
  return [...violations, ...findImportCycles(root, projects)];
}

/** One edge of the import graph: the importing file imports `to` at `line`; `typeOnly` when erased at compile time. */
interface Edge {
  to: string;
  line: number;
  typeOnly: boolean;
}

/**
 * The static imports of a TypeScript file, as written: `import ... from`, `export ... from`,
 * `import x = require(...)`. `typeOnly` marks the ones TypeScript and swc erase (isolatedModules):
 * `import type`, `export type`, or every named binding marked `type`. Dynamic `import()` is lazy
 * (it cannot run during the importer's own load) and is left out.
 */
export function moduleImports(file: string, text: string): { spec: string; line: number; typeOnly: boolean }[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const out: { spec: string; line: number; typeOnly: boolean }[] = [];
  const add = (lit: ts.Expression | undefined, node: ts.Node, typeOnly: boolean) => {
    if (lit && ts.isStringLiteral(lit)) out.push({ spec: lit.text, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, typeOnly });
  };
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      const b = c?.namedBindings;
      const namedTypes = !!c && !c.name && !!b && ts.isNamedImports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
      add(st.moduleSpecifier, st, !!c?.isTypeOnly || namedTypes);
    } else if (ts.isExportDeclaration(st)) {
      const b = st.exportClause;
      const namedTypes = !!b && ts.isNamedExports(b) && b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
      add(st.moduleSpecifier, st, st.isTypeOnly || namedTypes);
    } else if (ts.isImportEqualsDeclaration(st) && ts.isExternalModuleReference(st.moduleReference)) {
      add(st.moduleReference.expression, st, st.isTypeOnly);
    }
  }
  return out;
}

function resolveFile(base: string): string | undefined {
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return undefined;
}

/** The file `spec` (relative, or a workspace package and subpath) names from `fromFile`; undefined for external modules. */
function resolveImport(spec: string, fromFile: string, byName: Map<string, Project>): string | undefined {
  if (spec.startsWith('.')) return resolveFile(path.resolve(path.dirname(fromFile), spec));
  const p = byName.get(moduleName(spec));
  if (!p) return undefined;
  const sub = subpathOf(spec);
  if (sub) return resolveFile(path.join(p.dir, sub));
  const pkg = JSON.parse(fs.readFileSync(path.join(p.dir, 'package.json'), 'utf8'));
  return resolveFile(path.join(p.dir, pkg.main ?? pkg.types ?? 'src/index.ts'));
}

/**
 * Finds import cycles between files under apps/, libs/ and tools/, across packages too (a workspace
 * import resolves to the package's main entry or its subpath).
 *
 * Type-only imports count. A runtime cycle is the worse one (a module runs before its dependency
 * has finished loading: a binding read as undefined, a load order that depends on the entry point)
 * and is reported as `runtime import cycle`. But a cycle through `import type` still ties the files
 * into one unit that cannot be read, tested or moved apart: the usual case is a handler importing
 * the deps type of the service that imports the handler, where the handler should declare the
 * narrow deps it uses. Those are reported as `import cycle (through type-only imports)`.
 *
 * One violation per strongly connected set of files (Tarjan), placed at the import that closes the
 * reported cycle and naming a shortest cycle through the set's first file, in import order:
 * `a.ts -> b.ts -> a.ts`, followed by every file of the set when it is larger than that cycle.
 */
export function findImportCycles(root: string, projects: Project[] = listProjects(root)): Violation[] {
  const byName = new Map(projects.map((p) => [p.name, p]));
  const files = ['apps', 'libs', 'tools'].flatMap((top) => (fs.existsSync(path.join(root, top)) ? walk(path.join(root, top)) : []));
  const graph = new Map<string, Edge[]>();
  for (const f of files) {
    const edges: Edge[] = [];
    for (const imp of moduleImports(f, fs.readFileSync(f, 'utf8'))) {
      const to = resolveImport(imp.spec, f, byName);
      if (to) edges.push({ to, line: imp.line, typeOnly: imp.typeOnly });
    }
    graph.set(f, edges);
  }
  const runtime = new Map([...graph].map(([f, edges]) => [f, edges.filter((e) => !e.typeOnly)]));
  const rel = (f: string) => path.relative(root, f);
  const violations: Violation[] = [];
  const reported = new Set<string>();
  const report = (g: Map<string, Edge[]>, label: string) => {
    for (const scc of stronglyConnected(g)) {
      const selfLoop = scc.length === 1 && (g.get(scc[0]!) ?? []).some((e) => e.to === scc[0]);
      if ((scc.length < 2 && !selfLoop) || scc.some((f) => reported.has(f))) continue;
      for (const f of scc) reported.add(f);
      const start = [...scc].sort()[0]!;
      const cycle = shortestCycle(g, start, new Set(scc));
      const last = cycle[cycle.length - 2]!;
      const closing = (g.get(last) ?? []).find((e) => e.to === start);
      const all = scc.length > cycle.length - 1 ? ` (${scc.length} files in the loop: ${scc.map(rel).sort().join(', ')})` : '';
      violations.push({ file: rel(last), line: closing?.line ?? 1, message: `${label}: ${cycle.map(rel).join(' -> ')}${all}` });
    }
  };
  report(runtime, 'runtime import cycle');
  report(graph, 'import cycle (through type-only imports)');
  return violations;
}

/** Tarjan's strongly connected components (iterative: long import chains do not overflow the stack). */
function stronglyConnected(graph: Map<string, Edge[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let next = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { node: string; i: number }[] = [{ node: root, i: 0 }];
    index.set(root, next);
    low.set(root, next++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const edges = graph.get(top.node) ?? [];
      if (top.i < edges.length) {
        const to = edges[top.i++]!.to;
        if (!graph.has(to)) continue;
        if (!index.has(to)) {
          index.set(to, next);
          low.set(to, next++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, i: 0 });
        } else if (onStack.has(to)) low.set(top.node, Math.min(low.get(top.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        const scc: string[] = [];
        let n: string;
        do {
          n = stack.pop()!;
          onStack.delete(n);
          scc.push(n);
        } while (n !== top.node);
        out.push(scc);
      }
    }
  }
  return out;
}

/** A shortest path start -> ... -> start inside `members` (breadth first), as the list of files, start repeated at the end. */
function shortestCycle(graph: Map<string, Edge[]>, start: string, members: Set<string>): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const n = queue[q]!;
    for (const e of graph.get(n) ?? []) {
      if (!members.has(e.to)) continue;
      if (e.to === start) {
        const pathBack = [n];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0]!)!);
        return [...pathBack, start];
      }
      if (!prev.has(e.to)) {
        prev.set(e.to, n);
        queue.push(e.to);
      }
    }
  }
  return [start, start];
}

if (require.main === module) {
  const v = checkBoundaries(path.resolve(__dirname, '../..'));
  for (const x of v) console.error(`${x.file}:${x.line}: ${x.message}`);
  console.log(v.length ? `module boundaries: ${v.length} violation(s)` : 'module boundaries: ok');
  process.exit(v.length ? 1 : 0);
}
