import { GUEST_KERNEL } from './kernel-log';

/**
 * A login shell inside a simulated guest (the Ubuntu 22.04 cloud image: the default user's shell is
 * bash), answering from the guest model. It runs what an SSH client sends with `exec` (`bash -c
 * '<command>'`): lists (`;`, `&&`, `||`, newlines), pipelines (`|`, with `set -o pipefail`),
 * `set -e`/`-u`, variable assignments and `$VAR`/`${VAR}`/`$?` expansion, `$(...)`, single and double
 * quotes, and the redirections `>/dev/null`, `2>/dev/null`, `2>&1`, `>&2`. Commands are simulated
 * from the model (hostname, /proc/cpuinfo from the flavor's vCPUs, ip addr from the ports, ...);
 * anything else is bash's `command not found`, exit status 127. There is no writable filesystem.
 */

/** One NIC as the guest sees it (virtio_net, named ens3, ens4, ... as the kernel log renames them). */
export interface ShellNic {
  readonly macAddress: string;
  readonly ipv4?: string;
  readonly prefixLength?: number;
  /** Link MTU (Neutron's network MTU: 1450 on a VXLAN network); default 1500. */
  readonly mtu?: number;
  /** Hot-plugged and never configured: shown down, with no address (GuestNic.hotplugged). */
  readonly hotplugged?: boolean;
}

/** What the shell knows of the guest: the model's state at the time of the command. */
export interface GuestSystem {
  /** The hostname cloud-init set (short name). */
  readonly hostname: string;
  /** The fully-qualified name cloud-init set (`hostname -f`); default the hostname. */
  readonly fqdn?: string;
  readonly vcpus: number;
  readonly ramMb: number;
  /** The host's core clock (MHz), shown as each vCPU's `cpu MHz`. */
  readonly cpuMhz: number;
  readonly nics: readonly ShellNic[];
  /** Block devices in bus order (virtio: vda, vdb, ...), sizes in GiB; the first is the root disk. */
  readonly disks?: readonly { readonly device: string; readonly sizeGb: number }[];
  /** Seconds since the guest booted. */
  readonly uptimeSeconds: number;
  /** The clock's time now (ms since the epoch), for `date` and `uptime` (UTC: the image's timezone). */
  readonly nowMs: number;
  /** Run-queue load averages over 1, 5 and 15 minutes. */
  readonly loadAverage?: readonly [number, number, number];
  /** Name servers of the guest's resolv.conf (systemd-resolved's stub is what the image lists). */
  readonly nameservers?: readonly string[];
  /** The logged-in user (the image's default user, uid 1000, in sudo with NOPASSWD as cloud-init makes it). */
  readonly user: string;
  /** The user's authorized_keys lines (what cloud-init installed). */
  readonly authorizedKeys?: readonly string[];
}

/** What one command run gives: its output streams and exit status. */
export interface ShellResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Longest command line accepted (bytes); ARG_MAX is larger, but a guest's shell need not be fed more. */
export const MAX_COMMAND_BYTES = 64 * 1024;
/** Output kept per stream (bytes); more is cut (the simulated programs never print this much). */
export const MAX_OUTPUT_BYTES = 1024 * 1024;
/** Deepest nesting of `sh -c`, `sudo`, `$(...)`. */
const MAX_DEPTH = 8;

const UID = 1000;

interface Part {
  text: string;
  quote: 'none' | 'single' | 'double';
  /** `$(...)` source (quote none or double). */
  subst?: boolean;
}
type Word = Part[];
interface Redirect {
  fd: 1 | 2;
  target: string;
}
interface Simple {
  words: Word[];
  redirects: Redirect[];
}
interface Pipeline {
  commands: Simple[];
}
interface ListItem {
  pipeline: Pipeline;
  /** How this item joins the previous one. */
  op: ';' | '&&' | '||';
}

class SyntaxError_ extends Error {}

/** Splits the source into list items of pipelines of simple commands (bash's grammar, the subset above). */
function parse(src: string): ListItem[] {
  const items: ListItem[] = [];
  let commands: Simple[] = [];
  let cur: Simple = { words: [], redirects: [] };
  let word: Word | undefined;
  let nextOp: ListItem['op'] = ';';
  let pendingRedirect: 1 | 2 | undefined;
  const endWord = () => {
    if (!word) return;
    if (pendingRedirect) {
      cur.redirects.push({ fd: pendingRedirect, target: word.map((p) => p.text).join('') });
      pendingRedirect = undefined;
    } else cur.words.push(word);
    word = undefined;
  };
  const endCommand = (required: boolean) => {
    endWord();
    if (pendingRedirect) throw new SyntaxError_('syntax error near unexpected token `newline\'');
    if (cur.words.length === 0 && cur.redirects.length === 0) {
      if (required) throw new SyntaxError_('syntax error near unexpected token `|\'');
      return;
    }
    commands.push(cur);
    cur = { words: [], redirects: [] };
  };
  const endPipeline = (op: ListItem['op'], token: string) => {
    endCommand(false);
    if (commands.length === 0) {
      if (op === ';' && token !== ';') return;
      throw new SyntaxError_(`syntax error near unexpected token \`${token}'`);
    }
    items.push({ pipeline: { commands }, op: nextOp });
    commands = [];
    nextOp = op;
  };
  const add = (p: Part) => {
    word ??= [];
    const last = word[word.length - 1];
    if (last && last.quote === p.quote && !last.subst && !p.subst) last.text += p.text;
    else word.push(p);
  };
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new SyntaxError_("unexpected EOF while looking for matching `''");
      add({ text: src.slice(i + 1, end), quote: 'single' });
      word ??= [];
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let text = '';
      for (; j < src.length && src[j] !== '"'; j++) {
        if (src[j] === '\\' && j + 1 < src.length && '"\\$`\n'.includes(src[j + 1])) {
          // keep `\$` escaped for expansion: mark with a NUL so `$` is literal
          text += src[j + 1] === '$' ? '\u0000$' : src[j + 1] === '\n' ? '' : src[j + 1];
          j++;
        } else if (src[j] === '$' && src[j + 1] === '(') {
          if (text) add({ text, quote: 'double' });
          text = '';
          const end = matchParen(src, j + 1);
          add({ text: src.slice(j + 2, end), quote: 'double', subst: true });
          j = end;
        } else text += src[j];
      }
      if (j >= src.length) throw new SyntaxError_('unexpected EOF while looking for matching `"\'');
      add({ text, quote: 'double' });
      i = j;
    } else if (c === '\\') {
      if (i + 1 < src.length && src[i + 1] !== '\n') add({ text: src[i + 1], quote: 'single' });
      i++;
    } else if (c === '$' && src[i + 1] === '(') {
      const end = matchParen(src, i + 1);
      add({ text: src.slice(i + 2, end), quote: 'none', subst: true });
      i = end;
    } else if (c === '#' && !word) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? src.length : nl - 1;
    } else if (c === ' ' || c === '\t') endWord();
    else if (c === '\n' || c === ';') endPipeline(';', c === '\n' ? 'newline' : ';');
    else if (c === '&' && src[i + 1] === '&') {
      endPipeline('&&', '&&');
      i++;
    } else if (c === '|' && src[i + 1] === '|') {
      endPipeline('||', '||');
      i++;
    } else if (c === '|') endCommand(true);
    else if (c === '&' && src[i + 1] === '>') {
      // &>file: both streams
      endWord();
      const m = /^&>\s*(\S+)/.exec(src.slice(i));
      if (!m) throw new SyntaxError_("syntax error near unexpected token `newline'");
      cur.redirects.push({ fd: 1, target: m[1] }, { fd: 2, target: '&1' });
      i += m[0].length - 1;
    } else if (c === '&') throw new SyntaxError_('background jobs are not supported by this shell');
    else if (c === '>' || c === '<' || ((c === '1' || c === '2') && src[i + 1] === '>' && !word)) {
      endWord();
      if (c === '<') throw new SyntaxError_('input redirection is not supported by this shell');
      const fd: 1 | 2 = c === '2' ? 2 : 1;
      let j = c === '>' ? i + 1 : i + 2;
      if (src[j] === '>') j++;
      if (src[j] === '&') {
        const m = /^&([12])/.exec(src.slice(j));
        if (!m) throw new SyntaxError_("syntax error near unexpected token `&'");
        cur.redirects.push({ fd, target: `&${m[1]}` });
        i = j + 1;
      } else {
        pendingRedirect = fd;
        i = j - 1;
      }
    } else if (c === '(' || c === ')' || c === '`') throw new SyntaxError_(`syntax error near unexpected token \`${c}'`);
    else add({ text: c, quote: 'none' });
  }
  endPipeline(';', 'newline');
  if (nextOp !== ';') throw new SyntaxError_("syntax error: unexpected end of file");
  return items;
}

