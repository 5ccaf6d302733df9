import type { Command } from 'commander';
import type { CliIo } from './io';
import { renderList, renderShow, type Column, type OutputOptions } from './output';
import type { Session } from '@minicloud/client';
import type { View } from './views';

/** What every command handler gets: the injected I/O, the session (token + clients) and printers. */
export interface CommandContext {
  io: CliIo;
  session: Session;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Writes to stdout as is. */
  out(text: string): void;
  /** Prints a list in the format chosen with -f/-c. */
  printList(rows: readonly View[], columns: readonly Column[], opts: OutputOptions): void;
  /** Prints one resource in the format chosen with -f/-c. */
  printShow(view: View, opts: OutputOptions): void;
}

/** Builds the context of one run. */
export function createContext(io: CliIo, session: Session): CommandContext {
  const out = (text: string) => void io.stdout.write(text);
  return {
    io,
    session,
    now: io.now ?? Date.now,
    sleep: io.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))),
    out,
    printList: (rows, columns, opts) => out(renderList(rows, columns, opts)),
    printShow: (view, opts) => out(renderShow(view, opts)),
  };
}

/** Adds the openstack CLI's output options: `-f table|json|value` and repeatable `-c <column>`. */
export function withOutputOptions(cmd: Command): Command {
  return cmd
    .option('-f, --format <format>', 'output format: table, json or value', 'table')
    .option('-c, --column <column>', 'show only this column (repeatable)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v]);
}
