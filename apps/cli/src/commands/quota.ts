import type { Command } from 'commander';
import { parseInteger } from '../args';
import { withOutputOptions, type CommandContext } from '../context';
import type { OutputOptions } from '../output';
import { resolveProject } from '@minicloud/client';

/** Flags of `quota set` -> identity's resource names (-1 = unlimited). */
const LIMIT_FLAGS: [string, string, string][] = [
  ['instances', 'instances', '--instances <n>'],
  ['cores', 'cores', '--cores <n>'],
  ['ram', 'ram_mb', '--ram <mb>'],
  ['ports', 'ports', '--ports <n>'],
];

/** `quota show [project]` and `quota set <project> --instances/--cores/--ram/--ports` (identity's quotas; set is admin). */
export function registerQuotaCommands(program: Command, ctx: CommandContext): void {
  const quota = program.command('quota').description('project quotas (IdentityService)');
  const projectId = async (ref: string | undefined) => {
    if (!ref) return (await ctx.session.grant()).projectId;
    return (await resolveProject(await ctx.session.client('identity'), ref)).id;
  };
  const print = (q: { limits: Record<string, number>; inUse: Record<string, number>; reserved: Record<string, number> }, o: OutputOptions) =>
    ctx.printList(
      Object.keys(q.limits)
        .sort()
        .map((k) => ({ resource: k, limit: q.limits[k], in_use: q.inUse[k] ?? 0, reserved: q.reserved[k] ?? 0 })),
      [
        { header: 'Resource', key: 'resource' },
        { header: 'Limit', key: 'limit' },
        { header: 'In Use', key: 'in_use' },
        { header: 'Reserved', key: 'reserved' },
      ],
      o,
    );
  withOutputOptions(quota.command('show [project]').description("limits and usage (default: the token's project)")).action(async (ref: string | undefined, o: OutputOptions) => {
    const q = (await (await ctx.session.client('identity')).getQuota({ projectId: await projectId(ref) })).quota!;
    print(q, o);
  });
  const set = quota.command('set <project>').description('set limits (admin)');
  for (const [, , flag] of LIMIT_FLAGS) set.option(flag, 'limit (-1 = unlimited)', (v) => parseInteger(flag.split(' ')[0], v));
  withOutputOptions(set).action(async (ref: string, o: OutputOptions & Record<string, number | undefined>) => {
    const limits: Record<string, number> = {};
    for (const [opt, name] of LIMIT_FLAGS) if (o[opt] !== undefined) limits[name] = o[opt]!;
    const q = (await (await ctx.session.client('identity')).setQuota({ projectId: await projectId(ref), limits })).quota!;
    print(q, o);
  });
}
