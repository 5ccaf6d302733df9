import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { CloudManifest } from '../../../tools/cloud/manifest';

const ROOT = path.resolve(__dirname, '../../..');

/** What a boot bench needs from its seeded project: ids to create servers with and the admin token. */
export interface BenchProject {
  imageId: string;
  networkId: string;
  /** The flavor id to boot (1 vCPU, 256 MB, 1 GB). */
  flavorRef: string;
  /** The admin's token from the CLI's login, for direct gRPC clients. */
  token: string;
}

/**
 * Seeds the admin project of a bench cloud through the CLI (its own process per call, as a user's
 * would be): login, quotas lifted (identity's defaults, 10 instances and 500 ports, would refuse
 * most creates), a 1-vCPU flavor `flavorName`, a 16 MB qcow2 image made with qemu-img, and a network
 * with one subnet `cidr` (size it for the bench's VM count: a /16 holds 65,534 addresses).
 * @throws the CLI's error output (execFileSync) when a step fails
 */
export function seedBenchProject(manifest: CloudManifest, stateDir: string, o: { flavorName: string; imageName: string; networkName: string; cidr: string }): BenchProject {
  const cliEnv = {
    ...process.env,
    MINICLOUD_URL: manifest.identity_url,
    MINICLOUD_USER: manifest.admin.user,
    MINICLOUD_PASSWORD: manifest.admin.password,
    MINICLOUD_PROJECT: manifest.admin.project,
    ...(manifest.tls ? { MINICLOUD_CACERT: manifest.tls.ca_file } : {}),
    MINICLOUD_CONFIG_DIR: path.join(stateDir, 'cli'),
  };
  const cli = (...args: string[]) => execFileSync(process.execPath, ['--require', 'tsx/cjs', 'apps/cli/src/main.ts', ...args], { cwd: ROOT, env: cliEnv, encoding: 'utf8' });
  const file = path.join(stateDir, 'bench.qcow2');
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, '16M']);
  cli('login');
  cli('quota', 'set', manifest.admin.project, '--instances', '-1', '--cores', '-1', '--ram', '-1', '--ports', '-1');
  cli('flavor', 'create', o.flavorName, '--vcpus', '1', '--ram', '256', '--disk', '1');
  const imageId = JSON.parse(cli('image', 'create', o.imageName, '--file', file, '--disk-format', 'qcow2', '--public', '-f', 'json')).id as string;
  const networkId = JSON.parse(cli('network', 'create', o.networkName, '--subnet-range', o.cidr, '-f', 'json')).id as string;
  const token = JSON.parse(fs.readFileSync(path.join(stateDir, 'cli', 'credentials.json'), 'utf8')).token as string;
  return { imageId, networkId, flavorRef: o.flavorName, token };
}

/** The q-quantile (0..1) of `sorted` (ascending) by the nearest-rank method; undefined when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
