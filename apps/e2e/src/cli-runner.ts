/**
 * A long-lived runner of the `minicloud` CLI for the e2e suites (started by {@link RunnerPool} with
 * `node --require tsx/cjs cli-runner.ts <entry>`, where `<entry>` is the CLI's entry module,
 * apps/cli/src/main.ts, the file the `minicloud` executable runs). Each request runs the entry's
 * `main(argv, io)`, the function the executable calls, so a suite pays Node's start-up and the
 * loading of the CLI's modules (about 1 s of CPU per call) once. Every call still opens its own
 * session (token from MINICLOUD_CONFIG_DIR or a new login) and closes it, as a separate process would.
 *
 * Protocol: one JSON object per line on stdin, {"args": [...], "env": {...}} (the whole environment
 * of the call); one JSON object per line on stdout, {"code", "stdout", "stderr"}. One call at a time.
 */
import readline from 'node:readline';

interface CliEntry {
  main(argv: readonly string[], io: { stdout: { write(s: string): unknown }; stderr: { write(s: string): unknown }; env: Record<string, string | undefined> }): Promise<number>;
}

const entry = process.argv[2];
if (!entry) throw new Error('usage: cli-runner.ts <path of the CLI entry module>');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const cli = require(entry) as CliEntry;
const protocol = process.stdout.write.bind(process.stdout);

async function runOne(line: string): Promise<void> {
  const req = JSON.parse(line) as { args: string[]; env: Record<string, string> };
  let stdout = '';
  let stderr = '';
  for (const k of Object.keys(process.env)) delete process.env[k];
  Object.assign(process.env, req.env);
  let code: number;
  try {
    code = await cli.main(req.args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env: { ...req.env } });
  } catch (e) {
    stderr += `${e instanceof Error ? e.message : String(e)}\n`;
    code = 1;
  }
  protocol(`${JSON.stringify({ code, stdout, stderr })}\n`);
}

let chain = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim()) chain = chain.then(() => runOne(line));
});
