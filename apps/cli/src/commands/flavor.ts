import type { Command } from 'commander';
import { collect, parseInteger, parseKeyValues } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type OutputOptions } from '../output';
import { resolveFlavor } from '@minicloud/client';
import { plainView } from '../views';
import { registerListShowDelete } from './resource-commands';

interface CreateOptions extends OutputOptions {
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral?: number;
  swap?: number;
  id?: string;
  private?: boolean;
  property?: string[];
}

/** `flavor create|list|show|delete`. Sizes: --ram in MB, --disk and --ephemeral in GB, --swap in MB. */
export function registerFlavorCommands(program: Command, ctx: CommandContext): void {
  const cmd = program.command('flavor').description('flavors (ComputeService)');

  withOutputOptions(
    cmd
      .command('create <name>')
      .description('create a flavor')
      .requiredOption('--vcpus <n>', 'virtual CPUs', (v) => parseInteger('--vcpus', v))
      .requiredOption('--ram <mb>', 'memory in MB', (v) => parseInteger('--ram', v))
      .requiredOption('--disk <gb>', 'root disk in GB', (v) => parseInteger('--disk', v))
      .option('--ephemeral <gb>', 'ephemeral disk in GB', (v) => parseInteger('--ephemeral', v))
      .option('--swap <mb>', 'swap in MB', (v) => parseInteger('--swap', v))
      .option('--id <id>', 'flavor id (default: generated)')
      .option('--private', 'not public')
      .option('--property <key=value>', 'extra spec (repeatable)', collect),
  ).action(async (name: string, o: CreateOptions) => {
    const extraSpecs = parseKeyValues('--property', o.property);
    const c = await ctx.session.client('compute');
    const res = await c.createFlavor({
      name,
      vcpus: o.vcpus,
      ramMb: o.ram,
      diskGb: o.disk,
      ephemeralGb: o.ephemeral ?? 0,
      swapMb: o.swap ?? 0,
      id: o.id ?? '',
      isPublic: !o.private,
      extraSpecs,
    });
    ctx.printShow(plainView(res.flavor ?? {}), o);
  });

  const compute = () => ctx.session.client('compute');
  registerListShowDelete(cmd, ctx, {
    noun: 'flavor',
    list: async () => (await compute().listFlavors({})).flavors,
    columns: [
      ...ID_NAME,
      { header: 'RAM', key: 'ram_mb' },
      { header: 'Disk', key: 'disk_gb' },
      { header: 'Ephemeral', key: 'ephemeral_gb' },
      { header: 'VCPUs', key: 'vcpus' },
      { header: 'Is Public', key: 'is_public' },
    ],
    view: plainView,
    resolve: (ref) => resolveFlavor(compute(), ref),
    remove: (flavorId) => compute().deleteFlavor({ flavorId }),
  });
}
