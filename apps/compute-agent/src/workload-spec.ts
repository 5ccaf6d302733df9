import { closeSync, constants, fstatSync, openSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import { parsePlanetLabTrace, type WorkloadSpec } from '@minicloud/domain-hypervisor';

/** Key of the flavor extra spec / instance metadata that picks a workload model. */
export const WORKLOAD_KEY = 'minicloud:workload';
const RANDOM_WALK_STEP_MS = 60_000;

/** ../shared/data/planetlab beside the repo checkout (apps/compute-agent/src -> repo root -> ..). */
export const DEFAULT_TRACE_DIR = resolve(__dirname, '../../../../shared/data/planetlab');

/**
 * Largest trace file the agent reads, in bytes. A PlanetLab trace is 288 lines of 0..100 (at most 4
 * bytes each, about 1 KiB; the largest in the data set is 864 bytes): 16 KiB leaves room for CRLF
 * and padding while keeping a hostile file from costing the agent memory or time.
 */
export const MAX_TRACE_BYTES = 16 * 1024;

/**
 * A trace name: `<day>/<file>`, the day letters, digits, `_`, `-` and `.`, the file the same plus
 * spaces (some PlanetLab file names have one), neither part `.` nor `..`.
 */
const TRACE_NAME = /^[\w.-]+\/[\w. -]+$/;

/**
 * Parses a workload string: `idle` | `constant:<ratio>` | `random_walk:<initial_ratio>[:<max_step_ratio>]`
 * | `trace:<day>/<file>` (`planetlab:<day>/<file>` is the same), a trace NAME resolved in `traceDir`
 * (the operator's TRACE_DIR), e.g. `trace:20110303/146-179_surfsnel_dsl_internl_net_colostate_557`.
 * A trace is never a path: instance metadata reaches the agent from API callers, and a path would let
 * them probe or read (or, with a device, hang on) any file of the hypervisor. `seed` feeds random_walk
 * (e.g. from the instance id). Trace files are read once per name and cached.
 * @throws InvalidArgumentError naming `field` for an unknown model, a bad number, a trace that is not a
 *   `<day>/<file>` name, resolves outside `traceDir` (symlink), is not a regular file, is larger than
 *   MAX_TRACE_BYTES, cannot be read, or is not a PlanetLab trace.
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
    case 'planetlab':
      return { kind: 'planetlab', samplesPercent: readTrace(traceDir, text.trim().slice(model.length + 1), field) };
    default:
      throw new InvalidArgumentError(field, `unknown workload model "${model}" (idle, constant, random_walk, trace, planetlab)`);
  }
}

const traceCache = new Map<string, number[]>();

/**
 * Samples of trace `name` (`<day>/<file>`) in `traceDir`, checked as parseWorkload documents. The
 * file is stat'ed before it is opened (a FIFO or device is refused without blocking) and opened with
 * O_NOFOLLOW | O_NONBLOCK, then fstat'ed again so a file swapped in between is caught.
 */
function readTrace(traceDir: string, name: string, field: string): number[] {
  if (!TRACE_NAME.test(name) || name.split('/').some((p) => p === '..' || p === '.')) {
    throw new InvalidArgumentError(field, `a trace is a name <day>/<file> in the operator's trace directory (e.g. 20110303/<file>), not a path; got "${name}"`);
  }
  const hit = traceCache.get(name);
  if (hit) return hit;
  let path: string;
  let root: string;
  try {
    root = realpathSync(traceDir);
    path = realpathSync(join(root, name));
  } catch {
    throw new InvalidArgumentError(field, `no trace "${name}" in the trace directory`);
  }
  if (!path.startsWith(root + sep)) throw new InvalidArgumentError(field, `trace "${name}" leaves the trace directory`);
  const checkFile = (st: { isFile(): boolean; size: number }) => {
    if (!st.isFile()) throw new InvalidArgumentError(field, `trace "${name}" is not a regular file`);
    if (st.size > MAX_TRACE_BYTES) throw new InvalidArgumentError(field, `trace "${name}" is ${st.size} bytes, more than ${MAX_TRACE_BYTES}`);
  };
  checkFile(statSync(path));
  let text: string;
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    checkFile(fstatSync(fd));
    text = readFileSync(fd, 'utf8');
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    throw new InvalidArgumentError(field, `cannot read trace "${name}": ${(e as Error).message}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  let samples: number[];
  try {
    samples = parsePlanetLabTrace(text);
  } catch (e) {
    throw new InvalidArgumentError(field, `trace "${name}" is not a PlanetLab trace: ${(e as Error).message}`);
  }
  if (traceCache.size > 10_000) traceCache.clear();
  traceCache.set(name, samples);
  return samples;
}

/** A 31-bit seed from a string (FNV-1a), so an instance's random walk is reproducible. */
export function seedOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0x7fffffff;
}
