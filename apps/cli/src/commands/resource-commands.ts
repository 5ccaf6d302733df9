import type { Command } from 'commander';
import { withOutputOptions, type CommandContext } from '../context';
import type { Column, OutputOptions } from '../output';
import type { View } from '../views';

/** One resource kind's list, show and delete, as {@link registerListShowDelete} registers them. */
export interface ResourceCommands<T extends { id: string }> {
  /** Singular noun in help texts, e.g. "flavor". */
  noun: string;
  /** Name of the positional argument of show and delete; default `noun`. */
  arg?: string;
  /** Every resource to list (all pages). */
  list: () => Promise<T[]>;
  /** Columns of `list` (the openstack CLI's headers). */
  columns: readonly Column[];
  /** How a resource is shown (list rows and `show`). */
  view: (resource: T) => View;
  /** By id or name (a @minicloud/client resolver); throws NOT_FOUND or the ambiguity error. */
  resolve: (ref: string) => Promise<T>;
  /** Deletes by id. */
  remove: (id: string) => Promise<unknown>;
}

/**
 * Registers `<cmd> list`, `<cmd> show <ref>` and `<cmd> delete <ref...>` (refs resolved by id or
 * name, deleted in order; the first failure stops the rest, as the openstack CLI reports it).
 */
export function registerListShowDelete<T extends { id: string }>(cmd: Command, ctx: CommandContext, r: ResourceCommands<T>): void {
  registerList(cmd, ctx, r);
  withOutputOptions(cmd.command(`show <${r.arg ?? r.noun}>`).description(`show one ${r.noun} (id or name)`)).action(async (ref: string, o: OutputOptions) => {
    ctx.printShow(r.view(await r.resolve(ref)), o);
  });
  cmd
    .command(`delete <${r.arg ?? r.noun}...>`)
    .description(`delete ${r.noun}s`)
    .action(async (refs: string[]) => {
      for (const ref of refs) await r.remove((await r.resolve(ref)).id);
    });
}

/** Registers `<cmd> list` of one resource kind (see {@link ResourceCommands}). */
export function registerList<T>(cmd: Command, ctx: CommandContext, r: { noun: string; list: () => Promise<T[]>; columns: readonly Column[]; view: (resource: T) => View }): void {
  withOutputOptions(cmd.command('list').description(`list ${r.noun}s`)).action(async (o: OutputOptions) => {
    ctx.printList((await r.list()).map(r.view), r.columns, o);
  });
}