/** Index of the `)` closing the `(` at `open` (quotes inside skipped). */
function matchParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === "'") i = src.indexOf("'", i + 1) < 0 ? src.length : src.indexOf("'", i + 1);
    else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  throw new SyntaxError_("unexpected EOF while looking for matching `)'");
}

/** The shell's state across one command line (variables, options, the last status). */
interface ShellState {
  readonly sys: GuestSystem;
  vars: Map<string, string>;
  errexit: boolean;
  nounset: boolean;
  pipefail: boolean;
  status: number;
  root: boolean;
  /** The running shell: the login shell bash, or dash for `sh -c` (their messages differ). */
  shell: 'bash' | 'sh';
  depth: number;
}

class ExitSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** An expansion of an unset variable under `set -u` (bash prints the error and stops). */
class UnboundError extends Error {}

interface Io {
  stdout: string;
  stderr: string;
}

function expandWord(w: Word, st: ShellState, io: Io): string {
  let out = '';
  for (const p of w) {
    if (p.quote === 'single') out += p.text;
    else if (p.subst) {
      const r = runLine(p.text, { ...st, vars: new Map(st.vars), depth: st.depth + 1 }, '');
      io.stderr += r.stderr;
      out += r.stdout.replace(/\n+$/, '');
    } else out += expandVars(p.text, st);
  }
  return out;
}

function expandVars(text: string, st: ShellState): string {
  return text.replace(/\u0000\$|\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*)|\?|\$)/g, (m, _all, braced?: string, plain?: string) => {
    if (m === '\u0000$') return '$';
    if (m === '$?') return String(st.status);
    if (m === '$$') return '1024';
    const name = braced ?? plain!;
    const v = st.vars.get(name);
    if (v === undefined) {
      if (st.nounset) throw new UnboundError(`${name}: unbound variable`);
      return '';
    }
    return v;
  });
}

function utf8Length(s: string): number {
  return new TextEncoder().encode(s).length;
}

function cap(s: string): string {
  return s.length > MAX_OUTPUT_BYTES ? s.slice(0, MAX_OUTPUT_BYTES) : s;
}

/**
 * Runs `command` as the guest's login shell would for an SSH `exec` request.
 * @param command the command line (at most {@link MAX_COMMAND_BYTES} bytes)
 * @param sys the guest's state now
 * @param stdin what the client sent on the channel before closing it ('' when nothing)
 * @returns stdout, stderr and the exit status (127 for an unknown command, 2 for a syntax error)
 */
export function runGuestCommand(command: string, sys: GuestSystem, stdin = ''): ShellResult {
  if (utf8Length(command) > MAX_COMMAND_BYTES) return { stdout: '', stderr: 'bash: Argument list too long\n', exitCode: 126 };
  const home = `/home/${sys.user}`;
  const vars = new Map<string, string>([
    ['PATH', '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/games:/usr/local/games:/snap/bin'],
    ['HOME', home],
    ['USER', sys.user],
    ['LOGNAME', sys.user],
    ['SHELL', '/bin/bash'],
    ['HOSTNAME', sys.hostname],
    ['PWD', home],
    ['LANG', 'C.UTF-8'],
  ]);
  return runLine(command, { sys, vars, errexit: false, nounset: false, pipefail: false, status: 0, root: false, shell: 'bash', depth: 0 }, stdin);
}

