/** One command of a simulated shell script: what it prints, and whether the simulation executed it. */
export interface SimulatedCommand {
  readonly command: string;
  /** true for what the simulation runs (echo, true, :); false: recorded as run but not executed. */
  readonly executed: boolean;
  readonly output: readonly string[];
}

/** Splits a shell word list as POSIX sh would for simple quoting (single, double quotes, backslash), without expansion. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let any = false;
  let q: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (q) {
      if (c === q) q = undefined;
      else if (c === '\\' && q === '"' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      q = c;
      any = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      any = true;
    } else if (c === ' ' || c === '\t') {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

/**
 * Runs a shell script in the simulation: `echo` (with -n/-e/-E flags dropped) prints its arguments after
 * quote removal, with no variable or command expansion; `true`, `:` and comments do nothing; every other
 * command (and any `echo` with a redirection or pipe, whose output goes elsewhere) is recorded as run but
 * not executed. Lines are split on newlines and `;`/`&&` outside quotes is not interpreted: a compound
 * line is one recorded command unless it is a plain echo.
 */
export function simulateShell(script: string): SimulatedCommand[] {
  const out: SimulatedCommand[] = [];
  for (const raw of script.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (!line || line.startsWith('#')) continue;
    const w = words(line);
    if (w[0] === 'true' || w[0] === ':') {
      out.push({ command: line, executed: true, output: [] });
      continue;
    }
    const redirected = /[|>;&`]|\$\(/.test(line.replace(/'[^']*'|"[^"$`]*"/g, ''));
    if (w[0] === 'echo' && !redirected) {
      let args = w.slice(1);
      let newline = true;
      while (args.length && /^-[neE]+$/.test(args[0])) {
        if (args[0].includes('n')) newline = false;
        args = args.slice(1);
      }
      out.push({ command: line, executed: true, output: newline || args.length ? [args.join(' ')] : [] });
      continue;
    }
    out.push({ command: line, executed: false, output: [] });
  }
  return out;
}
