/**
 * Nova's hostname of an instance from its display name (nova.utils.sanitize_hostname): lower-cased,
 * spaces and underscores to '-', characters other than [a-z0-9.-] dropped, leading/trailing '.' and '-'
 * trimmed, at most 63 characters; `fallback` (Nova: 'Server-<uuid>') when nothing is left.
 */
export function sanitizeHostname(name: string, fallback: string): string {
  const h = name
    .toLowerCase()
    .replace(/[ _]/g, '-')
    .replace(/[^a-z0-9.-]/g, '')
    .slice(0, 63)
    .replace(/^[.-]+|[.-]+$/g, '');
  return h || fallback.toLowerCase();
}

/** Nova's default `dhcp_domain`: the metadata hostname is `<hostname>.novalocal`. */
export const DHCP_DOMAIN = 'novalocal';