function runLine(command: string, st: ShellState, stdin: string): ShellResult {
  const io: Io = { stdout: '', stderr: '' };
  if (st.depth > MAX_DEPTH) return { stdout: '', stderr: 'bash: maximum nesting level exceeded\n', exitCode: 1 };
  let items: ListItem[];
  try {
    items = parse(command);
  } catch (e) {
    if (!(e instanceof SyntaxError_)) throw e;
    return { stdout: '', stderr: `bash: -c: line 1: ${e.message}\n`, exitCode: 2 };
  }
  try {
    for (const item of items) {
      if (item.op === '&&' && st.status !== 0) continue;
      if (item.op === '||' && st.status === 0) continue;
      st.status = runPipeline(item.pipeline, st, io, stdin);
      stdin = '';
      // set -e: a failing command stops the shell unless it is the left side of && / ||
      const next = items[items.indexOf(item) + 1];
      if (st.errexit && st.status !== 0 && !(next && next.op !== ';')) throw new ExitSignal(st.status);
    }
  } catch (e) {
    if (e instanceof ExitSignal) return { stdout: cap(io.stdout), stderr: cap(io.stderr), exitCode: e.code };
    if (e instanceof UnboundError) return { stdout: cap(io.stdout), stderr: cap(io.stderr + `bash: line 1: ${e.message}\n`), exitCode: 1 };
    throw e;
  }
  return { stdout: cap(io.stdout), stderr: cap(io.stderr), exitCode: st.status };
}

function runPipeline(p: Pipeline, st: ShellState, io: Io, stdin: string): number {
  let input = stdin;
  const statuses: number[] = [];
  p.commands.forEach((c, i) => {
    const last = i === p.commands.length - 1;
    const r = runSimple(c, st, io, input);
    statuses.push(r.status);
    // stdout to the next command of the pipeline, or to the client; stderr always to the client
    if (last) io.stdout = cap(io.stdout + r.stdout);
    else input = r.stdout;
    io.stderr = cap(io.stderr + r.stderr);
  });
  const last = statuses[statuses.length - 1];
  if (!st.pipefail) return last;
  return [...statuses].reverse().find((s) => s !== 0) ?? 0;
}

interface CmdResult {
  stdout: string;
  stderr: string;
  status: number;
}

function runSimple(c: Simple, st: ShellState, io: Io, stdin: string): CmdResult {
  const argv = c.words.map((w) => expandWord(w, st, io));
  // leading NAME=value words: assignments (a command of their own when nothing follows)
  const assigns: [string, string][] = [];
  while (argv.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(argv[0]) && c.words[assigns.length]?.[0]?.quote === 'none') {
    const a = argv.shift()!;
    const eq = a.indexOf('=');
    assigns.push([a.slice(0, eq), a.slice(eq + 1)]);
  }
  let r: CmdResult;
  if (argv.length === 0) {
    for (const [k, v] of assigns) st.vars.set(k, v);
    r = { stdout: '', stderr: '', status: 0 };
  } else {
    const saved = new Map(st.vars);
    for (const [k, v] of assigns) st.vars.set(k, v);
    r = runCommand(argv, st, stdin);
    if (assigns.length) st.vars = saved;
  }
  for (const red of c.redirects) {
    const target = red.target;
    if (target === '/dev/null') {
      if (red.fd === 1) r.stdout = '';
      else r.stderr = '';
    } else if (target === '&1' && red.fd === 2) {
      r.stdout += r.stderr;
      r.stderr = '';
    } else if (target === '&2' && red.fd === 1) {
      r.stderr += r.stdout;
      r.stdout = '';
    } else if (target === '/dev/console' || target === '/dev/ttyS0') {
      // the console is the host's file; a user may write to it only as root
      if (!st.root) return { stdout: '', stderr: `bash: ${target}: Permission denied\n`, status: 1 };
      if (red.fd === 1) r.stdout = '';
      else r.stderr = '';
    } else {
      return { stdout: '', stderr: `bash: ${target}: ${target.startsWith('/') && !target.startsWith(`/home/`) && !target.startsWith('/tmp/') ? 'Permission denied' : 'Read-only file system'}\n`, status: 1 };
    }
  }
  return r;
}

const ok = (stdout = ''): CmdResult => ({ stdout, stderr: '', status: 0 });
const fail = (stderr: string, status = 1): CmdResult => ({ stdout: '', stderr, status });

type Builtin = (args: string[], st: ShellState, stdin: string) => CmdResult;

