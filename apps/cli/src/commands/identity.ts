import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type OutputOptions } from '../output';
import { pages, resolveProject } from '@minicloud/client';
import { plainView } from '../views';
import { registerList } from './resource-commands';

/** `project list|create`, `user list|create` (IdentityService). */
export function registerIdentityCommands(program: Command, ctx: CommandContext): void {
  const project = program.command('project').description('projects (IdentityService)');
  const identity = () => ctx.session.client('identity');
  registerList(project, ctx, { noun: 'project', list: () => pages((page) => identity().listProjects({ page }), 'projects'), columns: ID_NAME, view: plainView });
  withOutputOptions(
    project.command('create <name>').description('create a project').option('--description <text>', 'description').option('--domain <id>', 'domain id'),
  ).action(async (name: string, o: OutputOptions & { description?: string; domain?: string }) => {
    const c = await ctx.session.client('identity');
    const res = await c.createProject({ name, description: o.description ?? '', domainId: o.domain ?? '' });
    ctx.printShow(plainView(res.project ?? {}), o);
  });

  const user = program.command('user').description('users (IdentityService)');
  registerList(user, ctx, { noun: 'user', list: () => pages((page) => identity().listUsers({ page }), 'users'), columns: ID_NAME, view: plainView });
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
