import fs from 'node:fs';
import path from 'node:path';

/** One cloud of a clouds.yaml: a user of the default domain and a project of it, or the system scope. */
export interface CloudEntry {
  name: string;
  user: string;
  password: string;
  /** The project scope (exclusive with `system`). */
  project?: string;
  /** keystoneauth's `system_scope` ("all"): a system-scoped token, as `--os-system-scope all`. */
  system?: 'all';
}

/**
 * The clouds.yaml the `openstack` CLI and openstacksdk read (OS_CLIENT_CONFIG_FILE): one entry per
 * cloud, Keystone v3 password auth against `<apiUrl>/identity`, user and project in the default
 * domain (by id, so no name lookup), or the system scope (`system_scope`), region and public interface; with `cacert` (an HTTPS front), the
 * CA file openstacksdk verifies the endpoints with (its `cacert` option, as `--os-cacert`).
 */
export function cloudsYaml(apiUrl: string, region: string, clouds: CloudEntry[], cacert?: string): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = ['clouds:'];
  for (const c of clouds) {
    lines.push(
      `  ${c.name}:`,
      '    auth:',
      `      auth_url: ${q(`${apiUrl}/identity`)}`,
      `      username: ${q(c.user)}`,
      `      password: ${q(c.password)}`,
      ...(c.system ? [`      system_scope: ${q(c.system)}`] : [`      project_name: ${q(c.project ?? '')}`]),
      '      user_domain_id: "default"',
      ...(c.system ? [] : ['      project_domain_id: "default"']),
      `    region_name: ${q(region)}`,
      '    interface: "public"',
      '    identity_api_version: 3',
      ...(cacert ? [`    cacert: ${q(cacert)}`, '    verify: true'] : []),
    );
  }
  return lines.join('\n') + '\n';
}

/** Writes `<stateDir>/clouds.yaml` (mode 0600: it holds passwords) and returns its path. */
export function writeCloudsYaml(stateDir: string, apiUrl: string, region: string, clouds: CloudEntry[], cacert?: string): string {
  const file = path.join(stateDir, 'clouds.yaml');
  fs.writeFileSync(file, cloudsYaml(apiUrl, region, clouds, cacert), { mode: 0o600 });
  return file;
}