const COMMANDS: Record<string, Builtin> = {
  true: () => ok(),
  ':': () => ok(),
  // the disks are the model's: nothing is ever left unwritten
  sync: () => ok(),
  false: () => ({ stdout: '', stderr: '', status: 1 }),
  echo: (args) => {
    let newline = true;
    let escapes = false;
    while (args.length && /^-[neE]+$/.test(args[0])) {
      for (const f of args[0].slice(1)) {
        if (f === 'n') newline = false;
        else if (f === 'e') escapes = true;
        else escapes = false;
      }
      args = args.slice(1);
    }
    let text = args.join(' ');
    if (escapes) text = text.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\\\/g, '\\');
    return ok(text + (newline ? '\n' : ''));
  },
  printf: (args) => {
    if (!args.length) return fail('printf: usage: printf [-v var] format [arguments]\n', 2);
    const [fmt, ...rest] = args;
    let i = 0;
    const out = fmt.replace(/%([sd%])|\\n|\\t/g, (m, f?: string) => (m === '\\n' ? '\n' : m === '\\t' ? '\t' : f === '%' ? '%' : f === 'd' ? String(parseInt(rest[i++] ?? '0', 10) || 0) : (rest[i++] ?? '')));
    return ok(out);
  },
  set: (args, st) => {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-o' || a === '+o') {
        const name = args[++i];
        const on = a === '-o';
        if (name === 'pipefail') st.pipefail = on;
        else if (name === 'errexit') st.errexit = on;
        else if (name === 'nounset') st.nounset = on;
        else return fail(`bash: set: ${name ?? ''}: invalid option name\n`, 2);
      } else if (/^[-+][a-zA-Z]+$/.test(a)) {
        const on = a[0] === '-';
        for (const f of a.slice(1)) {
          if (f === 'e') st.errexit = on;
          else if (f === 'u') st.nounset = on;
          else if (f === 'o') {
            const name = args[++i];
            if (name === 'pipefail') st.pipefail = on;
            else return fail(`bash: set: ${name ?? ''}: invalid option name\n`, 2);
          } else if (!'xv'.includes(f)) return fail(`bash: set: ${a[0]}${f}: invalid option\n`, 2);
        }
      }
    }
    return ok();
  },
  export: (args, st) => {
    for (const a of args) {
      const eq = a.indexOf('=');
      if (eq > 0) st.vars.set(a.slice(0, eq), a.slice(eq + 1));
    }
    return ok();
  },
  exit: (args) => {
    throw new ExitSignal(args.length ? Number.parseInt(args[0], 10) & 255 : 0);
  },
  hostname: (args, st) => {
    const s = st.sys;
    if (args.length === 0 || args[0] === '-s' || args[0] === '--short') return ok(`${args.length ? s.hostname.split('.')[0] : s.hostname}\n`);
    if (args[0] === '-f' || args[0] === '--fqdn' || args[0] === '--long') return ok(`${s.fqdn ?? s.hostname}\n`);
    if (args[0] === '-I' || args[0] === '--all-ip-addresses') return ok(`${s.nics.filter((n) => n.ipv4).map((n) => n.ipv4).join(' ')} \n`);
    if (args[0] === '-i' || args[0] === '--ip-address') return ok('127.0.1.1\n');
    if (args[0].startsWith('-')) return fail(`hostname: invalid option -- '${args[0].replace(/^-+/, '')}'\n`, 64);
    return st.root ? ok() : fail('hostname: you must be root to change the host name\n');
  },
  uname: (args, st) => {
    const parts = { s: 'Linux', n: st.sys.hostname, r: GUEST_KERNEL.release, v: '#101-Ubuntu SMP Tue Nov 14 13:30:08 UTC 2023', m: 'x86_64', p: 'x86_64', i: 'x86_64', o: 'GNU/Linux' };
    const flags = args.length ? args.join('').replace(/-/g, '') : 's';
    if (flags.includes('a')) return ok(`${parts.s} ${parts.n} ${parts.r} ${parts.v} ${parts.m} ${parts.p} ${parts.i} ${parts.o}\n`);
    const out: string[] = [];
    for (const f of 'snrvmpio') if (flags.includes(f)) out.push(parts[f as keyof typeof parts]);
    return out.length ? ok(`${out.join(' ')}\n`) : fail(`uname: invalid option -- '${flags[0]}'\n`);
  },
  whoami: (_a, st) => ok(`${st.root ? 'root' : st.sys.user}\n`),
  id: (args, st) => {
    const [uid, name] = st.root ? [0, 'root'] : [UID, st.sys.user];
    if (args.includes('-u')) return ok(args.includes('-n') ? `${name}\n` : `${uid}\n`);
    if (st.root) return ok('uid=0(root) gid=0(root) groups=0(root)\n');
    return ok(`uid=${UID}(${name}) gid=${UID}(${name}) groups=${UID}(${name}),4(adm),20(dialout),24(cdrom),25(floppy),27(sudo),29(audio),30(dip),44(video),46(plugdev),119(netdev),120(lxd)\n`);
  },
  nproc: (_a, st) => ok(`${st.sys.vcpus}\n`),
  uptime: (args, st) => {
    const s = st.sys;
    if (args.includes('-p')) {
      const m = Math.floor(s.uptimeSeconds / 60);
      const parts = [[Math.floor(m / 1440), 'day'], [Math.floor((m % 1440) / 60), 'hour'], [m % 60, 'minute']] as const;
      const shown = parts.filter(([n]) => n > 0).map(([n, u]) => `${n} ${u}${n === 1 ? '' : 's'}`);
      return ok(`up ${shown.length ? shown.join(', ') : '0 minutes'}\n`);
    }
    return ok(`${uptimeLine(s)}\n`);
  },
  date: (args, st) => {
    const d = new Date(st.sys.nowMs);
    if (args[0] === '+%s') return ok(`${Math.floor(st.sys.nowMs / 1000)}\n`);
    const day = d.toUTCString().slice(0, 3);
    const mon = d.toUTCString().slice(8, 11);
    return ok(`${day} ${mon} ${String(d.getUTCDate()).padStart(2)} ${d.toISOString().slice(11, 19)} UTC ${d.getUTCFullYear()}\n`);
  },
  free: (args, st) => {
    const m = meminfo(st.sys);
    const unit = args.includes('-m') ? 1024 : args.includes('-g') ? 1024 * 1024 : 1;
    const f = (k: number) => String(Math.floor(k / unit)).padStart(12);
    const used = m.total - m.free - m.buffers - m.cached;
    return ok(
      `               total        used        free      shared  buff/cache   available\nMem:  ${f(m.total)}${f(used)}${f(m.free)}${f(m.shmem)}${f(m.buffers + m.cached)}${f(m.available)}\nSwap: ${f(0)}${f(0)}${f(0)}\n`,
    );
  },
  cat: (args, st, stdin) => {
    const files = args;
    if (files.length === 0) return ok(stdin);
    let out = '';
    let err = '';
    for (const f of files) {
      if (f === '-') {
        out += stdin;
        continue;
      }
      const r = readFile(f, st);
      if (typeof r === 'string') out += r;
      else err += `cat: ${f}: ${r.error}\n`;
    }
    return { stdout: out, stderr: err, status: err ? 1 : 0 };
  },
  grep: (args, st, stdin) => grep(args, st, stdin),
  wc: (args, _st, stdin) => {
    const lines = (stdin.match(/\n/g) ?? []).length;
    const words = stdin.split(/\s+/).filter(Boolean).length;
    const bytes = utf8Length(stdin);
    const flags = args.filter((a) => a.startsWith('-')).join('');
    if (args.some((a) => !a.startsWith('-'))) return fail(`wc: ${args.find((a) => !a.startsWith('-'))}: No such file or directory\n`);
    const shown: number[] = [];
    if (!flags || flags.includes('l')) shown.push(lines);
    if (!flags || flags.includes('w')) shown.push(words);
    if (!flags || flags.includes('c')) shown.push(bytes);
    return ok(`${shown.length === 1 ? shown[0] : shown.map((n) => String(n).padStart(7)).join(' ')}\n`);
  },
  head: (args, st, stdin) => headTail('head', args, st, stdin),
  tail: (args, st, stdin) => headTail('tail', args, st, stdin),
  cut: (args, st, stdin) => {
    let delim = '\t';
    let fields = '';
    const files: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === '-d') delim = args[++i] ?? '';
      else if (a.startsWith('-d')) delim = a.slice(2);
      else if (a === '-f') fields = args[++i] ?? '';
      else if (a.startsWith('-f')) fields = a.slice(2);
      else files.push(a);
    }
    if (!fields) return fail('cut: you must specify a list of bytes, characters, or fields\n');
    const input = files.length ? readAll('cut', files, st) : { text: stdin, err: '' };
    const want = fields.split(',').map((f) => Number.parseInt(f, 10));
    const lines = input.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const out = lines.map((l) => (l.includes(delim[0] ?? '\t') ? want.map((n) => l.split(delim[0] ?? '\t')[n - 1] ?? '').join(delim[0]) : l));
    return { stdout: out.map((l) => `${l}\n`).join(''), stderr: input.err, status: input.err ? 1 : 0 };
  },
  awk: (args, st, stdin) => awk(args, st, stdin),
  ip: (args, st) => ip(args, st),
  lsblk: (args, st) => lsblk(args, st),
  sudo: (args, st, stdin) => {
    while (args[0]?.startsWith('-')) args = args.slice(1);
    if (!args.length) return fail('usage: sudo -h | -K | -k | -V\n');
    if (!COMMANDS[args[0].split('/').pop()!] && args[0] !== 'which') return fail(`sudo: ${args[0]}: command not found\n`);
    return runCommand(args, { ...st, root: true }, stdin);
  },
  sh: (args, st, stdin) => subShell('sh', args, st, stdin),
  bash: (args, st, stdin) => subShell('bash', args, st, stdin),
  sleep: (args) => (args.length && args.every((a) => /^\d+(\.\d+)?[smhd]?$/.test(a)) ? ok() : fail(`sleep: invalid time interval '${args[0] ?? ''}'\n`)),
};

