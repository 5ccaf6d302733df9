import type { FastifyRequest } from 'fastify';
import { queryValue } from '../http/context';
import { invalidField } from '../http/errors';

/** A query parameter as Cinder reads a boolean flag (`all_tenants=1`, `True`, `true`). */
export function flag(req: FastifyRequest, name: string): boolean {
  const v = queryValue(req, name);
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.toLowerCase());
}

/** A sort order: key and direction, most significant first. */
export type SortOrder = [string, 'asc' | 'desc'][];

/**
 * Cinder's sort parameters (cinder/api/common.py get_sort_params): `sort=key[:dir],...`, or
 * `sort_key`/`sort_dir` (one direction for every key); default created_at desc; `id` in the same
 * direction as the last key breaks ties, as Cinder appends it. `keys` lists the sortable keys.
 * @throws HttpError 400 naming sort_key or sort_dir for an unknown key or direction, or both syntaxes at once
 */
export function cinderSortOrder(req: FastifyRequest, keys: readonly string[]): SortOrder {
  const sort = queryValue(req, 'sort');
  const sortKey = queryValue(req, 'sort_key');
  const sortDir = queryValue(req, 'sort_dir');
  if (sort !== undefined && (sortKey !== undefined || sortDir !== undefined)) throw invalidField('sort', "the 'sort' parameter cannot be combined with sort_key or sort_dir.");
  const raw: [string, string][] = sort !== undefined
    ? sort.split(',').map((s) => s.trim().split(':', 2) as [string, string?]).map(([k, d]) => [k, (d ?? 'desc').toLowerCase()])
    : (sortKey ?? 'created_at').split(',').map((k) => [k.trim(), (sortDir ?? 'desc').toLowerCase()]);
  for (const [k, d] of raw) {
    if (!keys.includes(k)) throw invalidField('sort_key', `Invalid sort key: ${k}. It should be one of: ${keys.join(', ')}.`);
    if (d !== 'asc' && d !== 'desc') throw invalidField('sort_dir', `Invalid sort direction: ${d}.`);
  }
  const order = raw as SortOrder;
  return order.some(([k]) => k === 'id') ? order : [...order, ['id', order[order.length - 1][1]]];
}

/** Sorts `items` by `order`, reading each key with `valueOf` (strings and numbers compare naturally). */
export function sortBy<T>(items: T[], order: SortOrder, valueOf: (t: T, key: string) => string | number): T[] {
  return items.sort((a, b) => {
    for (const [k, d] of order) {
      const x = valueOf(a, k);
      const y = valueOf(b, k);
      const c = x < y ? -1 : x > y ? 1 : 0;
      if (c !== 0) return d === 'asc' ? c : -c;
    }
    return 0;
  });
}
