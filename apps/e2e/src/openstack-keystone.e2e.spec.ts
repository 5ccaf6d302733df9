/**
 * Keystone administration through the OpenStack REST front on a real cloud, with Debian's unchanged
 * `openstack` CLI: an operator makes a project and a user with a role there, the user logs in with
 * their own clouds.yaml and works in the project, groups and domains follow Keystone's rules, and
 * deleting the project ends the user's tokens and leaves no role assignment behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCloud, type RunningCloud } from './cloud-harness';
import { cloudsYamlFor, openstack, openstackJson } from './openstack-cli';

jest.setTimeout(180_000);

describe('Keystone administration with the openstack CLI', () => {
  let cloud: RunningCloud;
  let api = '';
  let yaml = '';
  let dir = '';
  const admin = (args: string[]) => openstack(yaml, 'minicloud', args);
  const adminJson = <T = Record<string, unknown>>(args: string[]) => openstackJson<T>(yaml, 'minicloud', args);

  /** A clouds.yaml with one cloud, `user`, for a user of the default domain in `project`. */
  const cloudsFor = (user: string, password: string, project: string): string => cloudsYamlFor(dir, api, user, password, project, cloud.manifest.tls?.ca_file);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'keystone-e2e-'));
    cloud = await startCloud({ agents: 1, demo: true, extraArgs: ['--demo-servers', '0'] });
    api = cloud.manifest.openstack_api_url!;
    yaml = cloud.manifest.clouds_yaml!;
  });
  afterAll(async () => {
    await cloud?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('project create, user create --project --password, role add member, the user logs in and works, project delete ends it', async () => {
    const project = await adminJson<{ id: string; name: string; enabled: boolean }>(['project', 'create', '--domain', 'default', '--description', 'a team', 'team-a']);
    expect(project).toMatchObject({ name: 'team-a', enabled: true });
    const user = await adminJson<{ id: string; default_project_id: string }>(['user', 'create', '--domain', 'default', '--project', 'team-a', '--password', 'p4ss word!', '--email', 'alice@example.org', 'alice']);
    expect(user.default_project_id).toBe(project.id);
    expect((await admin(['role', 'add', '--project', 'team-a', '--user', 'alice', 'member'])).code).toBe(0);
    const assignments = await adminJson<{ Role: string; User: string; Project: string }[]>(['role', 'assignment', 'list', '--project', 'team-a', '--names']);
    expect(assignments).toEqual([expect.objectContaining({ Role: 'member', User: 'alice@Default', Project: 'team-a@Default' })]);

    // the new user, by name in the default domain, gets a token scoped to the project and works there
    const alice = cloudsFor('alice', 'p4ss word!', 'team-a');
    const token = await openstackJson<{ project_id: string; user_id: string }>(alice, 'user', ['token', 'issue']);
    expect(token).toMatchObject({ project_id: project.id, user_id: user.id });
    const net = await openstackJson<{ id: string; project_id: string }>(alice, 'user', ['network', 'create', 'alice-net']);
    expect(net.project_id).toBe(project.id);
    // a member may not administer identity
    const refused = await openstack(alice, 'user', ['project', 'create', 'sneaky']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/HTTP 403/);

    // a duplicate is the client's normal conflict error
    const dup = await admin(['user', 'create', '--domain', 'default', '--password', 'x', 'alice']);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/HTTP 409/);

    expect((await openstack(alice, 'user', ['network', 'delete', 'alice-net'])).code).toBe(0);
    expect((await admin(['project', 'delete', 'team-a'])).code).toBe(0);
    // the project's tokens end with it and no assignment of alice is left
    const after = await openstack(alice, 'user', ['token', 'issue']);
    expect(after.code).not.toBe(0);
    expect(await adminJson<unknown[]>(['role', 'assignment', 'list', '--user', 'alice'])).toEqual([]);
    expect((await admin(['user', 'delete', 'alice'])).code).toBe(0);
    expect((await admin(['user', 'show', 'alice'])).code).not.toBe(0);
  });

  it('groups grant roles to their members; a domain is deleted only once disabled, and takes its projects with it', async () => {
    await adminJson(['project', 'create', 'team-b']);
    await adminJson(['user', 'create', '--password', 'pw-bob', 'bob']);
    await adminJson(['group', 'create', '--description', 'readers', 'viewers']);
    expect((await admin(['group', 'add', 'user', 'viewers', 'bob'])).code).toBe(0);
    expect((await admin(['group', 'contains', 'user', 'viewers', 'bob'])).stdout).toMatch(/bob in group viewers/);
    expect((await admin(['role', 'add', '--project', 'team-b', '--group', 'viewers', 'reader'])).code).toBe(0);
    const bob = cloudsFor('bob', 'pw-bob', 'team-b');
    expect((await openstackJson<{ project_id: string }>(bob, 'user', ['token', 'issue'])).project_id).toBeTruthy();
    const effective = await adminJson<{ Role: string; User: string; Group: string }[]>(['role', 'assignment', 'list', '--project', 'team-b', '--effective', '--names']);
    expect(effective).toEqual([expect.objectContaining({ Role: 'reader', User: 'bob@Default', Group: '' })]);
    expect((await admin(['group', 'remove', 'user', 'viewers', 'bob'])).code).toBe(0);
    expect((await openstack(bob, 'user', ['token', 'issue'])).code).not.toBe(0);

    await adminJson(['domain', 'create', '--description', 'a company', 'acme']);
    await adminJson(['project', 'create', '--domain', 'acme', 'acme-ops']);
    const enabled = await admin(['domain', 'delete', 'acme']);
    expect(enabled.code).not.toBe(0);
    expect(enabled.stderr).toMatch(/disable it first.*HTTP 403/);
    expect((await admin(['domain', 'set', '--disable', 'acme'])).code).toBe(0);
    expect((await admin(['domain', 'delete', 'acme'])).code).toBe(0);
    expect((await adminJson<{ Name: string }[]>(['project', 'list'])).map((p) => p.Name)).not.toContain('acme-ops');
  });
});
