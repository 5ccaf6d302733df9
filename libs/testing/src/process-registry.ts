import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';

/**
 * Why a watchdog: jest runs tests in a sandbox whose `process` is a copy, so `process.on('exit')`
 * registered from test code never fires in the real worker, and a SIGKILLed worker runs no handler
 * at all. The watchdog is a detached `sh` reading commands on a pipe from this process; when the
 * pipe reaches EOF (this process ended, however) it SIGKILLs the registered pids and removes the
 * registered dirs. Commands: "+PID", "-PID", "dPATH", one per line.
 */
const WATCHDOG_SCRIPT = `
pids=" "; dirs=""
while IFS= read -r line; do
  case "$line" in
    +*) pids="$pids\${line#+} " ;;
    -*) pids=$(printf '%s' "$pids" | sed "s/ \${line#-} / /") ;;
    d*) dirs="$dirs
\${line#d}" ;;
  esac
done
for p in $pids; do kill -9 "$p" 2>/dev/null; done
sleep 0.2
printf '%s\\n' "$dirs" | while IFS= read -r d; do [ -n "$d" ] && rm -rf -- "$d"; done
`;

const liveChildren = new Set<ChildProcess>();
const ownedTempDirs = new Set<string>();
let watchdogInput: Writable | undefined;
let exitHookInstalled = false;

function tellWatchdog(line: string): void {
  if (!watchdogInput) {
    const watchdog = spawn('sh', ['-c', WATCHDOG_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    watchdog.on('error', () => undefined); // no sh: the 'exit' hook below still covers normal exits
    watchdog.unref();
    watchdogInput = watchdog.stdin!;
    watchdogInput.on('error', () => undefined);
    (watchdogInput as unknown as { unref?: () => void }).unref?.();
  }
  watchdogInput.write(`${line}\n`);
}

/** Synchronous last-chance cleanup where a real 'exit' event fires (plain node, tsx scripts). */
function cleanUpAtExit(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of ownedTempDirs) rmSync(dir, { recursive: true, force: true });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', cleanUpAtExit);
}

/**
 * Makes sure a server process does not outlive this process: registers it with the watchdog and the
 * 'exit' hook, and unrefs it and its pipes so a forgotten server cannot keep a jest worker alive.
 * Unregisters it when it exits by itself (so a reused pid is never killed).
 */
export function trackChild(child: ChildProcess): void {
  installExitHook();
  const pid = child.pid;
  if (pid === undefined) return; // spawn failed; the 'error' event reports it
  liveChildren.add(child);
  tellWatchdog(`+${pid}`);
  child.once('exit', () => {
    liveChildren.delete(child);
    tellWatchdog(`-${pid}`);
  });
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as unknown as { unref?: () => void } | null)?.unref?.();
  }
}

/** Creates a fresh temp dir (prefix "minicloud-<label>-") removed when this process ends. */
export function makeOwnedTempDir(label: string): string {
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), `minicloud-${label}-`));
  ownedTempDirs.add(dir);
  tellWatchdog(`d${dir}`);
  return dir;
}
