/**
 * Collects every page of a List* call. `fetch(pageToken)` returns one page's items and the
 * `next_page_token` ('' or undefined on the last page). Stops after `maxPages` (default 1000) to
 * guard against a server that keeps answering the same token.
 */
export async function listAll<T>(fetch: (pageToken: string) => Promise<{ items: T[]; next?: string }>, maxPages = 1000): Promise<T[]> {
  const out: T[] = [];
  let token = '';
  for (let i = 0; i < maxPages; i++) {
    const page = await fetch(token);
    out.push(...page.items);
    if (!page.next || page.next === token) break;
    token = page.next;
  }
  return out;
}

/**
 * Every item of a paginated List* call whose response holds the items under `key` and a `page`
 * ({ nextPageToken }): `pages((page) => c.listServers({ name, page }), 'servers')`.
 */
export function pages<K extends string, R extends { [P in K]: unknown[] } & { page?: { nextPageToken: string } }>(
  call: (page: { pageToken: string }) => Promise<R>,
  key: K,
): Promise<R[K]> {
  return listAll(async (pageToken) => {
    const res = await call({ pageToken });
    return { items: res[key] ?? [], next: res.page?.nextPageToken };
  }) as Promise<R[K]>;
}
