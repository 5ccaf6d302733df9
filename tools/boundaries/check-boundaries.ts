import fs from 'node:fs';
import path from 'node:path';

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

/**
 * Checks every project's TypeScript files against the rules: every project has exactly one
 * `type:*` tag and a `scope:*` tag; imports of other projects follow {@link ALLOWED_DEPENDENCIES};
 * domain libraries import no I/O module and do not read the wall clock or Math.random outside tests;
 * production code never imports @minicloud/testing nor another package's `testing` entry, which
 * test code may import from any project.
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
            const testingEntry = spec === `${mod}/testing`;
            const ok = testingEntry ? isTest : ALLOWED_DEPENDENCIES[type].includes(targetType) || (isTest && targetType === 'type:testing');
            if (!ok && testingEntry) violations.push({ ...where, message: `production code of ${project.name} may not import ${spec} (test doubles)` });
            else if (!ok) violations.push({ ...where, message: `${project.name} (${type}) may not import ${mod} (${targetType})` });
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
  return violations;
}

if (require.main === module) {
  const v = checkBoundaries(path.resolve(__dirname, '../..'));
  for (const x of v) console.error(`${x.file}:${x.line}: ${x.message}`);
  console.log(v.length ? `module boundaries: ${v.length} violation(s)` : 'module boundaries: ok');
  process.exit(v.length ? 1 : 0);
}
