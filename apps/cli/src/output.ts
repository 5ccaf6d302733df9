import Table from 'cli-table3';
import { InvalidArgumentError } from '@minicloud/domain-errors';
import type { View } from './views';

/** `-f table` (default, cli-table3), `-f json` (snake_case like the proto), `-f value` (for scripts). */
export type OutputFormat = 'table' | 'json' | 'value';

/** The `-f/--format` and `-c/--column` options of list and show commands. */
export interface OutputOptions {
  format?: string;
  column?: string[];
}

/** One column of a list: `header` as the openstack CLI titles it, `key` for JSON, `get` to compute it. */
export interface Column {
  header: string;
  key: string;
  get?: (view: View) => unknown;
}

/** The leading ID and Name columns most lists start with. */
export const ID_NAME: readonly Column[] = [
  { header: 'ID', key: 'id' },
  { header: 'Name', key: 'name' },
];

/** Checks `-f`; throws InvalidArgumentError naming --format for anything but table/json/value. */
export function parseFormat(format: string | undefined): OutputFormat {
  const f = format ?? 'table';
  if (f === 'table' || f === 'json' || f === 'value') return f;
  throw new InvalidArgumentError('--format', `must be table, json or value, got "${f}"`);
}

/**
 * Renders a list of resources. Columns picked with `-c` (header or key, case-insensitive, repeatable)
 * keep the order given; an unknown one throws InvalidArgumentError naming --column. JSON without `-c`
 * prints the whole views; with `-c`, objects of the chosen columns keyed by `key`. Ends with "\n".
 */
export function renderList(rows: readonly View[], columns: readonly Column[], opts: OutputOptions = {}): string {
  const format = parseFormat(opts.format);
  const chosen = opts.column?.length ? opts.column.map((c) => pickColumn(columns, c)) : columns;
  const cell = (row: View, c: Column) => (c.get ? c.get(row) : row[c.key]);
  if (format === 'json') {
    const out = opts.column?.length ? rows.map((r) => Object.fromEntries(chosen.map((c) => [c.key, cell(r, c) ?? null]))) : rows;
    return `${JSON.stringify(out, null, 2)}\n`;
  }
  if (format === 'value') return rows.map((r) => `${chosen.map((c) => formatCell(cell(r, c))).join(' ')}\n`).join('');
  const table = newTable(chosen.map((c) => c.header));
  for (const r of rows) table.push(chosen.map((c) => formatCell(cell(r, c))));
  return `${table.toString()}\n`;
}

/**
 * Renders one resource: a Field/Value table, the JSON object, or one value per line. `-c` picks fields
 * by key (case-insensitive); an unknown one throws InvalidArgumentError naming --column.
 */
export function renderShow(view: View, opts: OutputOptions = {}): string {
  const format = parseFormat(opts.format);
  let keys = Object.keys(view);
  if (opts.column?.length) {
    keys = opts.column.map((c) => {
      const k = keys.find((key) => key.toLowerCase() === c.toLowerCase());
      if (!k) throw new InvalidArgumentError('--column', `unknown field "${c}"; choose from ${keys.join(', ')}`);
      return k;
    });
  }
  if (format === 'json') return `${JSON.stringify(Object.fromEntries(keys.map((k) => [k, view[k] ?? null])), null, 2)}\n`;
  if (format === 'value') return keys.map((k) => `${formatCell(view[k])}\n`).join('');
  const table = newTable(['Field', 'Value']);
  for (const k of keys) table.push([k, formatCell(view[k])]);
  return `${table.toString()}\n`;
}

/**
 * One table cell as the openstack CLI prints it: '' for null, True/False, lists joined by ", ",
 * maps as `k='v', k2='v2'`, lists of objects one per line.
 */
export function formatCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) {
    if (value.every((v) => v === null || typeof v !== 'object')) return value.map(formatCell).join(', ');
    return value.map(formatCell).join('\n');
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${v !== null && typeof v === 'object' ? JSON.stringify(v) : `'${formatCell(v)}'`}`)
      .join(', ');
  }
  return String(value);
}

function pickColumn(columns: readonly Column[], name: string): Column {
  const lower = name.toLowerCase();
  const c = columns.find((col) => col.header.toLowerCase() === lower || col.key.toLowerCase() === lower);
  if (!c) throw new InvalidArgumentError('--column', `unknown column "${name}"; choose from ${columns.map((x) => x.header).join(', ')}`);
  return c;
}

function newTable(head: string[]): Table.Table {
  // No colours: output is often piped, and ANSI codes break parsing.
  return new Table({ head, style: { head: [], border: [] } });
}