/** Paths of the commands the shell knows, as `command -v`/`which` show them. */
const COMMAND_DIRS: Record<string, string> = { ip: '/usr/sbin', sudo: '/usr/bin', sh: '/usr/bin', bash: '/usr/bin' };

/** Shell builtins (`command -v` names them bare; the rest are files in PATH). */
const BUILTINS = new Set(['true', 'false', ':', 'echo', 'printf', 'set', 'export', 'exit']);

function runCommand(argv: string[], st: ShellState, stdin: string): CmdResult {
  const name = argv[0].includes('/') ? argv[0].split('/').pop()! : argv[0];
  if (name === 'which' || (name === 'command' && argv[1] === '-v')) {
    const names = argv.slice(name === 'which' ? 1 : 2);
    const found = names.filter((n) => COMMANDS[n] || n === 'which');
    const path = (n: string) => (name === 'command' && BUILTINS.has(n) ? n : `${COMMAND_DIRS[n] ?? '/usr/bin'}/${n}`);
    return { stdout: found.map((n) => `${path(n)}\n`).join(''), stderr: '', status: found.length === names.length && names.length > 0 ? 0 : 1 };
  }
  const cmd = COMMANDS[name];
  if (!cmd) return fail(st.shell === 'sh' ? `sh: 1: ${argv[0]}: not found\n` : `bash: line 1: ${argv[0]}: command not found\n`, 127);
  return cmd(argv.slice(1), st, stdin);
}

function subShell(name: string, args: string[], st: ShellState, stdin: string): CmdResult {
  if (args[0] !== '-c' || args.length < 2) return fail(`${name}: only "${name} -c <command>" is available here\n`, 2);
  const r = runLine(args[1], { ...st, vars: new Map(st.vars), errexit: false, nounset: false, pipefail: false, status: 0, shell: name === 'sh' ? 'sh' : 'bash', depth: st.depth + 1 }, stdin);
  return { stdout: r.stdout, stderr: r.stderr, status: r.exitCode };
}

function uptimeLine(s: GuestSystem): string {
  const t = new Date(s.nowMs).toISOString().slice(11, 19);
  const mins = Math.floor(s.uptimeSeconds / 60);
  const days = Math.floor(mins / 1440);
  const hm = mins % 1440;
  const span = hm >= 60 ? `${String(Math.floor(hm / 60)).padStart(2)}:${String(hm % 60).padStart(2, '0')}` : `${hm} min`;
  const up = days > 0 ? `${days} day${days === 1 ? '' : 's'}, ${span}` : span;
  const [a, b, c] = s.loadAverage ?? [0, 0, 0];
  return ` ${t} up ${up},  1 user,  load average: ${a.toFixed(2)}, ${b.toFixed(2)}, ${c.toFixed(2)}`;
}

/** /proc/meminfo's main figures (kB): total from the kernel's view of the flavor's RAM, an idle Ubuntu's use. */
function meminfo(s: GuestSystem): { total: number; free: number; available: number; buffers: number; cached: number; shmem: number } {
  const totalK = s.ramMb * 1024 - 388;
  const total = totalK - (58_000 + Math.round(s.ramMb * 1024 * 0.012)) + 16_393 + 4_384 + 10_820 + 6_620;
  // an idle cloud image: ~150 MiB of processes and kernel, ~30 % of the rest in page cache (at most 400 MiB)
  const used = Math.min(total, 150 * 1024);
  const cached = Math.min(Math.round((total - used) * 0.3), 400 * 1024);
  const buffers = Math.min(Math.round(cached / 10), 40 * 1024);
  const free = Math.max(0, total - used - cached - buffers);
  return { total, free, available: free + cached + buffers - 4 * 1024, buffers, cached, shmem: 1024 };
}

function cpuinfo(s: GuestSystem): string {
  const out: string[] = [];
  for (let i = 0; i < s.vcpus; i++) {
    // libvirt's default topology for Nova: one socket per vCPU (sockets=N, cores=1, threads=1)
    out.push(
      [
        `processor\t: ${i}`,
        'vendor_id\t: GenuineIntel',
        'cpu family\t: 6',
        'model\t\t: 85',
        'model name\t: Intel Xeon Processor (Cascadelake)',
        'stepping\t: 6',
        'microcode\t: 0x1',
        `cpu MHz\t\t: ${s.cpuMhz.toFixed(3)}`,
        'cache size\t: 16384 KB',
        `physical id\t: ${i}`,
        'siblings\t: 1',
        'core id\t\t: 0',
        'cpu cores\t: 1',
        `apicid\t\t: ${i}`,
        `initial apicid\t: ${i}`,
        'fpu\t\t: yes',
        'fpu_exception\t: yes',
        'cpuid level\t: 13',
        'wp\t\t: yes',
        'flags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ss syscall nx pdpe1gb rdtscp lm constant_tsc rep_good nopl xtopology cpuid tsc_known_freq pni pclmulqdq ssse3 fma cx16 pcid sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm abm 3dnowprefetch cpuid_fault invpcid_single ssbd ibrs ibpb stibp fsgsbase tsc_adjust bmi1 avx2 smep bmi2 erms invpcid avx512f avx512dq rdseed adx smap clflushopt clwb avx512cd avx512bw avx512vl xsaveopt xsavec xgetbv1 xsaves arat pku ospke avx512_vnni md_clear arch_capabilities',
        'bugs\t\t: spectre_v1 spectre_v2 spec_store_bypass swapgs taa itlb_multihit mmio_stale_data retbleed gds',
        `bogomips\t: ${(s.cpuMhz * 2).toFixed(2)}`,
        'clflush size\t: 64',
        'cache_alignment\t: 64',
        'address sizes\t: 46 bits physical, 48 bits virtual',
        'power management:',
        '',
      ].join('\n'),
    );
  }
  return out.join('\n') + '\n';
}

