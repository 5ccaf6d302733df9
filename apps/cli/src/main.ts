import fs from 'node:fs';
import { Command, CommanderError } from 'commander';
import { connectGrpcTls } from '@minicloud/client';
import { CliError } from './errors';
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
import { registerLoadBalancerCommands, registerScalingGroupCommands } from './commands/elasticity';
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
    .description('command-line client of the minicloud public APIs (like the openstack CLI); anywhere on the line, --cacert <file> (env MINICLOUD_CACERT) verifies a TLS cloud against that CA, and --os-region-name <region> (env MINICLOUD_REGION or OS_REGION_NAME) talks to that region\'s services')
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
  registerLoadBalancerCommands(program, ctx);
  registerScalingGroupCommands(program, ctx);
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
 * Takes the global `--cacert <file>` (or `--cacert=<file>`, anywhere in `argv`; the openstack CLI's
 * `--os-cacert`) out of `argv`. With it, or else with env MINICLOUD_CACERT, and no injected
 * `io.connect`, every gRPC connection is TLS verified against that CA file (the bring-up prints it).
 * Without either, connections follow the environment's TLS_CA_FILE, else plaintext.
 * @throws CliError when `--cacert` has no value or the file cannot be read or is not PEM
 */
export function withCacert(argv: readonly string[], io: CliIo): { argv: string[]; io: CliIo } {
  const rest: string[] = [];
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--cacert') {
      file = argv[++i];
      if (!file) throw new CliError('--cacert needs a file (the cloud CA, PEM)', 'INVALID_ARGUMENT');
    } else if (a.startsWith('--cacert=')) file = a.slice('--cacert='.length);
    else rest.push(a);
  }
  file ||= io.env.MINICLOUD_CACERT || undefined;
  if (!file || io.connect) return { argv: rest, io };
  let ca: Buffer;
  try {
    ca = fs.readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read the CA file ${file}: ${(e as Error).message}`, 'INVALID_ARGUMENT');
  }
  if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new CliError(`the CA file ${file} holds no PEM certificate`, 'INVALID_ARGUMENT');
  return { argv: rest, io: { ...io, connect: connectGrpcTls({ ca }) } };
}

/**
 * Takes the global `--os-region-name <region>` (or `--os-region-name=<region>`, anywhere in `argv`;
 * the openstack CLI's option) out of `argv`. Without it, env MINICLOUD_REGION, else OS_REGION_NAME.
 * The session then uses that region's endpoints of the shared catalog; none: RegionOne.
 * @throws CliError when `--os-region-name` has no value or the value is not a region id
 */
export function withRegion(argv: readonly string[], io: CliIo): { argv: string[]; region: string | undefined } {
  const rest: string[] = [];
  let region: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    if (a === '--os-region-name') {
      region = argv[++i];
      if (!region) throw new CliError('--os-region-name needs a region id (e.g. RegionTwo)', 'INVALID_ARGUMENT');
    } else if (a.startsWith('--os-region-name=')) region = a.slice('--os-region-name='.length);
    else rest.push(a);
  }
  region ||= io.env.MINICLOUD_REGION || io.env.OS_REGION_NAME || undefined;
  if (region !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(region)) throw new CliError(`invalid region '${region}': letters, digits, _ . -, at most 64`, 'INVALID_ARGUMENT');
  return { argv: rest, region };
}

/**
 * Runs the CLI in-process: `argv` are the user's arguments (no node/script prefix). Returns the exit
 * code: 0 on success, 1 on any failure after printing ONE line `Error: ...` on `io.stderr`.
 * `--cacert <file>` (or MINICLOUD_CACERT) verifies the services over TLS ({@link withCacert});
 * `--os-region-name <region>` (or MINICLOUD_REGION / OS_REGION_NAME) picks a region ({@link withRegion}).
 */
export async function main(rawArgv: readonly string[], rawIo: CliIo): Promise<number> {
  let session: ReturnType<typeof openSession> | undefined;
  let io = rawIo;
  try {
    const opened = withCacert(rawArgv, rawIo);
    io = opened.io;
    const { argv, region } = withRegion(opened.argv, io);
    session = openSession(io, region);
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
