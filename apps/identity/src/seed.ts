import { AlreadyExistsError } from '@minicloud/domain-errors';
import { COMPUTE_AGENT_ROLE } from '@minicloud/platform-auth';
import type { DirectoryStore, ProjectRecord, RoleRecord, UserRecord } from './directory-store';
import { verifySecret } from './password-hash';

/** What identity creates at start (Keystone's `keystone-manage bootstrap`). */
export interface SeedSpec {
  adminPassword: string;
  serviceUser: string;
  servicePassword: string;
  serviceProject: string;
  /** More service users, each with its own password and role on the service project (per-service and per-agent credentials). */
  serviceAccounts?: readonly ServiceAccount[];
}

/** A service's or a compute agent's own identity user: `admin` (a service) or `compute_agent` (an agent) on the service project. */
export interface ServiceAccount {
  name: string;
  password: string;
  role: 'admin' | typeof COMPUTE_AGENT_ROLE;
  /** A compute agent's hypervisor hosts: the only host ids its tokens may act for (claim `host_ids`). */
  hostIds?: string[];
}

async function ensure<T>(find: () => Promise<T | undefined>, create: () => Promise<T>): Promise<T> {
  const found = await find();
  if (found) return found;
  try {
    return await create();
  } catch (e) {
    // another replica seeded it at the same moment
    if (e instanceof AlreadyExistsError) return (await find()) as T;
    throw e;
  }
}

/**
 * Idempotent bootstrap: domain `Default` (id "default", as Keystone names it), projects admin and the service project,
 * roles admin -> member -> reader and compute_agent -> reader, user admin (admin on project admin),
 * the service user (admin on the service project) and each of `serviceAccounts` (its role on the
 * service project; an agent's account also gets its host ids). Each of these users also holds its
 * role on the system scope (as `keystone-manage bootstrap` grants admin on the system), which the
 * services' system-scoped logins use. Passwords are reset to the configured ones when they differ, as bootstrap does.
 */
export async function seedDirectory(dir: DirectoryStore, spec: SeedSpec): Promise<{ admin: UserRecord; adminProject: ProjectRecord }> {
  const domain = await ensure(() => dir.getDomain('default'), () => dir.createDomain('Default', 'default'));
  const project = (name: string) => ensure(() => dir.projectByName(domain.id, name), () => dir.createProject({ name, domainId: domain.id, description: `${name} project` }));
  const adminProject = await project('admin');
  const serviceProject = await project(spec.serviceProject);
  const role = (name: string, implies: string[]) => ensure<RoleRecord>(() => dir.roleByName(name), () => dir.createRole(name, implies));
  await role('reader', []);
  await role('member', ['reader']);
  const admin = await role('admin', ['member']);
  const agentRole = await role(COMPUTE_AGENT_ROLE, ['reader']);
  const user = async (name: string, password: string, p: ProjectRecord, r: RoleRecord = admin) => {
    const u = await ensure(() => dir.userByName(domain.id, name), () => dir.createUser({ name, password, domainId: domain.id, defaultProjectId: p.id }));
    if (!(await verifySecret(password, u.passwordHash))) await dir.updateUser(u.id, { password });
    await dir.assign({ roleId: r.id, userId: u.id, groupId: '', projectId: p.id, domainId: '' });
    // Keystone's bootstrap also grants the role on the system; services log in system-scoped
    await dir.assign({ roleId: r.id, userId: u.id, groupId: '', projectId: '', domainId: '', system: 'all' });
    return u;
  };
  const adminUser = await user('admin', spec.adminPassword, adminProject);
  await user(spec.serviceUser, spec.servicePassword, serviceProject);
  for (const a of spec.serviceAccounts ?? []) {
    const u = await user(a.name, a.password, serviceProject, a.role === 'admin' ? admin : agentRole);
    // Set at every start like the password: the configured hosts are the account's hosts.
    const hostIds = a.role === COMPUTE_AGENT_ROLE ? [...(a.hostIds ?? [])] : [];
    if (JSON.stringify(u.hostIds) !== JSON.stringify(hostIds)) await dir.setUserHostIds(u.id, hostIds);
  }
  return { admin: adminUser, adminProject };
}