function nicName(i: number): string {
  return `ens${3 + i}`;
}

function broadcastOf(ip: string, prefix: number): string {
  const n = ip.split('.').reduce((a, o) => (a << 8) | Number(o), 0) >>> 0;
  const b = (n | (prefix >= 32 ? 0 : 0xffffffff >>> prefix)) >>> 0;
  return [24, 16, 8, 0].map((sh) => (b >>> sh) & 255).join('.');
}

/** The IPv6 link-local address the kernel derives from the MAC (EUI-64, RFC 4291 appendix A). */
function linkLocal(mac: string): string {
  const b = mac.split(':').map((h) => Number.parseInt(h, 16));
  b[0] ^= 2;
  const eui = [b[0], b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  const groups = [0, 2, 4, 6].map((i) => ((eui[i] << 8) | eui[i + 1]).toString(16));
  return `fe80::${groups.join(':')}`;
}

interface IpLink {
  index: number;
  name: string;
  header: string;
  link: string;
  altname?: string;
  addrs: { family: 'inet' | 'inet6'; text: string }[];
}

function ipLinks(s: GuestSystem): IpLink[] {
  const lo: IpLink = {
    index: 1,
    name: 'lo',
    header: '<LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN',
    link: 'link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    addrs: [
      { family: 'inet', text: 'inet 127.0.0.1/8 scope host lo\n       valid_lft forever preferred_lft forever' },
      { family: 'inet6', text: 'inet6 ::1/128 scope host \n       valid_lft forever preferred_lft forever' },
    ],
  };
  return [
    lo,
    ...s.nics.map((n, i): IpLink => {
      const name = nicName(i);
      if (n.hotplugged) {
        return { index: i + 2, name, header: '<BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN', link: `link/ether ${n.macAddress.toLowerCase()} brd ff:ff:ff:ff:ff:ff`, altname: `enp0s${3 + i}`, addrs: [] };
      }
      const addrs: IpLink['addrs'] = [];
      const lease = Math.max(0, 86400 - Math.floor(s.uptimeSeconds));
      if (n.ipv4) {
        const prefix = n.prefixLength ?? 24;
        addrs.push({ family: 'inet', text: `inet ${n.ipv4}/${prefix} metric 100 brd ${broadcastOf(n.ipv4, prefix)} scope global dynamic ${name}\n       valid_lft ${lease}sec preferred_lft ${lease}sec` });
      }
      addrs.push({ family: 'inet6', text: `inet6 ${linkLocal(n.macAddress)}/64 scope link \n       valid_lft forever preferred_lft forever` });
      return {
        index: i + 2,
        name,
        header: `<BROADCAST,MULTICAST,UP,LOWER_UP> mtu ${n.mtu ?? 1500} qdisc fq_codel state UP`,
        link: `link/ether ${n.macAddress.toLowerCase()} brd ff:ff:ff:ff:ff:ff`,
        altname: `enp0s${3 + i}`,
        addrs,
      };
    }),
  ];
}

/** iproute2's `ip [-o] [-4|-6] addr|link [show [dev] NAME]` and `ip route`. */
function ip(args: string[], st: ShellState): CmdResult {
  let oneline = false;
  let family: 'inet' | 'inet6' | undefined;
  while (args[0]?.startsWith('-')) {
    const f = args.shift()!;
    if (f === '-o' || f === '-oneline') oneline = true;
    else if (f === '-4') family = 'inet';
    else if (f === '-6') family = 'inet6';
    else if (f === '-br' || f === '-brief' || f === '-c' || f === '-color') continue;
    else return fail(`Option "${f}" is unknown, try "ip -help".\n`, 255);
  }
  const obj = args.shift() ?? '';
  const links = ipLinks(st.sys);
  const kind = /^a(d(dr?)?|ddress)?$/.test(obj) ? 'addr' : /^l(i(nk?)?)?$/.test(obj) ? 'link' : /^r(o(u(te?)?)?)?$/.test(obj) ? 'route' : '';
  if (!kind) return fail(obj ? `Object "${obj}" is unknown, try "ip help".\n` : 'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n', obj ? 255 : 255);
  if (kind === 'route') {
    const lines: string[] = [];
    st.sys.nics.forEach((n, i) => {
      if (!n.ipv4) return;
      const prefix = n.prefixLength ?? 24;
      const net = broadcastOf(n.ipv4, prefix).split('.').map((o, k) => Number(o) & (prefix >= (k + 1) * 8 ? 255 : prefix <= k * 8 ? 0 : (0xff << (8 - (prefix - k * 8))) & 255)).join('.');
      const gw = net.replace(/\d+$/, (o) => String(Number(o) + 1));
      if (i === 0) lines.push(`default via ${gw} dev ${nicName(i)} proto dhcp src ${n.ipv4} metric 100 `);
      lines.push(`${net}/${prefix} dev ${nicName(i)} proto kernel scope link src ${n.ipv4} metric 100 `);
    });
    return ok(lines.map((l) => `${l}\n`).join(''));
  }
  if (args[0] === 'show' || args[0] === 'list' || args[0] === 'ls') args.shift();
  if (args[0] === 'dev') args.shift();
  const dev = args[0];
  if (args.length > 1) return fail(`Error: either "dev" is duplicate, or "${args[1]}" is a garbage.\n`, 1);
  const shown = dev ? links.filter((l) => l.name === dev || l.altname === dev) : links;
  if (dev && shown.length === 0) return fail(`Device "${dev}" does not exist.\n`, 1);
  const out: string[] = [];
  for (const l of shown) {
    const head = `${l.index}: ${l.name}: ${l.header}`;
    if (kind === 'link') {
      const first = `${head} mode DEFAULT group default qlen 1000`;
      const rest = [`    ${l.link}`, ...(l.altname ? [`    altname ${l.altname}`] : [])];
      out.push(oneline ? `${first}\\${rest.join('\\')}` : [first, ...rest].join('\n'));
      continue;
    }
    const addrs = l.addrs.filter((a) => !family || a.family === family);
    if (oneline) {
      for (const a of addrs) out.push(`${l.index}: ${l.name}    ${a.text.replace(/\n\s+/, '\\       ')}`);
      continue;
    }
    if (family && addrs.length === 0) continue;
    out.push([`${head} group default qlen 1000`, ...(family ? [] : [`    ${l.link}`, ...(l.altname ? [`    altname ${l.altname}`] : [])]), ...addrs.map((a) => `    ${a.text}`)].join('\n'));
  }
  return ok(out.map((l) => `${l}\n`).join(''));
}

