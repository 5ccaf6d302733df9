import type { Command } from 'commander';
import { UnauthenticatedError } from '@minicloud/domain-errors';
import { withOutputOptions, type CommandContext } from '../context';
import { CliError } from '../errors';
import type { OutputOptions } from '../output';
import { authenticate, DEFAULT_IDENTITY_URL, deleteCredentials, readCredentials, writeCredentials } from '../credentials';
import { plainView } from '../views';

/** `login`, `logout`, `token issue`. */
export function registerAuthCommands(program: Command, ctx: CommandContext): void {
  const env = ctx.io.env;
  program
    .command('login')
    .description('authenticate (IdentityService.Authenticate) and store the token and catalog')
    .option('--url <host:port>', 'identity endpoint (env MINICLOUD_URL)')
    .option('--user <name>', 'user name (env MINICLOUD_USER)')
    .option('--password <password>', 'password (env MINICLOUD_PASSWORD)')
    .option('--project <name>', 'project to scope to (env MINICLOUD_PROJECT)')
    .option('--domain <name>', 'user domain (default "default")')
    .action(async (o: { url?: string; user?: string; password?: string; project?: string; domain?: string }) => {
      const user = o.user ?? env.MINICLOUD_USER;
      const password = o.password ?? env.MINICLOUD_PASSWORD;
      if (!user) throw new CliError('missing --user (or env MINICLOUD_USER)', 'INVALID_ARGUMENT');
      if (!password) throw new CliError('missing --password (or env MINICLOUD_PASSWORD)', 'INVALID_ARGUMENT');
      const creds = await authenticate(ctx.io, {
        url: o.url ?? (env.MINICLOUD_URL || DEFAULT_IDENTITY_URL),
        user,
        password,
        project: o.project ?? env.MINICLOUD_PROJECT,
        domain: o.domain,
      });
      writeCredentials(ctx.io, creds);
      ctx.out(`Logged in as ${creds.user_name} in project ${creds.project_name} (roles: ${creds.roles.join(', ')}); token expires ${creds.expires_at}\n`);
    });

  program
    .command('logout')
    .description('revoke the stored token and delete the credentials file')
    .action(async () => {
      if (!readCredentials(ctx.io)) throw new CliError("not logged in: run 'minicloud login'");
      try {
        const identity = await ctx.session.client('identity');
        await identity.revokeToken({});
      } catch (e) {
        // An expired or already revoked token needs no revoking; anything else is reported after cleanup.
        if (!(e instanceof UnauthenticatedError) && !(e instanceof CliError)) {
          deleteCredentials(ctx.io);
          throw e;
        }
      }
      deleteCredentials(ctx.io);
      ctx.session.reset();
      ctx.out('Logged out\n');
    });

  const token = program.command('token').description('tokens');
  withOutputOptions(token.command('issue').description('show the current token (IdentityService.ValidateToken)')).action(async (o: OutputOptions) => {
    const creds = await ctx.session.grant();
    const identity = await ctx.session.client('identity');
    const info = (await identity.validateToken({ token: creds.token })).info;
    const v = plainView(info ?? {});
    ctx.printShow(
      { expires: v.expires_at, id: creds.token, project_id: v.project_id, project_name: v.project_name, user_id: v.user_id, user_name: v.user_name, roles: v.roles },
      o,
    );
  });
}
