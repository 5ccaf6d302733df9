/** Tempest results: which tests of a list passed, were skipped or failed, per OpenStack API. */

export type TestOutcome = 'passed' | 'skipped' | 'failed';

/** One row of the table `npm run test:interop` prints. */
export interface ApiTally {
  api: string;
  listed: number;
  passed: number;
  skipped: number;
  failed: number;
}

/** A test id without tempest's attribute suffix: `a.b.C.test_x[id-…,smoke]` -> `a.b.C.test_x`. */
export function bareTestId(id: string): string {
  const i = id.indexOf('[');
  return (i < 0 ? id : id.slice(0, i)).trim();
}

/** `tempest.api.<api>.…` -> `<api>` (compute, identity, image, network, volume, …). */
export function apiOf(testId: string): string {
  const parts = testId.split('.');
  return parts[0] === 'tempest' && parts[1] === 'api' && parts[2] ? parts[2] : 'other';
}

/**
 * Parses `subunit2csv` output (header `test,status,start_time,stop_time`; status success, fail,
 * skip, xfail, uxsuccess) into the outcome of each bare test id. A test that ran more than once
 * keeps its worst outcome. A `setUpClass (<class>)` row stands for every test of that class that has
 * no row of its own (tempest skips or fails a whole class at set-up): it is kept under the class id,
 * which {@link tally} reads for such tests.
 */
export function parseSubunitCsv(csv: string): Map<string, TestOutcome> {
  const out = new Map<string, TestOutcome>();
  const rank: Record<TestOutcome, number> = { passed: 0, skipped: 1, failed: 2 };
  for (const line of csv.split('\n').slice(1)) {
    if (!line.trim()) continue;
    const [rawId, status] = splitCsvRow(line);
    if (!rawId || !status) continue;
    const classRow = /^setUpClass \((.+)\)$/.exec(rawId.trim());
    const id = classRow ? classRow[1] : bareTestId(rawId);
    const outcome: TestOutcome = status === 'success' || status === 'xfail' ? 'passed' : status === 'skip' ? 'skipped' : 'failed';
    const prev = out.get(id);
    if (!prev || rank[outcome] > rank[prev]) out.set(id, outcome);
  }
  return out;
}

/** Splits one CSV row into fields (RFC 4180 quoting: test ids with commas in their attributes are quoted). */
function splitCsvRow(line: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(cur);
      cur = '';
    } else cur += c;
  }
  fields.push(cur);
  return fields;
}

/**
 * Per-API counts of the `listed` tests: passed and skipped as reported (a test without a row of its
 * own takes its class's set-up outcome), failed for everything else (a failure, or no result at all).
 * Rows are sorted by API name, with a `total` row last.
 */
export function tally(listed: string[], outcomes: Map<string, TestOutcome>): { rows: ApiTally[]; failedTests: string[]; skippedTests: string[] } {
  const byApi = new Map<string, ApiTally>();
  const failedTests: string[] = [];
  const skippedTests: string[] = [];
  for (const id of listed) {
    const api = apiOf(id);
    const row = byApi.get(api) ?? { api, listed: 0, passed: 0, skipped: 0, failed: 0 };
    row.listed++;
    const o = outcomes.get(id) ?? outcomes.get(id.slice(0, id.lastIndexOf('.'))) ?? 'failed';
    row[o]++;
    if (o === 'failed') failedTests.push(id);
    if (o === 'skipped') skippedTests.push(id);
    byApi.set(api, row);
  }
  const rows = [...byApi.values()].sort((a, b) => a.api.localeCompare(b.api));
  const total = rows.reduce((t, r) => ({ api: 'total', listed: t.listed + r.listed, passed: t.passed + r.passed, skipped: t.skipped + r.skipped, failed: t.failed + r.failed }), { api: 'total', listed: 0, passed: 0, skipped: 0, failed: 0 });
  return { rows: [...rows, total], failedTests, skippedTests };
}

/** Anchored include-list lines for `tempest run --include-list`: each test exactly, with or without its attributes. */
export function includeListFor(testIds: string[]): string {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return testIds.map((id) => `^${esc(id)}(\\[.*\\])?$`).join('\n') + '\n';
}