/** The guest's files the shell can read: /proc, /etc and the user's home (a missing one: ENOENT). */
function readFile(path: string, st: ShellState): string | { error: string } {
  const s = st.sys;
  const home = `/home/${s.user}`;
  const p = path.startsWith('~/') ? `${home}/${path.slice(2)}` : path.startsWith('/') ? path : `${home}/${path}`;
  const norm = p.replace(/\/+/g, '/').replace(/\/$/, '');
  switch (norm) {
    case '/proc/cpuinfo':
      return cpuinfo(s);
    case '/proc/meminfo': {
      const m = meminfo(s);
      const kb = (k: string, v: number) => `${`${k}:`.padEnd(16)}${String(v).padStart(8)} kB`;
      return [kb('MemTotal', m.total), kb('MemFree', m.free), kb('MemAvailable', m.available), kb('Buffers', m.buffers), kb('Cached', m.cached), kb('SwapCached', 0), kb('Shmem', m.shmem), kb('SwapTotal', 0), kb('SwapFree', 0)].join('\n') + '\n';
    }
    case '/proc/uptime':
      return `${s.uptimeSeconds.toFixed(2)} ${(s.uptimeSeconds * s.vcpus * 0.97).toFixed(2)}\n`;
    case '/proc/loadavg': {
      const [a, b, c] = s.loadAverage ?? [0, 0, 0];
      return `${a.toFixed(2)} ${b.toFixed(2)} ${c.toFixed(2)} 1/${120 + s.vcpus * 4} 1024\n`;
    }
    case '/proc/version':
      return `${GUEST_KERNEL.banner.replace(/ \(Ubuntu 5.*$/, '')}\n`;
    case '/etc/hostname':
      return `${s.hostname}\n`;
    case '/etc/hosts':
      return `127.0.0.1 localhost\n127.0.1.1 ${s.fqdn && s.fqdn !== s.hostname ? `${s.fqdn} ` : ''}${s.hostname}\n\n# The following lines are desirable for IPv6 capable hosts\n::1 ip6-localhost ip6-loopback\nfe00::0 ip6-localnet\nff00::0 ip6-mcastprefix\nff02::1 ip6-allnodes\nff02::2 ip6-allrouters\n`;
    case '/etc/os-release':
      return 'PRETTY_NAME="Ubuntu 22.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.3 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nHOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\nBUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\nPRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\nUBUNTU_CODENAME=jammy\n';
    case '/etc/resolv.conf':
      // systemd-resolved's stub, as the image's /etc/resolv.conf symlink gives it
      return `nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch .\n`;
    case `${home}/.ssh/authorized_keys`:
      return (s.authorizedKeys ?? []).map((k) => `${k}\n`).join('');
    case '/etc/shadow':
    case '/root':
      return st.root ? { error: 'Is a directory' } : { error: 'Permission denied' };
    default:
      if (['/proc', '/etc', '/home', home, '/', '/tmp', '/sys', '/dev'].includes(norm || '/')) return { error: 'Is a directory' };
      return { error: 'No such file or directory' };
  }
}

function readAll(cmd: string, files: string[], st: ShellState): { text: string; err: string } {
  let text = '';
  let err = '';
  for (const f of files) {
    const r = readFile(f, st);
    if (typeof r === 'string') text += r;
    else err += `${cmd}: ${f}: ${r.error}\n`;
  }
  return { text, err };
}

/** A POSIX basic/extended regular expression as a JS RegExp (the common subset: anchors, classes, `.`, `*`, `\+` in BRE). */
function posixRegex(pattern: string, extended: boolean, ignoreCase: boolean, fixed: boolean): RegExp {
  let src: string;
  if (fixed) src = pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  else if (extended) src = pattern;
  else {
    // BRE: ( ) { } + ? | are literal unless escaped
    src = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c === '\\' && i + 1 < pattern.length) {
        const n = pattern[++i];
        src += '(){}+?|'.includes(n) ? n : `\\${n}`;
      } else if ('(){}+?|'.includes(c)) src += `\\${c}`;
      else src += c;
    }
  }
  src = src.replace(/\[:(alpha|digit|alnum|space|upper|lower|xdigit|punct):\]/g, (_m, k: string) => ({ alpha: 'A-Za-z', digit: '0-9', alnum: 'A-Za-z0-9', space: '\\s', upper: 'A-Z', lower: 'a-z', xdigit: '0-9A-Fa-f', punct: '!-/:-@\\[-`{-~' })[k]!);
  return new RegExp(src, ignoreCase ? 'i' : '');
}

function grep(args: string[], st: ShellState, stdin: string): CmdResult {
  let count = false;
  let invert = false;
  let quiet = false;
  let ignoreCase = false;
  let extended = false;
  let fixed = false;
  let onlyMatching = false;
  let pattern: string | undefined;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-e') pattern = args[++i];
    else if (a.startsWith('-') && a.length > 1 && a !== '--') {
      for (const f of a.slice(1)) {
        if (f === 'c') count = true;
        else if (f === 'v') invert = true;
        else if (f === 'q' || f === 's') quiet = quiet || f === 'q';
        else if (f === 'i') ignoreCase = true;
        else if (f === 'E') extended = true;
        else if (f === 'F') fixed = true;
        else if (f === 'o') onlyMatching = true;
        else return fail(`grep: invalid option -- '${f}'\nUsage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n`, 2);
      }
    } else if (pattern === undefined) pattern = a;
    else files.push(a);
  }
  if (pattern === undefined) return fail("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n", 2);
  let re: RegExp;
  try {
    re = posixRegex(pattern, extended, ignoreCase, fixed);
  } catch {
    return fail('grep: Unmatched [, [^, [:, [., or [=\n', 2);
  }
  const input = files.length ? readAll('grep', files, st) : { text: stdin, err: '' };
  const lines = input.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const matched = lines.filter((l) => re.test(l) !== invert);
  const status = input.err && matched.length === 0 ? 2 : matched.length ? 0 : 1;
  if (quiet) return { stdout: '', stderr: input.err, status: matched.length ? 0 : status };
  if (count) return { stdout: `${matched.length}\n`, stderr: input.err, status };
  const shown = onlyMatching && !invert ? matched.map((l) => l.match(re)![0]) : matched;
  return { stdout: shown.map((l) => `${l}\n`).join(''), stderr: input.err, status };
}

