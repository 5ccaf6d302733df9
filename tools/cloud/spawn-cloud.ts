/**
 * Brings up a whole cloud as a child process (`tools/cloud/main.ts`, free ports, its own Redis and
 * NATS) for tools that measure or test against one: the interop run and the benchmarks. Resolves
 * once the bring-up prints that it is ready, with the cloud's manifest and a `stop` that shuts it
 * down (SIGTERM; SIGKILL of the bring-up and every process it started after 20 s).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CloudManifest } from './manifest';

const ROOT = path.resolve(__dirname, '../..');

export interface SpawnedCloud {
  stateDir: string;
  manifest: CloudManifest;
  stop(): Promise<void>;
}

/**
 * @param stateDir the cloud's state dir (logs, cloud.json); its bring-up output goes to `bring-up.log` there
 * @param args extra bring-up options, e.g. `['--agents', '4', '--no-demo']` (`--base-port 0` and `--state-dir` are added)
 * @param env extra environment for every process of the cloud (REDIS_URL and NATS_URL are dropped so it starts its own)
 * @param readyTimeoutMs give up (and stop what started) after this long
 * @throws Error when the bring-up exits or times out before it is ready; the message names its log
 */
export async function spawnCloud(stateDir: string, args: string[], env: Record<string, string> = {}, readyTimeoutMs = 180_000): Promise<SpawnedCloud> {
  fs.mkdirSync(stateDir, { recursive: true });
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.REDIS_URL;
  delete childEnv.NATS_URL;
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', path.join(ROOT, 'tools/cloud/main.ts'), '--base-port', '0', '--state-dir', stateDir, ...args], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = path.join(stateDir, 'bring-up.log');
  const log = fs.createWriteStream(logFile);
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    }
    const manifestFile = path.join(stateDir, 'cloud.json');
    if (fs.existsSync(manifestFile)) {
      for (const p of (JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as CloudManifest).processes) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }
    if (child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the cloud was not ready within ${readyTimeoutMs} ms; see ${logFile}`)), readyTimeoutMs);
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out = (out + d.toString()).slice(-4096);
        if (/minicloud ready in/.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`the cloud exited (code ${code}) before it was ready; see ${logFile}`));
      });
    });
  } catch (e) {
    await stop();
    throw e;
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(stateDir, 'cloud.json'), 'utf8')) as CloudManifest;
  return { stateDir, manifest, stop };
}
