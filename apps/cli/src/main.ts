import { Command, CommanderError } from 'commander';
import { createContext, type CommandContext } from './context';
import { formatError } from './errors';
import type { CliIo } from './io';
import { openSession } from './credentials';
import { registerAuthCommands } from './commands/auth';
import { registerServerCommands } from './commands/server';
import { registerServerGroupCommands } from './commands/server-group';
import { registerAggregateCommands } from './commands/aggregate';
import { registerQuotaCommands } from './commands/quota';
import { registerImageCommands } from './commands/image';
import { registerNetworkCommands } from './commands/network';
import { registerFlavorCommands } from './commands/flavor';
import { registerHostCommands } from './commands/host';
import { registerChaosCommands } from './commands/chaos';
import { registerVolumeCommands } from './commands/volume';
import { registerIdentityCommands } from './commands/identity';
import { registerSimCommands } from './commands/sim';
import { registerServerVolumeCommands } from './commands/server-volume';
import { registerServerInterfaceCommands } from './commands/server-interface';
import { registerMigrationCommands } from './commands/migration';
import { registerEvacuateCommands } from './commands/evacuate';
import { registerFtCommands } from './commands/ft';
import { registerConsoleLogCommands } from './commands/console-log';

/** The commander program with every command group registered against `ctx`. */
export function buildProgram(ctx: CommandContext): Command {
  const program = new Command('minicloud')
    .description('command-line client of the minicloud public APIs (like the openstack CLI)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => void ctx.io.stdout.write(s),
      writeErr: (s) => void ctx.io.stderr.write(s),
      // Errors are printed once, as one line, by main().
      outputError: () => undefined,
    });
  registerAuthCommands(program, ctx);
  registerServerCommands(program, ctx);
  registerServerGroupCommands(program, ctx);
  registerAggregateCommands(program, ctx);
  registerQuotaCommands(program, ctx);
  registerImageCommands(program, ctx);
  registerNetworkCommands(program, ctx);
  registerFlavorCommands(program, ctx);
  registerHostCommands(program, ctx);
  registerChaosCommands(program, ctx);
  registerVolumeCommands(program, ctx);
  registerIdentityCommands(program, ctx);
  registerSimCommands(program, ctx);
  registerServerVolumeCommands(program, ctx);
  registerServerInterfaceCommands(program, ctx);
  registerMigrationCommands(program, ctx);
  registerEvacuateCommands(program, ctx);
  registerFtCommands(program, ctx);
  registerConsoleLogCommands(program, ctx);
  return program;
}

/**
 * Runs the CLI in-process: `argv` are the user's arguments (no node/script prefix). Returns the exit
 * code: 0 on success, 1 on any failure after printing ONE line `Error: ...` on `io.stderr`.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let session: ReturnType<typeof openSession> | undefined;
  try {
    session = openSession(io);
    const ctx = createContext(io, session);
    await buildProgram(ctx).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError && ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(e.code)) return e.exitCode;
    io.stderr.write(`${formatError(e)}\n`);
    return 1;
  } finally {
    session?.close();
  }
}

/** Entry point of the executable: process argv/stdio/env; sets the process exit code. */
export function runFromProcess(): void {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`${formatError(e)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runFromProcess();
