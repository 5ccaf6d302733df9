import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { parsePlanetLabTrace, type WorkloadSpec } from '@minicloud/domain-hypervisor';

/** Key of the flavor extra spec / instance metadata that picks a workload model. */
export const WORKLOAD_KEY = 'minicloud:workload';
const RANDOM_WALK_STEP_MS = 60_000;

/** ../shared/data/planetlab beside the repo checkout (apps/compute-agent/src -> repo root -> ..). */
export const DEFAULT_TRACE_DIR = resolve(__dirname, '../../../../shared/data/planetlab');

/**
 * Parses a workload string: `idle` | `constant:<ratio>` | `random_walk:<initial_ratio>[:<max_step_ratio>]`
 * | `trace:<planetlab file path>` | `planetlab:<day>/<file>` (resolved in `traceDir`, e.g.
 * `planetlab:20110303/146-179_surfsnel_dsl_internl_net_colostate_557`). `seed` feeds random_walk (e.g.
 * from the instance id). Trace files are read once per path and cached.
 * @throws InvalidArgumentError naming `field` for an unknown model, a bad number, a planetlab name that
 *   is not `<day>/<file>`, or a trace file that cannot be read or parsed.
 */
export function parseWorkload(text: string, seed: number, field = WORKLOAD_KEY, traceDir = DEFAULT_TRACE_DIR): WorkloadSpec {
  const [model, a, b] = text.trim().split(':');
  const num = (v: string | undefined, dflt: number) => {
    const n = v === undefined || v === '' ? dflt : Number(v);
    if (!Number.isFinite(n)) throw new InvalidArgumentError(field, `bad number "${v}" in "${text}"`);
    return n;
  };
  switch (model) {
    case '':
    case 'idle':
      return { kind: 'idle' };
    case 'constant':
      return { kind: 'constant', utilizationRatio: num(a, 0) };
    case 'random_walk':
      return { kind: 'random_walk', seed, initialRatio: num(a, 0.2), maxStepRatio: num(b, 0.05), stepMs: RANDOM_WALK_STEP_MS };
    case 'trace':
      return { kind: 'planetlab', samplesPercent: readTrace(text.trim().slice(model.length + 1), field) };
    case 'planetlab': {
      const name = text.trim().slice(model.length + 1);
      if (!/^[\w.-]+\/[^/\\]+$/.test(name) || name.split('/').some((p) => p === '..' || p === '.')) {
        throw new InvalidArgumentError(field, `planetlab workload must be planetlab:<day>/<file>, got "${text}"`);
      }
      return { kind: 'planetlab', samplesPercent: readTrace(join(traceDir, name), field) };
    }
    default:
      throw new InvalidArgumentError(field, `unknown workload model "${model}" (idle, constant, random_walk, trace, planetlab)`);
  }
}

const traceCache = new Map<string, number[]>();

function readTrace(path: string, field: string): number[] {
  const hit = traceCache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InvalidArgumentError(field, `cannot read trace "${path}": ${(e as Error).message}`);
  }
  const samples = parsePlanetLabTrace(text);
  if (traceCache.size > 10_000) traceCache.clear();
  traceCache.set(path, samples);
  return samples;
}

/** A 31-bit seed from a string (FNV-1a), so an instance's random walk is reproducible. */
export function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0x7fffffff;
}
