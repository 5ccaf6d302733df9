import type { Command } from 'commander';
import { collect, parseInteger, parseKeyValues } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import { ID_NAME, type OutputOptions } from '../output';
import { resolveFlavor } from '@minicloud/client';
import { InvalidArgumentError } from '@minicloud/domain-errors';
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
  project?: string;
  property?: string[];
}

interface SetOptions {
  project?: string;
  property?: string[];
}

/**
 * `flavor create|list|show|delete|set|unset`. Sizes: --ram in MB, --disk and --ephemeral in GB, --swap
 * in MB. As the openstack CLI: `create --private --project P` grants the new private flavor to P,
 * `set --project P` / `unset --project P` grant and revoke access, `--property k=v` / `--property k`
 * set and unset extra specs.
 */
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
      .option('--project <project-id>', 'grant the new private flavor to this project')
      .option('--property <key=value>', 'extra spec (repeatable)', collect),
  ).action(async (name: string, o: CreateOptions) => {
    const extraSpecs = parseKeyValues('--property', o.property);
    if (o.project && !o.private) throw new InvalidArgumentError('--project', 'only a --private flavor has an access list');
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
    if (o.project) await c.addFlavorAccess({ flavorId: res.flavor!.id, projectId: o.project });
    ctx.printShow(plainView(res.flavor ?? {}), o);
  });

  cmd
    .command('set <flavor>')
    .description("grant a project access to a private flavor and/or set extra specs")
    .option('--project <project-id>', 'project to grant')
    .option('--property <key=value>', 'extra spec to set (repeatable)', collect)
    .action(async (ref: string, o: SetOptions) => {
      const extraSpecs = parseKeyValues('--property', o.property);
      const c = await ctx.session.client('compute');
      const flavor = await resolveFlavor(c, ref);
      if (Object.keys(extraSpecs).length) await c.setFlavorExtraSpecs({ flavorId: flavor.id, extraSpecs, unset: [] });
      if (o.project) await c.addFlavorAccess({ flavorId: flavor.id, projectId: o.project });
    });

  cmd
    .command('unset <flavor>')
    .description("revoke a project's access to a private flavor and/or unset extra specs")
    .option('--project <project-id>', 'project to revoke')
    .option('--property <key>', 'extra spec to unset (repeatable)', collect)
    .action(async (ref: string, o: SetOptions) => {
      const c = await ctx.session.client('compute');
      const flavor = await resolveFlavor(c, ref);
      if (o.property?.length) await c.setFlavorExtraSpecs({ flavorId: flavor.id, extraSpecs: {}, unset: o.property });
      if (o.project) await c.removeFlavorAccess({ flavorId: flavor.id, projectId: o.project });
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
