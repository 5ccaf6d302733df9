import { parse as parseYaml } from 'yaml';

/** A `write_files` entry of #cloud-config (cloud-init's cc_write_files schema, the fields we model). */
export interface WriteFile {
  readonly path: string;
  readonly content: string;
  /** Octal string as given (cloud-init's default '0644'). */
  readonly permissions: string;
  readonly owner: string;
}

/** A `users` entry of #cloud-config: `default` or a named user with its keys. */
export interface CloudConfigUser {
  readonly name: string;
  readonly sshAuthorizedKeys: readonly string[];
}

/** The #cloud-config keys the simulated cloud-init honours (others are kept in `ignoredKeys`). */
export interface CloudConfig {
  readonly hostname?: string;
  readonly fqdn?: string;
  readonly preserveHostname: boolean;
  /** Keys for the default user (top-level `ssh_authorized_keys`). */
  readonly sshAuthorizedKeys: readonly string[];
  /** `users`: undefined when absent (cloud-init then makes the default user only). */
  readonly users?: readonly (CloudConfigUser | 'default')[];
  readonly writeFiles: readonly WriteFile[];
  /** runcmd items, each as the shell line cloud-init writes into its runcmd script. */
  readonly runcmd: readonly string[];
  readonly packages: readonly string[];
  readonly ignoredKeys: readonly string[];
}

/**
 * User data as cloud-init's user-data handlers classify it (cloudinit/handlers): by its first line,
 * `#cloud-config` is YAML config, `#!` a script run once per instance (part-handler "shellscript").
 * A MIME multipart archive, gzip-compressed data, `#include` and other part types are recognised but
 * not modelled (`unsupported`); data cloud-init would not recognise is `unknown` (cloud-init logs
 * "Unhandled non-multipart (text/x-not-multipart) userdata" and carries on).
 */
export type UserData =
  | { readonly kind: 'none' }
  | { readonly kind: 'cloud-config'; readonly config: CloudConfig }
  | { readonly kind: 'invalid-cloud-config'; readonly error: string }
  | { readonly kind: 'script'; readonly interpreter: string; readonly body: string }
  | { readonly kind: 'unsupported'; readonly contentType: string }
  | { readonly kind: 'unknown'; readonly firstLine: string };

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);

/** Shell quoting as cloud-init's runcmd does for a list item (`shlex.quote` of each word, joined by spaces). */
function shellJoin(words: unknown[]): string {
  return words.map((w) => {
    const s = String(w);
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'"'"'`)}'`;
  }).join(' ');
}

const KNOWN_KEYS = new Set(['hostname', 'fqdn', 'preserve_hostname', 'ssh_authorized_keys', 'users', 'write_files', 'runcmd', 'packages']);

function cloudConfigOf(doc: Record<string, unknown>): CloudConfig {
  const users = Array.isArray(doc.users)
    ? doc.users.flatMap((u): (CloudConfigUser | 'default')[] => {
        if (u === 'default') return ['default'];
        if (typeof u === 'string') return [{ name: u, sshAuthorizedKeys: [] }];
        if (u && typeof u === 'object' && typeof (u as { name?: unknown }).name === 'string') {
          const o = u as Record<string, unknown>;
          return [{ name: o.name as string, sshAuthorizedKeys: strings(o.ssh_authorized_keys) }];
        }
        return [];
      })
    : undefined;
  const writeFiles = Array.isArray(doc.write_files)
    ? doc.write_files.flatMap((f): WriteFile[] => {
        if (!f || typeof f !== 'object' || typeof (f as { path?: unknown }).path !== 'string') return [];
        const o = f as Record<string, unknown>;
        return [{ path: o.path as string, content: typeof o.content === 'string' ? o.content : '', permissions: typeof o.permissions === 'string' ? o.permissions : '0644', owner: typeof o.owner === 'string' ? o.owner : 'root:root' }];
      })
    : [];
  const runcmd = Array.isArray(doc.runcmd)
    ? doc.runcmd.flatMap((c): string[] => (typeof c === 'string' ? [c] : Array.isArray(c) ? [shellJoin(c)] : []))
    : [];
  return {
    hostname: typeof doc.hostname === 'string' ? doc.hostname : undefined,
    fqdn: typeof doc.fqdn === 'string' ? doc.fqdn : undefined,
    preserveHostname: doc.preserve_hostname === true,
    sshAuthorizedKeys: strings(doc.ssh_authorized_keys),
    users,
    writeFiles,
    runcmd,
    packages: Array.isArray(doc.packages) ? doc.packages.map((p) => (Array.isArray(p) ? p.join('=') : String(p))) : [],
    ignoredKeys: Object.keys(doc).filter((k) => !KNOWN_KEYS.has(k)),
  };
}

/**
 * Classifies and parses user data (the bytes Nova stores base64-decoded).
 * Never throws: malformed YAML is `invalid-cloud-config` with the parser's message, as cloud-init logs
 * it and boots without the config.
 */
export function parseUserData(bytes: Uint8Array | undefined): UserData {
  if (!bytes || bytes.length === 0) return { kind: 'none' };
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return { kind: 'unsupported', contentType: 'application/x-gzip' };
  const text = new TextDecoder('utf-8').decode(bytes);
  const firstLine = text.split('\n', 1)[0].replace(/\r$/, '');
  if (firstLine.startsWith('#cloud-config')) {
    try {
      const doc = parseYaml(text) as unknown;
      if (doc === null || doc === undefined) return { kind: 'cloud-config', config: cloudConfigOf({}) };
      if (typeof doc !== 'object' || Array.isArray(doc)) return { kind: 'invalid-cloud-config', error: 'cloud-config is not a YAML mapping' };
      return { kind: 'cloud-config', config: cloudConfigOf(doc as Record<string, unknown>) };
    } catch (e) {
      return { kind: 'invalid-cloud-config', error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
    }
  }
  if (firstLine.startsWith('#!')) return { kind: 'script', interpreter: firstLine.slice(2).trim(), body: text };
  if (/^content-type:\s*multipart\//i.test(firstLine) || /^mime-version:/i.test(firstLine)) return { kind: 'unsupported', contentType: 'multipart/mixed' };
  for (const [prefix, type] of [['#include', 'text/x-include-url'], ['#cloud-boothook', 'text/cloud-boothook'], ['#part-handler', 'text/part-handler'], ['#cloud-config-archive', 'text/cloud-config-archive'], ['## template: jinja', 'text/jinja2']] as const) {
    if (firstLine.startsWith(prefix)) return { kind: 'unsupported', contentType: type };
  }
  return { kind: 'unknown', firstLine };
}
