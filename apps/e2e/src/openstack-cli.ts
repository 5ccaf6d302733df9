import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CliResult } from './cloud-harness';
import { RunnerPool } from './runner-pool';

/** The runner of the openstack CLI's `main` (apps/e2e/src/openstack-runner.py). */
const OPENSTACK_RUNNER = join(__dirname, 'openstack-runner.py');
let runners: RunnerPool | undefined;
// Jest loads this module afresh for each suite file: its runners end with the file.
if (typeof afterAll === 'function') afterAll(() => runners?.close());

/**
 * Runs the real `openstack` CLI against a cloud of `cloudsYaml` (OS_CLIENT_CONFIG_FILE, OS_CLOUD),
 * with no other OS_* settings of the caller's environment leaking in. The call runs
 * `openstackclient.shell.main`, the function Debian's `/usr/bin/openstack` runs (python3-openstackclient,
 * installed by tools/setup.sh), in a reused Python runner
 * (openstack-runner.py): the suite pays Python's start-up and the client's imports once, not at
 * every call. The runners end with the suite.
 */
export function openstack(cloudsYaml: string, cloud: string, args: string[]): Promise<CliResult> {
  if (!runners) {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('OS_')) env[k] = v;
    runners = new RunnerPool('/usr/bin/python3', [OPENSTACK_RUNNER], { env });
  }
  return runners.call({ args, env: { OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: cloud } });
}

/** Runs `openstack ... -f json` and parses its output; throws with stderr when it exits non-zero. */
export async function openstackJson<T = Record<string, unknown>>(cloudsYaml: string, cloud: string, args: string[]): Promise<T> {
  const r = await openstack(cloudsYaml, cloud, [...args, '-f', 'json']);
  if (r.code !== 0) throw new Error(`openstack ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Writes `<dir>/<user>.yaml`, a clouds.yaml with one cloud named `user`: `user` of the default domain
 * in `project`, against the REST front at `apiUrl` (Keystone at `<apiUrl>/identity`), verified with
 * the CA file `cacert` when the front is HTTPS (the manifest's `tls.ca_file`). Returns its path.
 */
export function cloudsYamlFor(dir: string, apiUrl: string, user: string, password: string, project: string, cacert?: string): string {
  const file = join(dir, `${user}.yaml`);
  const auth = { auth_url: `${apiUrl}/identity`, username: user, password, project_name: project, user_domain_id: 'default', project_domain_id: 'default' };
  writeFileSync(file, JSON.stringify({ clouds: { user: { auth, region_name: 'RegionOne', interface: 'public', identity_api_version: 3, ...(cacert ? { cacert } : {}) } } }), { mode: 0o600 });
  return file;
}
