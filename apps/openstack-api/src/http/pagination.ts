import { invalidField, HttpError } from './errors';

/** A page of a list, and the marker of the next page when there may be one. */
export interface Page<T> {
  items: T[];
  /** Id of the last item when the page is full (the client asks again with marker=<it>). */
  nextMarker?: string;
}

/**
 * OpenStack's limit/marker pagination over an ordered list (Nova, Glance, Neutron alike): items
 * after the one whose id is `marker`, at most `limit` (capped at `maxLimit`).
 * @throws HttpError 400 naming `limit` when it is not a non-negative integer, or when `marker` is unknown
 */
export function paginate<T>(items: readonly T[], idOf: (t: T) => string, q: { limit?: string; marker?: string }, maxLimit = 1000): Page<T> {
  let limit = maxLimit;
  if (q.limit !== undefined) {
    if (!/^\d+$/.test(q.limit)) throw invalidField('limit', `'${q.limit}' is not a non-negative integer.`);
    limit = Math.min(Number(q.limit), maxLimit);
  }
  let start = 0;
  if (q.marker !== undefined) {
    const i = items.findIndex((t) => idOf(t) === q.marker);
    if (i < 0) throw new HttpError(400, `marker [${q.marker}] not found`, 'HTTPBadRequest');
    start = i + 1;
  }
  const page = items.slice(start, start + limit);
  const full = page.length === limit && limit > 0 && start + limit < items.length;
  return { items: page, nextMarker: full ? idOf(page[page.length - 1]) : undefined };
}
