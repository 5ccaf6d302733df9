import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { pages, resolveProject } from '@minicloud/client';
import { plainView } from '../views';

const ID_NAME = [
  { header: 'ID', key: 'id' },
  { header: 'Name', key: 'name' },
];

/** `project list|create`, `user list|create` (IdentityService). */
export function registerIdentityCommands(program: Command, ctx: CommandContext): void {
  const project = program.command('project').description('projects (IdentityService)');
  withOutputOptions(project.command('list').description('list projects')).action(async (o: OutputOptions) => {
    const c = await ctx.session.client('identity');
    const projects = await pages((page) => c.listProjects({ page }), 'projects');
    ctx.printList(projects.map(plainView), ID_NAME, o);
  });
  withOutputOptions(
    project.command('create <name>').description('create a project').option('--description <text>', 'description').option('--domain <id>', 'domain id'),
  ).action(async (name: string, o: OutputOptions & { description?: string; domain?: string }) => {
    const c = await ctx.session.client('identity');
    const res = await c.createProject({ name, description: o.description ?? '', domainId: o.domain ?? '' });
    ctx.printShow(plainView(res.project ?? {}), o);
  });

  const user = program.command('user').description('users (IdentityService)');
  withOutputOptions(user.command('list').description('list users')).action(async (o: OutputOptions) => {
    const c = await ctx.session.client('identity');
    const users = await pages((page) => c.listUsers({ page }), 'users');
    ctx.printList(users.map(plainView), ID_NAME, o);
  });
  withOutputOptions(
    user
      .command('create <name>')
      .description('create a user')
      .option('--password <password>', 'password')
      .option('--project <project>', 'default project (id or name)')
      .option('--email <email>', 'e-mail address')
      .option('--domain <id>', 'domain id'),
  ).action(async (name: string, o: OutputOptions & { password?: string; project?: string; email?: string; domain?: string }) => {
    const c = await ctx.session.client('identity');
    const defaultProjectId = o.project ? (await resolveProject(c, o.project)).id : '';
    const res = await c.createUser({ name, password: o.password ?? '', email: o.email ?? '', domainId: o.domain ?? '', defaultProjectId });
    ctx.printShow(plainView(res.user ?? {}), o);
  });
}