function headTail(cmd: 'head' | 'tail', args: string[], st: ShellState, stdin: string): CmdResult {
  let n = 10;
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-n') n = Number.parseInt(args[++i] ?? '', 10);
    else if (/^-n?\d+$/.test(a)) n = Number.parseInt(a.replace(/^-n?/, ''), 10);
    else if (a.startsWith('-')) return fail(`${cmd}: invalid option -- '${a.slice(1)}'\n`);
    else files.push(a);
  }
  if (!Number.isFinite(n)) return fail(`${cmd}: invalid number of lines\n`);
  const input = files.length ? readAll(cmd, files, st) : { text: stdin, err: '' };
  const lines = input.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const picked = cmd === 'head' ? lines.slice(0, n) : n === 0 ? [] : lines.slice(-n);
  return { stdout: picked.map((l) => `${l}\n`).join(''), stderr: input.err, status: input.err ? 1 : 0 };
}

/** awk's common one-liners: `[-F sep] '[/re/] [{print $N[, $M...]}]' [file...]`. */
function awk(args: string[], st: ShellState, stdin: string): CmdResult {
  let sep: string | undefined;
  if (args[0] === '-F') {
    sep = args[1];
    args = args.slice(2);
  } else if (args[0]?.startsWith('-F')) {
    sep = args[0].slice(2);
    args = args.slice(1);
  }
  const [program, ...files] = args;
  if (program === undefined) return fail('usage: awk [-F fs][-v var=value][prog | -f progfile][file ...]\n', 2);
  const m = /^\s*(?:\/((?:\\\/|[^/])*)\/)?\s*(?:\{\s*print\s*([^}]*?)\s*;?\s*\})?\s*$/.exec(program);
  if (!m || (m[1] === undefined && m[2] === undefined && program.trim() !== '')) return fail(`awk: line 1: syntax error at or near ${program.trim()[0] ?? 'end of file'}\n`, 2);
  const re = m[1] !== undefined ? new RegExp(m[1].replace(/\\\//g, '/')) : undefined;
  const printArgs = m[2] === undefined ? undefined : m[2].trim();
  const input = files.length ? readAll('awk', files, st) : { text: stdin, err: '' };
  const lines = input.text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: string[] = [];
  for (const [nr, line] of lines.entries()) {
    if (re && !re.test(line)) continue;
    if (!printArgs || printArgs === '$0') {
      out.push(line);
      continue;
    }
    const fields = sep === undefined ? line.trim().split(/[ \t]+/) : line.split(sep);
    const values = printArgs.split(/\s*,\s*/).map((e) => {
      if (e === 'NR') return String(nr + 1);
      if (e === 'NF') return String(fields.length);
      if (/^"[^"]*"$/.test(e)) return e.slice(1, -1);
      const f = /^\$(\d+|NF)$/.exec(e);
      if (!f) return '';
      if (f[1] === 'NF') return fields[fields.length - 1] ?? '';
      const k = Number(f[1]);
      return k === 0 ? line : (fields[k - 1] ?? '');
    });
    out.push(values.join(' '));
  }
  return { stdout: out.map((l) => `${l}\n`).join(''), stderr: input.err, status: input.err ? 2 : 0 };
}

/**
 * util-linux's `lsblk` (2.37, Ubuntu 22.04): NAME MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS, columns padded
 * to their widest cell (SIZE right-aligned), `-b` sizes in bytes, `-l` list form, `-d`/`--nodeps`
 * without partitions; otherwise the root disk shows its partitions (1: the root filesystem, 14: BIOS
 * boot, 15: /boot/efi, as the cloud image lays them out).
 */
function lsblk(args: string[], st: ShellState): CmdResult {
  const flags = new Set<string>();
  for (const a of args) {
    if (a === '--nodeps') flags.add('d');
    else if (a === '--bytes') flags.add('b');
    else if (a === '--list') flags.add('l');
    else if (/^-[a-zA-Z]+$/.test(a)) for (const f of a.slice(1)) flags.add(f);
    else if (a.startsWith('-')) return fail(`lsblk: unrecognized option '${a}'\nTry 'lsblk --help' for more information.\n`, 1);
  }
  for (const f of flags) if (!'dblaf'.includes(f)) return fail(`lsblk: invalid option -- '${f}'\nTry 'lsblk --help' for more information.\n`, 1);
  const GIB = 1024 ** 3;
  const human = (bytes: number) => {
    const units = ['B', 'K', 'M', 'G', 'T'];
    let v = bytes;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return `${Number.isInteger(v) ? v : v.toFixed(1)}${units[u]}`;
  };
  const size = (bytes: number) => (flags.has('b') ? String(bytes) : human(bytes));
  const rows: string[][] = [['NAME', 'MAJ:MIN', 'RM', 'SIZE', 'RO', 'TYPE', 'MOUNTPOINTS']];
  const tree = !flags.has('l') && !flags.has('d');
  (st.sys.disks ?? []).forEach((d, i) => {
    const bytes = d.sizeGb * GIB;
    rows.push([d.device, `252:${i * 16}`, '0', size(bytes), '0', 'disk', '']);
    if (i === 0 && !flags.has('d') && bytes > 128 * 1024 ** 2) {
      const parts: [string, number, string][] = [
        ['1', bytes - 110 * 1024 ** 2 - 1024 ** 2, '/'],
        ['14', 4 * 1024 ** 2, ''],
        ['15', 106 * 1024 ** 2, '/boot/efi'],
      ];
      parts.forEach(([n, b, mount]) => rows.push([`${tree ? (n === '15' ? '\u2514\u2500' : '\u251c\u2500') : ''}${d.device}${n}`, `252:${Number(n)}`, '0', size(b), '0', 'part', mount]));
    }
  });
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const out = rows.map((r) => r.map((cell, c) => ([2, 3, 4].includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' ').trimEnd());
  return ok(out.map((l) => `${l}\n`).join(''));
}
